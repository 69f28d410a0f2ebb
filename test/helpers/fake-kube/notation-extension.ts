/**
 * What makes the kyverno-notation-aws emulation (./kyverno-notation-aws.ts) a *verifier* instead of
 * a list of known digests: its trust comes from the `TrustPolicy` and `TrustStore` resources the
 * cluster holds (as `stagesign policy export --kyverno` writes them), and each image is judged by
 * stagesign's own `notation verify` (shared/notary/verify-image-reference.ts) against the registry
 * the image lives in.
 *
 * The extension (nirmata/kyverno-notation-aws `verifier/verify.go`) writes every TrustStore to
 * notation's `truststore/x509/<type>/<trustStoreName>/` and every TrustPolicy to
 * `<trustPolicyName>.json`, then runs notation-go's `Verify` with the policy the ClusterPolicy
 * names; its error text is notation-go's (no CLI prefix): `no signature is associated with "…",
 * make sure the artifact was signed successfully`, or `signature verification failed` followed by
 * one `failed to verify signature with digest …` line per rejected signature (eks-and-kyverno.md
 * §3.5). No test-framework imports: `npm run demo` uses it.
 */
import type { KubernetesObject } from '../../../shared/kube/kyverno-trust-resources';
import { NOTATION_API_VERSION } from '../../../shared/kube/kyverno-trust-resources';
import type { Registry } from '../../../shared/oci/registry';
import { parseTrustPolicy } from '../../../shared/notary/trust-policy';
import type { TrustPolicyDocument } from '../../../shared/notary/trust-policy';
import { TrustStoreSet, trustStoreFromPem } from '../../../shared/notary/trust-store';
import type { TrustStoreType } from '../../../shared/notary/trust-store';
import type { RevocationChecker } from '../../../shared/notary/types';
import { VerifyImageCode, verifyImageReference } from '../../../shared/notary/verify-image-reference';
import type { ImageVerdict, KyvernoImage } from './kyverno-notation-aws';

/** The extension's trust: the named policy document and every trust store the cluster holds. */
export interface ExtensionTrust {
  readonly trustPolicyName: string;
  readonly document: TrustPolicyDocument;
  readonly stores: TrustStoreSet;
}

/**
 * Reads the extension's trust from cluster resources: the `TrustPolicy` whose
 * `spec.trustPolicyName` is `trustPolicyName` (notation's validation applies) and every
 * `TrustStore`. Throws when the policy is missing, as the extension fails every call then.
 */
export function extensionTrust(
  resources: readonly KubernetesObject[],
  trustPolicyName: string,
): ExtensionTrust {
  const ofKind = (kind: string) =>
    resources.filter((r) => r.apiVersion === NOTATION_API_VERSION && r.kind === kind);
  const policy = ofKind('TrustPolicy').find(
    (r) => (r['spec'] as { trustPolicyName?: unknown } | undefined)?.trustPolicyName === trustPolicyName,
  );
  if (policy === undefined) {
    throw new Error(`no TrustPolicy with spec.trustPolicyName ${JSON.stringify(trustPolicyName)}`);
  }
  const { trustPolicyName: _name, ...document } = policy['spec'] as Record<string, unknown>;
  const stores = ofKind('TrustStore').map((r) => {
    const spec = r['spec'] as { trustStoreName: string; type: TrustStoreType; caBundle: string };
    return trustStoreFromPem(spec.type, spec.trustStoreName, spec.caBundle);
  });
  return {
    trustPolicyName,
    document: parseTrustPolicy(JSON.stringify(document)),
    stores: new TrustStoreSet(stores),
  };
}

/** What the emulation takes from a kyverno-notation-aws `ClusterPolicy` (Shape A: the mutate policy on Pods). */
export interface ClusterPolicySettings {
  readonly policyName: string;
  readonly ruleName: string;
  readonly namespaces: string[];
  readonly trustPolicy: string;
  readonly failurePolicy: 'Fail' | 'Ignore';
}

/**
 * Reads the settings of the one `ClusterPolicy` among `resources` that calls the extension (a
 * rule with an `apiCall` POSTing `trustPolicy` to `…/checkimages`, matching Pods in listed
 * namespaces), as `stagesign policy export --kyverno --cluster-policy` writes it. Throws when
 * there is none, or it is not of that shape.
 */
export function clusterPolicySettings(resources: readonly KubernetesObject[]): ClusterPolicySettings {
  type Rule = {
    name: string;
    match?: { any?: Array<{ resources?: { namespaces?: string[]; kinds?: string[] } }> };
    context?: Array<{
      apiCall?: { data?: Array<{ key: string; value: unknown }>; service?: { url?: string } };
    }>;
  };
  const policy = resources.find((r) => r.apiVersion === 'kyverno.io/v1' && r.kind === 'ClusterPolicy');
  const spec = policy?.['spec'] as { failurePolicy?: string; rules?: Rule[] } | undefined;
  for (const rule of spec?.rules ?? []) {
    const call = rule.context?.find((c) => c.apiCall?.service?.url?.endsWith('/checkimages'))?.apiCall;
    const trustPolicy = call?.data?.find((d) => d.key === 'trustPolicy')?.value;
    const match = rule.match?.any?.[0]?.resources;
    if (typeof trustPolicy !== 'string' || !match?.kinds?.includes('Pod') || !match.namespaces?.length)
      continue;
    return {
      policyName: policy!.metadata.name,
      ruleName: rule.name,
      namespaces: [...match.namespaces],
      trustPolicy,
      failurePolicy: spec?.failurePolicy === 'Ignore' ? 'Ignore' : 'Fail',
    };
  }
  throw new Error(
    'no ClusterPolicy with a rule that sends Pods in listed namespaces to kyverno-notation-aws',
  );
}

export interface NotationVerdictOptions {
  /** Where the images and their signatures are. */
  readonly registry: Registry;
  readonly trust: ExtensionTrust;
  readonly revocationChecker: RevocationChecker;
  readonly now?: () => Date;
}

/**
 * A `verdict` for `installKyvernoNotationAws` that verifies each image with stagesign's verifier.
 * A verification that cannot decide (unknown image, no applicable policy, registry failure) is a
 * failure with the error's text, as the extension answers 406 then.
 */
export function notationVerdict(
  options: NotationVerdictOptions,
): (image: KyvernoImage) => Promise<ImageVerdict> {
  return async (image) => {
    try {
      const result = await verifyImageReference({
        registry: options.registry,
        reference: image.reference,
        policyDocument: options.trust.document,
        trustStores: options.trust.stores,
        revocationChecker: options.revocationChecker,
        now: options.now?.() ?? new Date(),
      });
      if (result.outcome !== 'failed') return { signed: true, digest: result.descriptor.digest };
      if (result.code === VerifyImageCode.NoSignature) {
        return { signed: false, error: result.message.replace(/^signature verification failed: /, '') };
      }
      const reasons = result.failures.map((f) => {
        const reason = f.lines.slice(1).map((l) => l.replace(/^.* validation failed\. Failure reason: /, ''));
        return `failed to verify signature with digest ${f.signatureDigest}, ${reason.join('; ') || f.code || 'rejected'}`;
      });
      return { signed: false, error: ['signature verification failed', ...reasons].join('\n') };
    } catch (error) {
      return { signed: false, error: error instanceof Error ? error.message : String(error) };
    }
  };
}
