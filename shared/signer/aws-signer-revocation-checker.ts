/**
 * `RevocationChecker` backed by AWS Signer `GetRevocationStatus` (notary-and-signer.md §1.3), as the
 * AWS Signer notation plugin's REVOCATION_CHECK calls it. The call goes to the region named in the
 * signature's ARNs (`query.region`), not the caller's region: signatures are partition-isolated.
 *
 * The operation's modelled host prefix `data-` is kept against the default AWS endpoint
 * (`data-signer.<region>.amazonaws.com`) and disabled when an endpoint is configured; see
 * `createSignerClient`.
 */
import { GetRevocationStatusCommand } from '@aws-sdk/client-signer';
import type { CallOptions } from '../abort';
import { DependencyError, isStagesignError, PermissionError } from '../errors';
import type { StagesignError } from '../errors';
import type { RevocationChecker, RevocationQuery } from '../notary/types';
import { cachedSignerClientFactory } from './clients';
import type { SignerClientFactory } from './clients';
import { describeAwsError } from '../aws/aws-error';
import { callWithRetry, pluginStyleMessage, RetriesExhausted } from './signer-call';
import type { RetryOptions } from '../retry';

export interface AwsSignerRevocationCheckerOptions {
  /** Defaults to a cached per-region factory honouring `AWS_ENDPOINT_URL_SIGNER`. */
  clientForRegion?: SignerClientFactory;
  /** Backoff for throttling / 5xx / transient errors (defaults: 5 attempts, 200 ms base, 5 s cap). */
  retry?: RetryOptions;
}

const ACTION = 'signer:GetRevocationStatus';

/** Asks AWS Signer whether a signature's certificates, signing job or profile version are revoked. */
export class AwsSignerRevocationChecker implements RevocationChecker {
  private readonly clientForRegion: SignerClientFactory;
  private readonly retry: RetryOptions | undefined;

  constructor(options: AwsSignerRevocationCheckerOptions = {}) {
    this.clientForRegion = options.clientForRegion ?? cachedSignerClientFactory();
    this.retry = options.retry;
  }

  /**
   * Returns the revoked entities (ARNs or certificate hashes; empty when nothing is revoked).
   * Throws PermissionError on AccessDenied and DependencyError on any other failure; the verifier
   * turns either into a revocation failure that follows the policy's revocation level.
   * `options.signal` is passed to the SDK as `abortSignal` and ends the retries: an aborted call
   * rejects with DependencyError `ABORTED`, which the verifier passes on instead of judging it.
   */
  async getRevocationStatus(
    query: RevocationQuery,
    options?: CallOptions,
  ): Promise<{ revokedEntities: string[] }> {
    const client = this.clientForRegion(query.region);
    const command = new GetRevocationStatusCommand({
      signatureTimestamp: query.signatureTimestamp,
      platformId: query.platformId,
      profileVersionArn: query.profileVersionArn,
      jobArn: query.jobArn,
      certificateHashes: query.certificateHashes,
    });
    try {
      const signal = options?.signal;
      const output = await callWithRetry(
        () => client.send(command, signal ? { abortSignal: signal } : {}),
        this.retry,
        { ...(signal ? { signal } : {}), what: `AWS Signer ${ACTION} in ${query.region}` },
      );
      return { revokedEntities: [...(output.revokedEntities ?? [])] };
    } catch (error) {
      throw this.mapError(error, query);
    }
  }

  private mapError(error: unknown, query: RevocationQuery): StagesignError {
    if (isStagesignError(error)) return error; // ABORTED from callWithRetry
    if (error instanceof RetriesExhausted) {
      return new DependencyError(
        error.last.kind === 'throttling' ? 'SIGNER_THROTTLED' : 'SIGNER_UNAVAILABLE',
        `AWS Signer ${ACTION} in ${query.region} still failed after ${error.attempts} attempts. ${pluginStyleMessage(error.last)}`,
        { cause: error.cause },
      );
    }
    const info = describeAwsError(error);
    if (info.kind === 'access-denied') {
      return new PermissionError(
        'SIGNER_ACCESS_DENIED',
        `AWS Signer denied ${ACTION} in ${query.region}: allow ${ACTION} on * in the function's execution role. ${pluginStyleMessage(info)}`,
        { cause: error },
      );
    }
    return new DependencyError(
      'SIGNER_CALL_FAILED',
      `AWS Signer ${ACTION} in ${query.region} for ${query.profileVersionArn} failed. ${pluginStyleMessage(info)}`,
      { cause: error },
    );
  }
}
