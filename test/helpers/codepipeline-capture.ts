import { vi } from 'vitest';

/** Captures everything written to stdout and stderr (where the Powertools logger writes) while `fn` runs. */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result: T; output: string }> {
  const chunks: string[] = [];
  const grab = (chunk: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(grab as typeof process.stdout.write);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(grab as typeof process.stderr.write);
  try {
    const result = await fn();
    return { result, output: chunks.join('') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
