import { crc32 } from 'node:zlib';
import { InputError } from '../errors';

/**
 * fflate, loaded when this module is (no later: every job reads or writes a zip). Not a static
 * import because fflate builds its Huffman tables with loops of up to 32768 iterations when it
 * is evaluated. Statically imported, a bundled module's top-level code becomes part of the
 * bundle's single top-level function, which is too large for V8 to optimise, so those loops run
 * in the interpreter: about 35 ms of every stage's cold start (bench/run.ts). The target of an
 * `import()` is bundled by esbuild as a function of its own, which V8 optimises while it runs.
 */
const { unzipSync, zipSync } = await import('fflate');

/**
 * In-memory zip reading and writing for artifacts, with limits: artifacts come from other
 * pipeline actions and are treated as untrusted input (zip bombs, zip-slip paths, corrupt data).
 * Pure: bytes in, files out.
 */
export interface ZipLimits {
  /** Size of the zip itself. */
  readonly maxArchiveBytes: number;
  readonly maxEntries: number;
  /** Uncompressed size of one entry. */
  readonly maxEntryBytes: number;
  /** Uncompressed size of all entries together. */
  readonly maxTotalBytes: number;
}

/** Generous for manifests and signatures, small enough for a 512 MB–1 GB Lambda. */
export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxArchiveBytes: 64 * 1024 * 1024,
  maxEntries: 1000,
  maxEntryBytes: 32 * 1024 * 1024,
  maxTotalBytes: 128 * 1024 * 1024,
};

interface CentralEntry {
  readonly name: string;
  readonly flags: number;
  readonly crc: number;
  readonly size: number;
}

/**
 * Checks one entry path and returns it unchanged. Rejects what could escape an extraction
 * folder or mean different files on different systems: empty names, absolute paths, drive
 * letters, backslashes, NUL, `.` and `..` segments.
 *
 * @throws InputError `ARTIFACT_PATH_UNSAFE`
 */
export function checkEntryPath(name: string, label = 'artifact'): string {
  const unsafe = (why: string): InputError =>
    new InputError(
      'ARTIFACT_PATH_UNSAFE',
      `The ${label} zip contains an unsafe path ${JSON.stringify(name.slice(0, 200))}: ${why}.`,
    );
  if (name.length === 0) throw unsafe('it is empty');
  if (name.includes('\0')) throw unsafe('it contains NUL');
  if (name.includes('\\')) throw unsafe('it contains a backslash');
  if (name.startsWith('/')) throw unsafe('it is absolute');
  if (/^[A-Za-z]:/.test(name)) throw unsafe('it starts with a drive letter');
  const segments = name.replace(/\/$/, '').split('/');
  if (segments.some((s) => s === '..')) throw unsafe('it contains a ".." segment');
  if (segments.some((s) => s === '.' || s === '')) throw unsafe('it contains an empty or "." segment');
  return name;
}

/**
 * Extracts a zip in memory. Directory entries are skipped.
 *
 * @throws InputError `ARTIFACT_TOO_LARGE`, `ARTIFACT_PATH_UNSAFE`, `ARTIFACT_CORRUPT`
 *   (unreadable, encrypted, unsupported compression, CRC mismatch) or `ARTIFACT_DUPLICATE_PATH`.
 */
