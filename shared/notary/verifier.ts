/**
 * The notation-compatible verifier (notary-and-signer.md §3.5, notation-go `verifier.processSignature`
 * and `notation.Verify`), with the AWS Signer plugin's semantics reproduced natively (§1.3).
 *
 * `verifySignature` judges one envelope against one trust-policy statement; `verifyArtifact`
 * selects the statement, walks the artifact's signatures (up to `maxSignatures`) and stops at the
 * first that passes. Every validation's action (enforce / log / skip) comes from the level table;
 * a logged failure becomes a warning, an enforced one ends that signature's verification.
 * Pure: trust stores, the revocation checker and `now` are parameters.
 */
import { isAbortedError } from '../abort';
import { isStagesignError } from '../errors';
import type { Descriptor } from '../oci/types';
import { MediaType } from '../oci/types';
import {
  AWS_PROCESSED_ATTRIBUTES,
  AWS_PROFILE_VERSION_ATTRIBUTE,
  AWS_SIGNING_JOB_ATTRIBUTE,
  awsRevocationQuery,
  matchAwsTrustedIdentity,
  revokedReason,
} from './aws-signer-plugin';
import {
  hasRevocationLocations,
  isValidAt,
  notAfter,
  notBefore,
  type ParsedCertificate,
} from './certificate';
import { formatRfc1123Z } from './go-format';
import {
  HeaderKey,
  parseJwsEnvelope,
  type ExtendedAttribute,
  type ParsedJwsEnvelope,
  type SigningScheme,
} from './jws';
import * as msg from './messages';
import { compareSemver, isSemver } from './semver';
import { selectPolicy, type TrustPolicyDocument, type TrustPolicyStatement } from './trust-policy';
import { isTrustedChain, type TrustStore, type TrustStoreSet } from './trust-store';
import type { RevocationChecker } from './types';
import { resolveActions, type ValidationAction, type ValidationType } from './verification-levels';
import { goQuote, matchesX509Identity, parseX509Identity, type X509Identity } from './x509-identity';

/** The version of `com.amazonaws.signer.notation.plugin` whose behaviour is reproduced (for `verificationPluginMinVersion`). */
export const AWS_SIGNER_PLUGIN_VERSION = '1.0.298';

/** The verifier's steps, in the order they run. */
export type VerificationStep =
  | 'integrity'
  | 'verificationPlugin'
  | 'trustStore'
  | 'trustedIdentity'
  | 'expiry'
  | 'authenticTimestamp'
  | 'revocation'
  | 'targetArtifact'
  | 'userMetadata';

/** Stable codes of verification failures (tests and mappings depend on these, never on text). */
export type VerificationFailureCode =
  | 'UNSUPPORTED_ENVELOPE'
  | 'SIGNATURE_INVALID'
  | 'PLUGIN_NOT_FOUND'
  | 'PLUGIN_VERSION_UNSUPPORTED'
  | 'PLUGIN_ERROR'
  | 'UNPROCESSED_ATTRIBUTE'
  | 'NO_TRUSTED_CERTIFICATES'
  | 'UNTRUSTED_CHAIN'
  | 'IDENTITY_MISMATCH'
  | 'SIGNATURE_EXPIRED'
  | 'CERTIFICATE_NOT_VALID'
  | 'TRUST_STORE_NOT_FOUND'
  | 'TIMESTAMP_MISSING'
  | 'TIMESTAMP_UNSUPPORTED'
  | 'REVOKED'
  | 'REVOCATION_CHECK_FAILED'
  | 'REVOCATION_UNKNOWN'
  | 'TARGET_MISMATCH'
  | 'USER_METADATA_MISMATCH';

/** One step's result. `type` is the validation type whose action applied (integrity = always enforced). */
export interface StepResult {
  step: VerificationStep;
  type: ValidationType;
  action: ValidationAction;
  passed: boolean;
  code?: VerificationFailureCode;
  error?: string;
  /** Informational detail on success (e.g. the plugin's "Signature publisher matched …" reason). */
  detail?: string;
}

