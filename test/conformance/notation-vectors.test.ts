/**
 * Conformance with notation-go and the AWS Signer plugin on their own vectors
 * (`../shared/vectors`, see its README.md and expected-verdicts.json). Runs whenever that folder
 * exists; fails instead of skipping when STAGESIGN_REQUIRE_INTEGRATION=1 (CI).
 */
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../shared/oci/types';
import { compositeCertificateHashes, tbsSha384 } from '../../shared/notary/revocation-hashes';
import { parseTrustPolicy, type TrustPolicyStatement } from '../../shared/notary/trust-policy';
import { loadTrustStoreDirectory } from '../../shared/notary/trust-store-directory';
import { TrustStoreSet } from '../../shared/notary/trust-store';
import { pluginMinVersionError, verifySignature, type SignatureVerdict } from '../../shared/notary/verifier';
import { matchAwsTrustedIdentity } from '../../shared/notary/aws-signer-plugin';
import * as msg from '../../shared/notary/messages';
import { suiteTitle } from '../helpers/skip-notice';

const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/vectors');
const present = existsSync(path.join(VECTORS, 'expected-verdicts.json'));
const required = process.env.STAGESIGN_REQUIRE_INTEGRATION === '1';

const MISSING = `${VECTORS} not found; check out the shared vectors next to the repository (../shared/vectors) to run this suite`;

describe('conformance vectors folder', () => {
  it('exists when STAGESIGN_REQUIRE_INTEGRATION=1', () => {
    if (required) expect(present, `${VECTORS} is required in CI`).toBe(true);
  });
});

interface Vector {
  file: string;
  context: string;
  override?: { trustStores?: string[] };
  levels?: Record<'strict' | 'permissive' | 'audit', 'pass' | 'fail' | 'pass-with-warning'>;
  check?: string;
  error?: string;
  error_without_plugin?: string;
}

interface Expected {
  contexts: Record<
    string,
    {
      artifactReference: string;
      targetDescriptor: Descriptor;
      trustPolicy: unknown;
      trustStoreRoot: string;
      mediaType: string;
    }
  >;
  vectors: Vector[];
  getRevocationStatus: { certs: string[]; tbsSha384: string[]; certificateHashes: string[] };
  awsRoots: Record<string, { file: string; sha256: string; trustStore?: string }>;
}

const expected: Expected | undefined = present
  ? (JSON.parse(readFileSync(path.join(VECTORS, 'expected-verdicts.json'), 'utf8')) as Expected)
  : undefined;
const NOW = new Date('2025-11-15T00:00:00Z');
const read = (rel: string) => readFileSync(path.join(VECTORS, rel));
const derOf = (rel: string) => new Uint8Array(new X509Certificate(read(rel)).raw);

