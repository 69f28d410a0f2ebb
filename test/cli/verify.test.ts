import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoPki } from '../../scripts/demo-pki';
import { lines, SIGNER_IDENTITY, stagesign, Workspace } from './cli-harness';

const DAY = 86_400_000;

describe('stagesign verify', () => {
  let ws: Workspace;
  let signed: Awaited<ReturnType<Workspace['image']>>;
  let signatureDigest: string;
  let unsigned: Awaited<ReturnType<Workspace['image']>>;
  let configDir: string;

  beforeAll(async () => {
    ws = await Workspace.create();
    signed = await ws.image('signed');
    signatureDigest = await ws.sign(signed.layout, signed.desc);
    unsigned = await ws.image('unsigned');
    configDir = await ws.config('notation');
  });
  afterAll(async () => ws.remove());

  describe('when the image carries a valid signature', () => {
    it('prints the success line on stdout, nothing on stderr, and exits 0', async () => {
      const r = await stagesign(['verify', '--oci-layout', signed.byDigest, '--config-dir', configDir]);
      expect(r).toEqual({
        status: 0,
        stdout: `Successfully verified signature for ${signed.byDigest}\n`,
        stderr: '',
      });
    });

    it('warns on stderr that a tag was verified, and verifies its digest', async () => {
      const r = await stagesign(['verify', '--oci-layout', signed.byTag, '--config-dir', configDir]);
      expect(r.status).toBe(0);
      expect(lines(r.stdout)).toEqual([`Successfully verified signature for ${signed.byDigest}`]);
      expect(lines(r.stderr)).toEqual([
        'Warning: Always verify the artifact using digest(@sha256:...) rather than a tag(:v1) because resolved digest may not point to the same signed artifact, as tags are mutable.',
      ]);
    });

    it('reads the configuration from $XDG_CONFIG_HOME/notation when --config-dir is not given', async () => {
      const xdg = await ws.config('xdg/notation');
      const r = await stagesign(['verify', '--oci-layout', signed.byDigest], {
        XDG_CONFIG_HOME: xdg.replace(/\/notation$/, ''),
        HOME: '/nonexistent',
      });
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('Successfully verified signature for');
    });

    it('falls back to trustpolicy.json when trustpolicy.oci.json is absent', async () => {
      const dir = await ws.config('legacy-name', { policyFile: 'trustpolicy.json' });
      const r = await stagesign(['verify', '--oci-layout', signed.byDigest, '--config-dir', dir]);
      expect(r.status).toBe(0);
    });
  });

  describe('when the image has no signature', () => {
    it("prints notation's no-signature error on stderr and exits 1", async () => {
      const r = await stagesign(['verify', '--oci-layout', unsigned.byDigest, '--config-dir', configDir]);
      expect(r).toEqual({
        status: 1,
        stdout: '',
        stderr: `Error: signature verification failed: no signature is associated with "${unsigned.byDigest}", make sure the artifact was signed successfully\n`,
      });
    });
  });

  describe('when the only signature was tampered with', () => {
    let tampered: Awaited<ReturnType<Workspace['image']>>;
    let forged: string;
    beforeAll(async () => {
      tampered = await ws.image('tampered', 'altered content\n');
      const layout = tampered.layout;
      // The genuine signature is copied into the tampered layout, its payload rewritten to name the altered image.
      const original = await ws.image('tampered', 'content of signed\n');
      const sig = await ws.sign(layout, original.desc);
      forged = await ws.forgeSignature(layout, sig, original.desc, tampered.desc);
    });

    it("fails with notation's all-signatures message and exits 1", async () => {
      const r = await stagesign(['verify', '--oci-layout', tampered.byDigest, '--config-dir', configDir]);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual([
        `Error: signature verification failed for all the signatures associated with ${tampered.byDigest}`,
      ]);
    });

    it("prints each signature's reason with -v", async () => {
      const r = await stagesign([
        'verify',
        '-v',
        '--oci-layout',
        tampered.byDigest,
        '--config-dir',
        configDir,
      ]);
      expect(r.status).toBe(1);
      const err = lines(r.stderr);
      expect(err.slice(0, 2)).toEqual([
        `Using notation configuration directory ${configDir} (from --config-dir)`,
        `Using trust policy ${configDir}/trustpolicy.oci.json`,
      ]);
      expect(err[2]).toMatch(
        new RegExp(`^Signature ${forged} failed verification with error: signature is invalid`),
      );
      expect(err).toContain(
        `Error: signature verification failed for all the signatures associated with ${tampered.byDigest}`,
      );
      expect(
        err.some((l) => l.startsWith('integrity validation failed. Failure reason: signature is invalid')),
      ).toBe(true);
    });
  });

  describe('when the trust policy does not trust the signer', () => {
    it('rejects a signature from another identity and names the mismatch with -v', async () => {
      const dir = await ws.config('other-identity', {
        identities: ['x509.subject:CN=someone else,O=elsewhere,ST=NY,C=US'],
      });
      const r = await stagesign(['verify', '-v', '--oci-layout', signed.byDigest, '--config-dir', dir]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`Signature ${signatureDigest} failed verification with error:`);
      expect(r.stderr).toContain(
        'signing certificate from the digital signature does not match the X.509 trusted identities',
      );
      expect(r.stderr).toContain(
        `Error: signature verification failed for all the signatures associated with ${signed.byDigest}`,
      );
    });

    it('rejects a signature whose chain ends at an untrusted root', async () => {
      const other = await createDemoPki(new Date());
      const dir = await ws.config('untrusted-root', { stores: { 'ca:test': other.rootPem } });
      const r = await stagesign(['verify', '-v', '--oci-layout', signed.byDigest, '--config-dir', dir]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(
        "the signature's certificate chain does not contain any trusted certificate",
      );
      expect(r.stdout).toBe('');
    });
  });

  describe('when the signature has expired', () => {
    let expired: Awaited<ReturnType<Workspace['image']>>;
    let old: Workspace;
    beforeAll(async () => {
      // Keys valid from three days ago; signed two days ago with a one-hour expiry.
      old = await Workspace.create({ pkiTime: new Date(Date.now() - 3 * DAY) });
      expired = await old.image('expired');
      await old.sign(
        expired.layout,
        expired.desc,
        old.signer({ now: () => new Date(Date.now() - 2 * DAY), expirySeconds: 3600 }),
      );
    });
    afterAll(async () => old.remove());

    it('fails at strict, where expiry is enforced', async () => {
      const dir = await old.config('strict', { level: 'strict' });
      const r = await stagesign(['verify', '-v', '--oci-layout', expired.byDigest, '--config-dir', dir]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /expiry validation failed\. Failure reason: digital signature has expired on "\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000"/,
      );
    });

    it('passes at permissive with notation\'s "log" warning on stderr', async () => {
      const dir = await old.config('permissive', { level: 'permissive' });
      const r = await stagesign(['verify', '--oci-layout', expired.byDigest, '--config-dir', dir]);
      expect(r.status).toBe(0);
      expect(lines(r.stdout)).toEqual([`Successfully verified signature for ${expired.byDigest}`]);
      expect(lines(r.stderr)[0]).toMatch(
        /^Warning: expiry was set to "log" and failed with error: digital signature has expired on "/,
      );
    });
  });

  describe('when the policy level is skip', () => {
    it("prints notation's skip line and exits 0 without needing a signature", async () => {
      const dir = await ws.config('skip', {
        policy: {
          version: '1.0',
          trustPolicies: [
            {
              name: 'skip',
              registryScopes: ['*'],
              signatureVerification: { level: 'skip' },
              trustStores: [],
              trustedIdentities: [],
            },
          ],
        },
      });
      const r = await stagesign(['verify', '--oci-layout', unsigned.byDigest, '--config-dir', dir]);
      expect(r.status).toBe(0);
      expect(lines(r.stdout)).toEqual([
        `Trust policy is configured to skip signature verification for ${unsigned.byDigest}`,
      ]);
    });
  });

  describe('when the configuration is broken', () => {
    it("reports an invalid trust policy with notation's rule and exits 1", async () => {
      const dir = await ws.config('bad-version', {
        policy: {
          version: '2.0',
          trustPolicies: [
            {
              name: 'x',
              registryScopes: ['*'],
              signatureVerification: { level: 'strict' },
              trustStores: ['ca:test'],
              trustedIdentities: [SIGNER_IDENTITY],
            },
          ],
        },
      });
      const r = await stagesign(['verify', '--oci-layout', signed.byDigest, '--config-dir', dir]);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^Error: .*version.*2\.0/);
    });

    it("reports a missing trust policy with notation's message", async () => {
      const r = await stagesign([
        'verify',
        '--oci-layout',
        signed.byDigest,
        '--config-dir',
        `${ws.dir}/nowhere`,
      ]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /^Error: trust policy is not present\. To create a trust policy, see: https:\/\/notaryproject\.dev/,
      );
    });

    it('reports an image missing from the layout and exits 1', async () => {
      const r = await stagesign([
        'verify',
        '--oci-layout',
        `${signed.layout.repository}:nope`,
        '--config-dir',
        configDir,
      ]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^Error: .*nope/);
    });
  });

  describe('when the command line is wrong', () => {
    it.each([
      [['verify'], 'Error: accepts 1 arg(s), received 0'],
      [['verify', '--nope', 'x'], 'Error: unknown flag: --nope'],
      [['verify', 'a', 'b'], 'Error: accepts 1 arg(s), received 2'],
      [['verify', '--config-dir'], 'Error: flag needs an argument: --config-dir'],
      [
        ['verify', '--max-signatures', '0', 'x'],
        'Error: invalid argument "0" for "--max-signatures" flag: must be a positive whole number',
      ],
      [['frobnicate'], 'Error: unknown command "frobnicate" for "stagesign"'],
    ])('stagesign %j prints a usage error and exits 1', async (args, message) => {
      const r = await stagesign(args);
      expect(r.status).toBe(1);
      expect(lines(r.stderr)[0]).toBe(message);
    });

    it('rejects a reference without a registry host when --oci-layout is not given', async () => {
      const r = await stagesign(['verify', 'app@sha256:abc', '--config-dir', configDir]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^Error: invalid reference "app@sha256:abc"/);
    });

    it('prints help on --help and exits 0', async () => {
      const r = await stagesign(['verify', '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('stagesign verify [flags] <reference>');
    });
  });
});
