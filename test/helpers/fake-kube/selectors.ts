/**
 * Label and field selectors as the API server parses them (k8s.io/apimachinery labels/fields):
 * `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a` for labels; `f=v`, `f==v`, `f!=v`
 * for fields, limited to the field labels each kind supports (others are a 400, like the server).
 */
import { errors } from './status';

type Obj = Record<string, unknown>;

export type LabelRequirement =
  { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | '!exists' };

/** Splits on commas outside parentheses. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += ch;
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t.length > 0);
}

export function parseLabelSelector(selector: string): LabelRequirement[] {
  const requirements: LabelRequirement[] = [];
  for (const term of splitTerms(selector)) {
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const values = m[3]!.split(',').map((v) => v.trim());
      requirements.push({ key: m[1]!, op: m[2] as 'in' | 'notin', values });
    } else if ((m = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(term))) {
      requirements.push({ key: m[1]!, op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]!] });
    } else if ((m = /^!\s*([^\s!=(),]+)$/.exec(term))) {
      requirements.push({ key: m[1]!, op: '!exists' });
    } else if ((m = /^([^\s!=(),]+)$/.exec(term))) {
      requirements.push({ key: m[1]!, op: 'exists' });
    } else {
      throw errors.badRequest(`unable to parse requirement: found '${term}', expected: identifier`);
    }
  }
  return requirements;
}

export function matchesLabels(
  requirements: LabelRequirement[],
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
    }
  });
}

/** `matchLabels` + `matchExpressions` of a LabelSelector object. */
export function selectorObjectMatches(
  selector: Obj | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector) return false;
  const requirements: LabelRequirement[] = [];
  for (const [key, value] of Object.entries((selector.matchLabels as Record<string, string>) ?? {})) {
    requirements.push({ key, op: 'in', values: [value] });
  }
  for (const e of (selector.matchExpressions as Obj[]) ?? []) {
    const op = String(e.operator);
    const key = String(e.key);
    if (op === 'In' || op === 'NotIn') {
      requirements.push({ key, op: op === 'In' ? 'in' : 'notin', values: (e.values as string[]) ?? [] });
    } else requirements.push({ key, op: op === 'Exists' ? 'exists' : '!exists' });
  }
  return matchesLabels(requirements, labels);
}

/** `matchLabels` as a selector string (what kubectl and the stages send). */
export function selectorString(matchLabels: Record<string, string>): string {
  return Object.entries(matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const FIELDS_BY_KIND: Record<string, string[]> = {
  Event: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  Pod: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  ReplicaSet: ['status.replicas'],
  Secret: ['type'],
  Namespace: ['status.phase'],
};

export interface FieldRequirement {
  field: string;
  equal: boolean;
  value: string;
}

export function parseFieldSelector(selector: string, kind: string): FieldRequirement[] {
  const allowed = [...COMMON_FIELDS, ...(FIELDS_BY_KIND[kind] ?? [])];
  return splitTerms(selector).map((term) => {
    const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = m[1]!.trim();
    if (!allowed.includes(field)) {
      throw errors.badRequest(`field label not supported: ${field}`);
    }
    return { field, equal: m[2] !== '!=', value: m[3]!.trim() };
  });
}

function fieldValue(obj: Obj, field: string): string {
  if (field === 'source') {
    const source = obj.source as Obj | undefined;
    return String(source?.component ?? '');
  }
  let cur: unknown = obj;
  for (const part of field.split('.')) cur = (cur as Obj | undefined)?.[part];
  return cur === undefined || cur === null ? '' : String(cur);
}

export function matchesFields(requirements: FieldRequirement[], obj: Obj): boolean {
  return requirements.every((r) => (fieldValue(obj, r.field) === r.value) === r.equal);
}