describe.runIf(present)(suiteTitle('notation-go envelope vectors', present, MISSING), () => {
  let stores: TrustStoreSet;
  const ctx = expected?.contexts['notation-go-dummy'];
  beforeAll(async () => {
    // trustStoreRoot is <configDir>/truststore/x509.
    stores = await loadTrustStoreDirectory(path.join(VECTORS, ctx!.trustStoreRoot, '../..'));
  });

  function statement(level: string, override: Partial<TrustPolicyStatement> = {}): TrustPolicyStatement {
    const doc = parseTrustPolicy(ctx!.trustPolicy);
    const base = doc.trustPolicies[0]!;
    return {
      ...base,
      ...override,
      signatureVerification: { ...base.signatureVerification, level: level as 'strict' },
    };
  }

  async function verify(
    file: string,
    level: string,
    override: Partial<TrustPolicyStatement> = {},
    userMetadata?: Record<string, string>,
    target = ctx!.targetDescriptor,
  ): Promise<SignatureVerdict> {
    return verifySignature({
      envelope: read(file),
      envelopeMediaType: ctx!.mediaType,
      target,
      policy: statement(level, override),
      trustStores: stores,
      now: NOW,
      ...(userMetadata ? { userMetadata } : {}),
    });
  }

  const cases = (expected?.vectors ?? []).flatMap((v) =>
    Object.entries(v.levels ?? {}).map(([level, verdict]) => ({
      v,
      level,
      verdict,
      name: `${path.basename(v.file)}${v.override ? ' (trust store override)' : ''}`,
    })),
  );

  it.each(cases)('$name gives "$verdict" at level $level', async ({ v, level, verdict }) => {
    const result = await verify(v.file, level, v.override ?? {});
    expect(result.passed).toBe(verdict !== 'fail');
    if (verdict === 'fail' && v.check) {
      expect(result.steps.at(-1)?.type).toBe(v.check);
      if (v.error) expect(result.error).toBe(v.error);
    }
    if (verdict === 'pass-with-warning') {
      expect(result.warnings).toContain(
        msg.loggedFailureWarning(
          v.check as 'expiry',
          v.error ?? (result.steps.find((s) => !s.passed)?.error as string),
        ),
      );
    }
    if (verdict === 'pass') expect(result.warnings).toEqual([]);
  });

  it.each(['strict', 'permissive', 'audit'])(
    "sa_plugin_sig_env.json fails at level %s with notation's plugin-not-found message",
    async (level) => {
      const vector = expected!.vectors.find((v) => v.error_without_plugin)!;
      const result = await verify(vector.file, level);
      expect(result).toMatchObject({
        passed: false,
        code: 'PLUGIN_NOT_FOUND',
        error: vector.error_without_plugin,
      });
    },
  );

  it("reports notation's x509 identity mismatch message", async () => {
    const result = await verify('notation-go/internal/mock/testdata/sa_valid_sig_env.json', 'strict', {
      trustedIdentities: ['x509.subject:CN=LOL,O=DummyOrg,L=Hyderabad,ST=TG,C=IN'],
    });
    expect(result).toMatchObject({
      passed: false,
      code: 'IDENTITY_MISMATCH',
      error:
        'signing certificate from the digital signature does not match the X.509 trusted identities [map["C":"IN" "CN":"LOL" "L":"Hyderabad" "O":"DummyOrg" "ST":"TG"]] defined in the trust policy "test-statement-name"',
    });
  });

  describe('user metadata (sig_env_with_metadata.json at audit)', () => {
    const file = 'notation-go/internal/mock/testdata/sig_env_with_metadata.json';
    const target: Descriptor = {
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      digest: 'sha256:5a07385af4e6b6af81b0ebfd435aedccdfa3507f0609c658209e1aba57159b2b',
      size: 942,
    };
    it.each([
      [{}],
      [{ 'io.wabbit-networks.buildId': '123' }],
      [{ 'io.wabbit-networks.buildId': '123', 'io.wabbit-networks.buildTime': '1672944615' }],
    ])('passes when %j is required', async (metadata) => {
      expect((await verify(file, 'audit', {}, metadata, target)).passed).toBe(true);
    });
    it.each([
      [{ 'io.wabbit-networks.buildId': '321' }],
      [{ 'io.wabbit-networks.buildId': '123', 'io.wabbit-networks.buildTime': '1' }],
    ])('fails when %j is required', async (metadata) => {
      expect(await verify(file, 'audit', {}, metadata, target)).toMatchObject({
        passed: false,
        code: 'USER_METADATA_MISMATCH',
        error: msg.USER_METADATA_MISMATCH,
      });
    });
  });

  describe('plugin minimum versions against an installed plugin 1.0.0', () => {
    const plugin = 'io.cncf.notary.plugin.unittest.mock';
    it.each(['0.0.9', '1.0.0-alpha', '1.0.0-alpha.beta', '1.0.0'])('accepts %s', (v) => {
      expect(
        read(`notation-go/internal/mock/testdata/ca_compatible_pluginver_sig_env_${v}.json`).length,
      ).toBeGreaterThan(0);
      expect(pluginMinVersionError(plugin, '1.0.0', v)).toBeUndefined();
    });
    it.each(['1.0.1', '1.0.9', '1.1.0-alpha', '1.2.3'])("rejects %s with notation's message", (v) => {
      expect(
        read(`notation-go/internal/mock/testdata/ca_incompatible_pluginver_sig_env_${v}.json`).length,
      ).toBeGreaterThan(0);
      expect(pluginMinVersionError(plugin, '1.0.0', v)).toBe(
        `found plugin ${plugin} with version 1.0.0 but signature verification needs plugin version greater than or equal to ${v}`,
      );
    });
    it("reports the envelopes' unknown plugin as not found", async () => {
      const result = await verifySignature({
        envelope: read('notation-go/internal/mock/testdata/ca_compatible_pluginver_sig_env_1.0.0.json'),
        envelopeMediaType: 'application/jose+json',
        target: {
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          digest: 'sha256:fe7e9333395060c2f5e63cf36a38fba10176f183b4163a5794e081a480abba5f',
          size: 942,
        },
        policy: statement('strict'),
        trustStores: stores,
        now: NOW,
      });
      expect(result).toMatchObject({
        passed: false,
        code: 'PLUGIN_NOT_FOUND',
        error: msg.pluginNotFoundMessage(plugin),
      });
    });
  });

  it("reports COSE envelopes with notation's unsupported message", async () => {
    const result = await verifySignature({
      envelope: read('notation-go/internal/testdata/cose_signature.sig'),
      envelopeMediaType: 'application/cose',
      target: ctx!.targetDescriptor,
      policy: statement('strict'),
      trustStores: stores,
      now: NOW,
    });
    expect(result).toMatchObject({
      passed: false,
      code: 'UNSUPPORTED_ENVELOPE',
      error:
        'unable to parse the digital signature, error : signature envelope format with media type "application/cose" is not supported',
    });
  });
});

