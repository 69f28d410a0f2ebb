/**
 * A test "signing authority" that produces AWS-shaped Notary envelopes (ES384, the 4-level P-384
 * fixture chain, `notary.x509.signingAuthority`, critical AWS verificationPlugin and the two AWS
 * extended attributes) from the committed fixture chain and leaf key, via `createJwsEnvelope`.
 * Stand-in for AWS Signer SignPayload in sign-stage tests and the demo. Trust store: the fixture
 * root, as `signingAuthority:test-signer-ts` (see {@link testSignerTrustStores}).
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Descriptor } from '../../shared/oci/types';
import { createJwsEnvelope, type ExtendedAttribute } from '../../shared/notary/jws';
import { buildPayload } from '../../shared/notary/payload';
import {
  AWS_PROFILE_VERSION_ATTRIBUTE,
  AWS_SIGNING_JOB_ATTRIBUTE,
} from '../../shared/notary/aws-signer-plugin';
import { AWS_SIGNER_PLUGIN } from '../../shared/notary/messages';

const FIXTURES = new URL('../fixtures/notary/', import.meta.url);

/** Fixed values the committed AWS-shaped fixtures were generated with. */
export const AWS_FIXTURE = {
  region: 'us-west-2',
  profileArn: 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/stagesign_test',
  profileVersionArn: 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/stagesign_test/Ab12Cd34Ef',
  jobArn: 'arn:aws:signer:us-west-2:111122223333:/signing-jobs/3f0c7f4e-2f5b-4d8e-9a53-5b1a0e7c9d21',
  signingTime: '2025-06-01T12:00:00Z',
  expiry: '2036-09-01T12:00:00Z',
  artifactReference:
    '111122223333.dkr.ecr.us-west-2.amazonaws.com/app@sha256:2c3e9b1f4a7d6e5c8b0a9f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4',
  target: {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: 'sha256:2c3e9b1f4a7d6e5c8b0a9f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4',
    size: 1234,
  } satisfies Descriptor,
  /** Trust store reference under which the fixture root is published. */
  trustStore: 'signingAuthority:test-signer-ts',
} as const;

/** The payload bytes for a descriptor (Go key order). */
export function buildTestPayload(target: Descriptor): Uint8Array {
  return buildPayload(target);
}

/** The two AWS extended attributes, in AWS's order, not critical (the plugin processes them either way). */
export function awsExtendedAttributes(profileVersionArn: string, jobArn: string): ExtendedAttribute[] {
  return [
    { key: AWS_PROFILE_VERSION_ATTRIBUTE, value: profileVersionArn, critical: false },
    { key: AWS_SIGNING_JOB_ATTRIBUTE, value: jobArn, critical: false },
  ];
}

function pemToDer(pem: string): Uint8Array {
  return new Uint8Array(new X509Certificate(pem).raw);
}

/** The fixture chain (DER, leaf first: leaf, regional CA, intermediate, root) and the leaf's private key. */
export function loadTestSigningAuthority(): { chain: Uint8Array[]; leafKey: KeyObject; rootPem: string } {
  const read = (rel: string) => readFileSync(fileURLToPath(new URL(rel, FIXTURES)), 'utf8');
  const chain = [
    'aws-chain/leaf.pem',
    'aws-chain/regional.pem',
    'aws-chain/intermediate.pem',
    'aws-chain/root.pem',
  ].map((f) => pemToDer(read(f)));
  return {
    chain,
    leafKey: createPrivateKey(read('keys/aws-leaf.key.pem')),
    rootPem: read('aws-chain/root.pem'),
  };
}

/** Options for {@link signLikeAwsSigner}; defaults are the {@link AWS_FIXTURE} values. */
export interface TestSignOptions {
  profileVersionArn?: string;
  jobArn?: string;
  /** Defaults to AWS_FIXTURE.signingTime; must lie within the fixture leaf's validity (2024-06-01 → 2035-06-01). */
  signingTime?: Date;
  expiry?: Date;
}

/**
 * Signs payload bytes the way AWS Signer SignPayload would answer: returns the complete JWS
 * envelope and the `metadata` annotations SignPayload returns.
 */
export function signLikeAwsSigner(
  payload: Uint8Array,
  options: TestSignOptions = {},
): { envelope: Uint8Array; annotations: Record<string, string>; jobId: string } {
  const { chain, leafKey } = loadTestSigningAuthority();
  const profileVersionArn = options.profileVersionArn ?? AWS_FIXTURE.profileVersionArn;
  const jobArn = options.jobArn ?? AWS_FIXTURE.jobArn;
  const signingTime = options.signingTime ?? new Date(AWS_FIXTURE.signingTime);
  const envelope = createJwsEnvelope({
    payload,
    signingScheme: 'notary.x509.signingAuthority',
    signingTime,
    expiry: options.expiry ?? new Date(signingTime.getTime() + 135 * 30 * 24 * 3600 * 1000),
    extendedAttributes: awsExtendedAttributes(profileVersionArn, jobArn),
    verificationPlugin: AWS_SIGNER_PLUGIN,
    certificateChain: chain,
    privateKey: leafKey,
  });
  const jobId = jobArn.slice(jobArn.lastIndexOf('/') + 1);
  return {
    envelope,
    annotations: {
      'com.amazonaws.signer.signingProfileVersion': profileVersionArn,
      'com.amazonaws.signer.signingJob': jobArn,
    },
    jobId,
  };
}
