/**
 * "At least as strict": may a trust policy (one read from an input artifact, controlled by
 * whoever controls the source or build) replace the deployment's own policy? Only when it can
 * tighten and never relax what the deployment's policy verifies. Pure: no I/O.
 *
 * Every statement S of the candidate is compared with each deployment statement D that would be
 * selected for an image S can be selected for (same scope; for a `*` statement, every deployment
 * statement whose scopes the candidate does not name itself, and the deployment's `*`). S is at
 * least as strict as D when:
 *
 * - D is at level `skip` (it verifies nothing), or else
 * - every validation D enforces (level row plus overrides, notation's level table in
 *   verification-levels.ts) S enforces too, so overrides cannot downgrade one;
 * - S does not relax the timestamp rules (`verifyTimestamp: afterCertExpiry`,
 *   `skipTimestampRevocationCheck`) where D does not;
 * - S's trust stores are a subset of D's;
 * - S's trusted identities are a subset of D's: `*` in D allows anything, `*` in S only if D has
 *   `*`; an `x509.subject` identity may be narrower than one of D's (more RDNs, same values).
 *
 * An image S would verify but for which the deployment's policy has no statement at all is
 * checked per image ({@link findUncoveredImage}): the deployment would refuse it.
 */
import { resolveActions, VALIDATION_TYPES } from './verification-levels';
import { selectPolicy, WILDCARD } from './trust-policy';
import type { TrustPolicyDocument, TrustPolicyStatement } from './trust-policy';
import { isSubsetDn, parseX509Identity, X509_SUBJECT_PREFIX } from './x509-identity';

/** A statement of the candidate that relaxes the deployment's policy, and how. */
export interface Relaxation {
  /** The candidate's statement. */
  statement: string;
  /** The deployment's statement it was compared with (absent when there is none for an image). */
  deploymentStatement?: string;
  /** What it relaxes, in words (quotes values as written). */
  relaxes: string;
}

/** Options of {@link findRelaxation}. */
export interface TighteningOptions {
  /**
   * Statements that do not enforce authenticity (level `skip`/`audit`, or an `authenticity`
   * override) are accepted as they are: the deployment opted in to them
   * (`ALLOW_ARTIFACT_TRUST_POLICY_SKIP`).
   */
  allowUnenforcedAuthenticity: boolean;
}

/** The deployment statements `statement` may stand in for (see the module comment). */
function counterparts(
  statement: TrustPolicyStatement,
  candidate: TrustPolicyDocument,
  deployment: TrustPolicyDocument,
): TrustPolicyStatement[] {
  const explicit = (doc: TrustPolicyDocument, scope: string) =>
    doc.trustPolicies.find((s) => s.registryScopes.includes(scope));
  const wildcard = (doc: TrustPolicyDocument) =>
    doc.trustPolicies.find((s) => s.registryScopes.includes(WILDCARD));
  const found = new Set<TrustPolicyStatement>();
  if (!statement.registryScopes.includes(WILDCARD)) {
    for (const scope of statement.registryScopes) {
      const d = explicit(deployment, scope) ?? wildcard(deployment);
      if (d) found.add(d);
    }
    return [...found];
  }
  for (const d of deployment.trustPolicies) {
    if (d.registryScopes.includes(WILDCARD)) found.add(d);
    else if (d.registryScopes.some((scope) => explicit(candidate, scope) === undefined)) found.add(d);
  }
  return [...found];
}

function describeLevel(statement: TrustPolicyStatement): string {
  const { level, override } = statement.signatureVerification;
  const overrides = Object.entries(override ?? {}).map(([k, v]) => `${k}: "${v}"`);
  return `level "${level}"${overrides.length > 0 ? ` with override {${overrides.join(', ')}}` : ''}`;
}

function enforcesAuthenticity(statement: TrustPolicyStatement): boolean {
  return resolveActions(statement).authenticity === 'enforce';
}