describe.runIf(present)(suiteTitle('AWS Signer plugin vectors', present, MISSING), () => {
  it("computes the GetRevocationStatus certificateHashes of the plugin's test chain", () => {
    const g = expected!.getRevocationStatus;
    const chain = g.certs.map(derOf);
    expect(chain.map(tbsSha384)).toEqual(g.tbsSha384);
    expect(compositeCertificateHashes(chain)).toEqual(g.certificateHashes);
  });

  it('hashes a root alone by pairing it with itself', () => {
    const root = derOf(expected!.awsRoots.commercial!.file);
    expect(compositeCertificateHashes([root])).toEqual([
      '163b39eb810821441b047ddf99b17fec3db7c40fc0e5fcd4fd69818dd8e953d4752d210c9e6f6382eff98edc0a2771ea163b39eb810821441b047ddf99b17fec3db7c40fc0e5fcd4fd69818dd8e953d4752d210c9e6f6382eff98edc0a2771ea',
    ]);
  });

  it.each(['commercial', 'govcloud', 'wrongRoot'])(
    'the %s root has the documented SHA-256 fingerprint',
    (name) => {
      const root = expected!.awsRoots[name]!;
      expect(createHash('sha256').update(derOf(root.file)).digest('hex')).toBe(root.sha256);
    },
  );

  it.each(['commercial', 'govcloud'])('the built-in store pins the %s root', (name) => {
    const root = expected!.awsRoots[name]!;
    const store = TrustStoreSet.builtIn().get(root.trustStore!);
    expect(store?.pinnedSha256).toContain(root.sha256);
  });

  const identity = 'arn:aws:signer:us-west-2:000000000000:/signing-profiles/NotaryPluginIntegProfile';
  const version = `${identity}/OF8IVUsPJq`;
  it.each([
    [identity, true],
    [version, true],
    [`${version}/asda`, false],
    ['arn:aws:signer:us-west-2:000000000000:/signing-jobs/97af3947-e7b2-4533-8d9d-6741156f0b79', false],
    ['arn:aws:s3:us-west-2:000000000000:/signing-profiles/NotaryPluginIntegProfile', false],
    ['arn:aws:signer:us-west-2:000000000000:/beer/NotaryPluginIntegProfile', false],
    ['not-an-arn', false],
  ])('identity %s matches the plugin test signature: %s', (id, matches) => {
    expect(matchAwsTrustedIdentity(version, [id]).matched).toBe(matches);
  });
});
