/**
 * notation's OCI trust policy document (`trustpolicy.oci.json` / `trustpolicy.json`, version 1.0):
 * parsing with every validation rule notation applies, and selecting the statement for an artifact.
 * Spec: `specs/trust-store-trust-policy.md` §"Trust Policy"; notation-go `verifier/trustpolicy/*.go`
 * (`OCIDocument.Validate`, `validateCore`, `GetVerificationLevel`, `GetApplicableTrustPolicy`).
 *
 * Messages are notation-go's (main, 2025-11) word for word. Where notation's text does not say which
 * statement or field is at fault, a suffix in parentheses names them.
 *
 * One deliberate difference: notation (Go `encoding/json`) ignores unknown and misspelt fields; a
 * misspelt `override` or `verifyTimestamp` would then silently change what is verified, so stagesign
 * rejects unknown fields (fail closed).
 */
import { ConfigurationError, InputError } from '../errors';
import { canonicalScope } from '../oci/reference';
import type { ValidationAction, ValidationType, VerificationLevelName } from './verification-levels';
import { VALIDATION_TYPES, VERIFICATION_LEVEL_NAMES } from './verification-levels';
import { goQuote, isSubsetDn, parseX509Identity, X509_SUBJECT_PREFIX } from './x509-identity';
import type { X509Identity } from './x509-identity';

export type { ValidationAction, ValidationType, VerificationLevelName } from './verification-levels';

/** One statement of `trustPolicies`. */
export interface TrustPolicyStatement {
  name: string;
  registryScopes: string[];
  signatureVerification: {
    level: VerificationLevelName;
    override?: Partial<Record<ValidationType, ValidationAction>>;
    /** When to verify an RFC 3161 timestamp countersignature (notary.x509 with a `tsa` store); default `always`. */
    verifyTimestamp?: 'always' | 'afterCertExpiry';
    /** notation ≥ 1.3: skip revocation checks of the timestamping chain. */
    skipTimestampRevocationCheck?: boolean;
  };
  trustStores: string[];
  trustedIdentities: string[];
}

/** A validated trust policy document. */
export interface TrustPolicyDocument {
  version: '1.0';
  trustPolicies: TrustPolicyStatement[];
}

/** The `*` value of registryScopes and trustedIdentities. */
export const WILDCARD = '*';

/** notation's link to the trust policy tutorial, quoted in its messages. */
export const TRUST_POLICY_LINK = 'https://notaryproject.dev/docs/quickstart/#create-a-trust-policy';

const TRUST_STORE_TYPES = ['ca', 'signingAuthority', 'tsa'] as const;
const VALIDATION_ACTIONS: readonly ValidationAction[] = ['enforce', 'log', 'skip'];
const STORE_NAME = /^[a-zA-Z0-9_.-]+$/;
// Adapted from distribution's reference grammar, as notation-go does.
const DOMAIN =
  /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?$/;
