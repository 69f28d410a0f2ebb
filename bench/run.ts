/**
 * Benchmarks with targets (`npm run bench`). Timings live here, never in tests.
 *
 *   bundle     size of each dist/<stage>/handler.mjs that `npm run build` produced from template.yaml
 *   cold start median time to import each bundle in a fresh Node process (what Lambda's INIT pays
 *              for our code; the runtime's own start is not included) and the process RSS after it
 *   verify     median and p95 time of one `verifySignature` on the AWS-shaped fixture (ES384, four
 *              P-384 certificates, revocation through an in-memory checker)
 *
 * Exit status 1 when a figure misses its target. Options: --runs N (cold starts, default 15),
 * --iterations N (verifications, default 300), --no-build (use the existing dist/).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { verifySignature } from '../shared/notary/verifier';
import { TrustStoreSet, trustStoreFromPem } from '../shared/notary/trust-store';
import type { TrustPolicyStatement } from '../shared/notary/trust-policy';
import type { RevocationChecker } from '../shared/notary/types';
import { AWS_FIXTURE, loadTestSigningAuthority } from '../test/helpers/test-signing-authority';
import { coldImport, median } from './lib/cold-import';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KiB = 1024;

/** Targets. Bundles are measured as SAM ships them (minified, SDK bundled, no source map). */
const TARGETS = {
  bundleBytes: 1024 * KiB,
  /**
   * The Kubernetes stages bundle @kubernetes/client-node 1.4, whose generated models do not
   * tree-shake (eks-and-kyverno.md §2.9: 1.53 MB for KubeConfig + CoreV1Api alone).
   */
  kubeBundleBytes: 2048 * KiB,
  coldImportMs: 400,
  coldRssBytes: 120 * 1024 * KiB,
  verifyMedianMs: 10,
};

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    iterations: { type: 'string', default: '300' },
    'no-build': { type: 'boolean', default: false },
  },
});

interface Row {
  name: string;
  value: string;
  target: string;
  ok: boolean;
}
const rows: Row[] = [];

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))]!;
}

// --- bundles and cold start -------------------------------------------------------------------
if (!values['no-build']) execFileSync('npx', ['tsx', 'scripts/build.ts'], { cwd: ROOT, stdio: 'ignore' });
const dist = join(ROOT, 'dist');
const stages = existsSync(dist) ? readdirSync(dist).filter((d) => statSync(join(dist, d)).isDirectory()) : [];
if (stages.length === 0) throw new Error('no bundles in dist/: run npm run build');

/** Stages that talk to Kubernetes (their bundles carry client-node). */
const KUBE_STAGES = new Set(['deploy-manifest', 'check-admission']);
for (const stage of stages.sort()) {
  const bundle = join(dist, stage, 'handler.mjs');
  const size = statSync(bundle).size;
  const limit = KUBE_STAGES.has(stage) ? TARGETS.kubeBundleBytes : TARGETS.bundleBytes;
  rows.push({
    name: `${stage} bundle`,
    value: `${(size / KiB).toFixed(1)} KiB`,
    target: `≤ ${limit / KiB} KiB`,
    ok: size <= limit,
  });
  const {
    ms: t,
    rss: mem,
    runs,
  } = coldImport(bundle, Number(values.runs), {
    SIGNING_PROFILE_ARN: AWS_FIXTURE.profileArn,
  });
  rows.push({
    name: `${stage} cold import (median of ${runs})`,
    value: `${t.toFixed(1)} ms`,
    target: `≤ ${TARGETS.coldImportMs} ms`,
    ok: t <= TARGETS.coldImportMs,
  });
  rows.push({
    name: `${stage} RSS after import`,
    value: `${(mem / KiB / KiB).toFixed(1)} MiB`,
    target: `≤ ${TARGETS.coldRssBytes / KiB / KiB} MiB`,
    ok: mem <= TARGETS.coldRssBytes,
  });
}

// --- verification -----------------------------------------------------------------------------
const envelope = new Uint8Array(
  readFileSync(join(ROOT, 'test/fixtures/notary/envelopes/aws_valid.jws.json')),
);
const { rootPem } = loadTestSigningAuthority();
const trustStores = new TrustStoreSet([trustStoreFromPem('signingAuthority', 'test-signer-ts', rootPem)]);
const policy: TrustPolicyStatement = {
  name: 'bench',
  registryScopes: ['*'],
  signatureVerification: { level: 'strict' },
  trustStores: [AWS_FIXTURE.trustStore],
  trustedIdentities: [AWS_FIXTURE.profileArn],
};
const revocationChecker: RevocationChecker = { getRevocationStatus: async () => ({ revokedEntities: [] }) };
const now = new Date('2026-01-01T00:00:00Z');
const input = {
  envelope,
  envelopeMediaType: 'application/jose+json',
  target: AWS_FIXTURE.target,
  policy,
  trustStores,
  revocationChecker,
  now,
};
const first = await verifySignature(input);
if (!first.passed) throw new Error(`the fixture did not verify: ${first.error ?? 'unknown'}`);
const samples: number[] = [];
for (let i = 0; i < Number(values.iterations); i++) {
  const t0 = performance.now();
  await verifySignature(input);
  samples.push(performance.now() - t0);
}
const vMedian = median(samples);
rows.push({
  name: `verifySignature AWS-shaped (median of ${samples.length})`,
  value: `${vMedian.toFixed(2)} ms (p95 ${percentile(samples, 95).toFixed(2)} ms)`,
  target: `≤ ${TARGETS.verifyMedianMs} ms`,
  ok: vMedian <= TARGETS.verifyMedianMs,
});

// --- report -------------------------------------------------------------------------------------
const width = Math.max(...rows.map((r) => r.name.length));
console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
for (const r of rows) {
  console.log(
    `${r.ok ? 'ok  ' : 'MISS'} ${r.name.padEnd(width)}  ${r.value.padStart(28)}   target ${r.target}`,
  );
}
process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
