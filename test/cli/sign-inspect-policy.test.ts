import { createHash, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsShapedSigning, startSignerStandIn } from '../helpers/signer-stand-in';
import type { SignerStandIn } from '../helpers/signer-stand-in';
import { loadTestSigningAuthority } from '../helpers/test-signing-authority';
import { lines, stagesign, Workspace } from './cli-harness';

const PROFILE_ARN = 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/cli_test';

describe('stagesign sign with a local key', () => {
  let ws: Workspace;
  let keyFile: string;
  let chainFile: string;
  beforeAll(async () => {
    ws = await Workspace.create();
    ({ keyFile, chainFile } = await ws.keyFiles());
  });
  afterAll(async () => ws.remove());

  it.each(['oci-1.1', 'legacy'])(
    'signs an OCI layout image (%s manifest) so that verify accepts it',
    async (shape) => {
      const image = await ws.image(`to-sign-${shape}`);
      const signed = await stagesign([
        'sign',
        '--oci-layout',
        image.byDigest,
        '--key',
        keyFile,
        '--cert',
        chainFile,
        '--signature-manifest',
        shape,
      ]);
      expect(signed.status).toBe(0);
      const out = lines(signed.stdout);
      expect(out[0]).toBe(`Successfully signed ${image.byDigest}`);
      expect(out[1]).toMatch(
        new RegExp(
          `^Pushed the signature to ${image.layout.repository.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}@sha256:[0-9a-f]{64}$`,
        ),
      );
      const verified = await stagesign([
        'verify',
        '--oci-layout',
        image.byDigest,
        '--config-dir',
        await ws.config(`cfg-${shape}`),
      ]);
      expect(verified.status).toBe(0);
    },
  );

  it("signs the digest a tag resolves to, with notation's tag warning", async () => {
    const image = await ws.image('by-tag');
    const r = await stagesign(['sign', '--oci-layout', image.byTag, '--key', keyFile, '--cert', chainFile]);
    expect(r.status).toBe(0);
    expect(lines(r.stdout)[0]).toBe(`Successfully signed ${image.byDigest}`);
    expect(r.stderr).toMatch(
      /^Warning: Always sign the artifact using digest\(@sha256:\.\.\.\) rather than a tag\(:v1\)/,
    );
  });

  it.each([
    [
      ['sign', 'x'],
      'Error: give either --signing-profile <ARN> or both --key <key.pem> and --cert <chain.pem>',
    ],
    [
      ['sign', 'x', '--key', 'k.pem'],
      'Error: local signing needs both --key <key.pem> and --cert <chain.pem>',
    ],
    [
      ['sign', 'x', '--signing-profile', PROFILE_ARN, '--key', 'k', '--cert', 'c'],
      'Error: give either --signing-profile <ARN> or both --key <key.pem> and --cert <chain.pem>',
    ],
    [
      ['sign', 'x', '--signing-profile', PROFILE_ARN, '--signature-manifest', 'v3'],
      'Error: invalid argument "v3" for "--signature-manifest" flag: use oci-1.1 or legacy',
    ],
  ])('stagesign %j is a usage error (exit 1)', async (args, message) => {
    const r = await stagesign(args);
    expect(r.status).toBe(1);
    expect(lines(r.stderr)[0]).toBe(message);
  });

  it('refuses a key that does not belong to the certificate', async () => {
    const other = await Workspace.create();
    try {
      const image = await ws.image('mismatch');
      const otherKey = path.join(other.dir, 'key.pem');
      await writeFile(otherKey, other.pki.leafKeyPem);
      const r = await stagesign([
        'sign',
        '--oci-layout',
        image.byDigest,
        '--key',
        otherKey,
        '--cert',
        chainFile,
      ]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^Error: the private key does not match the leaf certificate/);
    } finally {
      await other.remove();
    }
  });
});

