import { readFileSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/errors';
import {
  AWS_SIGNER_ROOT_PEM,
  AWS_SIGNER_ROOT_SHA256,
  AWS_US_GOV_SIGNER_ROOT_PEM,
  AWS_US_GOV_SIGNER_ROOT_SHA256,
} from '../../../shared/notary/aws-signer-roots';
import { isTrustedChain, trustStoreFromPem, TrustStoreSet } from '../../../shared/notary/trust-store';

const vectors = new URL('../../../../shared/vectors/', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, vectors));
const STORE = 'notation-go/verifier/testdata/truststore/x509/ca/valid-trust-store/';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const der = (pem: string | Buffer) => new Uint8Array(new X509Certificate(pem).raw);
const envelopeChain = (file: string): Uint8Array[] =>
  JSON.parse(read(`notation-go/internal/mock/testdata/${file}`).toString('utf8')).header.x5c.map(
    (b64: string) => new Uint8Array(Buffer.from(b64, 'base64')),
  );

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, got none');
}

describe('AWS Signer roots', () => {
  it.each([
    [
      'aws-signer-ts.aws-signer-notation-root.pem',
      AWS_SIGNER_ROOT_PEM,
      AWS_SIGNER_ROOT_SHA256,
      '90a87d0543c3f094dbff9589b6649affe2f3d6e0f308799be2258461c686473f',
    ],
    [
      'aws-us-gov-signer-ts.aws-us-gov-signer-notation-root.pem',
      AWS_US_GOV_SIGNER_ROOT_PEM,
      AWS_US_GOV_SIGNER_ROOT_SHA256,
      '673653ab76f41a10546cdeb4107ecd6df2c15c2c9a0d32ed97d271b4436fc3e8',
    ],
  ])('embeds exactly the bytes of %s and pins their SHA-256', (file, embedded, pin, published) => {
    const vector = read(`kyverno-notation-aws/configs/samples/extracted/${file}`);
    expect(Buffer.from(der(embedded)).equals(Buffer.from(der(vector)))).toBe(true);
    expect(sha256(der(vector))).toBe(published);
    expect(pin).toBe(published);
  });

  it('builds the two built-in signingAuthority stores, pinned and holding the roots', () => {
    const set = TrustStoreSet.builtIn();
    const commercial = set.get('signingAuthority:aws-signer-ts');
    const gov = set.get('signingAuthority:aws-us-gov-signer-ts');
    expect(commercial?.pinnedSha256).toEqual([AWS_SIGNER_ROOT_SHA256]);
    expect(commercial?.anchors.map((a) => a.sha256)).toEqual([AWS_SIGNER_ROOT_SHA256]);
    expect(commercial?.anchors[0]?.subject).toBe(
      'CN=AWS Signer Code Signing Root CA G1,OU=Cryptography,O=AWS,ST=WA,C=US',
    );
    expect(gov?.pinnedSha256).toEqual([AWS_US_GOV_SIGNER_ROOT_SHA256]);
    expect(set.get('ca:aws-signer-ts')).toBeUndefined();
  });

  it('trusts a chain ending in the AWS root through the pin alone, and not one ending elsewhere', () => {
    const store = { ...TrustStoreSet.builtIn().get('signingAuthority:aws-signer-ts')!, anchors: [] };
    const awsRoot = der(
      read('kyverno-notation-aws/configs/samples/extracted/aws-signer-ts.aws-signer-notation-root.pem'),
    );
    const [leaf] = envelopeChain('sa_valid_sig_env.json');
    expect(isTrustedChain(store, [leaf!, awsRoot])).toBe(true);
    expect(isTrustedChain(store, envelopeChain('sa_valid_sig_env.json'))).toBe(false);
    const govRoot = der(AWS_US_GOV_SIGNER_ROOT_PEM);
    expect(isTrustedChain(store, [leaf!, govRoot])).toBe(false);
  });
});

