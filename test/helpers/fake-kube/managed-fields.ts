/**
 * Server-side apply field ownership (structured-merge-diff, simplified): the set of leaf fields
 * an object sets, `metadata.managedFields` entries in FieldsV1 form, apply conflicts (worded like
 * the server: `Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas`),
 * removal of fields an applier stops setting, and Update ownership for the other write verbs.
 * Lists of objects with a merge key (see `listMergeKey`) are maps keyed by `k:{"name":…}`; other
 * lists are atomic.
 */
import { canonical, clone, isObject, listMergeKey } from './patch';
import { KubeError, statusBody } from './status';

type Obj = Record<string, unknown>;
type Path = string[];
const SEP = '\u0000';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Obj;
  subresource?: string;
}

const METADATA_SKIP = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'deletionTimestamp',
  'selfLink',
  'generateName',
]);

function itemKey(key: string, item: Obj): string {
  return `k:${JSON.stringify({ [key]: item[key] })}`;
}

function walk(value: Obj, prefix: Path, out: Set<string>): void {
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    const p = [...prefix, `f:${k}`];
    if (isObject(v) && Object.keys(v).length > 0) walk(v, p, out);
    else if (Array.isArray(v) && v.length > 0 && listMergeKey(k, v)) {
      const key = listMergeKey(k, v)!;
      for (const item of v as Obj[]) {
        const e = [...p, itemKey(key, item)];
        out.add([...e, '.'].join(SEP));
        walk(item, e, out);
      }
    } else out.add(p.join(SEP));
  }
}

/** Leaf field paths an object (or apply configuration) sets, without identity and status. */
export function fieldSet(obj: Obj, subresource?: string): Set<string> {
  const out = new Set<string>();
  const scoped: Obj = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (subresource === 'status' ? k !== 'status' : k === 'status') continue;
    if (k === 'metadata' && isObject(v)) {
      const meta: Obj = {};
      for (const [mk, mv] of Object.entries(v)) if (!METADATA_SKIP.has(mk)) meta[mk] = mv;
      if (Object.keys(meta).length > 0) scoped.metadata = meta;
    } else scoped[k] = v;
  }
  walk(scoped, [], out);
  return out;
}

export function toFieldsV1(set: Set<string>): Obj {
  const root: Obj = {};
  for (const joined of [...set].sort()) {
    let node = root;
    for (const part of joined.split(SEP)) {
      node[part] ??= {};
      node = node[part] as Obj;
    }
  }
  return root;
}

export function fromFieldsV1(fields: Obj): Set<string> {
  const out = new Set<string>();
  const visit = (node: Obj, prefix: Path): void => {
    for (const [k, v] of Object.entries(node)) {
      const p = [...prefix, k];
      if (isObject(v) && Object.keys(v).length > 0) visit(v, p);
      else out.add(p.join(SEP));
    }
  };
  visit(fields, []);
  return out;
}

function step(cur: unknown, part: string): unknown {
  if (part.startsWith('f:')) return isObject(cur) ? cur[part.slice(2)] : undefined;
  if (part.startsWith('k:') && Array.isArray(cur)) {
    const key = JSON.parse(part.slice(2)) as Obj;
    return cur.find((i) => isObject(i) && Object.entries(key).every(([k, v]) => i[k] === v));
  }
  return cur;
}

export function valueAt(obj: unknown, joined: string): unknown {
  let cur = obj;
  for (const part of joined.split(SEP)) {
    if (part === '.') break;
    cur = step(cur, part);
    if (cur === undefined) return undefined;
  }
  return cur;
}

function removePath(obj: Obj, joined: string): void {
  const parts = joined.split(SEP);
  const isItem = parts[parts.length - 1] === '.';
  const path = isItem ? parts.slice(0, -1) : parts;
  let cur: unknown = obj;
  for (const part of path.slice(0, -1)) cur = step(cur, part);
  const last = path[path.length - 1]!;
  if (last.startsWith('f:') && isObject(cur)) delete cur[last.slice(2)];
  else if (last.startsWith('k:') && Array.isArray(cur)) {
    const item = step(cur, last);
    const i = cur.indexOf(item);
    if (i >= 0) cur.splice(i, 1);
  }
}

