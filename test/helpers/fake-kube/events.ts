/**
 * core/v1 Events as the controllers' event recorder writes them: `involvedObject`, `reason`,
 * `message`, `type`, `source.component`, `firstTimestamp`/`lastTimestamp`/`count`, and the
 * recorder's aggregation of repeats (same object, reason and message → count + 1).
 */
import { randomBytes } from 'node:crypto';
import { typeOf } from './discovery';
import { metaOf, type ObjectStore } from './store';

type Obj = Record<string, unknown>;

export function recordEvent(
  store: ObjectStore,
  timestamp: string,
  involved: Obj,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  component: string,
): Obj {
  const events = typeOf('events');
  const meta = metaOf(involved);
  const namespace = String(meta.namespace ?? 'default');
  const existing = store
    .list(events, namespace)
    .find(
      (e) =>
        (e.involvedObject as Obj).uid === meta.uid &&
        e.reason === reason &&
        e.message === message &&
        e.type === type,
    );
  if (existing) {
    existing.count = Number(existing.count ?? 1) + 1;
    existing.lastTimestamp = timestamp;
    return store.put(events, existing);
  }
  return store.put(events, {
    metadata: {
      name: `${String(meta.name)}.${randomBytes(8).toString('hex')}`,
      namespace,
      uid: crypto.randomUUID(),
      creationTimestamp: timestamp,
    },
    involvedObject: {
      kind: involved.kind,
      namespace,
      name: meta.name,
      uid: meta.uid,
      apiVersion: involved.apiVersion,
      resourceVersion: meta.resourceVersion,
    },
    reason,
    message,
    source: { component },
    firstTimestamp: timestamp,
    lastTimestamp: timestamp,
    count: 1,
    type,
    eventTime: null,
    reportingComponent: component,
    reportingInstance: '',
  });
}