/** The verdict on one signature envelope. */
export interface SignatureVerdict {
  passed: boolean;
  /** The enforced failure that ended verification (absent when passed). */
  code?: VerificationFailureCode;
  error?: string;
  steps: StepResult[];
  /** `Warning: <type> was set to "log" and failed with error: <err>`, one per logged failure. */
  warnings: string[];
  signingScheme?: SigningScheme;
  signingTime?: Date;
  expiry?: Date;
  verificationPlugin?: string;
  aws?: { signingProfileVersionArn: string; signingJobArn: string };
  /** Lower-case hex SHA-256 of each x5c certificate, leaf first. */
  certificateThumbprints: string[];
  /** The signed target descriptor (payload `targetArtifact`), when integrity passed. */
  targetArtifact?: Descriptor;
  envelope?: ParsedJwsEnvelope;
}

export interface VerifySignatureInput {
  envelope: Uint8Array;
  /** The signature manifest's layer media type. */
  envelopeMediaType: string;
  /** The resolved descriptor of the artifact being verified. */
  target: Descriptor;
  policy: TrustPolicyStatement;
  trustStores: TrustStoreSet;
  /** Required for AWS signatures unless revocation is `skip`; its absence is a revocation failure. */
  revocationChecker?: RevocationChecker;
  now: Date;
  /** `notation verify --user-metadata`: every pair must be among the payload annotations. */
  userMetadata?: Record<string, string>;
  /**
   * Passed to the revocation checker. An aborted check is not a verdict: its `ABORTED` error is
   * thrown, never turned into a revocation failure that a `log` or `skip` level would let pass.
   */
  signal?: AbortSignal;
}

interface Failure {
  code: VerificationFailureCode;
  error: string;
}

/** A step either passes (optionally with detail), fails (following its action) or aborts regardless of level. */
type StepOutcome = { ok: true; detail?: string } | ({ ok: false; fatal?: boolean } & Failure);

const pass = (detail?: string): StepOutcome => (detail === undefined ? { ok: true } : { ok: true, detail });
const fail = (code: VerificationFailureCode, error: string, fatal = false): StepOutcome => ({
  ok: false,
  code,
  error,
  fatal,
});

interface Context {
  input: VerifySignatureInput;
  env: ParsedJwsEnvelope;
  actions: Record<ValidationType, ValidationAction>;
  isAws: boolean;
  /** The AWS plugin's answers, filled by the plugin call and read by the steps that apply them. */
  plugin?: { identity: StepOutcome; revocation?: StepOutcome };
}

function storeTypeFor(scheme: SigningScheme): 'ca' | 'signingAuthority' {
  return scheme === 'notary.x509' ? 'ca' : 'signingAuthority';
}

/** notation-go `extractCriticalStringExtendedAttribute`: the header must be critical and a string. */
function criticalStringError(attr: ExtendedAttribute): string | undefined {
  if (!attr.critical) return `${attr.key} is not a critical Extended attribute`;
  if (typeof attr.value !== 'string') return `${attr.key} from extended attribute is not a string`;
  return undefined;
}

/**
 * §3.5 step 2, plugin discovery in notation-go's order: the plugin name (critical, string, not
 * blank), then — only when a plugin is named — its minimum version (critical, string, not blank,
 * SemVer), then the plugin itself (only the AWS Signer plugin exists here, natively) and the
 * version comparison. The plugin's own checks run later, in the plugin call after the
 * authentic-timestamp step.
 *
 * Without a plugin, stagesign is deliberately **stricter than notation**: notation checks that
 * critical extended attributes were processed only when a plugin is named, so it would accept an
 * envelope whose `crit` lists a header nobody understands. RFC 7515 §4.1.11 says a recipient must
 * reject a JWS with a critical header it does not understand, and a signer that marked a header
 * critical meant it to constrain verification, so stagesign fails closed.
 */
