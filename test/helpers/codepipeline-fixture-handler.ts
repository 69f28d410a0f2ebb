/**
 * A test-only stage handler, built with the real wrapper: its behaviour is chosen by
 * `UserParameters.mode`, so the invoker and wrapper tests can drive every outcome through an
 * unchanged handler module (`npm run invoke -- sign-image <event> --handler <this file>`).
 */
import { ConfigurationError, DependencyError, PermissionError, VerificationError } from '../../shared/errors';
import { pipelineAction } from '../../shared/pipeline';

export const handler = pipelineAction<{ mode: string; image?: string }, { attempt: number }>({
  stage: 'sign-image',
  parseParams: (job) => {
    const mode = job.userParameters?.mode ?? 'succeed';
    if (typeof mode !== 'string')
      throw new ConfigurationError('PARAM_INVALID', 'UserParameters.mode must be a string');
    const image = job.userParameters?.image;
    return { mode, ...(typeof image === 'string' ? { image } : {}) };
  },
  run: async ({ params, state, ctx }) => {
    ctx.logger.info('fixture stage running', { mode: params.mode });
    switch (params.mode) {
      case 'succeed':
        return {
          kind: 'success',
          summary: `signed ${params.image ?? 'nothing'}`,
          outputVariables: { digest: 'sha256:abc' },
        };
      case 'continue':
        return state
          ? { kind: 'success', summary: `done after ${state.attempt}` }
          : { kind: 'continuation', state: { attempt: 1 }, percentComplete: 50 };
      case 'permission':
        throw new PermissionError('ACCESS_DENIED', 'not allowed to sign');
      case 'verification':
        throw new VerificationError('SIGNATURE_INVALID', 'signature verification failed');
      case 'dependency':
        throw new DependencyError('SIGNER_UNAVAILABLE', 'Signer is throttling');
      case 'crash':
        throw new TypeError('cannot read properties of undefined');
      case 'hang':
        ctx.setPhase('waiting forever');
        return new Promise(() => undefined);
      default:
        throw new ConfigurationError('MODE_UNKNOWN', `unknown mode ${params.mode}`);
    }
  },
});
