/**
 * Stable error codes raised by `shared/oci` (architecture.md §4). Tests and the CodePipeline
 * failure mapping depend on these, never on messages.
 */
export const OciErrorCode = {
  /** InputError: a reference that does not follow the grammar. */
  InvalidReference: 'INVALID_REFERENCE',
  /** InputError: the image (tag, digest or repository) does not exist. */
  ImageNotFound: 'IMAGE_NOT_FOUND',
  /** InputError: a manifest or blob named by a descriptor does not exist. */
  ContentNotFound: 'CONTENT_NOT_FOUND',
  /** InputError: fetched or pushed bytes do not hash to the descriptor's digest. */
  DigestMismatch: 'DIGEST_MISMATCH',
  /** InputError: fetched or pushed bytes do not have the descriptor's size. */
  SizeMismatch: 'SIZE_MISMATCH',
  /** InputError: a manifest over 4 MiB or a blob over 32 MiB. */
  ContentTooLarge: 'CONTENT_TOO_LARGE',
  /** InputError: a manifest or index that is not valid JSON of the expected shape. */
  InvalidManifest: 'INVALID_MANIFEST',
  /** InputError: the registry rejected the request with a 4xx (its code is in the message). */
  RegistryRequestRejected: 'REGISTRY_REQUEST_REJECTED',
  /** PermissionError: 401/403 from the registry or its token service. */
  RegistryDenied: 'REGISTRY_DENIED',
  /** PermissionError: ecr:GetAuthorizationToken was denied. */
  EcrAuthDenied: 'ECR_AUTH_DENIED',
  /** DependencyError: 429, 5xx or network failures still failing after retries. */
  RegistryUnavailable: 'REGISTRY_UNAVAILABLE',
  /** DependencyError: ecr:GetAuthorizationToken failed for another reason than access. */
  EcrAuthFailed: 'ECR_AUTH_FAILED',
  /** InputError: a referrers `Link` pointing at another origin than the registry's (credentials would follow it). */
  CrossOriginLink: 'REGISTRY_CROSS_ORIGIN_LINK',
  /** InputError: a Bearer token realm over plain HTTP for a registry spoken to over HTTPS. */
  InsecureTokenRealm: 'REGISTRY_INSECURE_TOKEN_REALM',
  /** ConfigurationError: the registry answered the TLS handshake with plain HTTP (use plain HTTP for it). */
  PlainHttpRegistry: 'REGISTRY_SPEAKS_PLAIN_HTTP',
  /** ConfigurationError: no AWS credentials were found for ecr:GetAuthorizationToken. */
  EcrCredentialsMissing: 'ECR_CREDENTIALS_MISSING',
  /** InputError: a referrers listing past its bounds (descriptors examined or bytes read). */
  ReferrersLimitExceeded: 'REFERRERS_LIMIT_EXCEEDED',
  /** InputError: an OCI image layout directory that is missing or malformed. */
  InvalidLayout: 'INVALID_OCI_LAYOUT',
} as const;

export type OciErrorCode = (typeof OciErrorCode)[keyof typeof OciErrorCode];

/** Size limits (notary-and-signer.md §3.3). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_BLOB_BYTES = 32 * 1024 * 1024;