describe('trustStoreFromPem', () => {
  it('reads one PEM certificate with its DER, fingerprint and subject', () => {
    const store = trustStoreFromPem(
      'ca',
      'valid-trust-store',
      read(`${STORE}NotationTestRoot.pem`).toString('utf8'),
    );
    expect(store.anchors).toHaveLength(1);
    expect(store.anchors[0]?.sha256).toMatch(/^86df8041/);
    expect(store.anchors[0]?.subject).toBe('CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US');
  });

  it('reads several certificates from one PEM text', () => {
    const pem = [
      `${STORE}NotationTestRoot.pem`,
      `${STORE}GlobalSignRootCA.crt`,
      `${STORE}wabbit-networks.io.crt`,
    ]
      .map((p) => read(p).toString('utf8'))
      .join('\n');
    expect(trustStoreFromPem('ca', 'many', pem).anchors).toHaveLength(3);
  });

  it('skips PEM blocks that are not certificates, as notation-core-go does', () => {
    const pem = [
      '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----',
      read(`${STORE}NotationTestRoot.pem`).toString('utf8'),
      '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----',
    ].join('\n');
    expect(trustStoreFromPem('ca', 'mixed', pem).anchors.map((a) => a.subject)).toEqual([
      'CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US',
    ]);
  });
  it('reads DER bytes, and concatenated DER certificates', () => {
    const globalSign = read(`${STORE}GlobalSign.der`);
    expect(trustStoreFromPem('ca', 'der', globalSign).anchors[0]?.sha256).toMatch(/^cbb522d7/);
    const root = der(read(`${STORE}NotationTestRoot.pem`));
    const both = trustStoreFromPem('ca', 'der', Buffer.concat([globalSign, root]));
    expect(both.anchors.map((a) => a.sha256.slice(0, 8))).toEqual(['cbb522d7', '86df8041']);
  });

  it('accepts a self-signed leaf (the kyverno "wrong root") in a signingAuthority store', () => {
    const pem = read('kyverno-notation-aws/configs/samples/extracted/aws-signer-ts-fail.wrong-root.pem');
    expect(trustStoreFromPem('signingAuthority', 'aws-signer-ts-fail', pem).anchors[0]?.sha256).toMatch(
      /^da1f2d7d/,
    );
  });

  it.each<[string, () => unknown, string]>([
    [
      'a leaf that is neither a CA nor self-signed',
      () => trustStoreFromPem('ca', 'leafy', envelopeChain('sa_valid_sig_env.json')[0]!, 'leafy/leaf.cer'),
      'certificate with subject "CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US" from file "leafy/leaf.cer" is not a CA certificate or self-signed signing certificate',
    ],
    [
      'a non-CA certificate in a tsa store',
      () => trustStoreFromPem('tsa', 'ts', read(`${STORE}wabbit-networks.io.crt`), 'wabbit-networks.io.crt'),
      'trusted certificate wabbit-networks.io.crt in trust store ts of type tsa is invalid: certificate with subject "CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US" is not a root CA certificate: x509: invalid signature: parent certificate cannot sign this kind of certificate',
    ],
    [
      'a file without certificates',
      () => trustStoreFromPem('ca', 'empty', '', 'empty/none.pem'),
      'could not parse a certificate from "empty/none.pem", every file in a trust store must have a PEM or DER certificate in it',
    ],
    [
      'bytes that are not a certificate',
      () => trustStoreFromPem('ca', 'junk', new Uint8Array([0x30, 0x03, 1, 2, 3]), 'junk/invalid'),
      'error while reading certificates from "junk/invalid": x509: malformed certificate',
    ],
    [
      'a PEM file whose only block is not a certificate (notation skips such blocks)',
      () =>
        trustStoreFromPem(
          'ca',
          'key',
          '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
          'key/key.pem',
        ),
      'could not parse a certificate from "key/key.pem", every file in a trust store must have a PEM or DER certificate in it',
    ],
    [
      'a store name outside [a-zA-Z0-9_.-]+',
      () => trustStoreFromPem('ca', 'my store', AWS_SIGNER_ROOT_PEM),
      'named store name needs to follow [a-zA-Z0-9_.-]+ format (trust store "ca:my store")',
    ],
    [
      'an unknown store type',
      () => trustStoreFromPem('x509' as never, 'a', AWS_SIGNER_ROOT_PEM),
      'unsupported store type: x509 (trust store "a")',
    ],
  ])('rejects %s', (_what, fn, message) => {
    const error = errorOf(fn);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'TRUST_STORE_INVALID', message });
  });

  it('accepts a self-signed root CA in a tsa store', () => {
    const store = trustStoreFromPem(
      'tsa',
      'test-timestamp',
      read('notation-go/verifier/testdata/truststore/x509/tsa/test-timestamp/globalsignRoot.cer'),
    );
    expect(store.anchors).toHaveLength(1);
  });
});

describe('isTrustedChain', () => {
  const store = trustStoreFromPem(
    'signingAuthority',
    'valid-trust-store',
    read(`${STORE}NotationTestRoot.pem`),
  );
  const globalSignOnly = trustStoreFromPem(
    'signingAuthority',
    'valid-trust-store-2',
    read(`${STORE}GlobalSign.der`),
  );

  it('trusts a chain containing a certificate byte-equal to an anchor', () => {
    expect(isTrustedChain(store, envelopeChain('sa_valid_sig_env.json'))).toBe(true);
  });

  it('does not trust the same chain against a store with another root', () => {
    expect(isTrustedChain(globalSignOnly, envelopeChain('sa_valid_sig_env.json'))).toBe(false);
  });

  it('does not trust an empty chain', () => {
    expect(isTrustedChain(store, [])).toBe(false);
  });

  it('trusts by a pinned fingerprint even without anchors', () => {
    const [, root] = envelopeChain('sa_valid_sig_env.json');
    expect(
      isTrustedChain(
        { type: 'signingAuthority', name: 'pin', anchors: [], pinnedSha256: [sha256(root!).toUpperCase()] },
        [root!],
      ),
    ).toBe(true);
  });
});

describe('TrustStoreSet', () => {
  it('replaces a built-in store by a store of the same type and name', () => {
    const wrong = trustStoreFromPem(
      'signingAuthority',
      'aws-signer-ts',
      read('kyverno-notation-aws/configs/samples/extracted/aws-signer-ts-fail.wrong-root.pem'),
    );
    const set = TrustStoreSet.builtIn().with(wrong);
    expect(set.get('signingAuthority:aws-signer-ts')).toBe(wrong);
    expect(set.get('signingAuthority:aws-us-gov-signer-ts')?.pinnedSha256).toEqual([
      AWS_US_GOV_SIGNER_ROOT_SHA256,
    ]);
    expect(TrustStoreSet.builtIn().get('signingAuthority:aws-signer-ts')?.pinnedSha256).toEqual([
      AWS_SIGNER_ROOT_SHA256,
    ]);
  });
});
