/**
 * An in-process fake Kubernetes API server over HTTPS on 127.0.0.1, for tests and `npm run demo`.
 * See README.md in this directory for the API. No test-framework imports: the demo uses it too.
 */
import type { AddressInfo } from 'node:net';
import type { AdmissionHook, UserInfo } from './admission';
import { FakeApi } from './api';
import { Controllers, type ControllerOptions } from './controllers';
import { findByKind, typeOf } from './discovery';
import { makeEksTestToken, type EksTokenClaims } from './eks-token';
import { Faults, type FaultHandle, type FaultRule } from './faults';
import { PodLogs } from './pod-logs';
import { RequestLog } from './recorder';
import { KubeHttpServer, MAX_BODY_BYTES, type RbacRule } from './server';
import { ObjectStore } from './store';
import { createTestTls } from './tls';

type Obj = Record<string, unknown>;

export interface FakeKubeOptions {
  /** The EKS cluster this server is: tokens must be for `sts.<region>.amazonaws.com`. */
  clusterName?: string;
  region?: string;
  /** Server clock (token expiry, timestamps, `sinceSeconds`). Default: the real clock. */
  now?: () => Date;
  /**
   * Maps a token's credential to a user; `undefined` refuses it with 401 (no access entry).
   * Default: `arn:aws:sts::111122223333:assumed-role/<accessKeyId>/stagesign` in `system:authenticated`.
   */
  identify?: (claims: EksTokenClaims) => UserInfo | undefined;
  /** Namespaces that exist at start besides default, kube-system, kube-public, kube-node-lease. */
  namespaces?: string[];
  controllers?: ControllerOptions & {
    /**
     * When controllers step: `poll` (default) once before serving each GET/LIST of deployments,
     * statefulsets or daemonsets, and every 20 ms while a watch is open; `manual` only on
     * `step()`; `interval` every `intervalMs` (default 25).
     */
    mode?: 'poll' | 'manual' | 'interval';
    intervalMs?: number;
  };
  /** Request body limit (default 3 MiB, the API server's). */
  maxBodyBytes?: number;
}

