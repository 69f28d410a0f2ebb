/**
 * `npm run build`: bundles every esbuild-built function of template.yaml into dist/<stage>/ with
 * the esbuild settings from its Metadata.BuildProperties (see scripts/lib/esbuild-options.ts),
 * and prints each bundle's size.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { esbuildOptions } from './lib/esbuild-options';
import { esbuildFunctions, parseTemplate } from './lib/sam-template';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<number> {
  const template = parseTemplate(readFileSync(path.join(root, 'template.yaml'), 'utf8'));
  const functions = esbuildFunctions(template);
  if (functions.length === 0) {
    console.error('template.yaml has no AWS::Serverless::Function with Metadata.BuildMethod: esbuild');
    return 1;
  }
  let failed = 0;
  for (const fn of functions) {
    const outdir = path.join(root, 'dist', fn.stage);
    const options = esbuildOptions(fn.buildProperties, {
      codeDir: path.resolve(root, fn.codeUri),
      outdir,
      handler: fn.handler,
      logicalId: fn.logicalId,
    });
    const missing = (options.entryPoints as string[]).filter((entry) => !existsSync(entry));
    if (missing.length > 0) {
      console.error(
        `${fn.logicalId} (${fn.stage}): entry point ${missing.map((m) => path.relative(root, m)).join(', ')} does not exist. ` +
          'Create it or fix Metadata.BuildProperties.EntryPoints in template.yaml.',
      );
      failed++;
      continue;
    }
    rmSync(outdir, { recursive: true, force: true });
    const result = await build({ ...options, metafile: true, logLevel: 'warning' });
    for (const file of Object.keys(result.metafile.outputs).sort()) {
      const bytes = statSync(path.resolve(root, file)).size;
      console.log(
        `${fn.stage.padEnd(16)} ${path.relative(root, path.resolve(root, file)).padEnd(40)} ${(bytes / 1024).toFixed(1).padStart(9)} KiB`,
      );
    }
  }
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
