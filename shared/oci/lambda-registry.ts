import { DistributionRegistry, type DistributionRegistryOptions } from './distribution-registry';

/** The logger methods the registry client needs; a Powertools `Logger` fits. */
export interface LambdaRegistryLogger {
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  debug(message: string, ...extra: Record<string, unknown>[]): void;
}

// 127.0.0.0/8, localhost and [::1], with an optional port.
const LOOPBACK = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(?::\d+)?$/i;

/** True for a registry host on the loopback interface (`127.x.x.x`, `localhost`, `[::1]`, any port). */
export function isLoopbackRegistryHost(host: string): boolean {
  return LOOPBACK.test(host);
}

/**
 * The `DistributionRegistry` the Lambda handlers build once per container (cold start):
 * warnings (e.g. an outdated referrers index that could not be deleted) and debug lines go to
 * the stage's logger, and plain HTTP is allowed only for loopback hosts. A deployed Lambda
 * never has a registry on its own loopback interface, so that rule only serves local runs
 * against a registry on 127.0.0.1 (as Docker treats localhost); every other registry, ECR
 * included, is spoken to over HTTPS.
 *
 * Because it outlives every invocation, it has no signal of its own: each stage passes its
 * `ctx.signal` per call (`registry.resolve(ref, { signal: ctx.signal })`), so a deadline abort
 * ends that job's requests without touching the next job's.
 *
 * `overrides` is for tests (e.g. `fetch`); handlers pass only the logger.
 */
export function lambdaRegistry(
  logger: LambdaRegistryLogger,
  overrides: Omit<DistributionRegistryOptions, 'logger' | 'plainHttp'> = {},
): DistributionRegistry {
  return new DistributionRegistry({
    ...overrides,
    logger: {
      warn: (message, attributes) => logger.warn(message, { ...attributes }),
      debug: (message, attributes) => logger.debug(message, { ...attributes }),
    },
    plainHttp: isLoopbackRegistryHost,
  });
}