function verificationPluginStep({ env }: Context): StepOutcome {
  const h = env.protectedHeaders;
  const find = (key: string) => h.extendedAttributes.find((a) => a.key === key);
  const pluginAttr = find(HeaderKey.VerificationPlugin);
  if (pluginAttr === undefined) {
    const critical = h.extendedAttributes.find(
      (a) => a.critical && a.key !== HeaderKey.VerificationPluginMinVersion,
    );
    if (critical) {
      return fail('UNPROCESSED_ATTRIBUTE', msg.criticalAttributeWithoutPluginMessage(critical.key), true);
    }
    return pass();
  }
  const pluginError = criticalStringError(pluginAttr);
  if (pluginError !== undefined) return fail('PLUGIN_ERROR', pluginError, true);
  const plugin = pluginAttr.value as string;
  if (plugin.trim() === '')
    return fail('PLUGIN_ERROR', `${pluginAttr.key} from extended attribute is an empty string`, true);
  const minAttr = find(HeaderKey.VerificationPluginMinVersion);
  let min: string | undefined;
  if (minAttr !== undefined) {
    const value = typeof minAttr.value === 'string' ? minAttr.value : '';
    const error =
      criticalStringError(minAttr) ??
      (value.trim() === ''
        ? `${minAttr.key} from extended attribute is an empty string`
        : isSemver(value)
          ? undefined
          : `${minAttr.key} from extended attribute is not a valid SemVer`);
    if (error !== undefined)
      return fail('PLUGIN_ERROR', `error while getting plugin minimum version, error: ${error}`, true);
    min = value;
  }
  if (plugin !== msg.AWS_SIGNER_PLUGIN)
    return fail('PLUGIN_NOT_FOUND', msg.pluginNotFoundMessage(plugin), true);
  if (min !== undefined) {
    const error = pluginMinVersionError(plugin, AWS_SIGNER_PLUGIN_VERSION, min);
    if (error !== undefined) return fail('PLUGIN_VERSION_UNSUPPORTED', error, true);
  }
  return pass(`${plugin} ${AWS_SIGNER_PLUGIN_VERSION} (native)`);
}

/**
 * notation-go's plugin min-version rule: `required` must be valid semver and `installed` must be
 * greater or equal; returns notation's error text, or undefined when acceptable.
 */
export function pluginMinVersionError(
  plugin: string,
  installed: string,
  required: string,
): string | undefined {
  if (!isSemver(required)) return `plugin minimum version "${required}" is not a valid semantic version`;
  return compareSemver(installed, required) < 0
    ? msg.pluginMinVersionMessage(plugin, installed, required)
    : undefined;
}

/**
 * §3.5 step 3: some certificate of the chain is byte-equal to (or pinned by) a store of the
 * scheme's type. Every store of that type the policy names must exist (notation-go's trust store
 * fails with "does not exist"); other types are not loaded here.
 */
function trustStoreStep({ input, env }: Context): StepOutcome {
  const type = storeTypeFor(env.protectedHeaders.signingScheme);
  const stores: TrustStore[] = [];
  for (const ref of new Set(input.policy.trustStores)) {
    if (!ref.startsWith(`${type}:`)) continue;
    const store = input.trustStores.get(ref);
    if (store === undefined)
      return fail('TRUST_STORE_NOT_FOUND', msg.trustStoreNotFoundMessage(ref.slice(type.length + 1), type));
    stores.push(store);
  }
  const hasAny = stores.some((s) => s.anchors.length > 0 || (s.pinnedSha256?.length ?? 0) > 0);
  if (!hasAny) return fail('NO_TRUSTED_CERTIFICATES', msg.NO_TRUSTED_CERTIFICATES);
  return stores.some((s) => isTrustedChain(s, env.certificateChain))
    ? pass()
    : fail('UNTRUSTED_CHAIN', msg.CHAIN_NOT_TRUSTED);
}

/**
 * §3.5 step 4, native x509.subject matching (notation-go `verifyX509TrustedIdentities`): the
 * leaf subject is Go's `pkix.Name.String()` parsed with the identity rules (so a subject with
 * multi-valued RDNs, `=#` values or without C/ST/O fails with notation's parse error), then
 * subset-matched against each identity. AWS envelopes get the plugin's answer instead.
 */
