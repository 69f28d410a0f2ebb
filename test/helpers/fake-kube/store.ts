/**
 * The object store: one map of objects keyed by group/resource/namespace/name, a cluster-wide
 * resourceVersion counter, and a bounded history of watch events so that a watch started from a
 * list's resourceVersion misses nothing (what kubectl rollout status relies on).
 */
import type { ResourceType } from './discovery';
import { apiVersionOf } from './discovery';
import { clone } from './patch';

type Obj = Record<string, unknown>;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  resourceType: ResourceType;
  resourceVersion: number;
  object: Obj;
}

const HISTORY_LIMIT = 5000;

export function metaOf(obj: Obj): Obj {
  obj.metadata ??= {};
  return obj.metadata as Obj;
}

export class ObjectStore {
  private readonly objects = new Map<string, Obj>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  private rv = 1000;

  private key(t: ResourceType, namespace: string | undefined, name: string): string {
    return `${t.group}/${t.resource}/${t.namespaced ? (namespace ?? '') : ''}/${name}`;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  get(t: ResourceType, namespace: string | undefined, name: string): Obj | undefined {
    const o = this.objects.get(this.key(t, namespace, name));
    return o ? clone(o) : undefined;
  }

  /** Objects of a type, in one namespace or all, sorted by namespace and name like etcd keys. */
  list(t: ResourceType, namespace?: string): Obj[] {
    const prefix = `${t.group}/${t.resource}/${t.namespaced && namespace ? `${namespace}/` : ''}`;
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => clone(o));
  }

  /** Stores `obj` (a new resourceVersion is assigned) and returns the stored copy. */
  put(t: ResourceType, obj: Obj): Obj {
    const meta = metaOf(obj);
    const key = this.key(t, meta.namespace as string | undefined, String(meta.name));
    const existed = this.objects.has(key);
    this.rv += 1;
    meta.resourceVersion = String(this.rv);
    const stored = { apiVersion: apiVersionOf(t), kind: t.kind, ...clone(obj) };
    this.objects.set(key, stored);
    this.emit({
      type: existed ? 'MODIFIED' : 'ADDED',
      resourceType: t,
      resourceVersion: this.rv,
      object: clone(stored),
    });
    return clone(stored);
  }

  remove(t: ResourceType, namespace: string | undefined, name: string): Obj | undefined {
    const key = this.key(t, namespace, name);
    const old = this.objects.get(key);
    if (!old) return undefined;
    this.objects.delete(key);
    this.rv += 1;
    const gone = clone(old);
    metaOf(gone).resourceVersion = String(this.rv);
    this.emit({ type: 'DELETED', resourceType: t, resourceVersion: this.rv, object: clone(gone) });
    return gone;
  }

  /** Every stored object (for garbage collection by owner uid). */
  all(): { type: string; object: Obj }[] {
    return [...this.objects.entries()].map(([k, o]) => ({ type: k, object: o }));
  }

  /** Events after `resourceVersion` still in the history (oldest first). */
  since(resourceVersion: number): StoreEvent[] {
    return this.history.filter((e) => e.resourceVersion > resourceVersion);
  }

  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: StoreEvent): void {
    this.history.push(e);
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
    for (const l of this.listeners) l(e);
  }
}
