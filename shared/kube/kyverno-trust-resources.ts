/**
 * One trust policy for pipeline and cluster: the Kubernetes resources that make kyverno-notation-aws
 * verify exactly what the verify-image stage verifies, built from the same notation trust policy
 * document and trust stores (the built-in AWS Signer roots included). Pure: data in, data out; the
 * `stagesign policy export --kyverno` command reads the inputs and prints the result as YAML.
 *
 * Resource shapes are kyverno-notation-aws's (`notation.nirmata.io/v1alpha1`, cluster-scoped;
 * nirmata/kyverno-notation-aws `configs/samples/{trustpolicy,truststore,kyverno-policy}.yaml` and
 * `configs/crds`):
 *
 * - `TrustStore`: `spec.trustStoreName`, `spec.type` (`ca` | `signingAuthority`: the CRD has no
 *   `tsa`), `spec.caBundle` (PEM). The extension writes each to
 *   `truststore/x509/<type>/<trustStoreName>/`, as notation's directory layout.
 * - `TrustPolicy`: `spec.version`, `spec.trustPolicyName`, `spec.trustPolicies` (notation's
 *   statements). The extension writes `<trustPolicyName>.json` and selects it by that name: from the
 *   ClusterPolicy's `trustPolicy` key, else its `DEFAULT_TRUST_POLICY` (install.yaml:
 *   `aws-signer-trust-policy`, the default name here).
 * - `ClusterPolicy` (kyverno.io/v1), on request: see {@link clusterPolicy}.
 */
import { createHash } from 'node:crypto';
import { ConfigurationError } from '../errors';
import type { TrustPolicyDocument, TrustPolicyStatement } from '../notary/trust-policy';
import type { TrustStore, TrustStoreSet } from '../notary/trust-store';
import { trustStoreRef } from '../notary/trust-store';

/** A Kubernetes object as plain data, ready to print as YAML or JSON. */
export type KubernetesObject = { apiVersion: string; kind: string; metadata: { name: string } } & Record<
  string,
  unknown
>;

export const NOTATION_API_VERSION = 'notation.nirmata.io/v1alpha1';

/** kyverno-notation-aws's `DEFAULT_TRUST_POLICY` in its install.yaml and chart. */
export const DEFAULT_KYVERNO_TRUST_POLICY_NAME = 'aws-signer-trust-policy';
/** The namespace configs/install.yaml installs the extension in (its Service is `svc` there). */
export const DEFAULT_EXTENSION_NAMESPACE = 'kyverno-notation-aws';
/** The name of the samples' ClusterPolicy (configs/samples/kyverno-policy.yaml). */
export const DEFAULT_CLUSTER_POLICY_NAME = 'check-images';

/** Error code of a policy or option that kyverno-notation-aws cannot express. */
export const KYVERNO_EXPORT_INVALID = 'KYVERNO_EXPORT_INVALID';

/** The store types the TrustStore CRD accepts. */
const CRD_STORE_TYPES: readonly string[] = ['ca', 'signingAuthority'];

// RFC 1123 subdomain: what metadata.name (and a safe file name) must be.
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// RFC 1123 label: what a namespace name must be.
const DNS_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface KyvernoExportOptions {
  /** `metadata.name` and `spec.trustPolicyName` of the TrustPolicy; default `aws-signer-trust-policy`. */
  trustPolicyName?: string;
  /** Also emit the ClusterPolicy that sends these namespaces' Pods to the extension. */
  clusterPolicy?: {
    namespaces: readonly string[];
    /** Where kyverno-notation-aws runs; default `kyverno-notation-aws`. */
    extensionNamespace?: string;
    /** Default `check-images`, the samples' name (an existing sample policy is replaced, not doubled). */
    name?: string;
  };
}

function invalid(message: string): never {
  throw new ConfigurationError(KYVERNO_EXPORT_INVALID, message);
}

/**
 * The TrustStore resources for every store the policy names, then the TrustPolicy, then (on
 * request) the ClusterPolicy. Throws ConfigurationError {@link KYVERNO_EXPORT_INVALID} naming the
 * statement or store when kyverno-notation-aws could not verify the same way: a `tsa` store, a store
 * missing from `stores`, or a timestamp setting its TrustPolicy CRD would silently drop.
 */
