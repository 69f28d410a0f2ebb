#!/usr/bin/env node
// The `stagesign` command. In the repository (the TypeScript sources are next to it) it loads them
// through tsx's ESM loader, so `npx stagesign …` works right after `npm ci`, with no build step and
// never a stale bundle. In an installed package (`npm pack`, then `npm install -g`), which ships no
// sources, it runs the bundle made at pack time (cli/bin/dist/stagesign.mjs, no dev tooling needed).
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

if (existsSync(new URL('../main.ts', import.meta.url))) {
  // stderr carries notation's warnings and errors only: keep the AWS SDK's notice about future
  // Node versions out of it (set the variable to "false" to see it).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { register } = await import('tsx/esm/api');
  register();
  const { run } = await import('../main.ts');
  process.exitCode = await run(process.argv.slice(2));
} else {
  await import(new URL('./dist/stagesign.mjs', import.meta.url).href);
}
