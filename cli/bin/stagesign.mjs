#!/usr/bin/env node
// The `stagesign` command: a tiny shim that loads the TypeScript entry through tsx's ESM loader,
// so `npx stagesign …` works in the repository right after `npm ci`, with no build step.
import process from 'node:process';
import { register } from 'tsx/esm/api';

// stderr carries notation's warnings and errors only: keep the AWS SDK's notice about future Node
// versions out of it (set the variable to "false" to see it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
const { run } = await import('../main.ts');
process.exitCode = await run(process.argv.slice(2));
