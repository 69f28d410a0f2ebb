import type { Descriptor } from '../../shared/oci/types';
import type { FakeRegistry } from './fake-registry';

/**
 * Makes `fake` answer `HEAD /v2/<repository>/manifests/<reference>` with each descriptor: for
 * sample events that name images by digests whose content cannot be made (the stages resolving
 * them need the descriptor only).
 */
export function answerManifestHeads(
  fake: FakeRegistry,
  entries: ReadonlyArray<readonly [repository: string, reference: string, desc: Descriptor]>,
): void {
  for (const [repository, reference, desc] of entries) {
    fake.intercept((request) =>
      request.method === 'HEAD' && request.path === `/v2/${repository}/manifests/${reference}`
        ? {
            status: 200,
            headers: {
              'content-type': desc.mediaType,
              'docker-content-digest': desc.digest,
              'content-length': String(desc.size),
            },
          }
        : undefined,
    );
  }
}
