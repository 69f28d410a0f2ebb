import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/errors';
import { loadTrustStoreDirectory } from '../../../shared/notary/trust-store-directory';
import { TrustStoreSet } from '../../../shared/notary/trust-store';

const vectors = fileURLToPath(new URL('../../../../shared/vectors/', import.meta.url));
const vectorX509 = path.join(vectors, 'notation-go/verifier/testdata/truststore/x509');
const ROOT_PEM = path.join(vectorX509, 'ca/valid-trust-store/NotationTestRoot.pem');

/** notation-go's test config dir: its truststore/x509 holds the stores the conformance vectors use. */
const VECTOR_CONFIG_DIR = path.join(vectors, 'notation-go/verifier/testdata');

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A config dir with one store `ca:acme` holding the given files (name → content). */
function storeDir(files: Record<string, string | Buffer>): { configDir: string; store: string } {
  const configDir = mkdtempSync(path.join(tmpdir(), 'stagesign-ts-'));
  temps.push(configDir);
  const store = path.join(configDir, 'truststore/x509/ca/acme');
  mkdirSync(store, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(store, name), content);
  return { configDir, store };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('loadTrustStoreDirectory', () => {
  describe('with the notation-go test trust store (PEM, CRT and DER files)', () => {
    it('loads every store the conformance vectors use, with their certificates', async () => {
      const set = await loadTrustStoreDirectory(VECTOR_CONFIG_DIR);
      const prefixes = (ref: string) => set.get(ref)?.anchors.map((a) => a.sha256.slice(0, 8));
      expect(set.list().map((s) => `${s.type}:${s.name}`)).toEqual([
        'ca:valid-trust-store',
        'signingAuthority:valid-trust-store',
        'signingAuthority:valid-trust-store-2',
        'tsa:test-timestamp',
      ]);
      expect(set.get('ca:valid-trust-store')?.anchors).toHaveLength(6);
      expect(prefixes('signingAuthority:valid-trust-store')).toEqual(['cbb522d7', 'cbb522d7', '86df8041']);
      expect(prefixes('signingAuthority:valid-trust-store-2')).not.toContain('86df8041');
    });

    it('lets a directory store replace a built-in one of the same name when composed', async () => {
      const { configDir } = storeDir({});
      const sa = path.join(configDir, 'truststore/x509/signingAuthority/aws-signer-ts');
      mkdirSync(sa, { recursive: true });
      copyFileSync(ROOT_PEM, path.join(sa, 'root.pem'));
      rmSync(path.join(configDir, 'truststore/x509/ca'), { recursive: true });
      const set = TrustStoreSet.builtIn().with(...(await loadTrustStoreDirectory(configDir)).list());
      expect(set.get('signingAuthority:aws-signer-ts')?.pinnedSha256).toBeUndefined();
      expect(set.get('signingAuthority:aws-signer-ts')?.anchors[0]?.sha256).toMatch(/^86df8041/);
      expect(set.get('signingAuthority:aws-us-gov-signer-ts')).toBeDefined();
    });
  });

  it('returns an empty set when the directory has no truststore/x509', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'stagesign-ts-'));
    temps.push(dir);
    expect((await loadTrustStoreDirectory(dir)).list()).toEqual([]);
  });

  describe('with a store notation rejects', () => {
    it('rejects a symlinked certificate file', async () => {
      const { configDir, store } = storeDir({});
      symlinkSync(ROOT_PEM, path.join(store, 'root.pem'));
      const error = await rejection(loadTrustStoreDirectory(configDir));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({
        code: 'TRUST_STORE_INVALID',
        message: `"${path.join(store, 'root.pem')}" is not a regular file (directories or symlinks are not supported)`,
      });
    });

    it('rejects a sub-directory inside a store', async () => {
      const { configDir, store } = storeDir({ 'root.pem': readFileSync(ROOT_PEM) });
      mkdirSync(path.join(store, 'nested'));
      await expect(loadTrustStoreDirectory(configDir)).rejects.toMatchObject({
        code: 'TRUST_STORE_INVALID',
        message: `"${path.join(store, 'nested')}" is not a regular file (directories or symlinks are not supported)`,
      });
    });

    it('rejects a symlinked store directory', async () => {
      const { configDir } = storeDir({ 'root.pem': readFileSync(ROOT_PEM) });
      const link = path.join(configDir, 'truststore/x509/ca/linked');
      symlinkSync(path.join(configDir, 'truststore/x509/ca/acme'), link);
      await expect(loadTrustStoreDirectory(configDir)).rejects.toMatchObject({
        code: 'TRUST_STORE_INVALID',
        message: `"${link}" is not a regular directory (symlinks are not supported)`,
      });
    });

    it('rejects a leaf certificate that is neither a CA nor self-signed, naming the file', async () => {
      const envelope = JSON.parse(
        readFileSync(path.join(vectors, 'notation-go/internal/mock/testdata/sa_valid_sig_env.json'), 'utf8'),
      );
      const { configDir, store } = storeDir({ 'leaf.cer': Buffer.from(envelope.header.x5c[0], 'base64') });
      await expect(loadTrustStoreDirectory(configDir)).rejects.toMatchObject({
        code: 'TRUST_STORE_INVALID',
        message: `certificate with subject "CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US" from file "${path.join(store, 'leaf.cer')}" is not a CA certificate or self-signed signing certificate`,
      });
    });

    it('rejects a store without certificates', async () => {
      const { configDir } = storeDir({});
      await expect(loadTrustStoreDirectory(configDir)).rejects.toMatchObject({
        code: 'TRUST_STORE_INVALID',
        message: 'no x509 certificates were found in trust store "acme" of type "ca"',
      });
    });

    it('rejects a stray file that is not a certificate, as notation reads every file', async () => {
      const { configDir, store } = storeDir({ 'root.pem': readFileSync(ROOT_PEM), 'README.txt': 'notes' });
      await expect(loadTrustStoreDirectory(configDir)).rejects.toMatchObject({
        code: 'TRUST_STORE_INVALID',
        message: `error while reading certificates from "${path.join(store, 'README.txt')}": x509: malformed certificate`,
      });
    });

    it('rejects a file that holds no certificate', async () => {
      const { configDir, store } = storeDir({ 'empty.pem': '' });
      await expect(loadTrustStoreDirectory(configDir)).rejects.toMatchObject({
        code: 'TRUST_STORE_INVALID',
        message: `could not parse a certificate from "${path.join(store, 'empty.pem')}", every file in a trust store must have a PEM or DER certificate in it`,
      });
    });
  });
});