function trustedIdentityStep(ctx: Context): StepOutcome {
  const { input, env, isAws } = ctx;
  if (isAws)
    return ctx.plugin?.identity ?? fail('PLUGIN_ERROR', 'the verification plugin was not called', true);
  const identities = input.policy.trustedIdentities;
  if (identities.includes('*')) return pass();
  const x509: X509Identity[] = identities
    .filter((id) => id.startsWith('x509.subject:'))
    .map((id) => parseX509Identity(id.slice('x509.subject:'.length).trim()));
  if (x509.length === 0) {
    return fail(
      'IDENTITY_MISMATCH',
      `no x509 trusted identities are configured in the trust policy "${input.policy.name}"`,
    );
  }
  const leaf = env.certificates[0] as ParsedCertificate;
  let subject: X509Identity;
  try {
    subject = parseX509Identity(leaf.subject);
  } catch (error) {
    if (!isStagesignError(error)) throw error;
    return fail('IDENTITY_MISMATCH', msg.leafSubjectUnparsableMessage(error.message));
  }
  return matchesX509Identity(subject.rdns, x509)
    ? pass()
    : fail(
        'IDENTITY_MISMATCH',
        msg.x509IdentityMismatchMessage(
          x509.map((i) => i.rdns),
          input.policy.name,
        ),
      );
}

/** §3.5 step 5. */
function expiryStep({ input, env }: Context): StepOutcome {
  const expiry = env.protectedHeaders.expiry;
  if (expiry === undefined || input.now.getTime() < expiry.getTime()) return pass();
  return fail('SIGNATURE_EXPIRED', msg.signatureExpiredMessage(formatRfc1123Z(expiry)));
}

/**
 * §3.5 step 6. signingAuthority: the authentic signing time lies within every certificate's
 * validity. notary.x509 (notation-go `verifyTimestamp`): without a `tsa` store in the policy, or
 * under `verifyTimestamp: afterCertExpiry` while no certificate has expired, every certificate must
 * be valid now. Otherwise notation verifies the RFC 3161 countersignature; stagesign does not
 * implement that, so it fails closed — with notation's text when there is no countersignature.
 */
function authenticTimestampStep({ input, env }: Context): StepOutcome {
  if (env.protectedHeaders.signingScheme === 'notary.x509.signingAuthority') {
    const at = env.signingTime;
    const bad = env.certificates.find((c) => !isValidAt(c, at));
    return bad
      ? fail('CERTIFICATE_NOT_VALID', msg.certNotValidAtSigningTimeMessage(bad.subject, formatRfc1123Z(at)))
      : pass();
  }
  const now = input.now;
  const tsaConfigured = input.policy.trustStores.some((ref) => ref.startsWith('tsa:'));
  const afterCertExpiry = input.policy.signatureVerification.verifyTimestamp === 'afterCertExpiry';
  const anyExpired = env.certificates.some((c) => now.getTime() > notAfter(c).getTime());
  if (tsaConfigured && !(afterCertExpiry && !anyExpired)) {
    return env.timestampSignature === undefined || env.timestampSignature.length === 0
      ? fail('TIMESTAMP_MISSING', msg.NO_TIMESTAMP_COUNTERSIGNATURE)
      : fail('TIMESTAMP_UNSUPPORTED', msg.TIMESTAMP_VERIFICATION_UNSUPPORTED);
  }
  for (const cert of env.certificates) {
    if (now.getTime() < notBefore(cert).getTime())
      return fail(
        'CERTIFICATE_NOT_VALID',
        msg.certNotYetValidMessage(cert.subject, formatRfc1123Z(notBefore(cert))),
      );
    if (now.getTime() > notAfter(cert).getTime())
      return fail(
        'CERTIFICATE_NOT_VALID',
        msg.certExpiredMessage(cert.subject, formatRfc1123Z(notAfter(cert))),
      );
  }
  return pass();
}

/**
 * §3.5 step 8 for AWS envelopes: the AWS Signer plugin's VerifySignature, natively, in the
 * plugin's order — request validation (wildcard identity, then signing scheme), the trusted
 * identity answer, the revocation answer (unless revocation is skipped), then notation's check
 * that every critical extended attribute was processed. Errors here are fatal at every level;
 * the identity and revocation answers are applied by the next two steps with their own actions.
 */