/** `.spec.template.spec.containers[name="web"].image`, as conflict messages print paths. */
export function printPath(joined: string): string {
  let out = '';
  for (const part of joined.split(SEP)) {
    if (part === '.') continue;
    if (part.startsWith('f:')) out += `.${part.slice(2)}`;
    else if (part.startsWith('k:')) {
      const key = JSON.parse(part.slice(2)) as Obj;
      out += `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    }
  }
  return out;
}

/** Apply semantics: maps merge, keyed lists merge by key, everything else is replaced. */
export function mergeApplied(target: unknown, config: unknown, field = ''): unknown {
  if (Array.isArray(config)) {
    const key = listMergeKey(field, config);
    if (!key || !Array.isArray(target)) return clone(config);
    const result = clone(target) as Obj[];
    for (const item of config as Obj[]) {
      const i = result.findIndex((r) => isObject(r) && r[key] === item[key]);
      if (i >= 0) result[i] = mergeApplied(result[i], item) as Obj;
      else result.push(clone(item));
    }
    return result;
  }
  if (!isObject(config)) return clone(config);
  const result: Obj = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(config)) {
    if (v === null) continue;
    result[k] = mergeApplied(result[k], v, k);
  }
  return result;
}

function readEntries(obj: Obj | undefined): ManagedFieldsEntry[] {
  const meta = obj?.metadata as Obj | undefined;
  return clone((meta?.managedFields as ManagedFieldsEntry[] | undefined) ?? []);
}

function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

export interface ApplyInput {
  current: Obj | undefined;
  config: Obj;
  manager: string;
  force: boolean;
  apiVersion: string;
  time: string;
  subresource?: string;
}

/**
 * Server-side apply of `config` by `manager` onto `current`. Returns the merged object with its
 * new `managedFields`, or throws the 409 conflict Status.
 */
export function serverSideApply(input: ApplyInput): Obj {
  const { current, config, manager, force } = input;
  const entries = readEntries(current);
  const applied = fieldSet(config, input.subresource);
  const conflicts: { manager: string; apiVersion: string; path: string }[] = [];
  for (const entry of entries) {
    if (entry.manager === manager) continue;
    const owned = fromFieldsV1(entry.fieldsV1);
    for (const p of applied) {
      if (p.endsWith(`${SEP}.`)) continue;
      if (owned.has(p) && !same(valueAt(current, p), valueAt(config, p))) {
        conflicts.push({ manager: entry.manager, apiVersion: entry.apiVersion, path: p });
      }
    }
  }
  if (conflicts.length > 0 && !force) throw conflictError(conflicts);
  const mine = entries.find((e) => e.manager === manager && e.operation === 'Apply');
  const previous = mine ? fromFieldsV1(mine.fieldsV1) : new Set<string>();
  const next: ManagedFieldsEntry[] = [];
  const othersOwn = new Set<string>();
  for (const entry of entries) {
    if (entry === mine) continue;
    let owned = fromFieldsV1(entry.fieldsV1);
    if (force) {
      const taken = new Set(conflicts.filter((c) => c.manager === entry.manager).map((c) => c.path));
      owned = new Set([...owned].filter((p) => !taken.has(p)));
    }
    owned.forEach((p) => othersOwn.add(p));
    if (owned.size > 0) next.push({ ...entry, fieldsV1: toFieldsV1(owned) });
  }
  const result = clone(current ?? {}) as Obj;
  for (const p of previous) if (!applied.has(p) && !othersOwn.has(p)) removePath(result, p);
  const merged = mergeApplied(result, config) as Obj;
  next.push({
    manager,
    operation: 'Apply',
    apiVersion: input.apiVersion,
    time: input.time,
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(applied),
    ...(input.subresource ? { subresource: input.subresource } : {}),
  });
  (merged.metadata as Obj).managedFields = next;
  return merged;
}

/**
 * Ownership after a non-apply write (create, update, JSON/merge/strategic patch) by `manager`:
 * it owns every field whose value it changed; fields that disappeared lose their owners.
 */
export function recordUpdate(
  before: Obj | undefined,
  after: Obj,
  manager: string,
  apiVersion: string,
  time: string,
  subresource?: string,
): void {
  const entries = readEntries(before);
  const present = fieldSet(after, subresource);
  const changed = new Set([...present].filter((p) => !same(valueAt(before, p), valueAt(after, p))));
  const allPresent = new Set([
    ...present,
    ...fieldSet(after, subresource === 'status' ? undefined : 'status'),
  ]);
  const next: ManagedFieldsEntry[] = [];
  let mine: ManagedFieldsEntry | undefined;
  for (const entry of entries) {
    const isMine =
      entry.manager === manager &&
      entry.operation === 'Update' &&
      (entry.subresource ?? '') === (subresource ?? '');
    const owned = new Set(
      [...fromFieldsV1(entry.fieldsV1)].filter((p) => allPresent.has(p) && (isMine || !changed.has(p))),
    );
    if (isMine) {
      changed.forEach((p) => owned.add(p));
      mine = entry;
    }
    if (owned.size > 0 || isMine)
      next.push({ ...entry, fieldsV1: toFieldsV1(owned), ...(isMine ? { time } : {}) });
  }
  if (!mine && changed.size > 0) {
    next.push({
      manager,
      operation: 'Update',
      apiVersion,
      time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(changed),
      ...(subresource ? { subresource } : {}),
    });
  }
  (after.metadata as Obj).managedFields = next.filter((e) => Object.keys(e.fieldsV1).length > 0);
}

function conflictError(conflicts: { manager: string; apiVersion: string; path: string }[]): KubeError {
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const who = `"${c.manager}" using ${c.apiVersion}`;
    byManager.set(who, [...(byManager.get(who) ?? []), printPath(c.path)]);
  }
  let text: string;
  if (conflicts.length === 1)
    text = `conflict with ${[...byManager.keys()][0]}: ${printPath(conflicts[0]!.path)}`;
  else {
    text = [...byManager]
      .map(([who, paths]) => `conflicts with ${who}:\n${paths.map((p) => `- ${p}`).join('\n')}`)
      .join('\n');
  }
  const n = conflicts.length;
  return new KubeError(
    statusBody(409, 'Conflict', `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: ${text}`, {
      causes: conflicts.map((c) => ({
        reason: 'FieldManagerConflict',
        message: `conflict with "${c.manager}" using ${c.apiVersion}`,
        field: printPath(c.path),
      })),
    }),
  );
}
