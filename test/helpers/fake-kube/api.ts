/**
 * The API server's request semantics, independent of HTTP: namespace lifecycle, defaults,
 * validation (422 with field causes), admission, generation/resourceVersion/uid bookkeeping,
 * server-side apply and the patch types, dry-run, status subresources, deletion with owner
 * garbage collection. The HTTP layer (server.ts) and the controllers (controllers.ts) both write
 * through it, so controller-created Pods pass admission exactly like client requests.
 */
import { createHash, randomUUID } from 'node:crypto';
import { admissionError, type AdmissionHook, type AdmissionRequest, type UserInfo } from './admission';
import { apiVersionOf, typeOf, type ResourceType } from './discovery';
import { recordUpdate, serverSideApply } from './managed-fields';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  canonical,
  clone,
  isObject,
} from './patch';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  selectorObjectMatches,
} from './selectors';
import { errors, type StatusCause } from './status';
import type { ObjectStore } from './store';
import { metaOf } from './store';

type Obj = Record<string, unknown>;

export interface WriteContext {
  user: UserInfo;
  dryRun?: boolean;
  /** `fieldManager` query parameter, or the manager derived from the User-Agent. */
  fieldManager: string;
  /** Seeding by tests: no admission hooks. */
  skipAdmission?: boolean;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const POD_CONTROLLERS = [
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'ReplicationController',
  'Job',
];
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** kube's "safe encoding" alphabet, deterministic from `seed`. */
export function safeSuffix(seed: string, length: number): string {
  const digest = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += SUFFIX_ALPHABET[digest[i]! % SUFFIX_ALPHABET.length];
  return out;
}

function goMap(labels: unknown): string {
  return `map[string]string{${Object.entries((labels as Record<string, string>) ?? {})
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join(', ')}}`;
}

function specOf(obj: Obj | undefined): string {
  if (!obj) return '';
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return canonical(rest);
}

export class FakeApi {
  readonly hooks: AdmissionHook[] = [];
  private nameCounter = 0;

  constructor(
    readonly store: ObjectStore,
    private readonly now: () => Date,
  ) {}

  timestamp(): string {
    return this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }

  // --- reads ----------------------------------------------------------------------------------

  get(t: ResourceType, namespace: string | undefined, name: string): Obj {
    const o = this.store.get(t, namespace, name);
    if (!o) throw errors.notFound(t.resource, t.group, name);
    return o;
  }

  list(
    t: ResourceType,
    namespace: string | undefined,
    options: { labelSelector?: string | null; fieldSelector?: string | null } = {},
  ): Obj {
    const labels = options.labelSelector ? parseLabelSelector(options.labelSelector) : [];
    const fields = options.fieldSelector ? parseFieldSelector(options.fieldSelector, t.kind) : [];
    const items = this.store
      .list(t, namespace)
      .filter(
        (o) => matchesLabels(labels, metaOf(o).labels as Record<string, string>) && matchesFields(fields, o),
      )
      .map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    return {
      kind: `${t.kind}List`,
      apiVersion: apiVersionOf(t),
      metadata: { resourceVersion: String(this.store.resourceVersion) },
      items,
    };
  }

  // --- writes ---------------------------------------------------------------------------------

  create(t: ResourceType, namespace: string | undefined, body: Obj, ctx: WriteContext): Promise<Obj> {
    const obj = this.normalise(t, namespace, body);
    const meta = metaOf(obj);
    if (!meta.name && typeof meta.generateName === 'string' && meta.generateName) {
      meta.name = `${meta.generateName}${safeSuffix(`${meta.generateName}${++this.nameCounter}`, 5)}`;
    }
    if (meta.name && this.store.get(t, meta.namespace as string | undefined, String(meta.name))) {
      throw errors.alreadyExists(t.resource, t.group, String(meta.name));
    }
    return this.commit(t, undefined, obj, ctx, { manager: ctx.fieldManager });
  }

  async update(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    body: Obj,
    ctx: WriteContext,
    subresource?: string,
  ): Promise<Obj> {
    const before = this.get(t, namespace, name);
    const obj = this.normalise(t, namespace, body);
    const rv = metaOf(obj).resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== metaOf(before).resourceVersion) {
      throw errors.conflict(t.resource, t.group, name);
    }
    return this.commit(t, before, this.scopeToSubresource(t, before, obj, subresource), ctx, {
      manager: ctx.fieldManager,
      subresource,
    });
  }