async function pluginCallStep(ctx: Context): Promise<StepOutcome> {
  const { input, env } = ctx;
  const plugin = msg.AWS_SIGNER_PLUGIN;
  const h = env.protectedHeaders;
  const pluginError = (text: string) => fail('PLUGIN_ERROR', msg.pluginErrorMessage(plugin, text), true);
  if (input.policy.trustedIdentities.includes('*')) return pluginError(msg.AWS_WILDCARD_IDENTITY);
  if (h.signingScheme !== 'notary.x509.signingAuthority')
    return pluginError(`'${h.signingScheme}' signing scheme is not supported`);
  const profileVersionArn = attributeValue(env, AWS_PROFILE_VERSION_ATTRIBUTE);
  if (profileVersionArn === undefined)
    return pluginError(`unable to parse attribute "${AWS_PROFILE_VERSION_ATTRIBUTE}".`);
  const match = matchAwsTrustedIdentity(profileVersionArn, input.policy.trustedIdentities);
  const identity = match.matched
    ? pass(match.reason)
    : fail('IDENTITY_MISMATCH', msg.pluginTrustedIdentityFailedMessage(plugin, match.reason));
  let revocation: StepOutcome | undefined;
  if (ctx.actions.revocation !== 'skip') {
    const jobArn = attributeValue(env, AWS_SIGNING_JOB_ATTRIBUTE);
    if (jobArn === undefined) return pluginError(`unable to parse attribute "${AWS_SIGNING_JOB_ATTRIBUTE}".`);
    revocation = await awsRevocation(input, env, profileVersionArn, jobArn);
  }
  for (const attr of h.extendedAttributes) {
    if (attr.key === HeaderKey.VerificationPlugin || attr.key === HeaderKey.VerificationPluginMinVersion)
      continue;
    if (!AWS_PROCESSED_ATTRIBUTES.includes(attr.key))
      return fail('UNPROCESSED_ATTRIBUTE', msg.unprocessedAttributeMessage(attr.key, plugin), true);
  }
  ctx.plugin = { identity, ...(revocation ? { revocation } : {}) };
  return pass(`${plugin} processed ${AWS_PROCESSED_ATTRIBUTES.join(', ')}`);
}

/** The plugin's REVOCATION_CHECK: GetRevocationStatus through the checker; a failed call is a failed result. */
async function awsRevocation(
  input: VerifySignatureInput,
  env: ParsedJwsEnvelope,
  profileVersionArn: string,
  jobArn: string,
): Promise<StepOutcome> {
  const plugin = msg.AWS_SIGNER_PLUGIN;
  const query = awsRevocationQuery({
    certificateChain: env.certificateChain,
    jobArn,
    profileVersionArn,
    authenticSigningTime: env.signingTime,
  });
  let revoked: string[];
  try {
    if (!input.revocationChecker)
      throw new Error('no RevocationChecker was configured for AWS Signer signatures');
    const call = input.signal ? { signal: input.signal } : undefined;
    revoked = (await input.revocationChecker.getRevocationStatus(query, call)).revokedEntities ?? [];
  } catch (error) {
    if (isAbortedError(error)) throw error;
    const reason = msg.awsRevocationCallFailedReason(error instanceof Error ? error.message : String(error));
    return fail('REVOCATION_CHECK_FAILED', msg.pluginRevocationFailedMessage(plugin, reason));
  }
  const reason = revokedReason(revoked);
  return reason === undefined
    ? pass(msg.AWS_NOT_REVOKED)
    : fail('REVOKED', msg.pluginRevocationFailedMessage(plugin, reason));
}

/** §3.5 step 7 (native OCSP/CRL: status unknown when locations exist) or the AWS plugin's answer. */
function revocationStep(ctx: Context): StepOutcome {
  const { env, isAws } = ctx;
  if (isAws)
    return ctx.plugin?.revocation ?? fail('PLUGIN_ERROR', 'the verification plugin was not called', true);
  const revocable = env.certificates.find(hasRevocationLocations);
  if (!revocable) return pass('certificates carry no OCSP or CRL locations: not revocable');
  return fail(
    'REVOCATION_UNKNOWN',
    `signing certificate with subject ${goQuote(revocable.subject)} revocation status is unknown: the certificate names OCSP/CRL locations and stagesign does not query them yet (set "revocation" to "log" or "skip" in the trust policy override to accept)`,
  );
}

/** §3.5 step 9: the signed descriptor equals the resolved one in mediaType, digest and size. */
function targetArtifactStep({ input, env }: Context): StepOutcome {
  const signed = env.payload.targetArtifact;
  const t = input.target;
  return signed.mediaType === t.mediaType && signed.digest === t.digest && signed.size === t.size
    ? pass()
    : fail('TARGET_MISMATCH', msg.CONTENT_DESCRIPTOR_MISMATCH, true);
}

