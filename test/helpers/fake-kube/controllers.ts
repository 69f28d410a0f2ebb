/**
 * Deterministic stand-ins for kube-controller-manager and the kubelet. Each `step()` runs, in
 * order: the Deployment controller, the ReplicaSet controller, the StatefulSet and DaemonSet
 * controllers, then the kubelet on every Pod that existed before the step began. Pods are created
 * through the API (so admission hooks see them, with the controller's service account as user);
 * a denied create becomes a `FailedCreate` Warning Event (`Error creating: <message>`) and a sticky
 * `ReplicaFailure` condition, as the real ReplicaSet controller does.
 *
 * Pod outcome per container: `podOutcome(image, container, pod)` if given, else the image's
 * digest (`…@sha256:…`, or `imageDigests[image]`) makes it Running and Ready with
 * `imageID = <repository>@<digest>`; a tag without a known digest fails with ErrImagePull then
 * ImagePullBackOff, like a registry that has no such tag.
 */
import type { UserInfo } from './admission';
import type { FakeApi, WriteContext } from './api';
import { safeSuffix } from './api';
import { typeOf } from './discovery';
import { recordEvent } from './events';
import { normalisedImage, parseImage } from './images';
import { canonical, clone } from './patch';
import { KubeError } from './status';
import { metaOf } from './store';

type Obj = Record<string, unknown>;

export type PodFailure =
  'ImagePullBackOff' | 'ErrImagePull' | 'CrashLoopBackOff' | 'CreateContainerConfigError';

export interface ControllerOptions {
  /** Tag reference (as written in the pod spec) → `sha256:…`. */
  imageDigests?: Record<string, string>;
  /** Overrides the outcome of a container: a failure state, or `'run'`. */
  podOutcome?: (image: string, container: Obj, pod: Obj) => PodFailure | 'run' | undefined;
  /**
   * Steps after which an unfinished Deployment rollout reports `Progressing=False`,
   * `ProgressDeadlineExceeded` (the real controller uses `progressDeadlineSeconds`). Default: never.
   */
  progressDeadlineSteps?: number;
  /** Node names DaemonSets schedule onto (default one node, `ip-10-0-1-10.ec2.internal`). */
  nodes?: string[];
}

const REVISION = 'deployment.kubernetes.io/revision';
const HASH = 'pod-template-hash';

function controller(name: string): WriteContext {
  const user: UserInfo = {
    username: `system:serviceaccount:kube-system:${name}`,
    groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
  };
  return { user, fieldManager: 'kube-controller-manager' };
}