describe('stagesign sign --signing-profile and verify against an AWS Signer stand-in', () => {
  let ws: Workspace;
  let signer: SignerStandIn;
  let configDir: string;
  let image: Awaited<ReturnType<Workspace['image']>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    ws = await Workspace.create();
    signer = await startSignerStandIn();
    const authority = loadTestSigningAuthority();
    signer.onSignPayload(
      awsShapedSigning({ privateKey: authority.leafKey, certificateChain: authority.chain }),
    );
    env = { AWS_ENDPOINT_URL_SIGNER: signer.endpoint };
    configDir = await ws.config('aws', {
      stores: { 'signingAuthority:test-signer-ts': authority.rootPem },
      identities: [PROFILE_ARN],
    });
    image = await ws.image('aws');
  });
  afterAll(async () => {
    await signer.close();
    await ws.remove();
  });

  it("signs through SignPayload with the profile's name, owner and the Notary payload format", async () => {
    const r = await stagesign(
      ['sign', '--oci-layout', image.byDigest, '--signing-profile', PROFILE_ARN],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(lines(r.stdout)[0]).toBe(`Successfully signed ${image.byDigest}`);
    const [request] = signer.signPayloadRequests();
    expect(request).toMatchObject({
      profileName: 'cli_test',
      profileOwner: '111122223333',
      payloadFormat: 'application/vnd.cncf.notary.payload.v1+json',
    });
    expect(JSON.parse(Buffer.from(request!.payload).toString('utf8'))).toEqual({
      targetArtifact: image.desc,
    });
  });

  it('reuses that signature on a second run instead of signing again', async () => {
    const before = signer.signPayloadRequests().length;
    const r = await stagesign(
      [
        'sign',
        '--oci-layout',
        image.byDigest,
        '--signing-profile',
        PROFILE_ARN,
        '--config-dir',
        configDir,
        '-v',
      ],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Reused the existing signature .*use --force to sign again/);
    expect(signer.signPayloadRequests().length).toBe(before);
  });

  it('verifies it, asking GetRevocationStatus with the composite certificate hashes', async () => {
    const r = await stagesign(['verify', '--oci-layout', image.byDigest, '--config-dir', configDir], env);
    expect(r).toMatchObject({ status: 0, stdout: `Successfully verified signature for ${image.byDigest}\n` });
    const [query] = signer.revocationRequests().slice(-1);
    expect(query!.certificateHashes).toHaveLength(4);
    expect(query!.certificateHashes.every((h) => /^[0-9a-f]{192}$/.test(h))).toBe(true);
    expect(query!.platformId).toBe('Notation-OCI-SHA384-ECDSA');
  });

  it('rejects it at strict when AWS Signer says the signing job is revoked', async () => {
    signer.onGetRevocationStatus((req) => ({ revokedEntities: [req.jobArn!] }));
    try {
      const r = await stagesign(
        ['verify', '-v', '--oci-layout', image.byDigest, '--config-dir', configDir],
        env,
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /revocation check by verification plugin "com\.amazonaws\.signer\.notation\.plugin" failed with reason "Resource\(s\) arn:aws:signer:us-west-2:111122223333:\/signing-jobs\/[^ ]+ have been revoked\."/,
      );
      expect(lines(r.stderr).at(-1)).toBe(
        `Error: signature verification failed for all the signatures associated with ${image.byDigest}`,
      );
    } finally {
      signer.onGetRevocationStatus(() => ({ revokedEntities: [] }));
    }
  });

  it('inspect shows the AWS Signer profile version and job of the signature', async () => {
    const r = await stagesign(['inspect', '--oci-layout', image.byDigest, '--output', 'json']);
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout) as {
      signatures: Array<{
        aws?: { signingProfileVersionArn: string; signingJobArn: string };
        signedAttributes: Record<string, unknown>;
      }>;
    };
    expect(json.signatures[0]!.aws!.signingProfileVersionArn).toMatch(
      /^arn:aws:signer:us-west-2:111122223333:\/signing-profiles\/cli_test\//,
    );
    expect(json.signatures[0]!.aws!.signingJobArn).toMatch(
      /^arn:aws:signer:us-west-2:111122223333:\/signing-jobs\//,
    );
    expect(json.signatures[0]!.signedAttributes['signingScheme']).toBe('notary.x509.signingAuthority');
  });
});

