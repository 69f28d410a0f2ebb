import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, InputError } from '../../../shared/errors';
import {
  noApplicablePolicyMessage,
  parseTrustPolicy,
  selectPolicy,
} from '../../../shared/notary/trust-policy';
import type { TrustPolicyStatement } from '../../../shared/notary/trust-policy';

const vectors = new URL('../../../../shared/vectors/', import.meta.url);
const DIGEST = `sha256:${'6'.repeat(64)}`;

const statement = (name: string, registryScopes: string[], extra: Partial<TrustPolicyStatement> = {}) => ({
  name,
  registryScopes,
  signatureVerification: { level: 'strict' },
  trustStores: ['signingAuthority:aws-signer-ts'],
  trustedIdentities: ['arn:aws:signer:us-west-2:111122223333:/signing-profiles/app'],
  ...extra,
});

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, got none');
}

describe('parseTrustPolicy', () => {
  describe('with valid policies from the conformance vectors', () => {
    it('accepts the notation-go test policy of expected-verdicts.json', () => {
      const verdicts = JSON.parse(readFileSync(new URL('expected-verdicts.json', vectors), 'utf8'));
      const policy = verdicts.contexts['notation-go-dummy'].trustPolicy;
      expect(parseTrustPolicy(JSON.stringify(policy))).toEqual(policy);
    });

    it.each(['tp-test-notation', 'tp-test-notation-fail'])(
      'accepts the kyverno-notation-aws sample %s',
      (name) => {
        const docs = readFileSync(
          new URL('kyverno-notation-aws/configs/samples/trustpolicy.yaml', vectors),
          'utf8',
        )
          .split(/^---$/m)
          .map((d) => parseYaml(d));
        const spec = docs.find((d) => d.metadata.name === name).spec;
        const parsed = parseTrustPolicy({ version: spec.version, trustPolicies: spec.trustPolicies });
        expect(parsed.trustPolicies[0]?.trustedIdentities).toEqual([
          'arn:aws:signer:us-west-2:844333597536:/signing-profiles/kyvernodemo',
        ]);
      },
    );
  });

  describe('with valid policies', () => {
    it.each([
      '*',
      'example.com/rep',
      'example.com:8080/rep/rep2',
      'example.com/rep/subrep/subsub',
      '10.10.10.10:8080/rep/rep2',
      'domain/rep',
      'domain:1234/rep',
      'local/myOCILayout'.toLowerCase(),
    ])('accepts the registry scope %s', (scope) => {
      expect(() =>
        parseTrustPolicy({ version: '1.0', trustPolicies: [statement('s', [scope])] }),
      ).not.toThrow();
    });

    it('accepts a skip statement without trust stores or identities, on the global scope', () => {
      const doc = parseTrustPolicy({
        version: '1.0',
        trustPolicies: [
          { name: 'skip-all', registryScopes: ['*'], signatureVerification: { level: 'skip' } },
        ],
      });
      expect(doc.trustPolicies[0]).toEqual({
        name: 'skip-all',
        registryScopes: ['*'],
        signatureVerification: { level: 'skip' },
        trustStores: [],
        trustedIdentities: [],
      });
    });

    it('accepts revocation set to skip, tsa stores, verifyTimestamp and an empty override', () => {
      const doc = parseTrustPolicy({
        version: '1.0',
        trustPolicies: [
          statement('a', ['r.io/a'], {
            signatureVerification: {
              level: 'strict',
              override: { revocation: 'skip', expiry: 'log' },
              verifyTimestamp: 'afterCertExpiry',
            },
            trustStores: ['ca:acme', 'tsa:acme-tsa'],
            trustedIdentities: ['x509.subject: C=US, ST=WA, O=Acme, CN=build'],
          }),
          statement('b', ['r.io/b'], { signatureVerification: { level: 'audit', override: {} } }),
        ],
      });
      expect(doc.trustPolicies[0]?.signatureVerification).toEqual({
        level: 'strict',
        override: { revocation: 'skip', expiry: 'log' },
        verifyTimestamp: 'afterCertExpiry',
      });
    });

    it('accepts x509 identities that differ without overlapping, with "S" for ST and escaped commas', () => {
      expect(() =>
        parseTrustPolicy({
          version: '1.0',
          trustPolicies: [
            statement('x', ['r.io/x'], {
              trustStores: ['ca:acme'],
              trustedIdentities: [
                'x509.subject:C=US,S=WA,O=Acme\\, Inc.,CN=a',
                'x509.subject:C=US,ST=WA,O=Acme\\, Inc.,CN=b',
              ],
            }),
          ],
        }),
      ).not.toThrow();
    });

    it('accepts non-x509 identities such as AWS Signer ARNs without parsing them', () => {
      expect(() =>
        parseTrustPolicy({
          version: '1.0',
          trustPolicies: [
            statement('s', ['r.io/a'], { trustedIdentities: ['arn:aws:signer:x', 'custom:anything goes'] }),
          ],
        }),
      ).not.toThrow();
    });
  });

  describe('with input that is not a trust policy', () => {
    it.each([
      ['null', null, 'malformed trust policy: (document) must be an object.'],
      ['an array', [], 'malformed trust policy: (document) must be an object.'],
      [
        'a numeric version',
        { version: 1, trustPolicies: [] },
        'malformed trust policy: version must be a string.',
      ],
      [
        'an unknown top-level field',
        { version: '1.0', trustPolicies: [], extra: 1 },
        'malformed trust policy: extra is not a known field',
      ],
      [
        'an unknown signatureVerification field',
        {
          version: '1.0',
          trustPolicies: [
            statement('s', ['r.io/a'], { signatureVerification: { level: 'strict', overide: {} } as never }),
          ],
        },
        'malformed trust policy: trustPolicies[0].signatureVerification.overide is not a known field',
      ],
    ])('rejects %s as malformed', (_what, input, message) => {
      const error = errorOf(() => parseTrustPolicy(input));
      expect(error).toMatchObject({ code: 'TRUST_POLICY_INVALID' });
      expect((error as Error).message).toContain(message);
    });
  });
});

