/**
 * `stagesign policy export --kyverno`, run as a real process: what it prints on stdout (YAML that
 * reads back into the same trust policy and certificates), stderr and the exit status.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { AWS_SIGNER_ROOT_SHA256 } from '../../shared/notary/aws-signer-roots';
import { parseTrustPolicy } from '../../shared/notary/trust-policy';
import { trustStoreFromPem } from '../../shared/notary/trust-store';
import type { TrustStoreType } from '../../shared/notary/trust-store';
import { lines, stagesign, Workspace } from './cli-harness';

interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

function readBack(stdout: string): Resource[] {
  return parseAllDocuments(stdout).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as Resource;
  });
}

function policyOf(resources: Resource[]) {
  const { trustPolicyName: _name, ...document } = resources.find((r) => r.kind === 'TrustPolicy')!.spec;
  return parseTrustPolicy(JSON.stringify(document));
}

function fingerprintsOf(resources: Resource[]): Record<string, string[]> {
  return Object.fromEntries(
    resources
      .filter((r) => r.kind === 'TrustStore')
      .map((r) => {
        const spec = r.spec as { type: TrustStoreType; trustStoreName: string; caBundle: string };
        const store = trustStoreFromPem(spec.type, spec.trustStoreName, spec.caBundle);
        return [`${spec.type}:${spec.trustStoreName}`, store.anchors.map((a) => a.sha256)];
      }),
  );
}

const PROFILE = 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/stagesign';

/** `stagesign policy export --kyverno --trust-policy <policy> --trust-stores <stores> …rest`. */
function exportFiles(policyFile: string, storesFile: string, ...rest: string[]) {
  return stagesign([
    'policy',
    'export',
    '--kyverno',
    '--trust-policy',
    policyFile,
    '--trust-stores',
    storesFile,
    ...rest,
  ]);
}

