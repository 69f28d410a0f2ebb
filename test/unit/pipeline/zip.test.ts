import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ZIP_LIMITS, checkEntryPath, readZip, writeZip } from '../../../shared/pipeline/zip';

const enc = (s: string) => new TextEncoder().encode(s);

describe('readZip', () => {
  it('reads a real zip with nested folders', () => {
    const bytes = zipSync({
      'manifest.yaml': enc('kind: Deployment\n'),
      'sub/dir/file.txt': enc('hello'),
      'empty/': new Uint8Array(),
    });
    const files = readZip(bytes);
    expect([...files.keys()].sort()).toEqual(['manifest.yaml', 'sub/dir/file.txt']);
    expect(new TextDecoder().decode(files.get('sub/dir/file.txt'))).toBe('hello');
  });

  it('reads back what writeZip wrote, byte for byte', () => {
    const input = new Map([
      ['a.json', enc('{"a":1}')],
      ['bin/data', new Uint8Array([0, 1, 2, 255])],
    ]);
    const out = readZip(writeZip(input));
    expect(out).toEqual(input);
  });

  it.each(['../evil.sh', 'a/../../evil', '/etc/passwd', 'C:/windows/evil', 'a\\..\\evil', 'a//b', './a'])(
    'rejects the zip-slip path %j',
    (name) => {
      const bytes = zipSync({ [name]: enc('x') });
      expect(() => readZip(bytes)).toThrow(expect.objectContaining({ code: 'ARTIFACT_PATH_UNSAFE' }));
    },
  );

  it('rejects an entry larger than the per-entry limit before inflating it', () => {
    const bytes = zipSync({ 'big.bin': new Uint8Array(2048) });
    expect(() => readZip(bytes, { ...DEFAULT_ZIP_LIMITS, maxEntryBytes: 1024 })).toThrow(
      expect.objectContaining({ code: 'ARTIFACT_TOO_LARGE', message: expect.stringContaining('big.bin') }),
    );
  });

  it('rejects a zip whose entries together exceed the total limit', () => {
    const bytes = zipSync({ a: new Uint8Array(600), b: new Uint8Array(600) });
    expect(() => readZip(bytes, { ...DEFAULT_ZIP_LIMITS, maxTotalBytes: 1000 })).toThrow(
      expect.objectContaining({ code: 'ARTIFACT_TOO_LARGE' }),
    );
  });

  it('rejects too many entries and an oversize archive', () => {
    const bytes = zipSync({ a: enc('1'), b: enc('2'), c: enc('3') });
    expect(() => readZip(bytes, { ...DEFAULT_ZIP_LIMITS, maxEntries: 2 })).toThrow(/3 entries/);
    expect(() => readZip(bytes, { ...DEFAULT_ZIP_LIMITS, maxArchiveBytes: 10 })).toThrow(
      expect.objectContaining({ code: 'ARTIFACT_TOO_LARGE' }),
    );
  });

  it('rejects a zip bomb whose header understates the uncompressed size', () => {
    const bytes = zipSync({ 'bomb.bin': new Uint8Array(1_000_000) }, { level: 9 });
    // Rewrite the declared uncompressed size in the central directory to 10 bytes.
    const view = new DataView(bytes.buffer);
    const eocd = bytes.length - 22;
    const cd = view.getUint32(eocd + 16, true);
    view.setUint32(cd + 24, 10, true);
    expect(() => readZip(bytes)).toThrow(expect.objectContaining({ code: 'ARTIFACT_CORRUPT' }));
  });

  it('rejects bytes that are not a zip', () => {
    expect(() => readZip(enc('definitely not a zip file, just text that is long enough'))).toThrow(
      expect.objectContaining({ code: 'ARTIFACT_CORRUPT' }),
    );
  });
});

describe('checkEntryPath', () => {
  it.each(['a', 'a/b.txt', 'dir/', '.hidden', 'a..b'])('accepts the safe path %j', (name) => {
    expect(checkEntryPath(name)).toBe(name);
  });
});

describe('writeZip', () => {
  it('refuses to write an unsafe path', () => {
    expect(() => writeZip(new Map([['../x', enc('x')]]))).toThrow(
      expect.objectContaining({ code: 'ARTIFACT_PATH_UNSAFE' }),
    );
  });

  it('is deterministic for the same files', () => {
    const files = new Map([['a', enc('1')]]);
    expect(writeZip(files)).toEqual(writeZip(files));
  });
});