export interface FakeKube {
  /** `https://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** base64 of the CA PEM, as EKS `certificateAuthority.data`. */
  readonly caData: string;
  readonly caPem: string;
  readonly clusterName: string;
  readonly region: string;
  /** The server's clock. */
  clock(): Date;
  readonly api: FakeApi;
  readonly store: ObjectStore;
  readonly requests: RequestLog;
  readonly faults: Faults;
  readonly logs: PodLogs;
  readonly controllers: Controllers;
  /** RBAC denials (403), checked after authentication. */
  readonly rbac: RbacRule[];
  /** A well-formed EKS token for this cluster's region (the fake checks shape, not signature). */
  token(options?: { accessKeyId?: string; signedAt?: Date }): string;
  /** Adds an admission hook (mutating hooks run before validating ones); returns a remover. */
  addAdmissionHook(hook: AdmissionHook): () => void;
  /** Shorthand for `faults.add`. */
  inject(rule: FaultRule): FaultHandle;
  /** Creates objects as an administrator without admission (namespaces first). */
  seed(...objects: Obj[]): Promise<Obj[]>;
  /** Reads an object from the store (undefined when absent). */
  read(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined;
  /** Objects of a kind, optionally in one namespace. */
  list(apiVersion: string, kind: string, namespace?: string): Obj[];
  /** Runs the controllers `n` times (default 1). */
  step(n?: number): Promise<void>;
  close(): Promise<void>;
}

export const ADMIN: UserInfo = {
  username: 'kubernetes-admin',
  groups: ['system:masters', 'system:authenticated'],
};

function typeFor(apiVersion: string, kind: string) {
  const t = findByKind(apiVersion, kind);
  if (!t) throw new Error(`fake-kube does not serve ${apiVersion} ${kind}`);
  return t;
}

export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const now = options.now ?? (() => new Date());
  const region = options.region ?? 'us-east-1';
  const clusterName = options.clusterName ?? 'prod';
  const tls = await createTestTls(now());
  const store = new ObjectStore();
  const api = new FakeApi(store, now);
  const requests = new RequestLog();
  const faults = new Faults();
  const logs = new PodLogs();
  const rbac: RbacRule[] = [];
  const controllerOptions = options.controllers ?? {};
  const controllers = new Controllers(api, controllerOptions);
  const mode = controllerOptions.mode ?? 'poll';
  const identify =
    options.identify ??
    ((claims: EksTokenClaims): UserInfo => ({
      username: `arn:aws:sts::111122223333:assumed-role/${claims.accessKeyId}/stagesign`,
      groups: ['system:authenticated'],
    }));
  const http = new KubeHttpServer(
    {
      api,
      store,
      requests,
      faults,
      logs,
      rbac,
      region,
      now,
      identify,
      maxBodyBytes: options.maxBodyBytes ?? MAX_BODY_BYTES,
      onPoll: async (resource) => {
        if (mode === 'poll' && ['deployments', 'statefulsets', 'daemonsets'].includes(resource)) {
          await controllers.step();
        }
      },
      onWatchTick: async () => {
        if (mode === 'poll') await controllers.stepIfIdle();
      },
    },
    tls,
  );
  const admin = { user: ADMIN, fieldManager: 'fake-kube-seed', skipAdmission: true };
  for (const name of [
    'default',
    'kube-system',
    'kube-public',
    'kube-node-lease',
    ...(options.namespaces ?? []),
  ]) {
    await api.create(typeOf('namespaces'), undefined, { metadata: { name } }, admin);
  }
  await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
  const { port } = http.server.address() as AddressInfo;
  const timer =
    mode === 'interval'
      ? setInterval(
          () => void controllers.stepIfIdle().catch(() => undefined),
          controllerOptions.intervalMs ?? 25,
        )
      : undefined;
  return {
    endpoint: `https://127.0.0.1:${port}`,
    caData: tls.caData,
    caPem: tls.caPem,
    clusterName,
    region,
    clock: now,
    api,
    store,
    requests,
    faults,
    logs,
    controllers,
    rbac,
    token: (o = {}) =>
      makeEksTestToken({
        region,
        signedAt: o.signedAt ?? now(),
        ...(o.accessKeyId ? { accessKeyId: o.accessKeyId } : {}),
      }),
    addAdmissionHook(hook) {
      api.hooks.push(hook);
      return () => {
        const i = api.hooks.indexOf(hook);
        if (i >= 0) api.hooks.splice(i, 1);
      };
    },
    inject: (rule) => faults.add(rule),
    async seed(...objects) {
      const sorted = [...objects].sort(
        (a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'),
      );
      const out: Obj[] = [];
      for (const o of sorted) {
        const t = typeFor(String(o.apiVersion), String(o.kind));
        const ns = t.namespaced ? String((o.metadata as Obj | undefined)?.namespace ?? 'default') : undefined;
        out.push(await api.create(t, ns, o, admin));
      }
      return out;
    },
    read: (apiVersion, kind, namespace, name) => store.get(typeFor(apiVersion, kind), namespace, name),
    list: (apiVersion, kind, namespace) => store.list(typeFor(apiVersion, kind), namespace),
    async step(n = 1) {
      for (let i = 0; i < n; i++) await controllers.step();
    },
    async close() {
      if (timer) clearInterval(timer);
      http.closeWatches();
      http.server.closeAllConnections();
      await new Promise<void>((resolve) => http.server.close(() => resolve()));
    },
  };
}

export type { AdmissionHook, AdmissionRequest, AdmissionVerdict, UserInfo } from './admission';
export { allow, deny, webhookUnavailable } from './admission';
export type { ControllerOptions, PodFailure } from './controllers';
export { checkEksToken, makeEksTestToken, type EksTokenClaims } from './eks-token';
export type { FaultHandle, FaultRule } from './faults';
export type { RecordedKubeRequest } from './recorder';
export type { RbacRule } from './server';
export { KubeError, type KubeStatus } from './status';
export {
  EXTENSION_CONTAINER,
  EXTENSION_LABELS,
  EXTENSION_NAMESPACE,
  installKyvernoNotationAws,
  kyvernoImages,
  verdictFromDigests,
  type ImageVerdict,
  type KyvernoImage,
  type KyvernoNotationAws,
  type KyvernoNotationAwsOptions,
} from './kyverno-notation-aws';