  async patch(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    ctx: WriteContext & { force?: boolean },
    subresource?: string,
  ): Promise<Obj> {
    const before = this.store.get(t, namespace, name);
    if (type === 'apply') {
      if (!isObject(patch))
        throw errors.badRequest('error decoding YAML: the apply configuration must be an object');
      const config = clone(patch);
      if (config.apiVersion !== apiVersionOf(t) || config.kind !== t.kind) {
        throw errors.badRequest(
          `the API version in the data (${String(config.apiVersion)}) does not match the expected API version (${apiVersionOf(t)})`,
        );
      }
      const meta = metaOf(config);
      if (meta.name !== undefined && meta.name !== name) {
        throw errors.badRequest(
          'the name of the object (' +
            String(meta.name) +
            ') does not match the name on the URL (' +
            name +
            ')',
        );
      }
      if (meta.managedFields !== undefined) {
        throw errors.badRequest('metadata.managedFields must be nil');
      }
      meta.name = name;
      if (t.namespaced) {
        if (meta.namespace !== undefined && meta.namespace !== namespace) {
          throw errors.badRequest(
            'the namespace of the provided object does not match the namespace sent on the request',
          );
        }
        meta.namespace = namespace;
      }
      this.requireNamespace(t, namespace);
      const merged = serverSideApply({
        current: before,
        config,
        manager: ctx.fieldManager,
        force: ctx.force === true,
        apiVersion: apiVersionOf(t),
        time: this.timestamp(),
        ...(subresource ? { subresource } : {}),
      });
      const scoped = before ? this.scopeToSubresource(t, before, merged, subresource) : merged;
      return this.commit(t, before, scoped, ctx, {
        manager: ctx.fieldManager,
        subresource,
        fieldsDone: true,
      });
    }
    if (!before) throw errors.notFound(t.resource, t.group, name);
    const { metadata: _m, ...rest } = before;
    const base = { ...rest, metadata: metaOf(clone(before)) };
    let next: unknown;
    if (type === 'json') next = applyJsonPatch(base, patch);
    else if (type === 'merge') next = applyMergePatch(base, patch);
    else next = applyStrategicMergePatch(base, patch);
    if (!isObject(next)) throw errors.badRequest('the patch did not produce an object');
    const rv = metaOf(next).resourceVersion;
    if (rv !== metaOf(before).resourceVersion) throw errors.conflict(t.resource, t.group, name);
    const obj = this.normalise(t, namespace, next);
    return this.commit(t, before, this.scopeToSubresource(t, before, obj, subresource), ctx, {
      manager: ctx.fieldManager,
      subresource,
    });
  }