/** §3.5 step 9: every requested user-metadata pair is among the signed annotations. */
function userMetadataStep({ input, env }: Context): StepOutcome {
  const annotations = env.payload.targetArtifact.annotations ?? {};
  const ok = Object.entries(input.userMetadata ?? {}).every(([k, v]) => annotations[k] === v);
  return ok ? pass() : fail('USER_METADATA_MISMATCH', msg.USER_METADATA_MISMATCH, true);
}

function attributeValue(env: ParsedJwsEnvelope, key: string): string | undefined {
  const value = env.protectedHeaders.extendedAttributes.find((a) => a.key === key)?.value;
  return typeof value === 'string' ? value : undefined;
}

interface StepSpec {
  step: VerificationStep;
  type: ValidationType;
  run: (ctx: Context) => StepOutcome | Promise<StepOutcome>;
}

const PLUGIN_DISCOVERY: StepSpec = {
  step: 'verificationPlugin',
  type: 'integrity',
  run: verificationPluginStep,
};
const TRUST_STORE: StepSpec = { step: 'trustStore', type: 'authenticity', run: trustStoreStep };
const TRUSTED_IDENTITY: StepSpec = {
  step: 'trustedIdentity',
  type: 'authenticity',
  run: trustedIdentityStep,
};
const EXPIRY: StepSpec = { step: 'expiry', type: 'expiry', run: expiryStep };
const AUTHENTIC_TIMESTAMP: StepSpec = {
  step: 'authenticTimestamp',
  type: 'authenticTimestamp',
  run: authenticTimestampStep,
};
const REVOCATION: StepSpec = { step: 'revocation', type: 'revocation', run: revocationStep };
const TAIL: StepSpec[] = [
  { step: 'targetArtifact', type: 'integrity', run: targetArtifactStep },
  { step: 'userMetadata', type: 'integrity', run: userMetadataStep },
];

/** notation-go's order without a plugin: native identity after the trust store, native revocation after time. */
const NATIVE_STEPS: readonly StepSpec[] = [
  PLUGIN_DISCOVERY,
  TRUST_STORE,
  TRUSTED_IDENTITY,
  EXPIRY,
  AUTHENTIC_TIMESTAMP,
  REVOCATION,
  ...TAIL,
];

/**
 * With the AWS plugin (which has TRUSTED_IDENTITY and REVOCATION_CHECK) notation skips the native
 * identity and revocation checks and calls the plugin after the authentic-timestamp step; the
 * plugin's identity and revocation answers are then applied in that order.
 */
const AWS_PLUGIN_STEPS: readonly StepSpec[] = [
  PLUGIN_DISCOVERY,
  TRUST_STORE,
  EXPIRY,
  AUTHENTIC_TIMESTAMP,
  { step: 'verificationPlugin', type: 'integrity', run: pluginCallStep },
  TRUSTED_IDENTITY,
  REVOCATION,
  ...TAIL,
];

/** notation's order of validation results, which is the order it prints warnings in. */
const WARNING_ORDER: readonly ValidationType[] = [
  'integrity',
  'authenticity',
  'expiry',
  'authenticTimestamp',
  'revocation',
];

/**
 * Verifies one signature envelope against one trust-policy statement, in notation-go's order.
 * Never throws for a bad signature: failures are in the verdict. The statement's level must not be
 * `skip` (verifyArtifact handles that before fetching anything).
 */
