/**
 * `npm pack` (prepack): bundles the `stagesign` command with esbuild into cli/bin/dist/stagesign.mjs,
 * one self-contained ES module for Node 20+, so the installed command runs without tsx or the
 * TypeScript sources. cli/bin/stagesign.mjs runs the sources through tsx where they exist (the
 * clone) and this bundle otherwise (the packed tarball ships no sources). `--clean` (postpack)
 * removes it again.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'cli', 'bin', 'dist');

if (process.argv.includes('--clean')) {
  rmSync(outdir, { recursive: true, force: true });
} else {
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: [path.join(root, 'cli', 'entry.ts')],
    outfile: path.join(outdir, 'stagesign.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: false,
    legalComments: 'none',
    logLevel: 'warning',
    // CommonJS dependencies bundled into an ES module still call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __stagesignRequire } from 'node:module';\nconst require = __stagesignRequire(import.meta.url);",
    },
  });
  console.log(`bundled ${path.relative(root, path.join(outdir, 'stagesign.mjs'))}`);
}
