import { InputError } from '../errors';

/**
 * An OCI reference, `registry[:port]/repository[:tag][@digest]`, parsed once at the boundary.
 *
 * An OCI image layout on disk is represented with `registry: ''` and `repository` set to the
 * layout directory (see `parseLayoutReference` in `oci-layout-registry.ts`); `formatReference`
 * then renders `<path>@<digest>` / `<path>:<tag>` as `notation --oci-layout` does.
 *
 * When both are present, the digest wins for resolution; the tag is kept for display only.
 */
export interface Reference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Error code of every malformed reference. */
export const INVALID_REFERENCE = 'INVALID_REFERENCE';

// distribution/reference grammar (reference.go / regexp.go).
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const REPOSITORY_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST_RE = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const MAX_NAME_LENGTH = 255;

/** Digest algorithms this project accepts, with the exact hex length of their encoded part. */
export const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

const EXAMPLE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:<64 hex>';

function invalid(input: string, what: string): InputError {
  return new InputError(
    INVALID_REFERENCE,
    `invalid reference ${JSON.stringify(input)}: ${what}; expected registry/repository[:tag][@digest], e.g. ${EXAMPLE}`,
  );
}

/**
 * Why a digest string is unacceptable, or undefined when it is a valid `sha256`/`sha512`
 * digest (lowercase hex of the exact length).
 */
export function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  if (colon <= 0) return `digest ${JSON.stringify(digest)} must be <algorithm>:<hex>`;
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined)
    return `digest algorithm ${JSON.stringify(algorithm)} is not supported (use sha256 or sha512)`;
  if (!/^[0-9a-f]*$/.test(hex))
    return `digest ${JSON.stringify(digest)} must be lowercase hexadecimal after ${JSON.stringify(`${algorithm}:`)}`;
  if (hex.length !== length)
    return `${algorithm} digest must have ${length} hex characters, got ${hex.length}`;
  return undefined;
}

/**
 * Parses `registry[:port]/repository[:tag][@digest]` (the registry is always explicit, as in
 * notation and oras: no implicit docker.io). The registry comes back in its one spelling
 * ({@link canonicalRegistryHost}), so messages and output variables never depend on how it was
 * typed. Throws `InputError` `INVALID_REFERENCE` quoting the input and saying what is wrong.
 */