export function kyvernoNotationResources(
  document: TrustPolicyDocument,
  stores: TrustStoreSet,
  options: KyvernoExportOptions = {},
): KubernetesObject[] {
  const trustPolicyName = options.trustPolicyName ?? DEFAULT_KYVERNO_TRUST_POLICY_NAME;
  if (!DNS_SUBDOMAIN.test(trustPolicyName)) {
    invalid(
      `trust policy name ${JSON.stringify(trustPolicyName)} must be a Kubernetes resource name: lower-case letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters`,
    );
  }
  const statements = document.trustPolicies.map(statementFor);
  const trustStores = referencedStores(document, stores);
  const names = trustStoreResourceNames(trustStores);
  const resources: KubernetesObject[] = trustStores.map((store, i) => ({
    apiVersion: NOTATION_API_VERSION,
    kind: 'TrustStore',
    metadata: { name: names[i]! },
    spec: { trustStoreName: store.name, type: store.type, caBundle: pemBundle(store) },
  }));
  resources.push({
    apiVersion: NOTATION_API_VERSION,
    kind: 'TrustPolicy',
    metadata: { name: trustPolicyName },
    spec: { version: document.version, trustPolicyName, trustPolicies: statements },
  });
  if (options.clusterPolicy) resources.push(clusterPolicy(trustPolicyName, options.clusterPolicy));
  return resources;
}

/**
 * A statement as the TrustPolicy CRD holds it. The CRD has no `verifyTimestamp` or
 * `skipTimestampRevocationCheck` (the API server would prune them): their defaults are dropped,
 * other values refused, so the cluster never verifies more loosely or strictly than the pipeline.
 */
function statementFor(statement: TrustPolicyStatement): Record<string, unknown> {
  const { verifyTimestamp, skipTimestampRevocationCheck, ...signatureVerification } =
    statement.signatureVerification;
  const unsupported = (field: string, value: unknown): never =>
    invalid(
      `trust policy statement "${statement.name}" sets signatureVerification.${field} to ${JSON.stringify(value)}, which kyverno-notation-aws's TrustPolicy cannot hold (its CRD has no such field, so the cluster would verify differently from the pipeline). Remove the setting, or keep this statement out of the policy you export.`,
    );
  if (verifyTimestamp !== undefined && verifyTimestamp !== 'always')
    unsupported('verifyTimestamp', verifyTimestamp);
  if (skipTimestampRevocationCheck === true)
    unsupported('skipTimestampRevocationCheck', skipTimestampRevocationCheck);
  return {
    name: statement.name,
    registryScopes: [...statement.registryScopes],
    signatureVerification: {
      ...signatureVerification,
      ...(signatureVerification.override ? { override: { ...signatureVerification.override } } : {}),
    },
    ...(statement.trustStores.length > 0 ? { trustStores: [...statement.trustStores] } : {}),
    ...(statement.trustedIdentities.length > 0
      ? { trustedIdentities: [...statement.trustedIdentities] }
      : {}),
  };
}

/** The stores the statements name, in first-use order; every one must exist and fit the CRD. */
function referencedStores(document: TrustPolicyDocument, stores: TrustStoreSet): TrustStore[] {
  const found: TrustStore[] = [];
  for (const statement of document.trustPolicies) {
    for (const ref of statement.trustStores) {
      if (found.some((store) => trustStoreRef(store) === ref)) continue;
      const type = ref.slice(0, ref.indexOf(':'));
      if (!CRD_STORE_TYPES.includes(type)) {
        invalid(
          `trust policy statement "${statement.name}" uses trust store "${ref}", but kyverno-notation-aws's TrustStore accepts only the types ${CRD_STORE_TYPES.join(' and ')}. Export a policy without timestamping (tsa) stores.`,
        );
      }
      const store = stores.get(ref);
      if (store === undefined) {
        invalid(
          `trust policy statement "${statement.name}" uses trust store "${ref}", which is not configured (available: ${
            stores
              .list()
              .map((s) => trustStoreRef(s))
              .join(', ') || 'none'
          }). Add the store's certificates, or fix the statement's trustStores.`,
        );
      }
      found.push(store);
    }
  }
  return found;
}

/**
 * `metadata.name` of each TrustStore: its `trustStoreName`, as in the samples, when that is a valid
 * resource name and no other exported store has it; otherwise (upper case, "_", or the same name
 * in both types) a name derived from `type:name`. `spec.trustStoreName` always keeps the real name.
 */
