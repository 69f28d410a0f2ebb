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
import { HeaderKey, parseJwsEnvelope, type ParsedJwsEnvelope, type SigningScheme } from './jws';
import * as msg from './messages';
import { compareSemver, isSemver } from './semver';
import { selectPolicy, type TrustPolicyDocument, type TrustPolicyStatement } from './trust-policy';
import { isTrustedChain, type TrustStoreSet } from './trust-store';
import type { RevocationChecker } from './types';
import { resolveActions, type ValidationAction, type ValidationType } from './verification-levels';
import { matchesX509Identity, parseX509Identity, type X509Identity } from './x509-identity';
import { subjectAttributes } from './go-format';

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
}

function storeTypeFor(scheme: SigningScheme): 'ca' | 'signingAuthority' {
  return scheme === 'notary.x509' ? 'ca' : 'signingAuthority';
}

/** §3.5 step 2: the envelope's verification plugin, native AWS Signer semantics, or notation's not-found error. */
function verificationPluginStep({ env }: Context): StepOutcome {
  const h = env.protectedHeaders;
  for (const key of [HeaderKey.VerificationPlugin, HeaderKey.VerificationPluginMinVersion]) {
    const attr = h.extendedAttributes.find((a) => a.key === key);
    if (attr && !attr.critical)
      return fail('PLUGIN_ERROR', `"${key}" is not a critical Extended attribute`, true);
    if (attr && typeof attr.value !== 'string')
      return fail('PLUGIN_ERROR', `"${key}" from extended attribute is not a string`, true);
  }
  const plugin = h.verificationPlugin;
  if (plugin === undefined) {
    const critical = h.extendedAttributes.find((a) => a.critical);
    if (critical) {
      // JWS "crit": a recipient must understand every critical header; without a plugin nothing processes this one.
      return fail(
        'UNPROCESSED_ATTRIBUTE',
        `extended critical attribute "${critical.key}" is not supported without a verification plugin`,
        true,
      );
    }
    return pass();
  }
  if (plugin !== msg.AWS_SIGNER_PLUGIN)
    return fail('PLUGIN_NOT_FOUND', msg.pluginNotFoundMessage(plugin), true);
  const min = h.verificationPluginMinVersion;
  if (min !== undefined) {
    const error = pluginMinVersionError(plugin, AWS_SIGNER_PLUGIN_VERSION, min);
    if (error !== undefined) return fail('PLUGIN_VERSION_UNSUPPORTED', error, true);
  }
  for (const attr of h.extendedAttributes) {
    if (attr.key === HeaderKey.VerificationPlugin || attr.key === HeaderKey.VerificationPluginMinVersion)
      continue;
    if (!AWS_PROCESSED_ATTRIBUTES.includes(attr.key)) {
      return fail('UNPROCESSED_ATTRIBUTE', msg.unprocessedAttributeMessage(attr.key, plugin), true);
    }
  }
  if (h.signingScheme !== 'notary.x509.signingAuthority') {
    return fail(
      'PLUGIN_ERROR',
      msg.pluginErrorMessage(plugin, `'${h.signingScheme}' signing scheme is not supported`),
      true,
    );
  }
  return pass();
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

/** §3.5 step 3: some certificate of the chain is byte-equal to (or pinned by) a store of the scheme's type. */
function trustStoreStep({ input, env }: Context): StepOutcome {
  const type = storeTypeFor(env.protectedHeaders.signingScheme);
  const stores = input.policy.trustStores
    .filter((ref) => ref.startsWith(`${type}:`))
    .map((ref) => input.trustStores.get(ref))
    .filter((s) => s !== undefined);
  const hasAny = stores.some((s) => s.anchors.length > 0 || (s.pinnedSha256?.length ?? 0) > 0);
  if (!hasAny) return fail('NO_TRUSTED_CERTIFICATES', msg.NO_TRUSTED_CERTIFICATES);
  return stores.some((s) => isTrustedChain(s, env.certificateChain))
    ? pass()
    : fail('UNTRUSTED_CHAIN', msg.CHAIN_NOT_TRUSTED);
}

/** §3.5 step 4 (native x509.subject) or the AWS plugin's TRUSTED_IDENTITY capability. */
function trustedIdentityStep({ input, env, isAws }: Context): StepOutcome {
  const identities = input.policy.trustedIdentities;
  const plugin = msg.AWS_SIGNER_PLUGIN;
  if (isAws) {
    if (identities.includes('*'))
      return fail('PLUGIN_ERROR', msg.pluginErrorMessage(plugin, msg.AWS_WILDCARD_IDENTITY), true);
    const version = attributeValue(env, AWS_PROFILE_VERSION_ATTRIBUTE);
    if (version === undefined) {
      return fail(
        'PLUGIN_ERROR',
        msg.pluginErrorMessage(plugin, `unable to parse attribute "${AWS_PROFILE_VERSION_ATTRIBUTE}".`),
        true,
      );
    }
    const match = matchAwsTrustedIdentity(version, identities);
    return match.matched
      ? pass(match.reason)
      : fail('IDENTITY_MISMATCH', msg.pluginTrustedIdentityFailedMessage(plugin, match.reason));
  }
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
  return matchesX509Identity(subjectAttributes(leaf.node), x509)
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
 * validity. notary.x509: every certificate is valid now. RFC 3161 countersignatures are not
 * verified (AWS Signer never emits them): when the policy names a `tsa:` store and the envelope
 * carries one, the step still requires every certificate to be valid now and says so on failure.
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
  for (const cert of env.certificates) {
    if (isValidAt(cert, now)) continue;
    const text =
      now.getTime() < notBefore(cert).getTime()
        ? msg.certNotYetValidMessage(cert.subject, formatRfc1123Z(notBefore(cert)))
        : msg.certExpiredMessage(cert.subject, formatRfc1123Z(notAfter(cert)));
    const tsaConfigured = input.policy.trustStores.some((ref) => ref.startsWith('tsa:'));
    if (tsaConfigured && env.timestampSignature !== undefined) {
      return fail(
        'TIMESTAMP_UNSUPPORTED',
        `${text}; timestamp countersignature verification is not supported by stagesign`,
      );
    }
    return fail('CERTIFICATE_NOT_VALID', text);
  }
  return pass();
}

/** §3.5 step 7/8: AWS → GetRevocationStatus through the checker; notary.x509 → OCSP/CRL status unknown. */
async function revocationStep({ input, env, isAws }: Context): Promise<StepOutcome> {
  const plugin = msg.AWS_SIGNER_PLUGIN;
  if (isAws) {
    const profileVersionArn = attributeValue(env, AWS_PROFILE_VERSION_ATTRIBUTE);
    const jobArn = attributeValue(env, AWS_SIGNING_JOB_ATTRIBUTE);
    for (const [key, value] of [
      [AWS_PROFILE_VERSION_ATTRIBUTE, profileVersionArn],
      [AWS_SIGNING_JOB_ATTRIBUTE, jobArn],
    ] as const) {
      if (value === undefined)
        return fail(
          'PLUGIN_ERROR',
          msg.pluginErrorMessage(plugin, `unable to parse attribute "${key}".`),
          true,
        );
    }
    const query = awsRevocationQuery({
      certificateChain: env.certificateChain,
      jobArn: jobArn as string,
      profileVersionArn: profileVersionArn as string,
      authenticSigningTime: env.signingTime,
    });
    let revoked: string[];
    try {
      if (!input.revocationChecker)
        throw new Error('no RevocationChecker was configured for AWS Signer signatures');
      revoked = (await input.revocationChecker.getRevocationStatus(query)).revokedEntities ?? [];
    } catch (error) {
      const reason = msg.awsRevocationCallFailedReason(
        error instanceof Error ? error.message : String(error),
      );
      return fail('REVOCATION_CHECK_FAILED', msg.pluginRevocationFailedMessage(plugin, reason));
    }
    const reason = revokedReason(revoked);
    return reason === undefined
      ? pass(msg.AWS_NOT_REVOKED)
      : fail('REVOKED', msg.pluginRevocationFailedMessage(plugin, reason));
  }
  const revocable = env.certificates.find(hasRevocationLocations);
  if (!revocable) return pass('certificates carry no OCSP or CRL locations: not revocable');
  return fail(
    'REVOCATION_UNKNOWN',
    `signing certificate with subject "${revocable.subject}" revocation status is unknown: the certificate names OCSP/CRL locations and stagesign does not query them yet (set "revocation" to "log" or "skip" in the trust policy override to accept)`,
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

/** The steps after integrity, in order, with the validation type whose action governs each. */
const STEPS: ReadonlyArray<{
  step: VerificationStep;
  type: ValidationType;
  run: (ctx: Context) => StepOutcome | Promise<StepOutcome>;
}> = [
  { step: 'verificationPlugin', type: 'integrity', run: verificationPluginStep },
  { step: 'trustStore', type: 'authenticity', run: trustStoreStep },
  { step: 'trustedIdentity', type: 'authenticity', run: trustedIdentityStep },
  { step: 'expiry', type: 'expiry', run: expiryStep },
  { step: 'authenticTimestamp', type: 'authenticTimestamp', run: authenticTimestampStep },
  { step: 'revocation', type: 'revocation', run: revocationStep },
  { step: 'targetArtifact', type: 'integrity', run: targetArtifactStep },
  { step: 'userMetadata', type: 'integrity', run: userMetadataStep },
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
  for (const { step, type, run } of STEPS) {
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
    if (outcome.fatal || action === 'enforce') return stop(result);
    steps.push(result);
    warnings.push(msg.loggedFailureWarning(type, outcome.error));
  }
  return { ...verdict, passed: true };
}

/** Lists and fetches an artifact's signatures (implemented over the Registry by the verify stage). */
export interface SignatureSource {
  /** Signature manifests referring to the artifact, in the order to try them. */
  list(): Promise<Descriptor[]>;
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
  const descriptors = await input.signatures.list();
  if (descriptors.length === 0) {
    return { ...base, outcome: 'failed', code: 'NO_SIGNATURE', message: msg.noSignatureMessage(ref) };
  }
  for (const [index, descriptor] of descriptors.entries()) {
    if (index >= max) {
      return {
        ...base,
        outcome: 'failed',
        code: 'MAX_SIGNATURES_EXCEEDED',
        message: msg.maxSignaturesExceededMessage(max),
      };
    }
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
  }
  return {
    ...base,
    outcome: 'failed',
    code: 'ALL_SIGNATURES_FAILED',
    message: msg.allSignaturesFailedMessage(ref),
  };
}
