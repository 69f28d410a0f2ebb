import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import {
  kyvernoNotationResources,
  type KubernetesObject,
} from '../../../shared/kube/kyverno-trust-resources';
import { parseTrustPolicy, type TrustPolicyDocument } from '../../../shared/notary/trust-policy';
import { TrustStoreSet, trustStoreFromPem, trustStoreRef } from '../../../shared/notary/trust-store';
import type { TrustStore } from '../../../shared/notary/trust-store';
import { loadTestSigningAuthority } from '../../helpers/test-signing-authority';
import { suiteTitle } from '../../helpers/skip-notice';
import { extensionTrust } from '../../helpers/fake-kube/notation-extension';

const SAMPLES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../shared/vectors/kyverno-notation-aws/configs/samples',
);
const haveSamples = existsSync(path.join(SAMPLES, 'trustpolicy.yaml'));
const PROFILE = 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/stagesign';
const { rootPem } = loadTestSigningAuthority();

/** Multi-document YAML as printed, parsed back with the `yaml` package. */
function readBack(text: string): KubernetesObject[] {
  return parseAllDocuments(text).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as KubernetesObject;
  });
}

/** The exported resources, printed as the CLI prints them and read back. */
function exportAndReadBack(...args: Parameters<typeof kyvernoNotationResources>): KubernetesObject[] {
  return readBack(
    kyvernoNotationResources(...args)
      .map((r) => stringify(r))
      .join('---\n'),
  );
}

/** A one-statement policy `app` for every registry, strict unless `extra` says otherwise. */
function onePolicy(
  trustStores: string[] = ['signingAuthority:aws-signer-ts'],
  extra: Record<string, unknown> = {},
  trustedIdentities: string[] = [PROFILE],
): TrustPolicyDocument {
  return parseTrustPolicy({
    version: '1.0',
    trustPolicies: [
      {
        name: 'app',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict', ...extra },
        trustStores,
        trustedIdentities,
      },
    ],
  });
}

const fingerprints = (stores: TrustStore[]) =>
  Object.fromEntries(stores.map((s) => [trustStoreRef(s), s.anchors.map((a) => a.sha256)]));

