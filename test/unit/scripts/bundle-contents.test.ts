/**
 * What each Lambda bundle contains, read from esbuild's metafile for the functions of
 * template.yaml built with their own settings (as `sam build` does). Cold start is measured by
 * `npm run bench` (issue 13 item 7); these are the structural reasons it stays low, so that a
 * change that brings the costs back fails here with the reason, not as a slower figure later.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../../scripts/lib/esbuild-options';
import { esbuildFunctions, parseTemplate } from '../../../scripts/lib/sam-template';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const STAGES = ['sign-image', 'verify-image', 'deploy-manifest', 'check-admission'] as const;
type Stage = (typeof STAGES)[number];

const metafiles = new Map<Stage, Metafile>();

beforeAll(async () => {
  const template = parseTemplate(readFileSync(path.join(ROOT, 'template.yaml'), 'utf8'));
  for (const fn of esbuildFunctions(template)) {
    const options = esbuildOptions(fn.buildProperties, {
      codeDir: path.resolve(ROOT, fn.codeUri),
      outdir: path.join(ROOT, 'dist', fn.stage),
      handler: fn.handler,
      logicalId: fn.logicalId,
    });
    const result = await build({
      ...options,
      absWorkingDir: ROOT,
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    metafiles.set(fn.stage as Stage, result.metafile);
  }
}, 60_000);

/** The bundled input files of a stage (repo-relative). */
function inputs(stage: Stage): string[] {
  const meta = metafiles.get(stage);
  if (!meta) throw new Error(`template.yaml has no esbuild function for ${stage}`);
  return Object.keys(meta.inputs);
}

/** The npm packages bundled into a stage. */
function packages(stage: Stage): Set<string> {
  return new Set(
    inputs(stage).flatMap((file) => {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
      return m ? [m[1]!] : [];
    }),
  );
}

describe('Lambda bundle contents', () => {
  it('builds all four stages from template.yaml', () => {
    expect([...metafiles.keys()].sort()).toEqual([...STAGES].sort());
  });

  it.each(STAGES)(
    '%s carries no @peculiar/x509 (nor its tsyringe and reflect-metadata): extensions are read with asn1-x509',
    (stage) => {
      const found = [...packages(stage)].filter((p) =>
        ['@peculiar/x509', 'tsyringe', 'reflect-metadata'].includes(p),
      );
      expect(found).toEqual([]);
    },
  );

  it.each(['sign-image', 'verify-image'] as const)('%s carries no Kubernetes client', (stage) => {
    expect([...packages(stage)].filter((p) => p.startsWith('@kubernetes/'))).toEqual([]);
  });

  it.each(['deploy-manifest', 'check-admission'] as const)(
    '%s carries client-node object API but not its KubeConfig, exec, attach, cp, port-forward or watch',
    (stage) => {
      const clientNode = inputs(stage)
        .filter((f) => f.includes('node_modules/@kubernetes/client-node/dist/'))
        .map((f) => f.replace(/.*client-node\/dist\//, ''));
      expect(clientNode).toContain('object.js');
      const unwanted = [
        'index.js',
        'config.js',
        'exec.js',
        'attach.js',
        'cp.js',
        'portforward.js',
        'watch.js',
      ];
      expect(clientNode.filter((f) => unwanted.includes(f))).toEqual([]);
      const theirDependencies = ['ws', 'socks', 'socks-proxy-agent', 'tar-fs', 'jsonpath-plus', 'js-yaml'];
      expect([...packages(stage)].filter((p) => theirDependencies.includes(p))).toEqual([]);
    },
  );

  it('check-admission carries no S3 client: it reads no artifacts, so its handler passes no artifact store', () => {
    expect([...packages('check-admission')].filter((p) => p === '@aws-sdk/client-s3')).toEqual([]);
    for (const stage of ['sign-image', 'verify-image', 'deploy-manifest'] as const) {
      expect(packages(stage).has('@aws-sdk/client-s3')).toBe(true);
    }
  });

  it('check-admission carries no zip code either (fflate comes only with artifacts)', () => {
    expect(metafiles.get('check-admission')?.inputs['shared/pipeline/zip.ts']).toBeUndefined();
    expect(packages('check-admission').has('fflate')).toBe(false);
  });

  it.each(['sign-image', 'verify-image', 'deploy-manifest'] as const)(
    '%s reaches fflate through import(), so esbuild emits it as a function V8 can optimise',
    (stage) => {
      const zip = metafiles.get(stage)?.inputs['shared/pipeline/zip.ts'];
      expect(zip, 'the stage reads or writes artifacts through shared/pipeline/zip.ts').toBeDefined();
      const toFflate = zip!.imports.filter((i) => i.path.includes('node_modules/fflate/'));
      expect(toFflate.map((i) => i.kind)).toEqual(['dynamic-import']);
      // …and nothing else imports it statically, which would put its table loops back at top level.
      const staticImporters = Object.entries(metafiles.get(stage)!.inputs)
        .filter(([, input]) =>
          input.imports.some((i) => i.path.includes('node_modules/fflate/') && i.kind !== 'dynamic-import'),
        )
        .map(([file]) => file);
      expect(staticImporters).toEqual([]);
    },
  );
});