describe('stagesign inspect', () => {
  let ws: Workspace;
  let image: Awaited<ReturnType<Workspace['image']>>;
  let signatureDigest: string;
  beforeAll(async () => {
    ws = await Workspace.create();
    image = await ws.image('inspected');
    signatureDigest = await ws.sign(image.layout, image.desc);
  });
  afterAll(async () => ws.remove());

  const fingerprint = (pem: string) =>
    createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

  it('prints every signature as a tree with its digest, scheme, times and certificate fingerprints', async () => {
    const r = await stagesign(['inspect', '--oci-layout', image.byDigest]);
    expect(r.status).toBe(0);
    const out = lines(r.stdout);
    expect(out.slice(0, 3)).toEqual([
      'Inspecting all signatures for signed artifact',
      image.byDigest,
      '└── application/vnd.cncf.notary.signature',
    ]);
    expect(out[3]).toBe(`    └── ${signatureDigest}`);
    const text = r.stdout;
    expect(text).toContain('├── media type: application/jose+json');
    expect(text).toContain('├── signature algorithm: ECDSA-SHA-384');
    expect(text).toContain('├── integrity: valid');
    expect(text).toContain('signing scheme: notary.x509');
    expect(text).toMatch(/signing time: \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/);
    expect(text).toContain(`SHA256 fingerprint: ${fingerprint(ws.pki.leafPem)}`);
    expect(text).toContain(`SHA256 fingerprint: ${fingerprint(ws.pki.rootPem)}`);
    expect(text).toContain('issued to: CN=stagesign demo signer,O=stagesign demo,ST=WA,C=US');
    expect(text).toContain(`digest: ${image.desc.digest}`);
  });

  it('prints the same facts as JSON with --output json', async () => {
    const r = await stagesign(['inspect', '--oci-layout', image.byTag, '-o', 'json']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^Warning: Always inspect the artifact using digest/);
    const json = JSON.parse(r.stdout) as Record<string, unknown> & {
      signatures: Array<Record<string, unknown>>;
    };
    expect(json).toMatchObject({
      reference: image.byDigest,
      digest: image.desc.digest,
      mediaType: image.desc.mediaType,
    });
    expect(json.signatures).toHaveLength(1);
    expect(json.signatures[0]).toMatchObject({
      digest: signatureDigest,
      mediaType: 'application/jose+json',
      signatureAlgorithm: 'ECDSA-SHA-384',
      integrity: 'valid',
      signedArtifact: image.desc,
      certificates: [
        { sha256Fingerprint: fingerprint(ws.pki.leafPem) },
        { sha256Fingerprint: fingerprint(ws.pki.rootPem) },
      ],
      unsignedAttributes: { signingAgent: 'stagesign' },
    });
    // Issuer and subject are both printed as Go's pkix.Name.String(), as notation inspect does:
    // the leaf's issuer reads exactly like the root's subject.
    const [leaf, root] = json.signatures[0]!['certificates'] as Array<{ issuedTo: string; issuedBy: string }>;
    expect(leaf!.issuedBy).toBe(root!.issuedTo);
    expect(root!.issuedBy).toBe(root!.issuedTo);
  });

  it('still shows a tampered signature, with the integrity failure', async () => {
    const victim = await ws.image('inspected', 'other content\n');
    await ws.forgeSignature(image.layout, signatureDigest, image.desc, victim.desc);
    const r = await stagesign([
      'inspect',
      '--oci-layout',
      `${image.layout.repository}@${victim.desc.digest}`,
      '-o',
      'json',
    ]);
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout) as {
      signatures: Array<{ integrity: string; signedArtifact: unknown }>;
    };
    expect(json.signatures[0]!.integrity).toMatch(/^signature is invalid/);
    expect(json.signatures[0]!.signedArtifact).toEqual(victim.desc);
  });

  it('says so when the image has no signature', async () => {
    const bare = await ws.image('bare');
    const r = await stagesign(['inspect', '--oci-layout', bare.byDigest]);
    expect(r).toEqual({ status: 0, stdout: `${bare.byDigest} has no associated signature\n`, stderr: '' });
  });
});

describe('stagesign policy show', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create();
  });
  afterAll(async () => ws.remove());

  it('prints a valid trust policy as stored and exits 0', async () => {
    const dir = await ws.config('valid');
    const r = await stagesign(['policy', 'show', '--config-dir', dir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${await readFile(path.join(dir, 'trustpolicy.oci.json'), 'utf8')}\n`);
  });

  it("prints an invalid trust policy, then notation's validation error, and exits 1", async () => {
    const dir = await ws.config('invalid', { policy: '{"version":"1.0","trustPolicies":[]}' });
    const r = await stagesign(['policy', 'show', '--config-dir', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('{"version":"1.0","trustPolicies":[]}\n');
    expect(lines(r.stderr).at(-1)).toMatch(/^Error: /);
  });

  it('says the trust policy is missing and exits 1', async () => {
    const r = await stagesign(['policy', 'show', '--config-dir', path.join(ws.dir, 'none')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^Error: failed to show trust policy: trust policy is not present/);
  });

  it('is a usage error without a subcommand', async () => {
    const r = await stagesign(['policy']);
    expect(r.status).toBe(1);
    expect(lines(r.stderr)[0]).toBe('Error: policy needs a subcommand: show, export');
  });
});