export function readZip(
  bytes: Uint8Array,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
  label = 'artifact',
): Map<string, Uint8Array> {
  if (bytes.length > limits.maxArchiveBytes) {
    throw tooLarge(label, `the zip is ${bytes.length} bytes, over the limit of ${limits.maxArchiveBytes}`);
  }
  const entries = readCentralDirectory(bytes, label);
  if (entries.length > limits.maxEntries) {
    throw tooLarge(label, `it has ${entries.length} entries, over the limit of ${limits.maxEntries}`);
  }
  let total = 0;
  const seen = new Set<string>();
  for (const entry of entries) {
    checkEntryPath(entry.name, label);
    if (entry.flags & 1) throw corrupt(label, `entry ${JSON.stringify(entry.name)} is encrypted`);
    if (entry.size > limits.maxEntryBytes) {
      throw tooLarge(
        label,
        `entry ${JSON.stringify(entry.name)} is ${entry.size} bytes, over the per-entry limit of ${limits.maxEntryBytes}`,
      );
    }
    total += entry.size;
    if (seen.has(entry.name)) {
      throw new InputError(
        'ARTIFACT_DUPLICATE_PATH',
        `The ${label} zip contains ${JSON.stringify(entry.name)} twice.`,
      );
    }
    seen.add(entry.name);
  }
  if (total > limits.maxTotalBytes) {
    throw tooLarge(label, `its entries total ${total} bytes, over the limit of ${limits.maxTotalBytes}`);
  }
  let extracted: Record<string, Uint8Array>;
  try {
    // fflate inflates each entry into a buffer of the declared size, so a lying header cannot
    // allocate more than the limits checked above; the CRC check below catches the lie.
    extracted = unzipSync(bytes, { filter: (file) => !file.name.endsWith('/') });
  } catch (error) {
    throw corrupt(label, error instanceof Error ? error.message : String(error));
  }
  const files = new Map<string, Uint8Array>();
  for (const entry of entries) {
    if (entry.name.endsWith('/')) continue;
    const data = extracted[entry.name];
    if (!data) throw corrupt(label, `entry ${JSON.stringify(entry.name)} could not be read`);
    if (data.length !== entry.size || crc32(data) >>> 0 !== entry.crc) {
      throw corrupt(label, `entry ${JSON.stringify(entry.name)} does not match its size or CRC-32`);
    }
    files.set(entry.name, data);
  }
  return files;
}

/**
 * Builds a zip (deflate, fixed timestamps so the same files give the same bytes).
 *
 * @throws InputError `ARTIFACT_PATH_UNSAFE` for a path that readers would reject.
 */
export function writeZip(files: ReadonlyMap<string, Uint8Array>, label = 'output artifact'): Uint8Array {
  const input: Record<string, Uint8Array> = {};
  for (const [name, data] of files) input[checkEntryPath(name, label)] = data;
  return zipSync(input, { level: 6, mtime: new Date('1980-01-01T00:00:00Z') });
}

// The central directory is read here (not trusted from fflate) to get each entry's declared
// size, flags and CRC-32 before anything is inflated. Layout: APPNOTE.TXT §4.3.12, §4.3.16.
function readCentralDirectory(bytes: Uint8Array, label: string): CentralEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw corrupt(label, 'it is not a zip file (no end of central directory record)');
  const count = view.getUint16(eocd + 10, true);
  const offset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || offset === 0xffffffff) throw corrupt(label, 'ZIP64 archives are not supported');
  const entries: CentralEntry[] = [];
  let o = offset;
  for (let i = 0; i < count; i++) {
    if (o + 46 > bytes.length || view.getUint32(o, true) !== 0x02014b50) {
      throw corrupt(label, 'the central directory is truncated');
    }
    const flags = view.getUint16(o + 8, true);
    const nameLength = view.getUint16(o + 28, true);
    const extraLength = view.getUint16(o + 30, true);
    const commentLength = view.getUint16(o + 32, true);
    if (o + 46 + nameLength > bytes.length) throw corrupt(label, 'the central directory is truncated');
    const rawName = bytes.subarray(o + 46, o + 46 + nameLength);
    // Same decoding as fflate: UTF-8 when flag bit 11 is set, otherwise one byte per character.
    const name = flags & 0x800 ? new TextDecoder().decode(rawName) : String.fromCharCode(...rawName);
    entries.push({ name, flags, crc: view.getUint32(o + 16, true), size: view.getUint32(o + 24, true) });
    o += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function tooLarge(label: string, why: string): InputError {
  return new InputError('ARTIFACT_TOO_LARGE', `The ${label} is too large: ${why}.`);
}

function corrupt(label: string, why: string): InputError {
  return new InputError('ARTIFACT_CORRUPT', `The ${label} is not a readable zip: ${why}.`);
}