describe('stagesign policy export --kyverno', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create();
  });
  afterAll(async () => ws.remove());

  it('writes the TrustStore and TrustPolicy of a notation configuration directory, which read back the same', async () => {
    const dir = await ws.config('config');
    const r = await stagesign(['policy', 'export', '--kyverno', '--config-dir', dir]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(lines(r.stdout)[0]).toBe(`# kyverno-notation-aws resources for the trust policy of ${dir}`);
    const resources = readBack(r.stdout);
    expect(resources.map((x) => `${x.kind}/${x.metadata.name}`)).toEqual([
      'TrustStore/test',
      'TrustPolicy/aws-signer-trust-policy',
    ]);
    expect(resources.every((x) => x.apiVersion === 'notation.nirmata.io/v1alpha1')).toBe(true);
    expect(policyOf(resources)).toEqual(
      parseTrustPolicy(await readFile(path.join(dir, 'trustpolicy.oci.json'), 'utf8')),
    );
    expect(fingerprintsOf(resources)).toEqual({
      'ca:test': [trustStoreFromPem('ca', 'test', ws.pki.rootPem).anchors[0]!.sha256],
    });
  });

  it('takes the stack-parameter formats, adds the AWS Signer root and the ClusterPolicy', async () => {
    const policy = {
      version: '1.0',
      trustPolicies: [
        {
          name: 'pipeline',
          registryScopes: ['111122223333.dkr.ecr.us-west-2.amazonaws.com/app'],
          signatureVerification: { level: 'strict' },
          trustStores: ['signingAuthority:aws-signer-ts', 'ca:corp'],
          trustedIdentities: [PROFILE],
        },
      ],
    };
    const policyFile = path.join(ws.dir, 'trust-policy.json');
    const storesFile = path.join(ws.dir, 'trust-stores.json');
    await writeFile(policyFile, JSON.stringify(policy));
    await writeFile(storesFile, JSON.stringify({ 'ca:corp': ws.pki.rootPem }));
    const r = await exportFiles(
      policyFile,
      storesFile,
      '--name',
      'pipeline',
      '--cluster-policy',
      '--namespaces',
      'app, web',
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const resources = readBack(r.stdout);
    expect(resources.map((x) => `${x.kind}/${x.metadata.name}`)).toEqual([
      'TrustStore/aws-signer-ts',
      'TrustStore/corp',
      'TrustPolicy/pipeline',
      'ClusterPolicy/check-images',
    ]);
    expect(policyOf(resources)).toEqual(parseTrustPolicy(policy));
    expect(fingerprintsOf(resources)['signingAuthority:aws-signer-ts']).toEqual([AWS_SIGNER_ROOT_SHA256]);
    const clusterPolicy = resources.at(-1)!;
    expect(clusterPolicy.spec['failurePolicy']).toBe('Fail');
    expect(JSON.stringify(clusterPolicy.spec)).toContain('"namespaces":["app","web"]');
    expect(JSON.stringify(clusterPolicy.spec)).toContain('{"key":"trustPolicy","value":"pipeline"}');
  });

  it('refuses a trust store name that verify-image reserves for the AWS Signer roots', async () => {
    const storesFile = path.join(ws.dir, 'reserved-stores.json');
    await writeFile(storesFile, JSON.stringify({ 'signingAuthority:aws-signer-ts': ws.pki.rootPem }));
    const policyFile = path.join(ws.dir, 'reserved-policy.json');
    await writeFile(
      policyFile,
      JSON.stringify({
        version: '1.0',
        trustPolicies: [
          {
            name: 'p',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: ['signingAuthority:aws-signer-ts'],
            trustedIdentities: ['*'],
          },
        ],
      }),
    );
    const r = await exportFiles(policyFile, storesFile);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([
      expect.stringMatching(
        /^Error: failed to export trust policy: trust stores file \S+reserved-stores\.json key "signingAuthority:aws-signer-ts" is the name of a built-in AWS Signer root/,
      ),
    ]);
  });

  it('fails without output when the cluster could not verify the same way', async () => {
    const dir = await ws.config('with-tsa', {
      stores: { 'ca:test': ws.pki.rootPem, 'tsa:timestamps': ws.pki.rootPem },
    });
    const r = await stagesign(['policy', 'export', '--kyverno', '--config-dir', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([
      `Error: failed to export trust policy: trust policy statement "test" uses trust store "tsa:timestamps", but kyverno-notation-aws's TrustStore accepts only the types ca and signingAuthority. Export a policy without timestamping (tsa) stores.`,
    ]);
  });

  it('says when the trust policy is missing', async () => {
    const r = await stagesign(['policy', 'export', '--kyverno', '--config-dir', path.join(ws.dir, 'none')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)[0]).toMatch(/^Error: failed to export trust policy: trust policy is not present/);
  });

  it.each([
    [[], 'choose the output format: --kyverno'],
    [
      ['--kyverno', '--config-dir', 'a', '--trust-policy', 'b'],
      '--config-dir and --trust-policy cannot be used together',
    ],
    [
      ['--kyverno', '--trust-stores', 'a'],
      '--trust-stores needs --trust-policy (a configuration directory has its own stores)',
    ],
    [
      ['--kyverno', '--cluster-policy'],
      '--cluster-policy needs --namespaces a,b (the application namespaces)',
    ],
    [['--kyverno', '--namespaces', 'app'], '--namespaces and --extension-namespace need --cluster-policy'],
    [['--kyverno', 'extra'], 'accepts 0 arg(s), received 1'],
  ])('treats %j as a usage error', async (args, message) => {
    const r = await stagesign(['policy', 'export', ...args]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([`Error: ${message}`, "Run 'stagesign policy export --help' for usage."]);
  });

  it('prints its help and lists itself in the command list', async () => {
    const help = await stagesign(['policy', 'export', '--help']);
    expect(help.status).toBe(0);
    expect(lines(help.stdout)[3]).toBe('  stagesign policy export --kyverno [flags]');
    const root = await stagesign(['--help']);
    expect(root.stdout).toMatch(
      /^ {2}policy export +Write the trust policy as kyverno-notation-aws resources/m,
    );
  });
});
