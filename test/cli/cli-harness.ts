/**
 * Runs the real `stagesign` command in a child process (`node cli/bin/stagesign.mjs …`, the file
 * `npx stagesign` runs) and prepares its inputs in temporary folders: OCI image layouts written
 * with `OciLayoutRegistry`, a local P-384 PKI, signatures made with the shared signing code, and
 * notation configuration directories.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { signArtifact } from '../../shared/notary/sign-artifact';
import type { PayloadSigner } from '../../shared/notary/types';
import { OciLayoutRegistry } from '../../shared/oci/oci-layout-registry';
import type { Reference } from '../../shared/oci/reference';
import { MediaType } from '../../shared/oci/types';
import type { Descriptor } from '../../shared/oci/types';
import { LocalKeySigner } from '../../shared/signer/local-key-signer';
import { buildSampleImage, pushSampleImage } from '../../scripts/demo-image';
import { createDemoPki, DEMO_SIGNER_SUBJECT } from '../../scripts/demo-pki';
import { forgeSignatureCopy } from '../../scripts/demo-tamper';
import type { DemoPki } from '../../scripts/demo-pki';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const STAGESIGN = path.join(REPO_ROOT, 'cli/bin/stagesign.mjs');
export const SIGNER_IDENTITY = `x509.subject:${DEMO_SIGNER_SUBJECT}`;

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `stagesign <args>`; HOME and XDG_CONFIG_HOME point into `home` unless `env` says otherwise. */
export function stagesign(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [STAGESIGN, ...args],
      {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env['PATH'] ?? '',
          // Never reach a real AWS account from a test.
          AWS_ACCESS_KEY_ID: 'AKIDTESTTESTTESTTEST',
          AWS_SECRET_ACCESS_KEY: 'test-secret',
          AWS_REGION: 'us-west-2',
          AWS_EC2_METADATA_DISABLED: 'true',
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

/** Lines of an output, without the trailing empty line. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line, i, all) => !(i === all.length - 1 && line === ''));
}

/** A temporary folder with a PKI and helpers to write layouts, signatures and notation configuration. */
export class Workspace {
  private constructor(
    readonly dir: string,
    readonly pki: DemoPki,
  ) {}

  static async create(options: { pkiTime?: Date } = {}): Promise<Workspace> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stagesign-cli-'));
    return new Workspace(dir, await createDemoPki(options.pkiTime ?? new Date()));
  }

  readonly registry = new OciLayoutRegistry();

  /** Writes this workspace's leaf key and chain to `key.pem` and `chain.pem` (for `sign --key/--cert`). */
  async keyFiles(): Promise<{ keyFile: string; chainFile: string }> {
    const keyFile = path.join(this.dir, 'key.pem');
    const chainFile = path.join(this.dir, 'chain.pem');
    await writeFile(keyFile, this.pki.leafKeyPem);
    await writeFile(chainFile, this.pki.chainPem);
    return { keyFile, chainFile };
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  /** A new OCI layout `<dir>/<name>` holding a sample image tagged `v1`; returns the layout reference and descriptor. */
  async image(
    name: string,
    text = `content of ${name}\n`,
  ): Promise<{ layout: Reference; desc: Descriptor; byDigest: string; byTag: string }> {
    const layout: Reference = { registry: '', repository: path.join(this.dir, name) };
    const desc = await pushSampleImage(this.registry, layout, buildSampleImage(text), 'v1');
    return {
      layout,
      desc,
      byDigest: `${layout.repository}@${desc.digest}`,
      byTag: `${layout.repository}:v1`,
    };
  }

  /** A local-key signer on this workspace's PKI (optionally another clock or an expiry). */
  signer(options: { now?: () => Date; expirySeconds?: number } = {}): LocalKeySigner {
    return new LocalKeySigner({
      privateKeyPem: this.pki.leafKeyPem,
      certificateChainPem: this.pki.chainPem,
      ...options,
    });
  }

  /** Signs `layout@desc` with the shared signing code; returns the signature manifest digest. */
  async sign(layout: Reference, desc: Descriptor, signer: PayloadSigner = this.signer()): Promise<string> {
    const signed = await signArtifact(
      { registry: this.registry, signer },
      { ...layout, digest: desc.digest },
      { now: new Date(), force: true },
    );
    return signed.signatureDigest;
  }

  /**
   * Attaches to `victim` a copy of `signatureDigest`'s envelope whose payload was rewritten to name
   * `victim` (the JWS signature bytes are kept, so they no longer match).
   */
  async forgeSignature(
    layout: Reference,
    signatureDigest: string,
    original: Descriptor,
    victim: Descriptor,
  ): Promise<string> {
    const referrers = await this.registry.listReferrers(layout, original, MediaType.NotarySignature);
    const source = referrers.find((d) => d.digest === signatureDigest)!;
    return forgeSignatureCopy(this.registry, layout, source, victim);
  }

  /**
   * A notation configuration directory `<dir>/<name>`: `trustpolicy.oci.json` (a `*` statement
   * at `level`, or the given document/text) and trust stores (`type:name` → PEM; default
   * `ca:test` = this workspace's root).
   */
  async config(
    name: string,
    options: {
      level?: string;
      identities?: string[];
      stores?: Record<string, string>;
      policy?: unknown;
      policyFile?: string;
    } = {},
  ): Promise<string> {
    const configDir = path.join(this.dir, name);
    const stores = options.stores ?? { 'ca:test': this.pki.rootPem };
    for (const [ref, pem] of Object.entries(stores)) {
      const [type, storeName] = ref.split(':') as [string, string];
      const storeDir = path.join(configDir, 'truststore', 'x509', type, storeName);
      await mkdir(storeDir, { recursive: true });
      await writeFile(path.join(storeDir, 'root.pem'), pem);
    }
    await mkdir(configDir, { recursive: true });
    const policy =
      options.policy ??
      ({
        version: '1.0',
        trustPolicies: [
          {
            name: 'test',
            registryScopes: ['*'],
            signatureVerification: { level: options.level ?? 'strict' },
            trustStores: Object.keys(stores),
            trustedIdentities: options.identities ?? [SIGNER_IDENTITY],
          },
        ],
      } as const);
    await writeFile(
      path.join(configDir, options.policyFile ?? 'trustpolicy.oci.json'),
      typeof policy === 'string' ? policy : JSON.stringify(policy, null, 2),
    );
    return configDir;
  }
}
