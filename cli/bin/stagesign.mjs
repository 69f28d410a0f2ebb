#!/usr/bin/env node
// The `stagesign` command: a tiny shim that loads the TypeScript entry through tsx's ESM loader,
// so `npx stagesign …` works in the repository right after `npm ci`, with no build step.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../main.ts');
process.exitCode = await run(process.argv.slice(2));