  /** DELETE with `propagationPolicy` (Background by default; Foreground deletes dependents too). */
  delete(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    options: { dryRun?: boolean; propagationPolicy?: string | null } = {},
  ): Obj {
    const existing = this.get(t, namespace, name);
    const meta = metaOf(existing);
    if (!options.dryRun) {
      this.store.remove(t, namespace, name);
      if (t.kind === 'Namespace') {
        for (const { type, object } of this.store.all()) {
          if (metaOf(object).namespace === name) this.removeByKey(type, object);
        }
      }
      this.collectDependents(String(meta.uid), options.propagationPolicy === 'Orphan');
    }
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, ...(t.group ? { group: t.group } : {}), kind: t.resource, uid: meta.uid },
    };
  }

  /** Garbage collection: dependents of `uid` are deleted (or orphaned). */
  private collectDependents(uid: string, orphan: boolean): void {
    for (const { type, object } of this.store.all()) {
      const refs = (metaOf(object).ownerReferences as Obj[] | undefined) ?? [];
      if (!refs.some((r) => r.uid === uid)) continue;
      if (orphan) {
        const t = this.typeFromKey(type);
        const copy = clone(object);
        metaOf(copy).ownerReferences = refs.filter((r) => r.uid !== uid);
        this.store.put(t, copy);
      } else {
        this.removeByKey(type, object);
        this.collectDependents(String(metaOf(object).uid), false);
      }
    }
  }

  private typeFromKey(key: string): ResourceType {
    const [group, resource] = key.split('/');
    return typeOf(resource!, group);
  }

  private removeByKey(key: string, object: Obj): void {
    const meta = metaOf(object);
    this.store.remove(this.typeFromKey(key), meta.namespace as string | undefined, String(meta.name));
  }

  // --- the common write path -----------------------------------------------------------------

  private normalise(t: ResourceType, namespace: string | undefined, body: Obj): Obj {
    if (!isObject(body)) throw errors.badRequest('the body of the request must be an object');
    const obj = clone(body);
    if (obj.kind !== undefined && obj.kind !== t.kind) {
      throw errors.badRequest(
        `the kind of the object (${String(obj.kind)}) does not match the URL (${t.kind})`,
      );
    }
    obj.apiVersion = apiVersionOf(t);
    obj.kind = t.kind;
    const meta = metaOf(obj);
    if (t.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = namespace;
    } else delete meta.namespace;
    return obj;
  }

  /** For types with a status subresource, the main endpoint ignores status and /status ignores the rest. */
  private scopeToSubresource(t: ResourceType, before: Obj, obj: Obj, subresource: string | undefined): Obj {
    if (!t.subresources.includes('status')) return obj;
    if (subresource === 'status') {
      const kept = clone(before);
      kept.status = obj.status;
      const meta = metaOf(kept);
      meta.resourceVersion = metaOf(obj).resourceVersion;
      if (metaOf(obj).managedFields) meta.managedFields = metaOf(obj).managedFields;
      return kept;
    }
    const kept = clone(obj);
    if (before.status === undefined) delete kept.status;
    else kept.status = clone(before.status);
    return kept;
  }

  private requireNamespace(t: ResourceType, namespace: string | undefined): void {
    if (t.namespaced && !this.store.get(typeOf('namespaces'), undefined, String(namespace))) {
      throw errors.notFound('namespaces', '', String(namespace));
    }
  }

  private async commit(
    t: ResourceType,
    before: Obj | undefined,
    obj: Obj,
    ctx: WriteContext,
    opts: { manager: string; subresource?: string | undefined; fieldsDone?: boolean },
  ): Promise<Obj> {
    this.requireNamespace(t, metaOf(obj).namespace as string | undefined);
    const meta = metaOf(obj);
    if (!before) {
      meta.uid = randomUUID();
      meta.creationTimestamp = this.timestamp();
      delete meta.resourceVersion;
    } else {
      const old = metaOf(before);
      meta.uid = old.uid;
      meta.creationTimestamp = old.creationTimestamp;
      if (old.generation !== undefined) meta.generation = old.generation;
      else delete meta.generation;
    }
    applyDefaults(t, obj);
    if (!opts.subresource && !ctx.skipAdmission && t.kind !== 'Event')
      obj = await this.admit('mutating', t, before, obj, ctx);
    applyDefaults(t, obj);
    validate(t, obj, before);
    if (!opts.subresource && !ctx.skipAdmission && t.kind !== 'Event')
      obj = await this.admit('validating', t, before, obj, ctx);
    if (t.hasGeneration) {
      const m = metaOf(obj);
      if (!before) m.generation = 1;
      else if (specOf(before) !== specOf(obj)) m.generation = Number(metaOf(before).generation ?? 0) + 1;
    }
    if (!opts.fieldsDone) {
      recordUpdate(before, obj, opts.manager, apiVersionOf(t), this.timestamp(), opts.subresource);
    }
    if (ctx.dryRun) {
      if (before) metaOf(obj).resourceVersion = metaOf(before).resourceVersion;
      return obj;
    }
    return this.store.put(t, obj);
  }

  private async admit(
    phase: 'mutating' | 'validating',
    t: ResourceType,
    before: Obj | undefined,
    obj: Obj,
    ctx: WriteContext,
  ): Promise<Obj> {
    let current = obj;
    for (const hook of this.hooks.filter((h) => h.phase === phase)) {
      const meta = metaOf(current);
      const request: AdmissionRequest = {
        operation: before ? 'UPDATE' : 'CREATE',
        kind: { group: t.group, version: t.version, kind: t.kind },
        resource: t.resource,
        namespace: meta.namespace as string | undefined,
        name: String(meta.name ?? ''),
        object: clone(current),
        oldObject: before ? clone(before) : undefined,
        dryRun: ctx.dryRun === true,
        userInfo: ctx.user,
      };
      const verdict = await hook.review(request);
      if (!verdict.allowed) throw admissionError(verdict);
      if (verdict.object && phase === 'mutating') current = clone(verdict.object);
    }
    return current;
  }
}

// --- defaults and validation ------------------------------------------------------------------

function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  for (const field of ['containers', 'initContainers']) {
    for (const c of (spec[field] as Obj[] | undefined) ?? []) {
      if (!isObject(c)) continue;
      const image = String(c.image ?? '');
      const tagged = /:[^/@]+$/.test(image) && !image.endsWith(':latest');
      c.imagePullPolicy ??= image.includes('@') || tagged ? 'IfNotPresent' : 'Always';
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.resources ??= {};
    }
  }
}