/** True when every certificate `narrow` accepts is accepted by `broad` too. */
function identityWithin(narrow: string, broad: string): boolean {
  if (narrow === broad) return true;
  const prefix = `${X509_SUBJECT_PREFIX}:`;
  if (!narrow.startsWith(prefix) || !broad.startsWith(prefix)) return false;
  return isSubsetDn(
    parseX509Identity(broad.slice(prefix.length)).rdns,
    parseX509Identity(narrow.slice(prefix.length)).rdns,
  );
}

/** How `s` relaxes `d`, or undefined when `s` is at least as strict. */
export function relaxationOf(s: TrustPolicyStatement, d: TrustPolicyStatement): string | undefined {
  if (d.signatureVerification.level === 'skip') return undefined;
  const mine = resolveActions(s);
  const theirs = resolveActions(d);
  const notEnforced = VALIDATION_TYPES.filter((t) => theirs[t] === 'enforce' && mine[t] !== 'enforce');
  if (notEnforced.length > 0) {
    return `does not enforce ${notEnforced.join(', ')} (${describeLevel(s)}), which the deployment's statement enforces (${describeLevel(d)})`;
  }
  const sv = s.signatureVerification;
  const dv = d.signatureVerification;
  if (sv.verifyTimestamp === 'afterCertExpiry' && dv.verifyTimestamp !== 'afterCertExpiry') {
    return 'sets verifyTimestamp "afterCertExpiry", which the deployment\'s statement does not';
  }
  if (sv.skipTimestampRevocationCheck === true && dv.skipTimestampRevocationCheck !== true) {
    return "sets skipTimestampRevocationCheck, which the deployment's statement does not";
  }
  const extraStore = s.trustStores.find((store) => !d.trustStores.includes(store));
  if (extraStore !== undefined) {
    return `trusts trust store "${extraStore}", which the deployment's statement does not (it trusts ${d.trustStores.map((x) => `"${x}"`).join(', ')})`;
  }
  if (!d.trustedIdentities.includes(WILDCARD)) {
    const extra = s.trustedIdentities.find(
      (identity) =>
        identity === WILDCARD || !d.trustedIdentities.some((allowed) => identityWithin(identity, allowed)),
    );
    if (extra !== undefined) {
      return `trusts identity "${extra}", which the deployment's statement does not (it trusts ${d.trustedIdentities.map((x) => `"${x}"`).join(', ')})`;
    }
  }
  return undefined;
}

/**
 * The first statement of `candidate` that relaxes `deployment` (module comment), or undefined
 * when every statement is at least as strict as each deployment statement it may stand in for.
 */
export function findRelaxation(
  candidate: TrustPolicyDocument,
  deployment: TrustPolicyDocument,
  options: TighteningOptions,
): Relaxation | undefined {
  for (const statement of candidate.trustPolicies) {
    if (options.allowUnenforcedAuthenticity && !enforcesAuthenticity(statement)) continue;
    for (const d of counterparts(statement, candidate, deployment)) {
      const relaxes = relaxationOf(statement, d);
      if (relaxes !== undefined) return { statement: statement.name, deploymentStatement: d.name, relaxes };
    }
  }
  return undefined;
}

/**
 * The first of `artifactReferences` that `candidate` has a statement for but `deployment` does
 * not (the deployment would refuse it; the candidate would verify it), as a relaxation.
 */
export function findUncoveredImage(
  candidate: TrustPolicyDocument,
  deployment: TrustPolicyDocument,
  artifactReferences: readonly string[],
  options: TighteningOptions,
): Relaxation | undefined {
  for (const reference of artifactReferences) {
    const statement = trySelect(candidate, reference);
    if (statement === undefined || trySelect(deployment, reference) !== undefined) continue;
    if (options.allowUnenforcedAuthenticity && !enforcesAuthenticity(statement)) continue;
    return {
      statement: statement.name,
      relaxes: `covers ${reference}, for which the deployment's policy has no statement (it would refuse the image)`,
    };
  }
  return undefined;
}

function trySelect(doc: TrustPolicyDocument, reference: string): TrustPolicyStatement | undefined {
  try {
    return selectPolicy(doc, reference);
  } catch {
    return undefined;
  }
}
