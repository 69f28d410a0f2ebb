import { spawnSync } from 'node:child_process';

/** One fresh Node process per run imports the bundle; this is what Lambda's INIT pays for our code. */
const PROBE = `
const c0 = process.cpuUsage();
const t0 = performance.now();
await import(process.argv[1]);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(c0);
console.log(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, rss: process.memoryUsage().rss }));
`;

/** Medians over the runs: wall time and CPU time of the import, and the process RSS after it. */
export interface ColdImport {
  runs: number;
  ms: number;
  cpuMs: number;
  rss: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Imports `bundle` (an absolute path) in `runs` fresh processes with a minimal environment (a
 * fixed region and fake credentials, plus `env`, e.g. `NODE_OPTIONS`) and returns the medians.
 */
export function coldImport(bundle: string, runs: number, env: Record<string, string> = {}): ColdImport {
  const ms: number[] = [];
  const cpuMs: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, bundle], {
      encoding: 'utf8',
      env: {
        PATH: process.env['PATH'],
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDBENCH',
        AWS_SECRET_ACCESS_KEY: 'bench',
        ...env,
      },
    });
    if (r.status !== 0) throw new Error(`importing ${bundle} failed:\n${r.stderr}`);
    const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; cpuMs: number; rss: number };
    ms.push(m.ms);
    cpuMs.push(m.cpuMs);
    rss.push(m.rss);
  }
  return { runs, ms: median(ms), cpuMs: median(cpuMs), rss: median(rss) };
}

/** One kind of fresh Node process the cold-start bench times. */
export interface ProcessCase {
  readonly name: string;
  /** Arguments after the node executable, e.g. `['-e', '0']`. */
  readonly args: readonly string[];
}

/** `node --input-type=module -e "await import(<bundle>)"`: the process the import targets compare. */
export function importCase(name: string, bundle: string): ProcessCase {
  return { name, args: ['--input-type=module', '-e', `await import(${JSON.stringify(bundle)})`] };
}

/** `node -e 0`: the bare process every import is compared with. */
export const BARE_NODE: ProcessCase = { name: 'bare node -e 0', args: ['-e', '0'] };

/** Wall time of one fresh Node process running `args`. */
function processMs(args: readonly string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed:\n${String(r.stderr)}`);
  return ms;
}

/** One case's samples from {@link pairedProcessMs}: its times, the bare runs just before them, and their ratios. */
export interface PairedSamples {
  readonly ms: number[];
  readonly bareMs: number[];
  readonly ratios: number[];
}

/**
 * Wall time of fresh Node processes against a bare one, in pairs: each run of a case comes right
 * after its own run of `bare`, and the cases take turns (bare, sign, bare, verify, …, then the
 * next round), so load on the machine slows both halves of a pair alike. `runs` rounds; take
 * the median of the pair ratios (one descheduled run must not decide a target).
 */
export function pairedProcessMs(
  bare: ProcessCase,
  cases: readonly ProcessCase[],
  runs: number,
  env: NodeJS.ProcessEnv,
): Map<string, PairedSamples> {
  const samples = new Map<string, PairedSamples>(
    cases.map((c) => [c.name, { ms: [], bareMs: [], ratios: [] }]),
  );
  for (let round = 0; round < runs; round++) {
    for (const c of cases) {
      const bareMs = processMs(bare.args, env);
      const ms = processMs(c.args, env);
      const s = samples.get(c.name)!;
      s.bareMs.push(bareMs);
      s.ms.push(ms);
      s.ratios.push(ms / bareMs);
    }
  }
  return samples;
}