describe('selectPolicy', () => {
  const doc = parseTrustPolicy({
    version: '1.0',
    trustPolicies: [
      statement('global', ['*']),
      statement('app', ['111122223333.dkr.ecr.us-west-2.amazonaws.com/app', 'localhost:5000/net-monitor']),
      statement('other', ['111122223333.dkr.ecr.us-west-2.amazonaws.com/app/sub']),
    ],
  });

  describe('when an exact scope and "*" both match', () => {
    it.each([
      [`111122223333.dkr.ecr.us-west-2.amazonaws.com/app@${DIGEST}`, 'app'],
      [`111122223333.dkr.ecr.us-west-2.amazonaws.com/app:v1.2@${DIGEST}`, 'app'],
      ['111122223333.dkr.ecr.us-west-2.amazonaws.com/app:latest', 'app'],
      [`localhost:5000/net-monitor@${DIGEST}`, 'app'],
      [`111122223333.dkr.ecr.us-west-2.amazonaws.com/app/sub@${DIGEST}`, 'other'],
    ])('selects the exact-scope statement for %s', (reference, name) => {
      expect(selectPolicy(doc, reference).name).toBe(name);
    });
  });

  describe('when only "*" matches', () => {
    it.each([`111122223333.dkr.ecr.us-west-2.amazonaws.com/ap@${DIGEST}`, `registry.example/app@${DIGEST}`])(
      'selects the global statement for %s',
      (reference) => {
        expect(selectPolicy(doc, reference).name).toBe('global');
      },
    );
  });

  describe('when nothing matches', () => {
    it("throws NO_APPLICABLE_POLICY with notation's message", () => {
      const only = parseTrustPolicy({ version: '1.0', trustPolicies: [statement('app', ['r.io/app'])] });
      const reference = `r.io/other@${DIGEST}`;
      const error = errorOf(() => selectPolicy(only, reference));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({
        code: 'NO_APPLICABLE_POLICY',
        message: `artifact "r.io/other@${DIGEST}" has no applicable oci trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy`,
      });
      expect((error as Error).message).toBe(noApplicablePolicyMessage(reference));
    });
  });

  describe('when the reference has no repository', () => {
    it.each(['app', `https://r.io/app@${DIGEST}`, ''])('throws INVALID_REFERENCE for %j', (reference) => {
      const error = errorOf(() => selectPolicy(doc, reference));
      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({ code: 'INVALID_REFERENCE' });
      expect((error as Error).message).toContain(
        'could not be parsed, make sure it is the fully qualified oci artifact URI',
      );
    });
  });
});

// issue 9 item 2: another spelling of a scoped repository must not fall through to `*`.
describe('one spelling per registry in statement selection', () => {
  const ECR = '123456789012.dkr.ecr.us-west-2.amazonaws.com';
  const spellings = [
    `${ECR}/app`,
    `${ECR.toUpperCase()}/app`,
    `${ECR}:443/app`,
    `123456789012.dkr.ecr-fips.us-west-2.amazonaws.com/app`,
    `123456789012.DKR.ECR-FIPS.US-WEST-2.AMAZONAWS.COM:443/app`,
  ];
  const policyWithScope = (scope: string) =>
    parseTrustPolicy({
      version: '1.0',
      trustPolicies: [
        statement('app', [scope]),
        { name: 'everything-else', registryScopes: ['*'], signatureVerification: { level: 'skip' } },
      ],
    });

  it.each(spellings)('the scope written %s selects "app" for every spelling of the image', (scope) => {
    const doc = policyWithScope(scope);
    for (const spelling of spellings) {
      expect(selectPolicy(doc, `${spelling}@${DIGEST}`).name, spelling).toBe('app');
      expect(selectPolicy(doc, `${spelling}:v1`).name, spelling).toBe('app');
    }
    expect(selectPolicy(doc, `${ECR}/other@${DIGEST}`).name).toBe('everything-else');
    expect(selectPolicy(doc, `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@${DIGEST}`).name).toBe(
      'everything-else',
    );
  });

  it('stores scopes canonicalised (lowercase, no :443, the ECR non-FIPS host)', () => {
    expect(policyWithScope(spellings[4]!).trustPolicies[0]!.registryScopes).toEqual([`${ECR}/app`]);
    expect(policyWithScope('Registry.Example.com:443/app').trustPolicies[0]!.registryScopes).toEqual([
      'registry.example.com/app',
    ]);
    expect(policyWithScope('localhost:5000/app').trustPolicies[0]!.registryScopes).toEqual([
      'localhost:5000/app',
    ]);
  });

  it('treats two spellings of one scope in two statements as the same scope', () => {
    expect(
      errorOf(() =>
        parseTrustPolicy({
          version: '1.0',
          trustPolicies: [statement('a', [`${ECR}/app`]), statement('b', [`${ECR.toUpperCase()}/app`])],
        }),
      ),
    ).toMatchObject({
      code: 'TRUST_POLICY_INVALID',
      message: expect.stringContaining('is present in multiple'),
    });
  });
});