function trustStoreResourceNames(stores: TrustStore[]): string[] {
  const count = new Map<string, number>();
  for (const store of stores) count.set(store.name, (count.get(store.name) ?? 0) + 1);
  return stores.map((store) => {
    if (DNS_SUBDOMAIN.test(store.name) && count.get(store.name) === 1) return store.name;
    const readable = store.name
      .toLowerCase()
      .replace(/[^a-z0-9.-]+/g, '-')
      .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
      .slice(0, 200);
    const hash = createHash('sha256').update(trustStoreRef(store)).digest('hex').slice(0, 8);
    return `${readable ? `${readable}-` : ''}${store.type.toLowerCase()}-${hash}`;
  });
}

/** The store's certificates as PEM, 64 characters a line, as `openssl` and the samples write them. */
function pemBundle(store: TrustStore): string {
  return store.anchors
    .map((anchor) => {
      const base64 = Buffer.from(anchor.der).toString('base64');
      const lines = base64.match(/.{1,64}/g) ?? [];
      return ['-----BEGIN CERTIFICATE-----', ...lines, '-----END CERTIFICATE-----'].join('\n');
    })
    .join('\n');
}

/**
 * The Kyverno ClusterPolicy, modelled on the samples' `kyverno-policy.yaml` (the mutate policy the
 * extension's README installs): Pods created or updated in `namespaces` are sent to the extension's
 * `/checkimages` with this TrustPolicy's name, and each image is rewritten to the digest the
 * extension verified, so a tag pushed again after verification cannot reach a Pod.
 *
 * Chosen over `validate-policy.yaml`, whose deny condition reads `response.verified == false`, a
 * response the extension no longer sends (it answers a failed verification with HTTP 406), so that
 * policy blocks only through the API-call error, and it pins nothing to a digest. `failurePolicy:
 * Fail` is what makes the 406 (a rule *error* to Kyverno) block the Pod; with `Ignore` an unsigned
 * image would be admitted silently. The rejection arrives at Pod creation (the ReplicaSet's
 * `FailedCreate`), not at apply time: deploy-manifest's Pod dry-run and check-admission look there.
 * The samples' SBOM `attestations` and per-Pod `metadata` keys are left out: the pipeline verifies
 * signatures only.
 */
export function clusterPolicy(
  trustPolicyName: string,
  options: NonNullable<KyvernoExportOptions['clusterPolicy']>,
): KubernetesObject {
  const name = options.name ?? DEFAULT_CLUSTER_POLICY_NAME;
  const extensionNamespace = options.extensionNamespace ?? DEFAULT_EXTENSION_NAMESPACE;
  if (!DNS_SUBDOMAIN.test(name))
    invalid(`ClusterPolicy name ${JSON.stringify(name)} is not a Kubernetes resource name`);
  if (options.namespaces.length === 0) {
    invalid(
      'the ClusterPolicy needs at least one application namespace (the namespaces whose Pods are checked)',
    );
  }
  for (const namespace of [...options.namespaces, extensionNamespace]) {
    if (!DNS_LABEL.test(namespace)) {
      invalid(
        `namespace ${JSON.stringify(namespace)} is not a Kubernetes namespace name: lower-case letters, digits and "-", at most 63 characters`,
      );
    }
  }
  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name },
    spec: {
      validationFailureAction: 'Enforce',
      failurePolicy: 'Fail',
      webhookTimeoutSeconds: 30,
      schemaValidation: false,
      rules: [
        {
          name: 'call-aws-signer-extension',
          match: {
            any: [
              {
                resources: {
                  namespaces: [...new Set(options.namespaces)],
                  kinds: ['Pod'],
                  operations: ['CREATE', 'UPDATE'],
                },
              },
            ],
          },
          context: [
            {
              name: 'tlscerts',
              apiCall: {
                urlPath: `/api/v1/namespaces/${extensionNamespace}/secrets/svc.${extensionNamespace}.svc.tls-pair`,
                jmesPath: 'base64_decode( data."tls.crt" )',
              },
            },
            {
              name: 'response',
              apiCall: {
                method: 'POST',
                data: [
                  { key: 'images', value: '{{images}}' },
                  { key: 'trustPolicy', value: trustPolicyName },
                ],
                service: {
                  url: `https://svc.${extensionNamespace}/checkimages`,
                  caBundle: '{{ tlscerts }}',
                },
              },
            },
          ],
          mutate: {
            foreach: [
              {
                list: 'response.results',
                patchesJson6902: [
                  "- path: '{{ element.path }}'",
                  "  op: '{{ element.op }}'",
                  "  value: '{{ element.value }}'",
                ].join('\n'),
              },
            ],
          },
        },
      ],
    },
  };
}
