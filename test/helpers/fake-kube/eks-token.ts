/**
 * Server-side check of an EKS bearer token, following aws-iam-authenticator's
 * `pkg/token/token.go` `tokenVerifier.Verify` (eks-and-kyverno.md §1.1): the rules that a token
 * must pass before the authenticator would even call STS. The signature itself is not checked
 * (there is no STS here); the credential's access key id stands for the caller's identity.
 */

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
const MAX_TOKEN_BYTES = 4096;
const PRESIGNED_URL_LIFETIME_MS = 15 * 60_000;
const WHITELIST = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders',
]);
/** Every whitelisted parameter but the session token must be present. */
const REQUIRED = [...WHITELIST].filter((k) => k !== 'x-amz-security-token');

export interface EksTokenClaims {
  /** Access key id from X-Amz-Credential. */
  accessKeyId: string;
  /** Region of the STS host (and of the credential scope). */
  region: string;
  signedAt: Date;
  expiresAt: Date;
}

export type EksTokenCheck = { ok: true; claims: EksTokenClaims } | { ok: false; reason: string };

/** `20261207T215901Z` → Date. */
function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  return new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!));
}

/**
 * Checks `token` (without the `Bearer ` prefix) for `region`'s STS host. `now` is the server's
 * clock. Reasons are the authenticator's own wording where it has one.
 */
export function checkEksToken(token: string, region: string, now: Date): EksTokenCheck {
  const fail = (reason: string): EksTokenCheck => ({ ok: false, reason });
  if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) return fail('token is too large');
  if (!token.startsWith(EKS_TOKEN_PREFIX))
    return fail(`token is missing expected "${EKS_TOKEN_PREFIX}" prefix`);
  const encoded = token.slice(EKS_TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded))
    return fail('input token was not properly formatted: not unpadded base64url');
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return fail('input token was not properly formatted: malformed presigned URL');
  }
  if (url.protocol !== 'https:')
    return fail(`unexpected scheme "${url.protocol.replace(':', '')}" in pre-signed URL`);
  const expectedHost = `sts.${region}.amazonaws.com`;
  const globalAllowed =
    !region.startsWith('cn-') && !region.startsWith('us-gov-') && !region.startsWith('us-iso');
  if (url.host !== expectedHost && !(globalAllowed && url.host === 'sts.amazonaws.com')) {
    return fail(`unexpected hostname "${url.host}" in pre-signed URL`);
  }
  if (url.pathname !== '/') return fail('unexpected path in pre-signed URL');
  const params = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    const lower = key.toLowerCase();
    if (params.has(lower)) return fail(`query parameter with key "${key}" appears more than once`);
    if (!WHITELIST.has(lower)) return fail(`non-whitelisted query parameter "${key}"`);
    params.set(lower, value);
  }
  for (const key of REQUIRED) {
    if (!params.get(key)) return fail(`missing query parameter "${key}"`);
  }
  if (params.get('action') !== 'GetCallerIdentity')
    return fail('unexpected action parameter in pre-signed URL');
  const signed = params.get('x-amz-signedheaders')!.toLowerCase().split(';');
  if (!signed.includes('x-k8s-aws-id')) {
    return fail('client did not sign the x-k8s-aws-id header in the pre-signed URL');
  }
  const expires = Number(params.get('x-amz-expires'));
  if (!Number.isInteger(expires) || expires < 0 || expires > 900) {
    return fail(`invalid X-Amz-Expires parameter in pre-signed URL: ${params.get('x-amz-expires')}`);
  }
  const signedAt = parseAmzDate(params.get('x-amz-date')!);
  if (!signedAt) return fail('error parsing X-Amz-Date parameter');
  const expiresAt = new Date(signedAt.getTime() + PRESIGNED_URL_LIFETIME_MS);
  if (now.getTime() > expiresAt.getTime())
    return fail('X-Amz-Date parameter is expired (15 minute expiration)');
  const scope = params.get('x-amz-credential')!.split('/');
  if (scope.length !== 5 || scope[3] !== 'sts' || scope[4] !== 'aws4_request') {
    return fail('malformed X-Amz-Credential parameter');
  }
  if (params.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') return fail('unexpected X-Amz-Algorithm');
  return { ok: true, claims: { accessKeyId: scope[0]!, region: scope[2]!, signedAt, expiresAt } };
}

function amzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * A token of the right shape for tests that do not exercise shared/kube's signer (the fake never
 * checks signatures). `overrides` replaces or removes (`undefined`) query parameters, to build
 * malformed tokens.
 */
export function makeEksTestToken(
  options: {
    region?: string;
    accessKeyId?: string;
    signedAt?: Date;
    host?: string;
    overrides?: Record<string, string | undefined>;
  } = {},
): string {
  const region = options.region ?? 'us-east-1';
  const date = amzDate(options.signedAt ?? new Date());
  const query: Record<string, string | undefined> = {
    Action: 'GetCallerIdentity',
    Version: '2011-06-15',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${options.accessKeyId ?? 'AKIDEXAMPLE'}/${date.slice(0, 8)}/${region}/sts/aws4_request`,
    'X-Amz-Date': date,
    'X-Amz-Expires': '60',
    'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
    'X-Amz-Signature': '0'.repeat(64),
    ...options.overrides,
  };
  const qs = Object.entries(query)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  const url = `https://${options.host ?? `sts.${region}.amazonaws.com`}/?${qs}`;
  return EKS_TOKEN_PREFIX + Buffer.from(url).toString('base64url');
}