function ownerRef(owner: Obj): Obj {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: metaOf(owner).name,
    uid: metaOf(owner).uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function ownedBy(obj: Obj, owner: Obj): boolean {
  return ((metaOf(obj).ownerReferences as Obj[] | undefined) ?? []).some((r) => r.uid === metaOf(owner).uid);
}

function templateWithoutHash(template: unknown): string {
  const t = clone(template) as Obj;
  const labels = (metaOf(t).labels ?? {}) as Record<string, string>;
  delete labels[HASH];
  delete labels['controller-revision-hash'];
  delete labels['pod-template-generation'];
  return canonical(t);
}

function percent(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(String(value ?? '25%'));
  const p = m ? Number(m[1]) : 25;
  return roundUp ? Math.ceil((p * total) / 100) : Math.floor((p * total) / 100);
}

function condition(type: string, status: string, reason: string, message: string, now: string): Obj {
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

/** Replaces the condition of `type`, keeping lastTransitionTime when the status did not change. */
function setCondition(conditions: Obj[], next: Obj): Obj[] {
  const old = conditions.find((c) => c.type === next.type);
  if (old && old.status === next.status) {
    next.lastTransitionTime = old.lastTransitionTime;
    if (old.reason === next.reason && old.message === next.message) next.lastUpdateTime = old.lastUpdateTime;
  }
  return [...conditions.filter((c) => c.type !== next.type), next];
}

function podReady(pod: Obj): boolean {
  const conditions = ((pod.status as Obj | undefined)?.conditions as Obj[] | undefined) ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

export class Controllers {
  private readonly seenPods = new Set<string>();
  private readonly rolloutSteps = new Map<string, number>();
  private stepping: Promise<void> = Promise.resolve();
  steps = 0;

  constructor(
    private readonly api: FakeApi,
    readonly options: ControllerOptions = {},
  ) {}

  /** One reconciliation pass of every controller; concurrent calls run one after another. */
  step(): Promise<void> {
    const run = this.stepping.then(() => this.runStep());
    this.stepping = run.catch((e: unknown) => {
      this.errors.push(e);
    });
    return run;
  }

  private pending = 0;

  /** A step unless one is already queued or running (for timers: steps never pile up). */
  stepIfIdle(): Promise<void> {
    if (this.pending > 0) return Promise.resolve();
    this.pending += 1;
    return this.step().finally(() => {
      this.pending -= 1;
    });
  }

  /** Errors thrown by steps that ran in the background (watch ticks, interval mode). */
  readonly errors: unknown[] = [];

  private async runStep(): Promise<void> {
    this.steps += 1;
    const existingPods = new Set(this.api.store.list(typeOf('pods')).map((p) => String(metaOf(p).uid)));
    for (const d of this.api.store.list(typeOf('deployments', 'apps'))) await this.syncDeployment(d);
    for (const rs of this.api.store.list(typeOf('replicasets', 'apps'))) await this.syncReplicaSet(rs);
    for (const sts of this.api.store.list(typeOf('statefulsets', 'apps'))) await this.syncStatefulSet(sts);
    for (const ds of this.api.store.list(typeOf('daemonsets', 'apps'))) await this.syncDaemonSet(ds);
    for (const pod of this.api.store.list(typeOf('pods'))) {
      if (existingPods.has(String(metaOf(pod).uid))) await this.kubelet(pod);
    }
    for (const rs of this.api.store.list(typeOf('replicasets', 'apps'))) await this.replicaSetStatus(rs);
    for (const d of this.api.store.list(typeOf('deployments', 'apps'))) await this.deploymentStatus(d);
    for (const sts of this.api.store.list(typeOf('statefulsets', 'apps'))) await this.statefulSetStatus(sts);
    for (const ds of this.api.store.list(typeOf('daemonsets', 'apps'))) await this.daemonSetStatus(ds);
  }

  private event(
    obj: Obj,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component: string,
  ): void {
    recordEvent(this.api.store, this.api.timestamp(), obj, type, reason, message, component);
  }

  // --- Deployment -----------------------------------------------------------------------------

  private replicaSetsOf(d: Obj): Obj[] {
    const ns = String(metaOf(d).namespace);
    return this.api.store.list(typeOf('replicasets', 'apps'), ns).filter((rs) => ownedBy(rs, d));
  }

  private async syncDeployment(d: Obj): Promise<void> {
    const spec = d.spec as Obj;
    if (spec.paused) return;
    const meta = metaOf(d);
    const ns = String(meta.namespace);
    const rsType = typeOf('replicasets', 'apps');
    const ctx = controller('deployment-controller');
    const replicas = Number(spec.replicas ?? 1);
    const all = this.replicaSetsOf(d);
    const wanted = templateWithoutHash(spec.template);
    let newRs = all.find((rs) => templateWithoutHash((rs.spec as Obj).template) === wanted);
    const maxRevision = Math.max(
      0,
      ...all.map((rs) => Number((metaOf(rs).annotations as Obj | undefined)?.[REVISION] ?? 0)),
    );
    const surge = percent(
      (spec.strategy as Obj | undefined)?.rollingUpdate &&
        ((spec.strategy as Obj).rollingUpdate as Obj).maxSurge,
      replicas,
      true,
    );
    if (!newRs) {
      const hash = safeSuffix(wanted, 10);
      const template = clone(spec.template) as Obj;
      metaOf(template).labels = { ...(metaOf(template).labels as Obj), [HASH]: hash };
      const selector = clone(spec.selector) as Obj;
      selector.matchLabels = { ...(selector.matchLabels as Obj), [HASH]: hash };
      newRs = await this.api.create(
        rsType,
        ns,
        {
          metadata: {
            name: `${String(meta.name)}-${hash}`,
            namespace: ns,
            labels: metaOf(template).labels,
            annotations: {
              'deployment.kubernetes.io/desired-replicas': String(replicas),
              'deployment.kubernetes.io/max-replicas': String(replicas + surge),
              [REVISION]: String(maxRevision + 1),
            },
            ownerReferences: [ownerRef(d)],
          },
          spec: { replicas, minReadySeconds: spec.minReadySeconds ?? 0, selector, template },
        },
        ctx,
      );
      this.rolloutSteps.set(String(meta.uid), 0);
      this.event(
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled up replica set ${String(metaOf(newRs).name)} from 0 to ${replicas}`,
        'deployment-controller',
      );
    } else {
      const rsMeta = metaOf(newRs);
      const annotations = { ...(rsMeta.annotations as Record<string, string>) };
      const revision = Number(annotations[REVISION] ?? 0);
      const rsSpec = newRs.spec as Obj;
      if (revision < maxRevision || rsSpec.replicas !== replicas) {
        const from = Number(rsSpec.replicas ?? 0);
        if (revision < maxRevision) {
          annotations[REVISION] = String(maxRevision + 1);
          this.rolloutSteps.set(String(meta.uid), 0);
        }
        annotations['deployment.kubernetes.io/desired-replicas'] = String(replicas);
        rsMeta.annotations = annotations;
        rsSpec.replicas = replicas;
        newRs = await this.api.update(rsType, ns, String(rsMeta.name), newRs, ctx);
        if (from !== replicas) {
          this.event(
            d,
            'Normal',
            'ScalingReplicaSet',
            `Scaled ${from < replicas ? 'up' : 'down'} replica set ${String(rsMeta.name)} from ${from} to ${replicas}`,
            'deployment-controller',
          );
        }
      }
    }
    // Old ReplicaSets are scaled down once the new one is fully available.
    const newAvailable = Number((newRs.status as Obj | undefined)?.availableReplicas ?? 0);
    if (newAvailable >= replicas) {
      for (const rs of all) {
        const rsSpec = rs.spec as Obj;
        if (metaOf(rs).uid === metaOf(newRs).uid || !rsSpec.replicas) continue;
        const from = Number(rsSpec.replicas);
        rsSpec.replicas = 0;
        await this.api.update(rsType, ns, String(metaOf(rs).name), rs, ctx);
        this.event(
          d,
          'Normal',
          'ScalingReplicaSet',
          `Scaled down replica set ${String(metaOf(rs).name)} from ${from} to 0`,
          'deployment-controller',
        );
      }
    }
    const revision = (metaOf(newRs).annotations as Record<string, string>)[REVISION]!;
    const current = this.api.store.get(typeOf('deployments', 'apps'), ns, String(meta.name));
    if (current && (metaOf(current).annotations as Obj | undefined)?.[REVISION] !== revision) {
      metaOf(current).annotations = { ...(metaOf(current).annotations as Obj), [REVISION]: revision };
      await this.api.update(typeOf('deployments', 'apps'), ns, String(meta.name), current, ctx);
    }
  }

  private async deploymentStatus(d: Obj): Promise<void> {
    const meta = metaOf(d);
    const spec = d.spec as Obj;
    const replicas = Number(spec.replicas ?? 1);
    const all = this.replicaSetsOf(d);
    const revision = (metaOf(d).annotations as Obj | undefined)?.[REVISION];
    const newRs = all.find((rs) => (metaOf(rs).annotations as Obj | undefined)?.[REVISION] === revision);
    const sum = (field: string): number =>
      all.reduce((n, rs) => n + Number((rs.status as Obj | undefined)?.[field] ?? 0), 0);
    const newStatus = (newRs?.status as Obj | undefined) ?? {};
    const totalSpec = all.reduce((n, rs) => n + Number((rs.spec as Obj).replicas ?? 0), 0);
    const available = sum('availableReplicas');
    const updated = Number(newStatus.replicas ?? 0);
    const old = (d.status as Obj | undefined) ?? {};
    const now = this.api.timestamp();
    let conditions = clone((old.conditions as Obj[] | undefined) ?? []);
    const maxUnavailable = percent(
      ((spec.strategy as Obj | undefined)?.rollingUpdate as Obj | undefined)?.maxUnavailable,
      replicas,
      false,
    );
    conditions = setCondition(
      conditions,
      available >= replicas - maxUnavailable
        ? condition(
            'Available',
            'True',
            'MinimumReplicasAvailable',
            'Deployment has minimum availability.',
            now,
          )
        : condition(
            'Available',
            'False',
            'MinimumReplicasUnavailable',
            'Deployment does not have minimum availability.',
            now,
          ),
    );
    const rsName = newRs ? String(metaOf(newRs).name) : '';
    const complete =
      newRs !== undefined &&
      updated === replicas &&
      Number(newStatus.availableReplicas ?? 0) === replicas &&
      sum('replicas') === replicas;
    const uid = String(meta.uid);
    const stepsTaken = (this.rolloutSteps.get(uid) ?? 0) + (complete ? 0 : 1);
    this.rolloutSteps.set(uid, stepsTaken);
    const progressing = conditions.find((c) => c.type === 'Progressing');
    if (complete) {
      conditions = setCondition(
        conditions,
        condition(
          'Progressing',
          'True',
          'NewReplicaSetAvailable',
          `ReplicaSet "${rsName}" has successfully progressed.`,
          now,
        ),
      );
    } else if (
      progressing?.reason === 'ProgressDeadlineExceeded' ||
      (this.options.progressDeadlineSteps !== undefined && stepsTaken > this.options.progressDeadlineSteps)
    ) {
      conditions = setCondition(
        conditions,
        condition(
          'Progressing',
          'False',
          'ProgressDeadlineExceeded',
          `ReplicaSet "${rsName}" has timed out progressing.`,
          now,
        ),
      );
    } else if (newRs) {
      const fresh =
        !progressing ||
        (progressing.reason === 'NewReplicaSetAvailable' &&
          progressing.message !== `ReplicaSet "${rsName}" has successfully progressed.`);
      conditions = setCondition(
        conditions,
        fresh && stepsTaken <= 1
          ? condition(
              'Progressing',
              'True',
              'NewReplicaSetCreated',
              `Created new replica set "${rsName}"`,
              now,
            )
          : condition(
              'Progressing',
              'True',
              'ReplicaSetUpdated',
              `ReplicaSet "${rsName}" is progressing.`,
              now,
            ),
      );
    }
    const failure = ((newStatus.conditions as Obj[] | undefined) ?? []).find(
      (c) => c.type === 'ReplicaFailure',
    );
    conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
    if (failure)
      conditions.push(
        condition('ReplicaFailure', 'True', String(failure.reason), String(failure.message), now),
      );
    const order = ['Available', 'Progressing', 'ReplicaFailure'];
    conditions.sort((a, b) => order.indexOf(String(a.type)) - order.indexOf(String(b.type)));
    const status: Obj = {
      observedGeneration: meta.generation,
      replicas: sum('replicas'),
      updatedReplicas: updated,
      readyReplicas: sum('readyReplicas'),
      availableReplicas: available,
      ...(totalSpec - available > 0 ? { unavailableReplicas: totalSpec - available } : {}),
      conditions,
    };
    for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas'])
      if (status[k] === 0) delete status[k];
    await this.writeStatus('deployments', 'apps', d, status, 'deployment-controller');
  }

  private async writeStatus(
    resource: string,
    group: string,
    obj: Obj,
    status: Obj,
    who: string,
  ): Promise<void> {
    const meta = metaOf(obj);
    const t = typeOf(resource, group);
    const current = this.api.store.get(t, meta.namespace as string | undefined, String(meta.name));
    if (!current || JSON.stringify(current.status) === JSON.stringify(status)) return;
    current.status = status;
    await this.api.update(
      t,
      meta.namespace as string | undefined,
      String(meta.name),
      current,
      controller(who),
      'status',
    );
  }

  // --- ReplicaSet -----------------------------------------------------------------------------

  private podsOf(owner: Obj): Obj[] {
    const ns = String(metaOf(owner).namespace);
    return this.api.store.list(typeOf('pods'), ns).filter((p) => ownedBy(p, owner));
  }

  /** Creates `count` Pods from `template` for `owner`; returns the first failure's message. */
  /**
   * Creates Pods from `template` for `owner` (one per entry of `pods`: a fixed name or
   * generateName, extra labels, a node); stops at the first failure, recorded as a Warning
   * `FailedCreate` Event worded by `failed`, and returns its message.
   */
  private async createPods(
    owner: Obj,
    template: Obj,
    pods: { name?: string; labels?: Record<string, string>; nodeName?: string }[],
    who: string,
    failed: (pod: string, message: string) => string = (_pod, message) => `Error creating: ${message}`,
  ): Promise<string | undefined> {
    const ns = String(metaOf(owner).namespace);
    for (const p of pods) {
      const spec = clone(template.spec) as Obj;
      if (p.nodeName) spec.nodeName = p.nodeName;
      const pod: Obj = {
        metadata: {
          ...(p.name ? { name: p.name } : { generateName: `${String(metaOf(owner).name)}-` }),
          namespace: ns,
          labels: { ...(metaOf(clone(template)).labels as Obj), ...p.labels },
          ...(metaOf(template).annotations ? { annotations: metaOf(template).annotations } : {}),
          ownerReferences: [ownerRef(owner)],
        },
        spec,
      };
      try {
        const created = await this.api.create(typeOf('pods'), ns, pod, controller(who));
        const name = String(metaOf(created).name);
        this.event(
          owner,
          'Normal',
          'SuccessfulCreate',
          owner.kind === 'StatefulSet'
            ? `create Pod ${name} in StatefulSet ${String(metaOf(owner).name)} successful`
            : `Created pod: ${name}`,
          who,
        );
      } catch (e) {
        if (!(e instanceof KubeError)) throw e;
        const message = String(e.status.message);
        this.event(owner, 'Warning', 'FailedCreate', failed(p.name ?? '', message), who);
        return message;
      }
    }
    return undefined;
  }

  private readonly failures = new Map<string, string | undefined>();

  private async syncReplicaSet(rs: Obj): Promise<void> {
    const spec = rs.spec as Obj;
    const want = Number(spec.replicas ?? 1);
    const pods = this.podsOf(rs);
    const uid = String(metaOf(rs).uid);
    if (pods.length < want) {
      const failure = await this.createPods(
        rs,
        spec.template as Obj,
        Array.from({ length: want - pods.length }, () => ({})),
        'replicaset-controller',
      );
      this.failures.set(uid, failure);
    } else {
      this.failures.set(uid, undefined);
      const extra = pods
        .sort((a, b) => (String(metaOf(b).name) < String(metaOf(a).name) ? -1 : 1))
        .slice(0, pods.length - want);
      for (const pod of extra) {
        this.api.delete(typeOf('pods'), String(metaOf(rs).namespace), String(metaOf(pod).name));
        this.event(
          rs,
          'Normal',
          'SuccessfulDelete',
          `Deleted pod: ${String(metaOf(pod).name)}`,
          'replicaset-controller',
        );
      }
    }
  }

  private async replicaSetStatus(rs: Obj): Promise<void> {
    const pods = this.podsOf(rs);
    const uid = String(metaOf(rs).uid);
    const old = (rs.status as Obj | undefined) ?? {};
    let conditions = clone((old.conditions as Obj[] | undefined) ?? []);
    const failure = this.failures.get(uid);
    if (failure !== undefined) {
      // Sticky: the real controller sets the condition only when none exists yet.
      if (!conditions.some((c) => c.type === 'ReplicaFailure')) {
        const now = this.api.timestamp();
        conditions.push({
          type: 'ReplicaFailure',
          status: 'True',
          lastTransitionTime: now,
          reason: 'FailedCreate',
          message: failure,
        });
      }
    } else conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
    const ready = pods.filter(podReady).length;
    const status: Obj = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: metaOf(rs).generation,
      ...(conditions.length ? { conditions } : {}),
    };
    for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'])
      if (status[k] === 0) delete status[k];
    await this.writeStatus('replicasets', 'apps', rs, status, 'replicaset-controller');
  }

  // --- ControllerRevisions (StatefulSet, DaemonSet) ----------------------------------------

  /**
   * The ControllerRevision for `owner`'s current template: `<name>-<hash>`, `data` the patch
   * `kubectl rollout undo` applies (`{spec: {template: {…, $patch: replace}}}`), `revision` one
   * above the highest when new or when an older one becomes current again (a rollback).
   */
  private async currentRevision(
    owner: Obj,
    hashLabel: string,
  ): Promise<{ name: string; hash: string; revision: number }> {
    const meta = metaOf(owner);
    const ns = String(meta.namespace);
    const crType = typeOf('controllerrevisions', 'apps');
    const template = (owner.spec as Obj).template as Obj;
    const hash = safeSuffix(templateWithoutHash(template), 10);
    const owned = this.api.store.list(crType, ns).filter((cr) => ownedBy(cr, owner));
    const max = Math.max(0, ...owned.map((cr) => Number(cr.revision ?? 0)));
    const name = `${String(meta.name)}-${hash}`;
    const existing = owned.find((cr) => metaOf(cr).name === name);
    const ctx = controller(owner.kind === 'StatefulSet' ? 'statefulset-controller' : 'daemon-set-controller');
    if (!existing) {
      await this.api.create(
        crType,
        ns,
        {
          metadata: {
            name,
            namespace: ns,
            labels: { ...(((owner.spec as Obj).selector as Obj)?.matchLabels as Obj), [hashLabel]: hash },
            ownerReferences: [ownerRef(owner)],
          },
          data: { spec: { template: { ...clone(template), $patch: 'replace' } } },
          revision: max + 1,
        },
        ctx,
      );
      return { name, hash, revision: max + 1 };
    }
    if (Number(existing.revision) < max) {
      existing.revision = max + 1;
      await this.api.update(crType, ns, name, existing, ctx);
      return { name, hash, revision: max + 1 };
    }
    return { name, hash, revision: Number(existing.revision) };
  }

  // --- StatefulSet ----------------------------------------------------------------------------

  private async syncStatefulSet(sts: Obj): Promise<void> {
    const meta = metaOf(sts);
    const spec = sts.spec as Obj;
    const name = String(meta.name);
    const replicas = Number(spec.replicas ?? 1);
    const update = await this.currentRevision(sts, 'controller.kubernetes.io/hash');
    const pods = this.podsOf(sts);
    const byOrdinal = new Map(pods.map((p) => [Number(String(metaOf(p).name).slice(name.length + 1)), p]));
    // Scale down: highest ordinals first.
    for (const [ordinal, pod] of [...byOrdinal].sort((a, b) => b[0] - a[0])) {
      if (ordinal < replicas) break;
      this.api.delete(typeOf('pods'), String(meta.namespace), String(metaOf(pod).name));
      this.event(
        sts,
        'Normal',
        'SuccessfulDelete',
        `delete Pod ${String(metaOf(pod).name)} in StatefulSet ${name} successful`,
        'statefulset-controller',
      );
      return;
    }
    // OrderedReady: create the lowest missing ordinal once every lower one is Ready.
    for (let i = 0; i < replicas; i++) {
      const pod = byOrdinal.get(i);
      if (!pod) {
        const template = clone(spec.template) as Obj;
        const podSpec = template.spec as Obj;
        podSpec.hostname = `${name}-${i}`;
        if (spec.serviceName) podSpec.subdomain = spec.serviceName;
        await this.createPods(
          sts,
          template,
          [
            {
              name: `${name}-${i}`,
              labels: {
                'controller-revision-hash': update.name,
                'statefulset.kubernetes.io/pod-name': `${name}-${i}`,
                'apps.kubernetes.io/pod-index': String(i),
              },
            },
          ],
          'statefulset-controller',
          (pod, message) => `create Pod ${pod} in StatefulSet ${name} failed error: ${message}`,
        );
        return;
      }
      if (!podReady(pod)) return;
    }
    // Rolling update: replace the highest ordinal not at the update revision.
    const stale = [...byOrdinal]
      .filter(
        ([ordinal, p]) =>
          ordinal < replicas && (metaOf(p).labels as Obj)['controller-revision-hash'] !== update.name,
      )
      .sort((a, b) => b[0] - a[0])[0];
    if (stale) {
      this.api.delete(typeOf('pods'), String(meta.namespace), String(metaOf(stale[1]).name));
      this.event(
        sts,
        'Normal',
        'SuccessfulDelete',
        `delete Pod ${String(metaOf(stale[1]).name)} in StatefulSet ${name} successful`,
        'statefulset-controller',
      );
    }
  }

  private async statefulSetStatus(sts: Obj): Promise<void> {
    const meta = metaOf(sts);
    const replicas = Number((sts.spec as Obj).replicas ?? 1);
    const template = (sts.spec as Obj).template as Obj;
    const updateRevision = `${String(meta.name)}-${safeSuffix(templateWithoutHash(template), 10)}`;
    const pods = this.podsOf(sts);
    const old = (sts.status as Obj | undefined) ?? {};
    const revisionOf = (p: Obj): unknown => (metaOf(p).labels as Obj)['controller-revision-hash'];
    const updated = pods.filter((p) => revisionOf(p) === updateRevision);
    const ready = pods.filter(podReady).length;
    let currentRevision = (old.currentRevision as string | undefined) ?? updateRevision;
    if (updated.length === replicas && updated.every(podReady)) currentRevision = updateRevision;
    const status: Obj = {
      observedGeneration: meta.generation,
      replicas: pods.length,
      readyReplicas: ready,
      currentReplicas: pods.filter((p) => revisionOf(p) === currentRevision).length,
      updatedReplicas: updated.length,
      availableReplicas: ready,
      currentRevision,
      updateRevision,
      collisionCount: 0,
    };
    for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas'])
      if (status[k] === 0) delete status[k];
    await this.writeStatus('statefulsets', 'apps', sts, status, 'statefulset-controller');
  }

  // --- DaemonSet ------------------------------------------------------------------------------

  private nodes(): string[] {
    return this.options.nodes ?? ['ip-10-0-1-10.ec2.internal'];
  }

  private async syncDaemonSet(ds: Obj): Promise<void> {
    const meta = metaOf(ds);
    const spec = ds.spec as Obj;
    const update = await this.currentRevision(ds, 'controller-revision-hash');
    const pods = this.podsOf(ds);
    const nodeOf = (p: Obj): string => String((p.spec as Obj).nodeName ?? '');
    const missing = this.nodes().filter((n) => !pods.some((p) => nodeOf(p) === n));
    if (missing.length > 0) {
      await this.createPods(
        ds,
        spec.template as Obj,
        missing.map((nodeName) => ({
          nodeName,
          labels: {
            'controller-revision-hash': update.hash,
            'pod-template-generation': String(meta.generation),
          },
        })),
        'daemonset-controller',
      );
      return;
    }
    // RollingUpdate with maxUnavailable 1: one stale Pod at a time, once the others are Ready.
    const stale = pods.filter((p) => (metaOf(p).labels as Obj)['controller-revision-hash'] !== update.hash);
    if (stale.length > 0 && pods.filter((p) => !podReady(p)).length === 0) {
      const victim = stale[0]!;
      this.api.delete(typeOf('pods'), String(meta.namespace), String(metaOf(victim).name));
      this.event(
        ds,
        'Normal',
        'SuccessfulDelete',
        `Deleted pod: ${String(metaOf(victim).name)}`,
        'daemonset-controller',
      );
    }
  }

  private async daemonSetStatus(ds: Obj): Promise<void> {
    const meta = metaOf(ds);
    const hash = safeSuffix(templateWithoutHash((ds.spec as Obj).template), 10);
    const pods = this.podsOf(ds);
    const ready = pods.filter(podReady).length;
    const desired = this.nodes().length;
    const status: Obj = {
      currentNumberScheduled: pods.length,
      desiredNumberScheduled: desired,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      numberUnavailable: Math.max(0, desired - ready),
      updatedNumberScheduled: pods.filter(
        (p) => (metaOf(p).labels as Obj)['controller-revision-hash'] === hash,
      ).length,
      observedGeneration: meta.generation,
    };
    for (const k of ['numberAvailable', 'numberUnavailable', 'updatedNumberScheduled'])
      if (status[k] === 0) delete status[k];
    await this.writeStatus('daemonsets', 'apps', ds, status, 'daemonset-controller');
  }

  // --- kubelet --------------------------------------------------------------------------------

  private outcome(
    image: string,
    container: Obj,
    pod: Obj,
  ): { repository?: string; digest?: string; failure?: PodFailure | 'InvalidImageName' } {
    const parts = parseImage(image);
    if (!parts) return { failure: 'InvalidImageName' };
    const forced = this.options.podOutcome?.(image, container, pod);
    const digest = parts.digest ?? this.options.imageDigests?.[image];
    if (forced && forced !== 'run')
      return { repository: parts.repository, ...(digest ? { digest } : {}), failure: forced };
    if (!digest) return { failure: 'ErrImagePull' };
    return { repository: parts.repository, digest };
  }

  private async kubelet(pod: Obj): Promise<void> {
    // Pods whose status a test (or the extension emulation) manages itself.
    if ((metaOf(pod).annotations as Obj | undefined)?.['fake-kube/kubelet'] === 'manual') return;
    const status = clone((pod.status as Obj | undefined) ?? {});
    const spec = pod.spec as Obj;
    const uid = String(metaOf(pod).uid);
    const now = this.api.timestamp();
    const containers = (spec.containers as Obj[]) ?? [];
    if (!this.seenPods.has(uid)) {
      // First sight: scheduled, containers being created.
      this.seenPods.add(uid);
      const node =
        (spec.nodeName as string | undefined) ?? this.options.nodes?.[0] ?? 'ip-10-0-1-10.ec2.internal';
      if (!spec.nodeName) {
        const current = this.api.store.get(
          typeOf('pods'),
          String(metaOf(pod).namespace),
          String(metaOf(pod).name),
        );
        if (current) {
          (current.spec as Obj).nodeName = node;
          pod = await this.api.update(
            typeOf('pods'),
            String(metaOf(pod).namespace),
            String(metaOf(pod).name),
            current,
            { ...controller('scheduler'), skipAdmission: true }, // pods/binding: no webhooks see it
          );
        }
      }
      Object.assign(status, {
        phase: 'Pending',
        hostIP: '10.0.1.10',
        startTime: now,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
          { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: now },
          {
            type: 'Ready',
            status: 'False',
            lastProbeTime: null,
            lastTransitionTime: now,
            reason: 'ContainersNotReady',
            message: `containers with unready status: [${containers.map((c) => c.name).join(' ')}]`,
          },
          {
            type: 'ContainersReady',
            status: 'False',
            lastProbeTime: null,
            lastTransitionTime: now,
            reason: 'ContainersNotReady',
            message: `containers with unready status: [${containers.map((c) => c.name).join(' ')}]`,
          },
        ],
        containerStatuses: containers.map((c) => ({
          name: c.name,
          image: normalisedImage(String(c.image)),
          imageID: '',
          ready: false,
          started: false,
          restartCount: 0,
          state: { waiting: { reason: 'ContainerCreating' } },
          lastState: {},
        })),
      });
      return this.writePodStatus(pod, status);
    }
    if (status.phase !== 'Pending' && status.phase !== 'Running') return;
    const previous = (status.containerStatuses as Obj[] | undefined) ?? [];
    const statuses = containers.map((c) => {
      const image = String(c.image);
      const prev = previous.find((p) => p.name === c.name) ?? {};
      const { repository, digest, failure } = this.outcome(image, c, pod);
      const base = {
        name: c.name,
        image: normalisedImage(image),
        imageID: '',
        ready: false,
        started: false,
        restartCount: Number(prev.restartCount ?? 0),
        lastState: {},
      };
      const ref = normalisedImage(image);
      switch (failure) {
        case 'ErrImagePull': {
          const wasErr =
            ((prev.state as Obj | undefined)?.waiting as Obj | undefined)?.reason === 'ErrImagePull';
          return wasErr
            ? {
                ...base,
                state: {
                  waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` },
                },
              }
            : {
                ...base,
                state: {
                  waiting: {
                    reason: 'ErrImagePull',
                    message: `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`,
                  },
                },
              };
        }
        case 'InvalidImageName':
          return {
            ...base,
            state: {
              waiting: {
                reason: 'InvalidImageName',
                message: `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`,
              },
            },
          };
        case 'ImagePullBackOff':
          return {
            ...base,
            state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } },
          };
        case 'CreateContainerConfigError':
          return {
            ...base,
            state: {
              waiting: { reason: 'CreateContainerConfigError', message: 'configmap "app-config" not found' },
            },
          };
        case 'CrashLoopBackOff': {
          const restarts = Number(prev.restartCount ?? 0) + 1;
          return {
            ...base,
            imageID: digest ? `${repository}@${digest}` : '',
            restartCount: restarts,
            lastState: {
              terminated: {
                exitCode: 1,
                reason: 'Error',
                startedAt: now,
                finishedAt: now,
                containerID: `containerd://${safeSuffix(uid + restarts, 12)}`,
              },
            },
            state: {
              waiting: {
                reason: 'CrashLoopBackOff',
                message: `back-off ${Math.min(10 * 2 ** (restarts - 1), 300)}s restarting failed container=${String(c.name)} pod=${String(metaOf(pod).name)}_${String(metaOf(pod).namespace)}(${uid})`,
              },
            },
          };
        }
        default:
          return {
            ...base,
            imageID: `${repository}@${digest}`,
            containerID: `containerd://${safeSuffix(uid + String(c.name), 24)}`,
            ready: true,
            started: true,
            state: {
              running: {
                startedAt: ((prev.state as Obj | undefined)?.running as Obj | undefined)?.startedAt ?? now,
              },
            },
          };
      }
    });
    const allReady = statuses.every((s) => s.ready);
    const notReady = statuses
      .filter((s) => !s.ready)
      .map((s) => s.name)
      .join(' ');
    const conds = ((status.conditions as Obj[]) ?? []).map((c) => {
      if (c.type !== 'Ready' && c.type !== 'ContainersReady') return c;
      const next: Obj = allReady
        ? {
            type: c.type,
            status: 'True',
            lastProbeTime: null,
            lastTransitionTime: c.status === 'True' ? c.lastTransitionTime : now,
          }
        : {
            type: c.type,
            status: 'False',
            lastProbeTime: null,
            lastTransitionTime: c.status === 'False' ? c.lastTransitionTime : now,
            reason: 'ContainersNotReady',
            message: `containers with unready status: [${notReady}]`,
          };
      return next;
    });
    Object.assign(status, {
      phase:
        allReady || statuses.some((s) => s.started || Number(s.restartCount) > 0) ? 'Running' : 'Pending',
      conditions: conds,
      containerStatuses: statuses,
      ...(allReady
        ? {
            podIP: `10.0.${1 + (Math.abs(uid.charCodeAt(0)) % 200)}.${1 + (Math.abs(uid.charCodeAt(1)) % 250)}`,
          }
        : {}),
    });
    if (status.podIP) status.podIPs = [{ ip: status.podIP }];
    await this.writePodStatus(pod, status);
  }

  private async writePodStatus(pod: Obj, status: Obj): Promise<void> {
    await this.writeStatus('pods', '', pod, status, 'kubelet');
  }
}
