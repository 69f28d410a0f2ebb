/**
 * `npx tsx bench/source-maps.ts [--rounds N] [--runs N]`: what `Sourcemap: true` would cost at
 * cold start. With it, `sam build` writes handler.mjs.map beside each bundle and SAM sets
 * `NODE_OPTIONS=--enable-source-maps` on the function. Builds every esbuild function of
 * template.yaml with its own settings (scripts/lib/esbuild-options.ts) both ways, into a temporary
 * folder, and measures the import as bench/run.ts does, in three variants:
 *
 *   no map          Sourcemap: false (what template.yaml ships)
 *   map, no flag    Sourcemap: true, NODE_OPTIONS unset (the map is never read)
 *   map + flag      Sourcemap: true with --enable-source-maps (what SAM would deploy)
 *
 * The variants take turns, round after round, so a busy machine slows all three alike; each figure
 * is the median over the rounds of each round's median. A benchmark, never a test.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { esbuildOptions } from '../scripts/lib/esbuild-options';
import { esbuildFunctions, parseTemplate } from '../scripts/lib/sam-template';
import { AWS_FIXTURE } from '../test/helpers/test-signing-authority';
import { coldImport, median } from './lib/cold-import';
import type { ColdImport } from './lib/cold-import';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, runs: { type: 'string', default: '5' } },
});
const rounds = Number(values.rounds);
const runs = Number(values.runs);
const out = mkdtempSync(path.join(tmpdir(), 'stagesign-source-maps-'));
const template = parseTemplate(readFileSync(path.join(ROOT, 'template.yaml'), 'utf8'));
const MiB = 1024 * 1024;

try {
  console.log(
    `node ${process.version}, ${process.platform}/${process.arch}; ${rounds} rounds of ${runs} imports each`,
  );
  for (const fn of esbuildFunctions(template)) {
    const bundles: Record<'map' | 'nomap', string> = { map: '', nomap: '' };
    for (const variant of ['map', 'nomap'] as const) {
      const outdir = path.join(out, variant, fn.stage);
      await build({
        ...esbuildOptions(
          { ...fn.buildProperties, Sourcemap: variant === 'map' },
          { codeDir: path.resolve(ROOT, fn.codeUri), outdir, handler: fn.handler, logicalId: fn.logicalId },
        ),
        logLevel: 'warning',
      });
      bundles[variant] = path.join(outdir, 'handler.mjs');
    }
    const env = { SIGNING_PROFILE_ARN: AWS_FIXTURE.profileArn };
    const variants: Array<[string, string, Record<string, string>]> = [
      ['no map', bundles.nomap, env],
      ['map, no flag', bundles.map, env],
      ['map + flag', bundles.map, { ...env, NODE_OPTIONS: '--enable-source-maps' }],
    ];
    const results = new Map<string, ColdImport[]>(variants.map(([name]) => [name, []]));
    for (let round = 0; round < rounds; round++)
      for (const [name, bundle, variantEnv] of variants)
        results.get(name)!.push(coldImport(bundle, runs, variantEnv));
    const mapBytes = statSync(`${bundles.map}.map`).size;
    console.log(
      `\n${fn.stage}: bundle ${(statSync(bundles.nomap).size / 1024).toFixed(0)} KiB, map ${(mapBytes / 1024).toFixed(0)} KiB`,
    );
    const base = results.get('no map')!;
    for (const [name] of variants) {
      const r = results.get(name)!;
      const ms = median(r.map((x) => x.ms));
      const cpu = median(r.map((x) => x.cpuMs));
      const rss = median(r.map((x) => x.rss));
      const cpuDelta = cpu - median(base.map((x) => x.cpuMs));
      const rssDelta = rss - median(base.map((x) => x.rss));
      console.log(
        `  ${name.padEnd(13)} wall ${ms.toFixed(0).padStart(5)} ms   cpu ${cpu.toFixed(0).padStart(5)} ms (${cpuDelta >= 0 ? '+' : ''}${cpuDelta.toFixed(0)})   rss ${(rss / MiB).toFixed(1)} MiB (${rssDelta >= 0 ? '+' : ''}${(rssDelta / MiB).toFixed(1)})`,
      );
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
