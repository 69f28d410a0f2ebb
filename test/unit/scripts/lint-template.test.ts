import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `npm run lint:template` (scripts/lint-template.sh) on a machine with and without a working
 * cfn-lint. A stand-in `cfn-lint` first on PATH decides which: one that records its arguments, or
 * one that fails like a missing tool (a pyenv shim whose Python lacks the package answers 127).
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(path.join(tmpdir(), 'stagesign-lint-template-'));

function withStandIn(name: string, body: string): string {
  const bin = path.join(dir, name);
  const script = path.join(bin, 'cfn-lint');
  spawnSync('mkdir', ['-p', bin]);
  writeFileSync(script, `#!/bin/sh\n${body}\n`);
  chmodSync(script, 0o755);
  return bin;
}

function lintTemplate(binDir: string, args: string[] = []) {
  return spawnSync('/bin/sh', [path.join(root, 'scripts/lint-template.sh'), ...args], {
    cwd: root,
    env: { PATH: `${binDir}:/usr/bin:/bin`, HOME: dir },
    encoding: 'utf8',
  });
}

describe('scripts/lint-template.sh', () => {
  it('runs cfn-lint on template.yaml with the extra arguments and passes its status on', () => {
    const bin = withStandIn('working', 'echo "cfn-lint $*"; [ "$1" = --version ] || exit 4');
    const run = lintTemplate(bin, ['--format', 'json']);
    expect(run.stdout).toBe('cfn-lint template.yaml --format json\n');
    expect(run.status).toBe(4);
  });

  it('says how to install cfn-lint and fails when it cannot run', () => {
    const bin = withStandIn('missing', 'echo "pyenv: cfn-lint: command not found" >&2; exit 127');
    const run = lintTemplate(bin);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('cfn-lint is not installed, so template.yaml cannot be checked');
    expect(run.stderr).toContain('pip install "cfn-lint==1.51.0"');
    expect(run.stderr).not.toContain('not found');
  });
});
