/**
 * kyverno-notation-aws on the fake API server, for check-admission's tests and local runs: the
 * extension's Pods (Ready, or not, or absent) in its namespace, and a Kyverno admission hook for
 * Pods in the policed namespaces that "calls" the extension: it writes the verifier's real log
 * records into one replica's log (round robin; a cache hit on the second request for an image)
 * and allows a signed digest or denies an unsigned one with Kyverno's real text, as the mutate
 * policy `check-images` (Shape A) or a Pod-level `validate-images` policy would.
 */
import type { FakeKube } from './fake-kube/index';
import { allow, deny } from './fake-kube/index';
import type { AdmissionVerdict } from './fake-kube/index';
import { REGISTRY, REPO, TOKEN_IN_DUMP } from '../fixtures/kyverno-logs/names';
import { dump, failure, noSignature, request, success, zapRecord } from '../fixtures/kyverno-logs/records';
import type { LogSink } from '../fixtures/kyverno-logs/records';

export const EXTENSION_NAMESPACE = 'kyverno-notation-aws';
export const EXTENSION_CONTAINER = 'kyverno-notation-aws';
const EXTENSION_IMAGE = `public.ecr.aws/nirmata/kyverno-notation-aws@sha256:${'e'.repeat(64)}`;

/** How the emulated extension behaves. */
export interface ExtensionEmulationOptions {
  /** Namespaces a ClusterPolicy matches (others are admitted without a call). */
  readonly policed: readonly string[];
  /** Digests that carry a valid signature. */
  readonly signed: ReadonlySet<string>;
  /** `A`: mutate policy check-images (Pods denied by mutate.kyverno.svc-fail); `B`: validate-images on Pods. */
  readonly shape?: 'A' | 'B';
  readonly replicas?: number;
  /** `error` hides INFO records (no success lines), like `--logLevel=error`. */
  readonly logLevel?: 'info' | 'error';
  /** `absent`: no extension Pod; `not-ready`: its image cannot be pulled; the webhook call then fails. */
  readonly state?: 'running' | 'absent' | 'not-ready';
  /** Kyverno's service account is not in `--allowedUsers`: every call gets 406 `Token is not authorized`. */
  readonly tokenNotAuthorized?: boolean;
  /** `failurePolicy: Ignore`: a failed call admits the Pod anyway. */
  readonly failurePolicyIgnore?: boolean;
}

/** Seeds the extension and installs the hook; returns the hook's remover. */
export async function emulateKyvernoNotationAws(
  fake: FakeKube,
  options: ExtensionEmulationOptions,
  now: () => Date = () => new Date(),
): Promise<() => void> {
  const replicas = options.state === 'absent' ? 0 : (options.replicas ?? 2);
  const pods: string[] = [];
  for (let i = 0; i < replicas; i++) {
    const name = `kyverno-notation-aws-6d8f9c7b5-${['x7k2p', 'q4m8z', 'r2t6w'][i] ?? String(i)}`;
    pods.push(name);
    await fake.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: EXTENSION_NAMESPACE, labels: { app: 'kyverno-notation-aws' } },
      spec: {
        containers: [
          {
            name: EXTENSION_CONTAINER,
            image:
              options.state === 'not-ready'
                ? 'public.ecr.aws/nirmata/kyverno-notation-aws:missing'
                : EXTENSION_IMAGE,
          },
        ],
      },
    });
  }
  await fake.step();
  const verified = new Set<string>();
  let next = 0;
  const webhook = options.shape === 'B' ? 'validate.kyverno.svc-fail' : 'mutate.kyverno.svc-fail';

  const sinkFor = (pod: string): LogSink => {
    const base = now().getTime();
    return {
      record(seconds, level, caller, message) {
        if (options.logLevel === 'error' && level !== 'ERROR') return;
        // The fixtures space a request's records over a second; here they are written when the
        // hook runs (a millisecond apart, in order), never in the future of the API server's clock.
        const at = new Date(base + Math.round(seconds * 10));
        fake.logs.append(
          EXTENSION_NAMESPACE,
          pod,
          EXTENSION_CONTAINER,
          zapRecord(at, level, caller, message),
          at,
        );
      },
    };
  };

  return fake.addAdmissionHook({
    name: webhook,
    phase: options.shape === 'B' ? 'validating' : 'mutating',
    review(req): AdmissionVerdict {
      if (req.resource !== 'pods' || req.operation !== 'CREATE' || req.namespace === EXTENSION_NAMESPACE)
        return allow();
      if (!options.policed.includes(req.namespace ?? '')) return allow();
      const failed = (verdict: AdmissionVerdict): AdmissionVerdict =>
        options.failurePolicyIgnore ? allow() : verdict;
      if (pods.length === 0 || options.state === 'not-ready') {
        return failed(
          deny(
            webhook,
            `mutation policy check-images error: failed to apply policy check-images rules [call-aws-signer-extension: failed to load context: failed to fetch data for APICall: Post "https://svc.kyverno-notation-aws/checkimages": dial tcp 10.100.12.7:443: connect: connection refused]`,
          ),
        );
      }
      const pod = pods[next++ % pods.length]!;
      const sink = sinkFor(pod);
      const spec = (req.object.spec ?? {}) as { containers?: Array<{ name: string; image: string }> };
      for (const container of spec.containers ?? []) {
        const ref = container.image;
        const digest = /@(sha256:[0-9a-f]{64})$/.exec(ref)?.[1] ?? '';
        if (options.tokenNotAuthorized) {
          sink.record(
            0,
            'INFO',
            'verifier/client.go:176',
            `Token is not authorized &TokenReview{Spec:TokenReviewSpec{Token:${TOKEN_IN_DUMP},Audiences:[],},Status:TokenReviewStatus{Authenticated:true,User:UserInfo{Username:system:serviceaccount:kyverno-system:kyverno-admission-controller,UID:91d2,Groups:[system:serviceaccounts system:authenticated],},},}`,
          );
          return failed(
            deny(
              webhook,
              'mutation policy check-images error: failed to apply policy check-images rules [call-aws-signer-extension: failed to load context: failed to fetch data for APICall: HTTP 406 Not Acceptable: Token is not authorized\n]',
            ),
          );
        }
        if (options.signed.has(digest)) {
          if (verified.has(ref)) {
            request(sink, 0, ref);
            sink.record(
              0,
              'INFO',
              'verifier/verify.go:364',
              `Entry for the image found in cache, skipping image=${ref}; trustpolicy=aws-signer-trust-policy`,
            );
          } else {
            success(sink, 0, ref, digest);
            verified.add(ref);
          }
          continue;
        }
        const text = noSignature(digest, REPO);
        failure(sink, 0, ref, digest, '', text);
        const reason = `failed to fetch data for APICall: HTTP 406 Not Acceptable: failed to verify container ${REPO}: failed to verify image ${dump(digest)}: ${text}`;
        return failed(
          options.shape === 'B'
            ? deny(
                webhook,
                `\n\nresource Pod/${req.namespace}/${req.name || (req.object.metadata as { generateName?: string }).generateName || ''} was blocked due to the following policies \n\nvalidate-images:\n  call-aws-signer-extension: '${reason}\n'`,
              )
            : deny(
                webhook,
                `mutation policy check-images error: failed to apply policy check-images rules [call-aws-signer-extension: failed to evaluate list response.results: ${reason}\n ]`,
              ),
        );
      }
      return allow();
    },
  });
}

/** The image the tests deploy, pinned to `digest`. */
export const appImage = (digest: string): string => `${REGISTRY}/${REPO}@${digest}`;
