/**
 * Kubernetes manifests from an input artifact: YAML or JSON, multi-document, `List` kinds
 * flattened; a file, a directory (its `.yaml`/`.yml`/`.json` files, sorted) or a list of them;
 * ordered for applying the way Helm installs (Namespaces and CRDs first, workloads last).
 *
 * Pure: the artifact's files (path → bytes) in, objects out. Every refusal names the file, the
 * document (1-based) and the field.
 */
import { parseAllDocuments } from 'yaml';
import { ConfigurationError, InputError } from '../errors';
import type { KubeObject, ObjectRef } from './cluster';

/** Limits a manifest set must stay within. */
export const MANIFEST_LIMITS = {
  /** Largest manifest file. */
  fileBytes: 1024 * 1024,
  /** Most objects in one job. */
  objects: 500,
  /** Most YAML alias expansions per document (the `yaml` package's guard against alias bombs). */
  aliases: 100,
} as const;

/** Where an object came from, for messages. */
export interface ManifestSource {
  readonly file: string;
  /** 1-based document index in the file. */
  readonly document: number;
  /** 1-based index in a flattened `List`. */
  readonly item?: number;
}

/** One object to apply, with its source. */
export interface ManifestObject {
  readonly object: KubeObject;
  readonly source: ManifestSource;
}

const MANIFEST_EXTENSIONS = /\.(ya?ml|json)$/i;

/** `file "k8s/app.yaml" document 2 (item 3)`. */
export function describeSource(source: ManifestSource): string {
  return `file ${JSON.stringify(source.file)} document ${source.document}${source.item !== undefined ? ` item ${source.item}` : ''}`;
}

/**
 * The manifest files `specs` name in the artifact: a file by its path, a directory (`k8s/` or
 * `k8s`) by every `.yaml`/`.yml`/`.json` file below it, sorted by path. Duplicates are read once.
 *
 * @throws ConfigurationError `MANIFEST_NOT_FOUND` naming the path and what the artifact holds.
 */
export function selectManifestFiles(
  files: Iterable<string>,
  specs: readonly string[],
  artifactName: string,
): string[] {
  const all = [...files].sort();
  const out: string[] = [];
  for (const raw of specs) {
    const spec = raw.replace(/^\.\//, '');
    if (all.includes(spec)) {
      out.push(spec);
      continue;
    }
    const dir = spec.endsWith('/') ? spec : `${spec}/`;
    const inDir = all.filter((f) => (dir === '/' || f.startsWith(dir)) && MANIFEST_EXTENSIONS.test(f));
    if (inDir.length === 0) {
      const sample = all.slice(0, 10).join(', ');
      throw new ConfigurationError(
        'MANIFEST_NOT_FOUND',
        `UserParameters.manifests names ${JSON.stringify(raw)}, which is neither a file nor a directory with .yaml/.yml/.json files in input artifact ${JSON.stringify(artifactName)} ` +
          `(it holds: ${sample || 'no files'}${all.length > 10 ? `, … ${all.length - 10} more` : ''}). Set manifests to a path inside the artifact.`,
      );
    }
    out.push(...inDir);
  }
  return [...new Set(out)];
}

function refuse(source: ManifestSource, what: string): InputError {
  return new InputError('MANIFEST_INVALID', `Manifest ${describeSource(source)}: ${what}`);
}

/**
 * Parses the files (in the given order) into objects. Namespaced objects that name no
 * namespace get `defaultNamespace` (cluster-scoped kinds of {@link CLUSTER_SCOPED_KINDS} never do).
 *
 * @throws InputError `MANIFEST_INVALID` / `MANIFEST_TOO_LARGE` / `MANIFEST_DUPLICATE_OBJECT`.
 */
export function parseManifests(
  files: ReadonlyMap<string, Uint8Array>,
  paths: readonly string[],
  defaultNamespace: string,
): ManifestObject[] {
  const out: ManifestObject[] = [];
  const seen = new Map<string, ManifestSource>();
  for (const file of paths) {
    const bytes = files.get(file);
    if (bytes === undefined) throw refuse({ file, document: 0 }, 'the file is missing');
    if (bytes.byteLength > MANIFEST_LIMITS.fileBytes) {
      throw new InputError(
        'MANIFEST_TOO_LARGE',
        `Manifest file ${JSON.stringify(file)} has ${bytes.byteLength} bytes, over the limit of ${MANIFEST_LIMITS.fileBytes} (1 MiB). Split it into several files.`,
      );
    }
    const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false });
    if (!Array.isArray(docs)) throw refuse({ file, document: 1 }, 'it is not a YAML stream');
    docs.forEach((doc, i) => {
      const source: ManifestSource = { file, document: i + 1 };
      const error = doc.errors[0];
      if (error) throw refuse(source, `YAML error: ${error.message.split('\n')[0]}`);
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: MANIFEST_LIMITS.aliases });
      } catch (cause) {
        throw new InputError(
          'MANIFEST_INVALID',
          `Manifest ${describeSource(source)}: ${cause instanceof Error ? cause.message : String(cause)} (YAML aliases are limited to ${MANIFEST_LIMITS.aliases} expansions per document)`,
          { cause },
        );
      }
      if (value === null || value === undefined) return; // an empty document (e.g. a trailing ---)
      const items = listItems(value, source);
      for (const [object, itemSource] of items) {
        const checked = checkObject(object, itemSource, defaultNamespace);
        const key = objectKey(checked);
        const first = seen.get(key);
        if (first) {
          throw new InputError(
            'MANIFEST_DUPLICATE_OBJECT',
            `Manifest ${describeSource(itemSource)}: ${describeObject(checked)} is also defined in ${describeSource(first)}; each object may appear once.`,
          );
        }
        seen.set(key, itemSource);
        out.push({ object: checked, source: itemSource });
        if (out.length > MANIFEST_LIMITS.objects) {
          throw new InputError(
            'MANIFEST_TOO_LARGE',
            `The manifests hold more than ${MANIFEST_LIMITS.objects} objects (at ${describeSource(itemSource)}); deploy them in several actions.`,
          );
        }
      }
    });
  }
  return out;
}