const REPOSITORY =
  /^[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?(?:(?:\/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?$/;

const DOCUMENT_FIELDS = ['version', 'trustPolicies'];
const STATEMENT_FIELDS = [
  'name',
  'registryScopes',
  'signatureVerification',
  'trustStores',
  'trustedIdentities',
];
const SIGNATURE_VERIFICATION_FIELDS = [
  'level',
  'override',
  'verifyTimestamp',
  'skipTimestampRevocationCheck',
];

function invalid(message: string): never {
  throw new ConfigurationError('TRUST_POLICY_INVALID', message);
}

/**
 * Parses and validates a trust policy (JSON text or an already-parsed object) with notation's rules,
 * in notation's order. Throws ConfigurationError `TRUST_POLICY_INVALID` whose message is notation's
 * text for the rule broken, naming the statement and field.
 */
export function parseTrustPolicy(input: string | unknown): TrustPolicyDocument {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (error) {
      invalid(
        `malformed trust policy (${(error as Error).message}). To create a trust policy, see: ${TRUST_POLICY_LINK}`,
      );
    }
  }
  const doc = readDocumentShape(raw);
  validateDocument(doc);
  return doc;
}

/** Structural decoding, like Go's `json.Decode` into notation's structs (plus unknown-field rejection). */
function readDocumentShape(raw: unknown): TrustPolicyDocument {
  const malformed = (path: string, what: string): never =>
    invalid(`malformed trust policy: ${path} ${what}. To create a trust policy, see: ${TRUST_POLICY_LINK}`);
  const object = (value: unknown, path: string, fields: string[]): Record<string, unknown> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return malformed(path, 'must be an object');
    for (const key of Object.keys(value)) {
      if (!fields.includes(key)) {
        malformed(
          `${path === '(document)' ? '' : `${path}.`}${key}`,
          `is not a known field (known: ${fields.join(', ')})`,
        );
      }
    }
    return value as Record<string, unknown>;
  };
  const string = (value: unknown, path: string): string => {
    if (value === undefined || value === null) return '';
    if (typeof value !== 'string') return malformed(path, 'must be a string');
    return value;
  };
  const strings = (value: unknown, path: string): string[] => {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) return malformed(path, 'must be an array of strings');
    return value.map((item, i) => {
      if (typeof item !== 'string') return malformed(`${path}[${i}]`, 'must be a string');
      return item;
    });
  };

  const top = object(raw, '(document)', DOCUMENT_FIELDS);
  const statementsRaw = top.trustPolicies ?? [];
  if (!Array.isArray(statementsRaw)) malformed('trustPolicies', 'must be an array');
  const trustPolicies = (statementsRaw as unknown[]).map((s, i): TrustPolicyStatement => {
    const path = `trustPolicies[${i}]`;
    const statement = object(s, path, STATEMENT_FIELDS);
    const sv = object(
      statement.signatureVerification ?? {},
      `${path}.signatureVerification`,
      SIGNATURE_VERIFICATION_FIELDS,
    );
    const signatureVerification: TrustPolicyStatement['signatureVerification'] = {
      level: string(sv.level, `${path}.signatureVerification.level`) as VerificationLevelName,
    };
    if (sv.override !== undefined && sv.override !== null) {
      const override = sv.override;
      if (typeof override !== 'object' || Array.isArray(override)) {
        malformed(`${path}.signatureVerification.override`, 'must be an object');
      }
      const entries = Object.entries(override as Record<string, unknown>).map(([k, v]) => [
        k,
        string(v, `${path}.signatureVerification.override.${k}`),
      ]);
      signatureVerification.override = Object.fromEntries(entries) as Partial<
        Record<ValidationType, ValidationAction>
      >;
    }
    const verifyTimestamp = string(sv.verifyTimestamp, `${path}.signatureVerification.verifyTimestamp`);
    if (verifyTimestamp !== '') {
      signatureVerification.verifyTimestamp = verifyTimestamp as 'always' | 'afterCertExpiry';
    }
    const skipTsRevocation = sv.skipTimestampRevocationCheck;
    if (skipTsRevocation !== undefined && skipTsRevocation !== null) {
      if (typeof skipTsRevocation !== 'boolean') {
        malformed(`${path}.signatureVerification.skipTimestampRevocationCheck`, 'must be a boolean');
      }
      signatureVerification.skipTimestampRevocationCheck = skipTsRevocation as boolean;
    }
    return {
      name: string(statement.name, `${path}.name`),
      registryScopes: strings(statement.registryScopes, `${path}.registryScopes`),
      signatureVerification,
      trustStores: strings(statement.trustStores, `${path}.trustStores`),
      trustedIdentities: strings(statement.trustedIdentities, `${path}.trustedIdentities`),
    };
  });
  return { version: string(top.version, 'version') as '1.0', trustPolicies };
}

/** notation-go `OCIDocument.Validate`, same order. */
function validateDocument(doc: TrustPolicyDocument): void {
  if (doc.version === ('' as string)) {
    invalid('oci trust policy document is missing or has empty version, it must be specified');
  }
  if (doc.version !== '1.0')
    invalid(`oci trust policy document uses unsupported version ${goQuote(doc.version)}`);
  if (doc.trustPolicies.length === 0)
    invalid('oci trust policy document can not have zero trust policy statements');

  for (const statement of doc.trustPolicies) {
    try {
      validateStatementCore(statement);
    } catch (error) {
      if (error instanceof ConfigurationError) invalid(`oci trust policy: ${error.message}`);
      throw error;
    }
  }
  validateRegistryScopes(doc);
  // One spelling per registry (uppercase, :443, ECR FIPS twins): what selectPolicy compares.
  for (const statement of doc.trustPolicies) {
    statement.registryScopes = statement.registryScopes.map((scope) =>
      scope === WILDCARD ? scope : canonicalScope(scope),
    );
  }

  const seen = new Set<string>();
  for (const { name } of doc.trustPolicies) {
    if (seen.has(name)) {
      invalid(
        `multiple oci trust policy statements use the same name ${goQuote(name)}, statement names must be unique`,
      );
    }
    seen.add(name);
  }
}

/** notation-go `validateCore`: name, signatureVerification, trust stores, trusted identities. */
function validateStatementCore(statement: TrustPolicyStatement): void {
  const { name, signatureVerification, trustStores, trustedIdentities } = statement;
  if (name === '') invalid('a trust policy statement is missing a name, every statement requires a name');
  const q = goQuote(name);

  const levelError = signatureVerificationError(signatureVerification);
  if (levelError !== undefined)
    invalid(`trust policy statement ${q} has invalid signatureVerification: ${levelError}`);

  if (signatureVerification.level === 'skip') {
    if (trustStores.length > 0 || trustedIdentities.length > 0) {
      invalid(
        `trust policy statement ${q} is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped`,
      );
    }
    return;
  }
  if (trustStores.length === 0 || trustedIdentities.length === 0) {
    invalid(
      `trust policy statement ${q} is either missing trust stores or trusted identities, both must be specified`,
    );
  }
  validateTrustStoreRefs(name, trustStores);
  validateTrustedIdentities(name, trustedIdentities);
}

