import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/errors';
import { parseTrustPolicy } from '../../../shared/notary/trust-policy';

const fixtures = new URL('../../fixtures/trust-policy/', import.meta.url);
const LINK =
  'To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy';
const SCOPE_HELP =
  'make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout';
const SCOPE = '111122223333.dkr.ecr.us-west-2.amazonaws.com/app';
const core = (rest: string) => `oci trust policy: trust policy statement "prod" ${rest}`;
const sv = (rest: string) => core(`has invalid signatureVerification: ${rest}`);
const dn = (identity: string, rest: string) =>
  core(`has trusted identity "x509.subject:${identity}" with invalid identity value: ${rest}`);
const MANDATORY = "it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum";

/** Fixture (test/fixtures/trust-policy/<name>.json) → notation's exact message. */
const CASES: [string, string][] = [
  ['version-missing', 'oci trust policy document is missing or has empty version, it must be specified'],
  ['version-unsupported', 'oci trust policy document uses unsupported version "2.0"'],
  ['statements-empty', 'oci trust policy document can not have zero trust policy statements'],
  [
    'statement-name-missing',
    'oci trust policy: a trust policy statement is missing a name, every statement requires a name',
  ],
  [
    'statement-name-duplicate',
    'multiple oci trust policy statements use the same name "prod", statement names must be unique',
  ],
  [
    'registry-scopes-empty',
    'oci trust policy statement "prod" has zero registry scopes, it must specify registry scopes with at least one value',
  ],
  [
    'registry-scope-with-tag',
    `registry scope "${SCOPE}:latest" is not valid, ${SCOPE_HELP} (trust policy statement "prod", registryScopes)`,
  ],
  [
    'registry-scope-with-digest',
    `registry scope "${SCOPE}@sha256:${'a'.repeat(64)}" is not valid, ${SCOPE_HELP} (trust policy statement "prod", registryScopes)`,
  ],
  [
    'registry-scope-not-fully-qualified',
    `registry scope "app" is not valid, ${SCOPE_HELP} (trust policy statement "prod", registryScopes)`,
  ],
  [
    'registry-scope-with-scheme',
    `registry scope "https://${SCOPE}" is not valid, ${SCOPE_HELP} (trust policy statement "prod", registryScopes)`,
  ],
  [
    'registry-scope-partial-wildcard',
    `registry scope "111122223333.dkr.ecr.us-west-2.amazonaws.com/*" with wild card(s) is not valid, ${SCOPE_HELP} (trust policy statement "prod", registryScopes)`,
  ],
  [
    'registry-scope-wildcard-mixed',
    `oci trust policy statement "prod" uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values`,
  ],
  [
    'registry-scope-wildcard-twice',
    'registry scope "*" is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement',
  ],
  [
    'registry-scope-in-two-statements',
    `registry scope "${SCOPE}" is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement`,
  ],
  ['level-missing', sv('signature verification level is empty or missing in the trust policy statement')],
  ['level-unknown', sv('invalid signature verification level "lenient"')],
  ['verify-timestamp-invalid', sv('verifyTimestamp must be "always" or "afterCertExpiry", but got "never"')],
  [
    'skip-with-trust-stores',
    core(
      'is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped',
    ),
  ],
  [
    'skip-with-trusted-identities',
    core(
      'is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped',
    ),
  ],
  [
    'skip-with-override',
    sv(`signature verification level "skip" can't be used to customize signature verification`),
  ],
  [
    'override-integrity',
    sv('"integrity" verification can not be overridden in custom signature verification'),
  ],
  [
    'override-authenticity-skip',
    sv('"authenticity" verification can not be skipped in custom signature verification'),
  ],
  ['override-expiry-skip', sv('"expiry" verification can not be skipped in custom signature verification')],
  [
    'override-authentic-timestamp-skip',
    sv('"authenticTimestamp" verification can not be skipped in custom signature verification'),
  ],
  [
    'override-unknown-type',
    sv(
      'verification type "timestamp" in custom signature verification is not supported, supported values are ["integrity" "authenticity" "authenticTimestamp" "expiry" "revocation"]',
    ),
  ],
  [
    'override-unknown-action',
    sv(
      'verification action "warn" in custom signature verification is not supported, supported values are ["enforce" "log" "skip"]',
    ),
  ],
  [
    'trust-stores-missing',
    core('is either missing trust stores or trusted identities, both must be specified'),
  ],
  [
    'trusted-identities-missing',
    core('is either missing trust stores or trusted identities, both must be specified'),
  ],
  [
    'trust-store-missing-separator',
    core(
      'has malformed trust store value "aws-signer-ts". The required format is <TrustStoreType>:<TrustStoreName>',
    ),
  ],
  [
    'trust-store-unknown-type',
    core('uses an unsupported trust store type "x509" in trust store value "x509:aws-signer-ts"'),
  ],
  [
    'trust-store-empty-name',
    core(
      'uses an unsupported trust store name "" in trust store value "ca:". Named store name needs to follow [a-zA-Z0-9_.-]+ format',
    ),
  ],
  [
    'trust-store-bad-name',
    core(
      'uses an unsupported trust store name "my store" in trust store value "ca:my store". Named store name needs to follow [a-zA-Z0-9_.-]+ format',
    ),
  ],
  [
    'trusted-identity-wildcard-mixed',
    core(
      `uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values`,
    ),
  ],
  ['trusted-identity-empty', core('has an empty trusted identity')],
  ['trusted-identity-missing-separator', core('has trusted identity "x509.subject" missing separator')],
  ['x509-subject-empty-value', core('has trusted identity "x509.subject:" without an identity value')],
  [
    'x509-subject-missing-country',
    dn(
      'ST=WA,O=Acme,CN=build',
      `distinguished name (DN) "ST=WA,O=Acme,CN=build" has no mandatory RDN attribute for "C", ${MANDATORY}`,
    ),
  ],
  [
    'x509-subject-missing-state',
    dn(
      'C=US,O=Acme,CN=build',
      `distinguished name (DN) "C=US,O=Acme,CN=build" has no mandatory RDN attribute for "ST", ${MANDATORY}`,
    ),
  ],
  [
    'x509-subject-missing-organization',
    dn(
      'C=US,ST=WA,CN=build',
      `distinguished name (DN) "C=US,ST=WA,CN=build" has no mandatory RDN attribute for "O", ${MANDATORY}`,
    ),
  ],
  [
    'x509-subject-hex-value',
    dn(
      'C=US,ST=WA,O=#0c0441636d65',
      'unsupported distinguished name (DN) "C=US,ST=WA,O=#0c0441636d65": notation does not support x509.subject identities containing "=#"',
    ),
  ],
  [
    'x509-subject-multi-valued-rdn',
    dn(
      'C=US+ST=WA,O=Acme',
      'distinguished name (DN) "C=US+ST=WA,O=Acme" has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported',
    ),
  ],
  [
    'x509-subject-duplicate-attribute',
    dn(
      'C=US,ST=WA,O=Acme,O=Other',
      'distinguished name (DN) "C=US,ST=WA,O=Acme,O=Other" has duplicate RDN attribute for "O", DN can only have unique RDN attributes',
    ),
  ],
  [
    'x509-subject-malformed',
    dn(
      'C=US,ST=WA,O=Acme,CN',
      `parsing distinguished name (DN) "C=US,ST=WA,O=Acme,CN" failed with err: DN ended with incomplete type, value pair. A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard`,
    ),
  ],
  [
    'x509-subjects-overlapping',
    core(
      'has overlapping x509 trustedIdentities, "x509.subject:C=US,ST=WA,O=Acme" overlaps with "x509.subject:C=US,ST=WA,O=Acme,CN=build"',
    ),
  ],
  [
    'unknown-field',
    `malformed trust policy: trustPolicies[0].trustedIdentites is not a known field (known: name, registryScopes, signatureVerification, trustStores, trustedIdentities). ${LINK}`,
  ],
  [
    'wrong-type',
    `malformed trust policy: trustPolicies[0].registryScopes must be an array of strings. ${LINK}`,
  ],
  ['malformed-json', `malformed trust policy (Unexpected end of JSON input). ${LINK}`],
];

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, got none');
}

describe('parseTrustPolicy', () => {
  describe('with an invalid trust policy fixture', () => {
    it.each(CASES)("rejects %s with notation's message", (name, message) => {
      const text = readFileSync(new URL(`${name}.json`, fixtures), 'utf8');
      const error = errorOf(() => parseTrustPolicy(text));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ code: 'TRUST_POLICY_INVALID', message });
    });

    it('has a case for every fixture file and a README line for each', () => {
      const files = readdirSync(fixtures)
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.replace(/\.json$/, ''))
        .sort();
      expect(files).toEqual(CASES.map(([name]) => name).sort());
      const readme = readFileSync(new URL('README.md', fixtures), 'utf8');
      for (const name of files) expect(readme).toContain(`\`${name}.json\``);
    });
  });
});
