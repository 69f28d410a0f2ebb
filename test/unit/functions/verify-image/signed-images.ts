/**
 * Test helpers for the verify side: push small images and AWS-shaped signatures into any
 * `Registry` (real docker-registry, fake registry, OCI layout, or the in-memory one below), plus
 * the fixture trust material. Shared by the verifier, stage and integration tests.
 */
import { createHash } from 'node:crypto';
import { descriptorFor } from '../../../../shared/oci/digest';
import type { Reference } from '../../../../shared/oci/reference';
import { formatReference } from '../../../../shared/oci/reference';
import { artifactTypeOf, parseManifest } from '../../../../shared/oci/referrers-index';
import type { PushManifestOptions, Registry } from '../../../../shared/oci/registry';
import { MediaType } from '../../../../shared/oci/types';
import type { Descriptor } from '../../../../shared/oci/types';
import { buildSignatureManifest, signatureAnnotations } from '../../../../shared/notary/signature-manifest';
import type { SignatureManifestShape } from '../../../../shared/notary/signature-manifest';
import { parseTrustPolicy } from '../../../../shared/notary/trust-policy';
import type { TrustPolicyDocument, VerificationLevelName } from '../../../../shared/notary/trust-policy';
import { TrustStoreSet, trustStoreFromPem } from '../../../../shared/notary/trust-store';
import type { RevocationChecker, RevocationQuery } from '../../../../shared/notary/types';
import { verifyImageReference } from '../../../../shared/notary/verify-image-reference';
import type {
  VerifyImageReferenceOptions,
  VerifyImageReferenceResult,
} from '../../../../shared/notary/verify-image-reference';
import {
  AWS_FIXTURE,
  buildTestPayload,
  loadTestSigningAuthority,
  signLikeAwsSigner,
} from '../../../helpers/test-signing-authority';
import type { TestSignOptions } from '../../../helpers/test-signing-authority';

export { AWS_FIXTURE };

/** A verification instant inside the fixture chain's validity and before the default expiry. */
export const NOW = new Date('2026-01-15T10:00:00Z');

/** Pushes a one-layer image (content varies with `seed`) and returns its manifest descriptor. */
export async function pushImage(
  registry: Registry,
  repo: Reference,
  options: { seed?: string; tag?: string } = {},
): Promise<Descriptor> {
  const seed = options.seed ?? 'app';
  const layer = new TextEncoder().encode(`layer of ${seed}`);
  const config = new TextEncoder().encode(JSON.stringify({ architecture: 'arm64', os: 'linux', seed }));
  const layerDesc = descriptorFor(layer, 'application/vnd.oci.image.layer.v1.tar');
  const configDesc = descriptorFor(config, MediaType.ImageConfig);
  await registry.pushBlob(repo, layerDesc, layer);
  await registry.pushBlob(repo, configDesc, config);
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: configDesc,
      layers: [layerDesc],
    }),
  );
  const desc = descriptorFor(manifest, MediaType.ImageManifest);
  await registry.pushManifest(repo, desc, manifest, options.tag ? { tag: options.tag } : undefined);
  return desc;
}

/** An AWS-shaped envelope over `subject` (test signing authority). */
export function awsEnvelope(subject: Descriptor, options: TestSignOptions = {}): Uint8Array {
  return signLikeAwsSigner(
    buildTestPayload({ mediaType: subject.mediaType, digest: subject.digest, size: subject.size }),
    options,
  ).envelope;
}