/** notation-go `GetVerificationLevel` plus the `verifyTimestamp` check; undefined when valid. */
function signatureVerificationError(sv: TrustPolicyStatement['signatureVerification']): string | undefined {
  const level = sv.level as string;
  if (level === '') return 'signature verification level is empty or missing in the trust policy statement';
  if (!(VERIFICATION_LEVEL_NAMES as readonly string[]).includes(level)) {
    return `invalid signature verification level ${goQuote(level)}`;
  }
  const verifyTimestamp = sv.verifyTimestamp as string | undefined;
  if (
    verifyTimestamp !== undefined &&
    verifyTimestamp !== 'always' &&
    verifyTimestamp !== 'afterCertExpiry'
  ) {
    return `verifyTimestamp must be "always" or "afterCertExpiry", but got ${goQuote(verifyTimestamp)}`;
  }
  const override = Object.entries(sv.override ?? {}) as [string, string][];
  if (override.length === 0) return undefined;
  if (level === 'skip')
    return `signature verification level ${goQuote(level)} can't be used to customize signature verification`;
  for (const [type, action] of override) {
    if (!(VALIDATION_TYPES as readonly string[]).includes(type)) {
      return `verification type ${goQuote(type)} in custom signature verification is not supported, supported values are ${goQuoteList(VALIDATION_TYPES)}`;
    }
    if (!(VALIDATION_ACTIONS as readonly string[]).includes(action)) {
      return `verification action ${goQuote(action)} in custom signature verification is not supported, supported values are ${goQuoteList(VALIDATION_ACTIONS)}`;
    }
    if (type === 'integrity')
      return `${goQuote(type)} verification can not be overridden in custom signature verification`;
    if (type !== 'revocation' && action === 'skip') {
      return `${goQuote(type)} verification can not be skipped in custom signature verification`;
    }
  }
  return undefined;
}

/** notation-go `validateTrustStore`: `<type>:<name>` with a known type and a file-name-safe name. */
function validateTrustStoreRefs(name: string, trustStores: string[]): void {
  const q = goQuote(name);
  for (const ref of trustStores) {
    const colon = ref.indexOf(':');
    if (colon < 0) {
      invalid(
        `trust policy statement ${q} has malformed trust store value ${goQuote(ref)}. The required format is <TrustStoreType>:<TrustStoreName>`,
      );
    }
    const storeType = ref.slice(0, colon);
    const storeName = ref.slice(colon + 1);
    if (!(TRUST_STORE_TYPES as readonly string[]).includes(storeType)) {
      invalid(
        `trust policy statement ${q} uses an unsupported trust store type ${goQuote(storeType)} in trust store value ${goQuote(ref)}`,
      );
    }
    if (!STORE_NAME.test(storeName)) {
      invalid(
        `trust policy statement ${q} uses an unsupported trust store name ${goQuote(storeName)} in trust store value ${goQuote(ref)}. Named store name needs to follow [a-zA-Z0-9_.-]+ format`,
      );
    }
  }
}

/** notation-go `validateTrustedIdentities` and `validateOverlappingDNs`. */
function validateTrustedIdentities(name: string, identities: string[]): void {
  const q = goQuote(name);
  if (identities.length > 1 && identities.includes(WILDCARD)) {
    invalid(
      `trust policy statement ${q} uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values`,
    );
  }
  const parsed: { raw: string; identity: X509Identity }[] = [];
  for (const identity of identities) {
    if (identity === '') invalid(`trust policy statement ${q} has an empty trusted identity`);
    if (identity === WILDCARD) continue;
    const colon = identity.indexOf(':');
    if (colon < 0)
      invalid(`trust policy statement ${q} has trusted identity ${goQuote(identity)} missing separator`);
    // notation evaluates only x509.subject identities natively; others (AWS Signer ARNs) belong to a plugin.
    if (identity.slice(0, colon) !== X509_SUBJECT_PREFIX) continue;
    const value = identity.slice(colon + 1);
    if (value === '')
      invalid(
        `trust policy statement ${q} has trusted identity ${goQuote(identity)} without an identity value`,
      );
    try {
      parsed.push({ raw: identity, identity: parseX509Identity(value) });
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      invalid(
        `trust policy statement ${q} has trusted identity ${goQuote(identity)} with invalid identity value: ${error.message}`,
      );
    }
  }
  for (const [i, a] of parsed.entries()) {
    for (const [j, b] of parsed.entries()) {
      if (i !== j && isSubsetDn(a.identity.rdns, b.identity.rdns)) {
        invalid(
          `trust policy statement ${q} has overlapping x509 trustedIdentities, ${goQuote(a.raw)} overlaps with ${goQuote(b.raw)}`,
        );
      }
    }
  }
}

