/**
 * The three non-apply patch types the API server accepts: JSON Patch (RFC 6902, what
 * `kubectl rollout undo` sends for a Deployment), JSON Merge Patch (RFC 7386) and strategic merge
 * patch (merge patch whose object lists with a merge key merge by key, plus `$patch` directives;
 * what `kubectl rollout undo` sends for StatefulSets and DaemonSets). Also the list merge keys,
 * shared with server-side apply.
 */
import { errors } from './status';

type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Merge key of a list field (`containers` → `name`), or undefined for an atomic list. */
export function listMergeKey(field: string, items: unknown[]): string | undefined {
  if (!items.every(isObject)) return undefined;
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
    case 'hostAliases':
      return field === 'hostAliases' ? 'ip' : 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'ports':
      return items.some((i) => 'containerPort' in i) ? 'containerPort' : 'port';
    case 'conditions':
      return 'type';
    default:
      return undefined;
  }
}

// --- JSON Patch -------------------------------------------------------------------------------

function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw errors.invalidPatch(`invalid JSON pointer "${path}"`);
  return path.slice(1).split('/').map(unescapePointer);
}

function resolveParent(doc: unknown, tokens: string[], path: string): { parent: unknown; key: string } {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw errors.invalidPatch(`doc is missing path: "${path}": missing value`);
  }
  return { parent: cur, key: tokens[tokens.length - 1]! };
}

function getAt(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const t of parsePointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else return undefined;
  }
  return cur;
}

function removeAt(doc: unknown, path: string): unknown {
  const tokens = parsePointer(path);
  const { parent, key } = resolveParent(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length)
      throw errors.invalidPatch(`Unable to remove nonexistent key: ${key}: missing value`);
    return parent.splice(i, 1)[0];
  }
  if (!isObject(parent) || !(key in parent)) {
    throw errors.invalidPatch(`Unable to remove nonexistent key: ${key}: missing value`);
  }
  const old = parent[key];
  delete parent[key];
  return old;
}

function addAt(doc: unknown, path: string, value: unknown, replace: boolean): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return clone(value);
  const { parent, key } = resolveParent(doc, tokens, path);
  if (Array.isArray(parent)) {
    if (replace) {
      const i = Number(key);
      if (!(i >= 0 && i < parent.length))
        throw errors.invalidPatch(
          `replace operation does not apply: doc is missing key: ${path}: missing value`,
        );
      parent[i] = clone(value);
    } else if (key === '-') parent.push(clone(value));
    else {
      const i = Number(key);
      if (!(i >= 0 && i <= parent.length))
        throw errors.invalidPatch(`add operation does not apply: index out of bounds: ${path}`);
      parent.splice(i, 0, clone(value));
    }
  } else if (isObject(parent)) {
    if (replace && !(key in parent)) {
      throw errors.invalidPatch(
        `replace operation does not apply: doc is missing key: ${path}: missing value`,
      );
    }
    parent[key] = clone(value);
  } else
    throw errors.invalidPatch(`add operation does not apply: doc is missing path: "${path}": missing value`);
  return doc;
}

export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops))
    throw errors.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = clone(target);
  for (const op of ops) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw errors.invalidPatch('unexpected kind of operation');
    }
    switch (op.op) {
      case 'add':
        doc = addAt(doc, op.path, op.value, false);
        break;
      case 'replace':
        doc = addAt(doc, op.path, op.value, true);
        break;
      case 'remove':
        removeAt(doc, op.path);
        break;
      case 'move': {
        const v = removeAt(doc, String(op.from));
        doc = addAt(doc, op.path, v, false);
        break;
      }
      case 'copy':
        doc = addAt(doc, op.path, getAt(doc, String(op.from)), false);
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(op.value)) {
          throw errors.invalidPatch(`testing value ${op.path} failed: test failed`);
        }
        break;
      default:
        throw errors.invalidPatch(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

// --- Merge patches ----------------------------------------------------------------------------

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const result: Obj = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = applyMergePatch(result[k], v);
  }
  return result;
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Obj = {};
  for (const [k, val] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(val);
  return out;
}

/** Strategic merge patch, enough for kubectl's rollback and for clients' template patches. */
export function applyStrategicMergePatch(target: unknown, patch: unknown, field = ''): unknown {
  if (Array.isArray(patch)) {
    const key = listMergeKey(field, patch);
    if (!key || !Array.isArray(target)) return stripDirectives(patch);
    const result = clone(target) as Obj[];
    for (const item of patch as Obj[]) {
      const index = result.findIndex((r) => r[key] === item[key]);
      if (item.$patch === 'delete') {
        if (index >= 0) result.splice(index, 1);
      } else if (index >= 0) result[index] = applyStrategicMergePatch(result[index], item) as Obj;
      else result.push(stripDirectives(item) as Obj);
    }
    return result;
  }
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') return stripDirectives(patch);
  if (patch.$patch === 'delete') return undefined;
  const result: Obj = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete result[k];
    else {
      const merged = applyStrategicMergePatch(result[k], v, k);
      if (merged === undefined) delete result[k];
      else result[k] = merged;
    }
  }
  return result;
}

/**
 * JSON with object keys sorted and null members dropped: equal for values the server would decode
 * to the same typed object (a client's `creationTimestamp: null` is the zero value).
 */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined && v[k] !== null)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