export function parseReference(input: string): Reference {
  if (input.length === 0) throw invalid(input, 'the reference is empty');
  if (/\s/.test(input)) throw invalid(input, 'it contains whitespace');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem) throw invalid(input, problem);
  }
  const slash = rest.indexOf('/');
  if (slash < 0)
    throw invalid(input, 'it has no registry host (write the registry explicitly, e.g. localhost:5000/app)');
  let registry = rest.slice(0, slash);
  let path = rest.slice(slash + 1);
  if (!HOST_RE.test(registry))
    throw invalid(input, `registry ${JSON.stringify(registry)} is not a valid host[:port]`);
  const port = /:(\d+)$/.exec(registry)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535))
    throw invalid(input, `port ${port} is out of range`);
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG_RE.test(tag)) {
      throw invalid(input, `tag ${JSON.stringify(tag)} must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
    }
  }
  if (path.length === 0) throw invalid(input, 'the repository is empty');
  if (path !== path.toLowerCase() && REPOSITORY_RE.test(path.toLowerCase())) {
    throw invalid(input, `repository ${JSON.stringify(path)} must be lowercase`);
  }
  if (!REPOSITORY_RE.test(path)) {
    throw invalid(
      input,
      `repository ${JSON.stringify(path)} must be lowercase path components of [a-z0-9] separated by ".", "_", "__", "-" or "/"`,
    );
  }
  registry = canonicalRegistryHost(registry);
  if (registry.length + 1 + path.length > MAX_NAME_LENGTH)
    throw invalid(input, `the name is longer than ${MAX_NAME_LENGTH} characters`);
  const ref: Reference = { registry, repository: path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/**
 * Renders `registry/repository[:tag][@digest]`; an OCI layout reference (registry `''`)
 * renders as `<path>[:tag][@digest]`.
 */
export function formatReference(ref: Reference): string {
  const name = ref.registry === '' ? ref.repository : `${ref.registry}/${ref.repository}`;
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The digest-pinned form of `ref` (the tag is dropped): what was verified is what is deployed. */
export function withDigest(ref: Reference, digest: string): Reference {
  const problem = digestProblem(digest);
  if (problem) throw new InputError(INVALID_REFERENCE, `cannot pin ${formatReference(ref)}: ${problem}`);
  return { registry: ref.registry, repository: ref.repository, digest };
}

/** True when `ref` names an OCI image layout directory rather than a remote registry. */
export function isLayoutReference(ref: Reference): boolean {
  return ref.registry === '';
}

/** Account, region and endpoint flavour of an Amazon ECR private registry host. */
export interface EcrHost {
  accountId: string;
  region: string;
  fips: boolean;
  partitionSuffix: '' | '.cn';
}

// kyverno-notation-aws auth.go; notary-and-signer.md §6.3.
const ECR_HOST_RE = /^(\d{12})\.dkr\.ecr(-fips)?\.([a-z0-9][a-z0-9-]*)\.amazonaws\.com(\.cn)?$/;

/** The AWS partition of an ECR host, for ARNs: `aws-cn` in China, `aws-us-gov` in GovCloud (US), else `aws`. */
export function ecrPartition(host: EcrHost): 'aws' | 'aws-cn' | 'aws-us-gov' {
  if (host.partitionSuffix === '.cn' || host.region.startsWith('cn-')) return 'aws-cn';
  if (host.region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** Recognises `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`; undefined for other hosts. */
export function parseEcrHost(host: string): EcrHost | undefined {
  const m = ECR_HOST_RE.exec(host.toLowerCase());
  if (!m) return undefined;
  return {
    accountId: m[1]!,
    region: m[3]!,
    fips: m[2] !== undefined,
    partitionSuffix: m[4] === '.cn' ? '.cn' : '',
  };
}

/**
 * The one spelling of a registry host: lowercase (DNS names are case-insensitive) and without
 * the default HTTPS port `:443`. Used for every parsed reference, so `DKR.ECR.…:443` and
 * `dkr.ecr.…` are the same text everywhere.
 */
export function canonicalRegistryHost(host: string): string {
  return host.toLowerCase().replace(/:443$/, '');
}

/** Docker Hub's registry names that mean `docker.io` (as docker's reference normaliser treats them). */
const DOCKER_HUB_ALIASES: ReadonlySet<string> = new Set(['index.docker.io', 'registry-1.docker.io']);

/**
 * The host as trust policy scopes compare it: {@link canonicalRegistryHost}, and hosts that
 * name the same registry folded into one: an ECR FIPS endpoint
 * `<account>.dkr.ecr-fips.<region>.amazonaws.com` as `<account>.dkr.ecr.<region>.amazonaws.com`
 * (same account, region, repositories and credentials), and Docker Hub's aliases as `docker.io`.
 * Only for comparing scopes: requests still go to the host as written (a FIPS endpoint stays FIPS).
 */
export function scopeRegistryHost(host: string): string {
  const canonical = canonicalRegistryHost(host);
  const ecr = parseEcrHost(canonical);
  if (ecr) return `${ecr.accountId}.dkr.ecr.${ecr.region}.amazonaws.com${ecr.partitionSuffix}`;
  return DOCKER_HUB_ALIASES.has(canonical) ? 'docker.io' : canonical;
}

/** `host/repository` with the host as {@link scopeRegistryHost} spells it; `*` and host-less text unchanged. */
export function canonicalScope(scope: string): string {
  const slash = scope.indexOf('/');
  if (slash <= 0) return scope;
  return `${scopeRegistryHost(scope.slice(0, slash))}${scope.slice(slash)}`;
}
