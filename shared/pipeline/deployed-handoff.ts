/**
 * The `DEPLOYED` hand-off: what deploy-manifest applied, for check-admission. Writer and reader
 * side by side, so the digests one stage writes are the digests the next one reads
 * (architecture.md §7). Pure.
 *
 * `DEPLOYED` is a JSON array with one entry per object that runs images (Deployment,
 * StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Pod, Job, CronJob):
 * `{kind, namespace, name, uid, generation, revision, appliedAt, images: [{container, image}]}`.
 */
import { InputError } from '../errors';

/** One deployed workload. */
export interface DeployedWorkload {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly generation: number;
  /** Deployment revision, StatefulSet update revision, DaemonSet ControllerRevision number; null for kinds without. */
  readonly revision: string | null;
  /** RFC 3339, when this job applied it. */
  readonly appliedAt: string;
  /** Every container's image as deployed (`registry/repository@sha256:…` when verified). */
  readonly images: ReadonlyArray<{ readonly container: string; readonly image: string }>;
}

/** The output variable's name. */
export const DEPLOYED_VARIABLE = 'DEPLOYED';

/** Serialises `DEPLOYED`. */
export function writeDeployed(workloads: readonly DeployedWorkload[]): string {
  return JSON.stringify(
    workloads.map((w) => ({
      kind: w.kind,
      namespace: w.namespace,
      name: w.name,
      uid: w.uid,
      generation: w.generation,
      revision: w.revision,
      appliedAt: w.appliedAt,
      images: w.images.map((i) => ({ container: i.container, image: i.image })),
    })),
  );
}

/**
 * Reads `DEPLOYED` (the parsed UserParameters value, or its text).
 *
 * @throws InputError `DEPLOYED_INVALID` naming the field that is wrong.
 */
export function readDeployed(value: unknown, field = 'UserParameters.deployed'): DeployedWorkload[] {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value) as unknown;
    } catch {
      throw new InputError(
        'DEPLOYED_INVALID',
        `${field} is not JSON: pass #{DeployVariables.DEPLOYED} unquoted.`,
      );
    }
  }
  if (!Array.isArray(parsed))
    throw new InputError(
      'DEPLOYED_INVALID',
      `${field} must be the JSON array deploy-manifest writes as DEPLOYED.`,
    );
  return parsed.map((entry: unknown, i) => {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const bad = (what: string): InputError => new InputError('DEPLOYED_INVALID', `${field}[${i}].${what}`);
    for (const key of ['kind', 'namespace', 'name', 'uid', 'appliedAt'] as const)
      if (typeof e[key] !== 'string' || e[key] === '') throw bad(`${key} must be a non-empty string`);
    if (typeof e.generation !== 'number' || !Number.isInteger(e.generation))
      throw bad('generation must be an integer');
    if (e.revision !== null && typeof e.revision !== 'string') throw bad('revision must be a string or null');
    if (Number.isNaN(Date.parse(e.appliedAt as string))) throw bad('appliedAt must be an RFC 3339 time');
    if (!Array.isArray(e.images)) throw bad('images must be a list of {container, image}');
    const images = e.images.map((img: unknown, j) => {
      const r = (typeof img === 'object' && img !== null ? img : {}) as Record<string, unknown>;
      if (typeof r.container !== 'string' || typeof r.image !== 'string')
        throw bad(`images[${j}] must be {container, image}`);
      return { container: r.container, image: r.image };
    });
    return {
      kind: e.kind as string,
      namespace: e.namespace as string,
      name: e.name as string,
      uid: e.uid as string,
      generation: e.generation,
      revision: (e.revision as string | null) ?? null,
      appliedAt: e.appliedAt as string,
      images,
    };
  });
}