/** Pushes `envelope` as a signature of `subject`; returns the signature manifest descriptor. */
export async function pushSignature(
  registry: Registry,
  repo: Reference,
  subject: Descriptor,
  envelope: Uint8Array,
  options: { shape?: SignatureManifestShape; signingTime?: Date } = {},
): Promise<Descriptor> {
  const { chain } = loadTestSigningAuthority();
  const envelopeDesc = descriptorFor(envelope, MediaType.JwsEnvelope);
  const built = buildSignatureManifest({
    subject,
    envelope: envelopeDesc,
    annotations: signatureAnnotations({
      certificateChain: chain,
      signingTime: options.signingTime ?? new Date(AWS_FIXTURE.signingTime),
    }),
    ...(options.shape ? { shape: options.shape } : {}),
  });
  await registry.pushBlob(repo, envelopeDesc, envelope);
  await registry.pushBlob(repo, built.config.descriptor, built.config.bytes);
  const desc = {
    mediaType: built.descriptor.mediaType,
    digest: built.descriptor.digest,
    size: built.descriptor.size,
  };
  await registry.pushManifest(repo, desc, built.bytes);
  return desc;
}

/** Flips one character of the JWS signature: integrity fails. */
export function tamper(envelope: Uint8Array): Uint8Array {
  const jws = JSON.parse(new TextDecoder().decode(envelope)) as { signature: string };
  const first = jws.signature[0] === 'A' ? 'B' : 'A';
  jws.signature = first + jws.signature.slice(1);
  return new TextEncoder().encode(JSON.stringify(jws));
}

/** The fixture root as a PEM (published as `signingAuthority:test-signer-ts`). */
export function fixtureRootPem(): string {
  return loadTestSigningAuthority().rootPem;
}

/** Built-in stores plus the fixture root as `signingAuthority:test-signer-ts`. */
export function fixtureTrustStores(): TrustStoreSet {
  return TrustStoreSet.builtIn().with(
    trustStoreFromPem('signingAuthority', 'test-signer-ts', fixtureRootPem()),
  );
}

/** A one-statement policy trusting the fixture profile through the fixture root. */
export function fixturePolicy(
  options: {
    level?: VerificationLevelName;
    scopes?: string[];
    identities?: string[];
    trustStores?: string[];
    revocation?: 'enforce' | 'log' | 'skip';
  } = {},
): TrustPolicyDocument {
  return parseTrustPolicy({
    version: '1.0',
    trustPolicies: [
      {
        name: 'fixture',
        registryScopes: options.scopes ?? ['*'],
        signatureVerification: {
          level: options.level ?? 'strict',
          ...(options.revocation ? { override: { revocation: options.revocation } } : {}),
        },
        // notation rejects trust stores and identities on a skip statement.
        ...(options.level === 'skip'
          ? {}
          : {
              trustStores: options.trustStores ?? [AWS_FIXTURE.trustStore],
              trustedIdentities: options.identities ?? [AWS_FIXTURE.profileArn],
            }),
      },
    ],
  });
}

/** A RevocationChecker that records queries and answers from a list. */
export class RecordingRevocationChecker implements RevocationChecker {
  readonly queries: RevocationQuery[] = [];
  constructor(private readonly revoked: string[] = []) {}
  getRevocationStatus(query: RevocationQuery): Promise<{ revokedEntities: string[] }> {
    this.queries.push(query);
    return Promise.resolve({ revokedEntities: [...this.revoked] });
  }
}

/**
 * An in-memory `Registry` (one map per repository) that keeps referrers like a registry with
 * the Referrers API, and counts calls per operation.
 */
export class MemoryRegistry implements Registry {
  readonly calls: Record<string, number> = {};
  readonly #blobs = new Map<string, Uint8Array>();
  readonly #manifests = new Map<string, { bytes: Uint8Array; mediaType: string }>();
  readonly #tags = new Map<string, string>();
  /** Per subject digest, referrer descriptors in push order. */
  readonly #referrers = new Map<string, Descriptor[]>();
  /** Fails the next fetches of these digests with the given error. */
  readonly failures = new Map<string, Error>();