function applyDefaults(t: ResourceType, obj: Obj): void {
  const spec = (obj.spec ??= {}) as Obj;
  switch (t.kind) {
    case 'Deployment':
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
      break;
    case 'ReplicaSet':
      spec.replicas ??= 1;
      break;
    case 'StatefulSet':
      spec.replicas ??= 1;
      spec.podManagementPolicy ??= 'OrderedReady';
      spec.revisionHistoryLimit ??= 10;
      spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
      break;
    case 'DaemonSet':
      spec.revisionHistoryLimit ??= 10;
      spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
      break;
    case 'Service':
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      spec.clusterIP ??= `10.100.${(Math.abs(hashCode(String(metaOf(obj).name))) % 250) + 1}.${(Math.abs(hashCode(String(metaOf(obj).namespace))) % 250) + 1}`;
      spec.clusterIPs ??= [spec.clusterIP];
      break;
    case 'Namespace':
      spec.finalizers ??= ['kubernetes'];
      obj.status ??= { phase: 'Active' };
      metaOf(obj).labels = {
        ...(metaOf(obj).labels as Obj),
        'kubernetes.io/metadata.name': metaOf(obj).name,
      };
      break;
    case 'Pod':
      defaultPodSpec(spec);
      obj.status ??= { phase: 'Pending', qosClass: 'BestEffort' };
      break;
    default:
      if (Object.keys(spec).length === 0 && !['Deployment'].includes(t.kind)) delete obj.spec;
  }
  const template = spec.template as Obj | undefined;
  if (isObject(template) && isObject(template.spec)) defaultPodSpec(template.spec);
  if (t.kind === 'CronJob') {
    const jobTemplate = (spec.jobTemplate as Obj | undefined)?.spec as Obj | undefined;
    const tpl = jobTemplate?.template as Obj | undefined;
    if (isObject(tpl?.spec)) defaultPodSpec(tpl.spec as Obj);
  }
}

function hashCode(s: string): number {
  let h = 0;
  for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) | 0;
  return h;
}

function validateContainers(spec: Obj | undefined, path: string, causes: StatusCause[]): void {
  const containers = spec?.containers as Obj[] | undefined;
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push({ reason: 'FieldValueRequired', field: `${path}.containers`, message: 'Required value' });
    return;
  }
  containers.forEach((c, i) => {
    if (!c.name)
      causes.push({
        reason: 'FieldValueRequired',
        field: `${path}.containers[${i}].name`,
        message: 'Required value',
      });
    if (!c.image)
      causes.push({
        reason: 'FieldValueRequired',
        field: `${path}.containers[${i}].image`,
        message: 'Required value',
      });
  });
}

function validate(t: ResourceType, obj: Obj, before: Obj | undefined): void {
  const meta = metaOf(obj);
  const name = String(meta.name ?? '');
  const causes: StatusCause[] = [];
  if (!name) {
    causes.push({
      reason: 'FieldValueRequired',
      field: 'metadata.name',
      message: 'Required value: name or generateName is required',
    });
  } else if (!DNS1123_SUBDOMAIN.test(name) || name.length > 253) {
    causes.push({
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    });
  }
  const spec = obj.spec as Obj | undefined;
  if (t.kind === 'Pod') validateContainers(spec, 'spec', causes);
  if (POD_CONTROLLERS.includes(t.kind) && t.kind !== 'Job') {
    const replicas = spec?.replicas;
    if (typeof replicas === 'number' && replicas < 0) {
      causes.push({
        field: 'spec.replicas',
        message: `Invalid value: ${replicas}: must be greater than or equal to 0`,
      });
    }
    const selector = spec?.selector as Obj | undefined;
    const template = spec?.template as Obj | undefined;
    const labels = (template?.metadata as Obj | undefined)?.labels;
    if (!isObject(selector))
      causes.push({ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' });
    else if (!selectorObjectMatches(selector, labels as Record<string, string>)) {
      causes.push({
        field: 'spec.template.metadata.labels',
        message: `Invalid value: ${goMap(labels)}: \`selector\` does not match template \`labels\``,
      });
    }
    if (before && ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(t.kind)) {
      const old = (before.spec as Obj | undefined)?.selector;
      if (JSON.stringify(old) !== JSON.stringify(selector) && t.kind !== 'ReplicaSet') {
        causes.push({
          field: 'spec.selector',
          message: `Invalid value: v1.LabelSelector{MatchLabels:${goMap((selector as Obj | undefined)?.matchLabels)}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable`,
        });
      }
    }
    validateContainers(template?.spec as Obj | undefined, 'spec.template.spec', causes);
  }
  if (causes.length > 0) throw errors.invalid(t.kind, t.group, name, causes);
}