export async function verifySignature(input: VerifySignatureInput): Promise<SignatureVerdict> {
  const actions = resolveActions(input.policy);
  const steps: StepResult[] = [];
  const warnings: string[] = [];
  const verdict: SignatureVerdict = { passed: false, steps, warnings, certificateThumbprints: [] };
  const stop = (step: StepResult): SignatureVerdict => {
    steps.push(step);
    return { ...verdict, passed: false, code: step.code, error: step.error };
  };

  if (input.envelopeMediaType !== MediaType.JwsEnvelope) {
    return stop({
      step: 'integrity',
      type: 'integrity',
      action: 'enforce',
      passed: false,
      code: 'UNSUPPORTED_ENVELOPE',
      error: msg.unsupportedEnvelopeMessage(input.envelopeMediaType),
    });
  }
  let env: ParsedJwsEnvelope;
  try {
    env = parseJwsEnvelope(input.envelope);
  } catch (error) {
    if (!isStagesignError(error)) throw error;
    return stop({
      step: 'integrity',
      type: 'integrity',
      action: 'enforce',
      passed: false,
      code: 'SIGNATURE_INVALID',
      error: error.message,
    });
  }
  steps.push({ step: 'integrity', type: 'integrity', action: 'enforce', passed: true });
  const h = env.protectedHeaders;
  const isAws = h.verificationPlugin === msg.AWS_SIGNER_PLUGIN;
  Object.assign(verdict, {
    signingScheme: h.signingScheme,
    signingTime: env.signingTime,
    ...(h.expiry ? { expiry: h.expiry } : {}),
    ...(h.verificationPlugin ? { verificationPlugin: h.verificationPlugin } : {}),
    certificateThumbprints: env.certificates.map((c) => c.sha256),
    targetArtifact: env.payload.targetArtifact,
    envelope: env,
  });
  const profileVersion = attributeValue(env, AWS_PROFILE_VERSION_ATTRIBUTE);
  const job = attributeValue(env, AWS_SIGNING_JOB_ATTRIBUTE);
  if (isAws && profileVersion !== undefined && job !== undefined) {
    verdict.aws = { signingProfileVersionArn: profileVersion, signingJobArn: job };
  }

  const ctx: Context = { input, env, actions, isAws };
  // notation keeps one result per validation type; a later failure of the same type (the trusted
  // identity after the trust store) overwrites the earlier error, so one warning per type is printed.
  const logged = new Map<ValidationType, string>();
  const warningsInOrder = () =>
    WARNING_ORDER.flatMap((type) => {
      const error = logged.get(type);
      return error === undefined ? [] : [msg.loggedFailureWarning(type, error)];
    });
  for (const { step, type, run } of isAws ? AWS_PLUGIN_STEPS : NATIVE_STEPS) {
    const action = actions[type];
    if (action === 'skip') {
      steps.push({ step, type, action, passed: true, detail: 'skipped by trust policy' });
      continue;
    }
    const outcome = await run(ctx);
    if (outcome.ok) {
      steps.push({
        step,
        type,
        action,
        passed: true,
        ...(outcome.detail !== undefined ? { detail: outcome.detail } : {}),
      });
      continue;
    }
    const result: StepResult = {
      step,
      type,
      action: outcome.fatal ? 'enforce' : action,
      passed: false,
      code: outcome.code,
      error: outcome.error,
    };
    if (outcome.fatal || action === 'enforce') {
      warnings.push(...warningsInOrder());
      return stop(result);
    }
    steps.push(result);
    logged.set(type, outcome.error);
  }
  warnings.push(...warningsInOrder());
  return { ...verdict, passed: true };
}

/** Lists and fetches an artifact's signatures (implemented over the Registry by the verify stage). */
export interface SignatureSource {
  /** Signature manifests referring to the artifact, in the order to try them. */
  list(): Promise<Descriptor[]>;
  /**
   * The same, one at a time (preferred when present): the verifier asks for the next signature
   * only after the previous one failed, so nothing past the first passing one is fetched.
   */
  signatures?(): AsyncIterable<Descriptor>;
  /** The envelope blob of one signature manifest and its layer media type. */
  fetchEnvelope(signatureManifest: Descriptor): Promise<{ mediaType: string; envelope: Uint8Array }>;
}

export type ArtifactOutcome = 'verified' | 'skipped' | 'failed';

export type ArtifactFailureCode =
  'NO_SIGNATURE' | 'ALL_SIGNATURES_FAILED' | 'MAX_SIGNATURES_EXCEEDED' | 'SIGNATURE_RETRIEVAL_FAILED';

/** The verdict on an artifact, with notation's exact message for the outcome. */
export interface ArtifactVerdict {
  outcome: ArtifactOutcome;
  code?: ArtifactFailureCode;
  /** notation's text: success line, skip line, or the failure (without the CLI's `Error: ` prefix). */
  message: string;
  policyName: string;
  /** The signature manifest digest that passed. */
  signatureDigest?: string;
  verdict?: SignatureVerdict;
  /** Per-signature failures, in the order tried: `reason` is `Signature <d> failed verification with error: …`. */
  failures: Array<{ signatureDigest: string; code?: string; reason: string; verdict: SignatureVerdict }>;
  warnings: string[];
}