  #count(op: string): void {
    this.calls[op] = (this.calls[op] ?? 0) + 1;
  }

  #key(ref: Reference, what: string): string {
    return `${formatReference({ registry: ref.registry, repository: ref.repository })}#${what}`;
  }

  resolve(ref: Reference): Promise<Descriptor> {
    this.#count('resolve');
    const digest = ref.digest ?? this.#tags.get(this.#key(ref, ref.tag ?? ''));
    const stored = digest === undefined ? undefined : this.#manifests.get(this.#key(ref, digest));
    if (digest === undefined || stored === undefined) {
      return Promise.reject(
        Object.assign(new Error(`image ${formatReference(ref)} not found`), { name: 'NotFound' }),
      );
    }
    return Promise.resolve({ mediaType: stored.mediaType, digest, size: stored.bytes.length });
  }

  fetchManifest(ref: Reference, desc: Descriptor): Promise<Uint8Array> {
    this.#count('fetchManifest');
    const failure = this.failures.get(desc.digest);
    if (failure) return Promise.reject(failure);
    const stored = this.#manifests.get(this.#key(ref, desc.digest));
    if (!stored) return Promise.reject(new Error(`manifest ${desc.digest} not found`));
    return Promise.resolve(stored.bytes);
  }

  fetchBlob(ref: Reference, desc: Descriptor): Promise<Uint8Array> {
    this.#count('fetchBlob');
    const failure = this.failures.get(desc.digest);
    if (failure) return Promise.reject(failure);
    const blob = this.#blobs.get(this.#key(ref, desc.digest));
    if (!blob) return Promise.reject(new Error(`blob ${desc.digest} not found`));
    return Promise.resolve(blob);
  }

  pushBlob(ref: Reference, desc: Descriptor, content: Uint8Array): Promise<void> {
    this.#count('pushBlob');
    this.#blobs.set(this.#key(ref, desc.digest), content);
    return Promise.resolve();
  }

  pushManifest(
    ref: Reference,
    desc: Descriptor,
    content: Uint8Array,
    options?: PushManifestOptions,
  ): Promise<void> {
    this.#count('pushManifest');
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    if (digest !== desc.digest) return Promise.reject(new Error('digest mismatch'));
    this.#manifests.set(this.#key(ref, digest), { bytes: content, mediaType: desc.mediaType });
    if (options?.tag) this.#tags.set(this.#key(ref, options.tag), digest);
    const parsed = parseManifest(content, 'manifest');
    if (parsed.subject) {
      const list = this.#referrers.get(this.#key(ref, parsed.subject.digest)) ?? [];
      const artifactType = artifactTypeOf(parsed);
      list.push({
        mediaType: desc.mediaType,
        digest,
        size: content.length,
        ...(artifactType ? { artifactType } : {}),
      });
      this.#referrers.set(this.#key(ref, parsed.subject.digest), list);
    }
    return Promise.resolve();
  }

  /** Adds a raw referrer entry (for listing quirks). */
  addReferrer(ref: Reference, subjectDigest: string, entry: Descriptor): void {
    const list = this.#referrers.get(this.#key(ref, subjectDigest)) ?? [];
    list.push(entry);
    this.#referrers.set(this.#key(ref, subjectDigest), list);
  }

  listReferrers(ref: Reference, subject: Descriptor, artifactType?: string): Promise<Descriptor[]> {
    this.#count('listReferrers');
    const list = this.#referrers.get(this.#key(ref, subject.digest)) ?? [];
    return Promise.resolve(
      artifactType === undefined ? [...list] : list.filter((d) => d.artifactType === artifactType),
    );
  }
}

/** `verifyImageReference` of `reference` in `registry` with the fixture policy, trust stores and clock. */
export function verifyWithFixtures(
  registry: Registry,
  reference: string,
  overrides: Partial<VerifyImageReferenceOptions> = {},
): Promise<VerifyImageReferenceResult> {
  return verifyImageReference({
    registry,
    reference,
    policyDocument: fixturePolicy(),
    trustStores: fixtureTrustStores(),
    revocationChecker: new RecordingRevocationChecker(),
    now: NOW,
    ...overrides,
  });
}