function listItems(value: unknown, source: ManifestSource): Array<[unknown, ManifestSource]> {
  if (
    isRecord(value) &&
    typeof value.kind === 'string' &&
    value.kind.endsWith('List') &&
    Array.isArray(value.items)
  ) {
    return value.items.map((item, j) => [item, { ...source, item: j + 1 }]);
  }
  return [[value, source]];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkObject(value: unknown, source: ManifestSource, defaultNamespace: string): KubeObject {
  if (!isRecord(value)) throw refuse(source, 'a document must be a Kubernetes object (a mapping)');
  for (const field of ['apiVersion', 'kind'] as const) {
    if (typeof value[field] !== 'string' || value[field].length === 0)
      throw refuse(
        source,
        `field ${field} is missing (every object needs apiVersion, kind and metadata.name)`,
      );
  }
  const metadata = value.metadata;
  if (!isRecord(metadata)) throw refuse(source, 'field metadata is missing');
  if (typeof metadata.name !== 'string' || metadata.name.length === 0) {
    throw refuse(
      source,
      typeof metadata.generateName === 'string'
        ? 'metadata.generateName cannot be applied (server-side apply needs metadata.name)'
        : 'field metadata.name is missing',
    );
  }
  if (metadata.namespace !== undefined && typeof metadata.namespace !== 'string')
    throw refuse(source, 'field metadata.namespace must be a string');
  const object = value as KubeObject;
  if (object.metadata.namespace === undefined && !CLUSTER_SCOPED_KINDS.has(object.kind)) {
    return { ...object, metadata: { ...object.metadata, namespace: defaultNamespace } };
  }
  return object;
}

/** The API group of an apiVersion (`''` for core). */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

function objectKey(object: KubeObject): string {
  return [
    apiGroup(object.apiVersion),
    object.kind,
    object.metadata.namespace ?? '',
    object.metadata.name,
  ].join('|');
}

/** `Deployment prod/web`, `Namespace prod`. */
export function describeObject(object: KubeObject | ObjectRef): string {
  const name = 'metadata' in object ? object.metadata.name : object.name;
  const namespace = 'metadata' in object ? object.metadata.namespace : object.namespace;
  return `${object.kind} ${namespace ? `${namespace}/` : ''}${name ?? ''}`;
}

/** The reference of a manifest object. */
export function refOf(object: KubeObject): ObjectRef {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name ?? '',
    ...(object.metadata.namespace !== undefined ? { namespace: object.metadata.namespace } : {}),
  };
}

/** Built-in kinds that are cluster-scoped (for defaulting the namespace without discovery). */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'StorageClass',
  'PersistentVolume',
  'PriorityClass',
  'IngressClass',
  'RuntimeClass',
  'CSIDriver',
  'APIService',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'PodSecurityPolicy',
  'ClusterPolicy',
  'Node',
]);

/** Helm's install order (pkg/releaseutil/kind_sorter.go); kinds not listed come last, in file order. */
export const INSTALL_ORDER: readonly string[] = [
  'PriorityClass',
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodSecurityPolicy',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'SecretList',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleList',
  'ClusterRoleBinding',
  'ClusterRoleBindingList',
  'Role',
  'RoleList',
  'RoleBinding',
  'RoleBindingList',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'IngressClass',
  'Ingress',
  'APIService',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
];

/** Sorts by {@link INSTALL_ORDER}, stable within a kind (file order). */
export function inInstallOrder<T extends { readonly object: KubeObject }>(objects: readonly T[]): T[] {
  const rank = (kind: string): number => {
    const i = INSTALL_ORDER.indexOf(kind);
    return i < 0 ? INSTALL_ORDER.length : i;
  };
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o.object.kind) - rank(b.o.object.kind) || a.i - b.i)
    .map(({ o }) => o);
}