export interface VerifyArtifactInput {
  /** `host/repo@sha256:…`, used for policy selection and in messages. */
  artifactReference: string;
  target: Descriptor;
  signatures: SignatureSource;
  policyDocument: TrustPolicyDocument;
  trustStores: TrustStoreSet;
  revocationChecker?: RevocationChecker;
  now: Date;
  /** Default 100, as `notation verify --max-signatures`. */
  maxSignatures?: number;
  userMetadata?: Record<string, string>;
  /** Passed to the revocation checker (see {@link VerifySignatureInput.signal}). */
  signal?: AbortSignal;
}

/**
 * `notation verify` for one artifact: select the statement (throws ConfigurationError
 * `NO_APPLICABLE_POLICY`), skip level → skipped without fetching, otherwise try signatures in
 * order and stop at the first that passes. Dependency and permission errors from the source
 * propagate; any other fetch error aborts with notation's retrieval message.
 */
export async function verifyArtifact(input: VerifyArtifactInput): Promise<ArtifactVerdict> {
  const ref = input.artifactReference;
  const policy = selectPolicy(input.policyDocument, ref);
  const base = {
    policyName: policy.name,
    failures: [] as ArtifactVerdict['failures'],
    warnings: [] as string[],
  };
  if (policy.signatureVerification.level === 'skip') {
    return { ...base, outcome: 'skipped', message: msg.skipMessage(ref) };
  }
  const max = input.maxSignatures ?? 100;
  const descriptors: AsyncIterable<Descriptor> | Descriptor[] =
    input.signatures.signatures?.() ?? (await input.signatures.list());
  // notation-go `Verify`: signatures one at a time (fetch, verify, discard), stop at the first
  // that passes or after `max`, and report the limit whenever `max` signatures were processed
  // without success (even if no further signature exists).
  let processed = 0;
  for await (const descriptor of descriptors) {
    processed++;
    let fetched: { mediaType: string; envelope: Uint8Array };
    try {
      fetched = await input.signatures.fetchEnvelope(descriptor);
    } catch (error) {
      if (isStagesignError(error) && (error.kind === 'dependency' || error.kind === 'permission'))
        throw error;
      const text = error instanceof Error ? error.message : String(error);
      return {
        ...base,
        outcome: 'failed',
        code: 'SIGNATURE_RETRIEVAL_FAILED',
        message: msg.signatureRetrievalFailedMessage(descriptor.digest, ref, text),
      };
    }
    const verdict = await verifySignature({
      envelope: fetched.envelope,
      envelopeMediaType: fetched.mediaType,
      target: input.target,
      policy,
      trustStores: input.trustStores,
      now: input.now,
      ...(input.revocationChecker ? { revocationChecker: input.revocationChecker } : {}),
      ...(input.userMetadata ? { userMetadata: input.userMetadata } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
    });
    if (verdict.passed) {
      return {
        ...base,
        outcome: 'verified',
        message: msg.verifiedMessage(ref),
        signatureDigest: descriptor.digest,
        verdict,
        warnings: verdict.warnings,
      };
    }
    base.failures.push({
      signatureDigest: descriptor.digest,
      ...(verdict.code ? { code: verdict.code } : {}),
      reason: msg.signatureFailedMessage(descriptor.digest, verdict.error ?? 'unknown error'),
      verdict,
    });
    if (processed >= max) break;
  }
  if (processed === 0) {
    return { ...base, outcome: 'failed', code: 'NO_SIGNATURE', message: msg.noSignatureMessage(ref) };
  }
  if (processed >= max) {
    return {
      ...base,
      outcome: 'failed',
      code: 'MAX_SIGNATURES_EXCEEDED',
      message: msg.maxSignaturesExceededMessage(max),
    };
  }
  return {
    ...base,
    outcome: 'failed',
    code: 'ALL_SIGNATURES_FAILED',
    message: msg.allSignaturesFailedMessage(ref),
  };
}