/** notation-go `validateRegistryScopes`: non-empty, `*` alone, well-formed, each scope in one statement. */
function validateRegistryScopes(doc: TrustPolicyDocument): void {
  const owners = new Map<string, string[]>();
  for (const { name, registryScopes } of doc.trustPolicies) {
    const q = goQuote(name);
    if (registryScopes.length === 0) {
      invalid(
        `oci trust policy statement ${q} has zero registry scopes, it must specify registry scopes with at least one value`,
      );
    }
    if (registryScopes.length > 1 && registryScopes.includes(WILDCARD)) {
      invalid(
        `oci trust policy statement ${q} uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values`,
      );
    }
    for (const scope of registryScopes) {
      if (scope !== WILDCARD) {
        const error = registryScopeFormatError(scope);
        if (error !== undefined) invalid(`${error} (trust policy statement ${q}, registryScopes)`);
      }
      const key = scope === WILDCARD ? scope : canonicalScope(scope);
      owners.set(key, [...(owners.get(key) ?? []), name]);
    }
  }
  for (const [scope, names] of owners) {
    if (names.length > 1) {
      invalid(
        `registry scope ${goQuote(scope)} is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement`,
      );
    }
  }
}

/** notation-go `validateRegistryScopeFormat`; undefined when `scope` is a fully qualified repository. */
function registryScopeFormatError(scope: string): string | undefined {
  const ensure =
    'make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout';
  if (scope.length > 1 && scope.includes('*'))
    return `registry scope ${goQuote(scope)} with wild card(s) is not valid, ${ensure}`;
  const slash = scope.indexOf('/');
  const domain = slash < 0 ? '' : scope.slice(0, slash);
  const repository = slash < 0 ? '' : scope.slice(slash + 1);
  if (domain === '' || repository === '' || !DOMAIN.test(domain) || !REPOSITORY.test(repository)) {
    return `registry scope ${goQuote(scope)} is not valid, ${ensure}`;
  }
  return undefined;
}

/**
 * The statement that applies to `artifactReference` (`host[:port]/repo[:tag][@digest]`): the one
 * whose scope equals the reference without tag and digest, else the `*` statement. Both sides
 * are compared in one spelling per registry (`canonicalScope`: lowercase host, no `:443`, an ECR
 * FIPS host as its non-FIPS twin), so another spelling of a scoped repository cannot fall
 * through to a weaker `*` statement. Throws
 * ConfigurationError `NO_APPLICABLE_POLICY` with notation's message otherwise, and InputError
 * `INVALID_REFERENCE` when the reference has no repository part notation could scope.
 */
export function selectPolicy(doc: TrustPolicyDocument, artifactReference: string): TrustPolicyStatement {
  const scope = canonicalScope(repositoryOf(artifactReference));
  let wildcard: TrustPolicyStatement | undefined;
  for (const statement of doc.trustPolicies) {
    if (statement.registryScopes.includes(WILDCARD)) wildcard = statement;
    else if (statement.registryScopes.includes(scope)) return statement;
  }
  if (wildcard !== undefined) return wildcard;
  throw new ConfigurationError('NO_APPLICABLE_POLICY', noApplicablePolicyMessage(artifactReference));
}

/** notation-go's message when no statement's registryScopes covers the artifact. */
export function noApplicablePolicyMessage(artifactReference: string): string {
  return `artifact ${goQuote(artifactReference)} has no applicable oci trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: ${TRUST_POLICY_LINK}`;
}

/** `host[:port]/repo` of a reference: `@digest` and then a `:tag` after the last `/` removed. */
function repositoryOf(reference: string): string {
  let path = reference;
  const at = path.lastIndexOf('@');
  if (at >= 0) path = path.slice(0, at);
  const lastSlash = path.lastIndexOf('/');
  const tagColon = path.indexOf(':', lastSlash + 1);
  if (lastSlash >= 0 && tagColon >= 0) path = path.slice(0, tagColon);
  if (registryScopeFormatError(path) !== undefined) {
    throw new InputError(
      'INVALID_REFERENCE',
      `artifact URI ${goQuote(reference)} could not be parsed, make sure it is the fully qualified oci artifact URI without the scheme/protocol. e.g domain.com:80/my/repository@sha256:digest`,
    );
  }
  return path;
}

/** Go's `%q` of a string slice: `["a" "b"]`. */
function goQuoteList(values: readonly string[]): string {
  return `[${values.map(goQuote).join(' ')}]`;
}
