/**
 * `PayloadSigner` backed by AWS Signer `SignPayload`, doing what the AWS Signer notation plugin's
 * `generate-envelope` does (notary-and-signer.md §1.1): profileName and profileOwner from the
 * profile ARN, payloadFormat `application/vnd.cncf.notary.payload.v1+json`; the returned `signature`
 * is the complete JWS envelope and `metadata` becomes signature-manifest annotations.
 *
 * Unlike the plugin, the call goes to the profile's own region (taken from the ARN), so a function
 * in one region can sign with a profile in another.
 */
import { SignPayloadCommand } from '@aws-sdk/client-signer';
import type { SignerClient } from '@aws-sdk/client-signer';
import type { CallOptions } from '../abort';
import { ConfigurationError, DependencyError, PermissionError, isStagesignError } from '../errors';
import type { StagesignError } from '../errors';
import { NOTARY_PAYLOAD_MEDIA_TYPE } from '../notary/payload';
import type { PayloadSigner, SignedEnvelope } from '../notary/types';
import { cachedSignerClientFactory } from './clients';
import type { SignerClientFactory } from './clients';
import { describeAwsError } from '../aws/aws-error';
import { callWithRetry, pluginStyleMessage, RetriesExhausted } from './signer-call';
import type { AwsErrorInfo } from '../aws/aws-error';
import type { RetryOptions } from '../retry';
import { parseSigningProfileArn } from './signing-profile-arn';
import type { SigningProfileArn } from './signing-profile-arn';

export interface AwsSignerPayloadSignerOptions {
  /** `arn:aws…:signer:<region>:<account>:/signing-profiles/<name>`; validated in the constructor. */
  profileArn: string;
  /** Defaults to a cached per-region factory honouring `AWS_ENDPOINT_URL_SIGNER`. */
  clientForRegion?: SignerClientFactory;
  /** Backoff for throttling / 5xx / transient errors (defaults: 5 attempts, 200 ms base, 5 s cap). */
  retry?: RetryOptions;
}

const SIGN_ACTION = 'signer:SignPayload';

/** Signs Notary payloads with an AWS Signer signing profile (platform Notation-OCI-SHA384-ECDSA). */
export class AwsSignerPayloadSigner implements PayloadSigner {
  readonly profile: SigningProfileArn;
  private readonly clientForRegion: SignerClientFactory;
  private readonly retry: RetryOptions | undefined;

  /** Throws ConfigurationError when `profileArn` is not a signing-profile ARN. */
  constructor(options: AwsSignerPayloadSignerOptions) {
    this.profile = parseSigningProfileArn(options.profileArn);
    this.clientForRegion = options.clientForRegion ?? cachedSignerClientFactory();
    this.retry = options.retry;
  }

  /**
   * Signs `payload` with SignPayload. `options.signal` is passed to the SDK as `abortSignal` and
   * ends the retries: an aborted call rejects with DependencyError `ABORTED`.
   */
  async sign(payload: Uint8Array, options?: CallOptions): Promise<SignedEnvelope> {
    const client: SignerClient = this.clientForRegion(this.profile.region);
    const command = new SignPayloadCommand({
      profileName: this.profile.profileName,
      profileOwner: this.profile.accountId,
      payload,
      payloadFormat: NOTARY_PAYLOAD_MEDIA_TYPE,
    });
    let output;
    try {
      const signal = options?.signal;
      output = await callWithRetry(
        () => client.send(command, signal ? { abortSignal: signal } : {}),
        this.retry,
        {
          ...(signal ? { signal } : {}),
          what: `AWS Signer ${SIGN_ACTION} for signing profile ${this.profile.arn}`,
        },
      );
    } catch (error) {
      throw this.mapError(error);
    }
    const requestId = output.$metadata?.requestId;
    if (!output.signature || output.signature.length === 0) {
      throw new DependencyError(
        'SIGNER_EMPTY_SIGNATURE',
        `AWS Signer returned no signature for signing profile ${this.profile.arn} (job ${output.jobId ?? 'unknown'}, RequestID: ${requestId ?? 'none'})`,
      );
    }
    return {
      envelope: output.signature,
      envelopeMediaType: 'application/jose+json',
      annotations: { ...(output.metadata ?? {}) },
      ...(output.jobId !== undefined ? { jobId: output.jobId } : {}),
    };
  }

  /** SignPayload errors → stagesign error kinds (issue 5 item 9). */
  private mapError(error: unknown): StagesignError {
    if (isStagesignError(error)) return error; // ABORTED from callWithRetry
    const arn = this.profile.arn;
    if (error instanceof RetriesExhausted) {
      const code = error.last.kind === 'throttling' ? 'SIGNER_THROTTLED' : 'SIGNER_UNAVAILABLE';
      return new DependencyError(
        code,
        `AWS Signer ${SIGN_ACTION} for signing profile ${arn} still failed after ${error.attempts} attempts (${error.last.kind === 'throttling' ? 'throttled' : 'service unavailable'}). ${pluginStyleMessage(error.last)}`,
        { cause: error.cause },
      );
    }
    const info: AwsErrorInfo = describeAwsError(error);
    const detail = pluginStyleMessage(info);
    switch (info.kind) {
      case 'access-denied':
        return new PermissionError(
          'SIGNER_ACCESS_DENIED',
          `AWS Signer denied ${SIGN_ACTION} on ${arn}: allow ${SIGN_ACTION} on that signing profile in the function's execution role. ${detail}`,
          { cause: error },
        );
      case 'credentials':
        return new PermissionError(
          'SIGNER_CREDENTIALS_REJECTED',
          `AWS Signer rejected the caller's credentials for ${SIGN_ACTION} on ${arn}: check the role or credentials in use and that the profile's partition matches them. ${detail}`,
          { cause: error },
        );
      case 'not-found':
        return new ConfigurationError(
          'SIGNING_PROFILE_NOT_FOUND',
          `signing profile ${arn} not found: check the signing profile ARN (name, account and region). ${detail}`,
          { cause: error },
        );
      default:
        break;
    }
    if (info.code === 'ValidationException' || info.code === 'BadRequestException') {
      if (/cancel|revok/i.test(info.message)) {
        return new ConfigurationError(
          'SIGNING_PROFILE_NOT_ACTIVE',
          `signing profile ${arn} cannot sign because it is canceled or revoked: use an active signing profile. ${detail}`,
          { cause: error },
        );
      }
      // Not transient: retrying (SystemUnavailable) would not help, the request or profile must change.
      return new ConfigurationError(
        'SIGNER_REQUEST_REJECTED',
        `AWS Signer rejected ${SIGN_ACTION} for signing profile ${arn}; check that the profile uses platform Notation-OCI-SHA384-ECDSA and is in the partition of the credentials. ${detail}`,
        { cause: error },
      );
    }
    return new DependencyError(
      'SIGNER_CALL_FAILED',
      `AWS Signer ${SIGN_ACTION} for signing profile ${arn} failed. ${detail}`,
      { cause: error },
    );
  }
}