describe('kyvernoNotationResources', () => {
  describe('exported, printed as YAML and read back', () => {
    const document = parseTrustPolicy({
      version: '1.0',
      trustPolicies: [
        {
          name: 'pipeline-images',
          registryScopes: [
            '111122223333.dkr.ecr.us-west-2.amazonaws.com/app',
            '111122223333.dkr.ecr.us-west-2.amazonaws.com/team/web',
          ],
          signatureVerification: { level: 'strict' },
          trustStores: ['signingAuthority:aws-signer-ts'],
          trustedIdentities: [PROFILE],
        },
        {
          name: 'build-tools',
          registryScopes: ['registry.example.com/tools'],
          signatureVerification: { level: 'permissive', override: { revocation: 'log', expiry: 'enforce' } },
          trustStores: ['ca:build-ca', 'signingAuthority:aws-us-gov-signer-ts'],
          trustedIdentities: ['x509.subject: C=US, ST=WA, O=stagesign, CN=build'],
        },
        {
          name: 'everything-else',
          registryScopes: ['*'],
          signatureVerification: { level: 'skip' },
        },
      ],
    });
    const stores = TrustStoreSet.builtIn().with(trustStoreFromPem('ca', 'build-ca', rootPem));
    const resources = exportAndReadBack(document, stores, { trustPolicyName: 'pipeline' });

    it('gives the same trust policy statements', () => {
      // Read back as the extension (and the demo's emulation of it) reads the resources.
      expect(extensionTrust(resources, 'pipeline').document).toEqual(document);
    });

    it('gives the same certificates for every store the statements name, the AWS Signer roots included', () => {
      const back = extensionTrust(resources, 'pipeline').stores.list();
      expect(back.map(trustStoreRef)).toEqual([
        'signingAuthority:aws-signer-ts',
        'ca:build-ca',
        'signingAuthority:aws-us-gov-signer-ts',
      ]);
      expect(fingerprints(back)).toEqual(fingerprints(back.map((s) => stores.get(trustStoreRef(s))!)));
    });

    it('names the TrustPolicy by the given name, in metadata and spec, as the extension selects it', () => {
      const policy = resources.find((r) => r.kind === 'TrustPolicy')!;
      expect(policy.metadata.name).toBe('pipeline');
      expect((policy['spec'] as { trustPolicyName: string }).trustPolicyName).toBe('pipeline');
    });

    it('writes no ClusterPolicy unless asked', () => {
      expect(resources.map((r) => r.kind)).toEqual(['TrustStore', 'TrustStore', 'TrustStore', 'TrustPolicy']);
    });
  });

  describe.skipIf(!haveSamples)(
    suiteTitle(
      "matches kyverno-notation-aws's configs/samples",
      haveSamples,
      `${SAMPLES} not found (../shared/vectors)`,
    ),
    () => {
      const samples = () => [
        ...readBack(readFileSync(path.join(SAMPLES, 'trustpolicy.yaml'), 'utf8')),
        // The copy of truststore.yaml ends in "⏎" (U+23CE) where the upstream file just ends
        // without a newline: a copying artefact, not part of the certificate.
        ...readBack(readFileSync(path.join(SAMPLES, 'truststore.yaml'), 'utf8').replace(/\u23ce$/, '')),
      ];
      const sample = (kind: string, name: string) =>
        samples().find((r) => r.kind === kind && r.metadata.name === name)!;

      it.each(['tp-test-notation', 'tp-test-notation-fail'])(
        'exports the sample %s and its trust store exactly as the sample files have them',
        (name) => {
          const tp = sample('TrustPolicy', name);
          const spec = tp['spec'] as { trustPolicies: unknown[] };
          const wrongRoot = readFileSync(
            path.join(SAMPLES, 'extracted/aws-signer-ts-fail.wrong-root.pem'),
            'utf8',
          );
          const stores = TrustStoreSet.builtIn().with(
            trustStoreFromPem('signingAuthority', 'aws-signer-ts-fail', wrongRoot),
          );
          const exported = exportAndReadBack(
            parseTrustPolicy({ version: '1.0', trustPolicies: spec.trustPolicies }),
            stores,
            { trustPolicyName: name },
          );
          const storeName = name.endsWith('-fail') ? 'aws-signer-ts-fail' : 'aws-signer-ts';
          expect(exported).toEqual([sample('TrustStore', storeName), tp]);
        },
      );

      it('exports the built-in GovCloud root as the sample aws-us-gov-signer-ts', () => {
        const exported = exportAndReadBack(
          parseTrustPolicy({
            version: '1.0',
            trustPolicies: [
              {
                name: 'gov',
                registryScopes: ['*'],
                signatureVerification: { level: 'strict' },
                trustStores: ['signingAuthority:aws-us-gov-signer-ts'],
                trustedIdentities: ['arn:aws-us-gov:signer:us-gov-west-1:111122223333:/signing-profiles/p'],
              },
            ],
          }),
          TrustStoreSet.builtIn(),
        );
        expect(exported[0]).toEqual(sample('TrustStore', 'aws-us-gov-signer-ts'));
      });
    },
  );

  describe('what kyverno-notation-aws cannot hold', () => {
    const statement = (extra: Record<string, unknown>, trustStores?: string[]) =>
      onePolicy(trustStores, extra);

    it.each([
      [{ verifyTimestamp: 'afterCertExpiry' }, 'signatureVerification.verifyTimestamp to "afterCertExpiry"'],
      [{ skipTimestampRevocationCheck: true }, 'signatureVerification.skipTimestampRevocationCheck to true'],
    ])('refuses a statement with %j, naming it and the field', (extra, field) => {
      expect(() => kyvernoNotationResources(statement(extra), TrustStoreSet.builtIn())).toThrow(
        expect.objectContaining({
          code: 'KYVERNO_EXPORT_INVALID',
          message: expect.stringContaining(`trust policy statement "app" sets ${field}`),
        }),
      );
    });

    it('drops the default timestamp settings, which mean the same without the field', () => {
      const [, policy] = kyvernoNotationResources(
        statement({ verifyTimestamp: 'always', skipTimestampRevocationCheck: false }),
        TrustStoreSet.builtIn(),
      );
      expect((policy!['spec'] as { trustPolicies: unknown[] }).trustPolicies[0]).toMatchObject({
        signatureVerification: { level: 'strict' },
      });
      expect(JSON.stringify(policy)).not.toMatch(/verifyTimestamp|skipTimestampRevocationCheck/);
    });

    it('refuses a timestamping (tsa) store, which the TrustStore CRD has no type for', () => {
      const stores = TrustStoreSet.builtIn().with(trustStoreFromPem('tsa', 'timestamps', rootPem));
      expect(() =>
        kyvernoNotationResources(statement({}, ['signingAuthority:aws-signer-ts', 'tsa:timestamps']), stores),
      ).toThrow(
        /uses trust store "tsa:timestamps", but kyverno-notation-aws's TrustStore accepts only the types ca and signingAuthority/,
      );
    });

    it('refuses a store the configuration does not have, listing those it has', () => {
      expect(() => kyvernoNotationResources(statement({}, ['ca:absent']), TrustStoreSet.builtIn())).toThrow(
        'trust policy statement "app" uses trust store "ca:absent", which is not configured (available: signingAuthority:aws-signer-ts, signingAuthority:aws-us-gov-signer-ts)',
      );
    });

    it.each(['Pipeline', 'tp_1', '-tp', ''])('refuses the trust policy name %j', (name) => {
      expect(() =>
        kyvernoNotationResources(statement({}), TrustStoreSet.builtIn(), { trustPolicyName: name }),
      ).toThrow(/must be a Kubernetes resource name/);
    });
  });

  it('gives stores whose names are no resource names, or repeat across types, distinct valid resource names', () => {
    const document = onePolicy(['ca:Build_CA', 'signingAuthority:shared', 'ca:shared'], {}, ['*']);
    const stores = new TrustStoreSet([
      trustStoreFromPem('ca', 'Build_CA', rootPem),
      trustStoreFromPem('signingAuthority', 'shared', rootPem),
      trustStoreFromPem('ca', 'shared', rootPem),
    ]);
    const resources = exportAndReadBack(document, stores).filter((r) => r.kind === 'TrustStore');
    const names = resources.map((r) => r.metadata.name);
    expect(new Set(names).size).toBe(3);
    for (const name of names)
      expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
    expect(resources.map((r) => (r['spec'] as { trustStoreName: string }).trustStoreName)).toEqual([
      'Build_CA',
      'shared',
      'shared',
    ]);
  });

  describe('the ClusterPolicy', () => {
    const document = onePolicy();
    const policyFor = (options: { namespaces: string[]; extensionNamespace?: string }) =>
      exportAndReadBack(document, TrustStoreSet.builtIn(), {
        trustPolicyName: 'pipeline',
        clusterPolicy: options,
      }).at(-1)!;

    it('fails closed, enforces, and sends the application namespaces’ Pods with this trust policy', () => {
      const policy = policyFor({ namespaces: ['app', 'web', 'app'] });
      expect(policy).toMatchObject({
        apiVersion: 'kyverno.io/v1',
        kind: 'ClusterPolicy',
        metadata: { name: 'check-images' },
        spec: { failurePolicy: 'Fail', validationFailureAction: 'Enforce' },
      });
      const [rule] = (policy['spec'] as { rules: Array<Record<string, unknown>> }).rules;
      expect(rule!['match']).toEqual({
        any: [
          { resources: { namespaces: ['app', 'web'], kinds: ['Pod'], operations: ['CREATE', 'UPDATE'] } },
        ],
      });
      const response = (rule!['context'] as Array<{ name: string; apiCall: Record<string, unknown> }>).find(
        (c) => c.name === 'response',
      )!;
      expect(response.apiCall['data']).toEqual([
        { key: 'images', value: '{{images}}' },
        { key: 'trustPolicy', value: 'pipeline' },
      ]);
      expect(response.apiCall['service']).toEqual({
        url: 'https://svc.kyverno-notation-aws/checkimages',
        caBundle: '{{ tlscerts }}',
      });
      // The verified digests replace the images (the samples' mutate rule).
      expect(JSON.stringify(rule!['mutate'])).toContain('response.results');
    });

    it('reaches the extension in another namespace when told', () => {
      const text = JSON.stringify(policyFor({ namespaces: ['app'], extensionNamespace: 'kyverno' }));
      expect(text).toContain('/api/v1/namespaces/kyverno/secrets/svc.kyverno.svc.tls-pair');
      expect(text).toContain('https://svc.kyverno/checkimages');
      expect(text).not.toContain('kyverno-notation-aws');
    });

    it.each([[[]], [['App']], [['ns_1']]])('refuses the namespaces %j', (namespaces) => {
      expect(() => policyFor({ namespaces })).toThrow(
        expect.objectContaining({ code: 'KYVERNO_EXPORT_INVALID' }),
      );
    });
  });
});
