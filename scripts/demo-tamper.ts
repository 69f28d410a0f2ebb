/**
 * The attack the verifier must catch, shared by the demo and the CLI tests: a copy of a genuine
 * signature is attached to other content, with its payload rewritten to name that content. The
 * JWS signature bytes are kept, so they no longer match and integrity fails.
 */
import { buildPayload } from '../shared/notary/payload';
import { buildSignatureManifest, parseSignatureManifest } from '../shared/notary/signature-manifest';
import { encodeBase64Url } from '../shared/notary/strict-base64url';
import { descriptorFor } from '../shared/oci/digest';
import type { Reference } from '../shared/oci/reference';
import type { Registry } from '../shared/oci/registry';
import { MediaType } from '../shared/oci/types';
import type { Descriptor } from '../shared/oci/types';

/**
 * Pushes to `repository` a signature for `victim` forged from the signature manifest `source`
 * (a referrer of the genuine artifact). Returns the forged signature manifest's digest.
 */
export async function forgeSignatureCopy(
  registry: Registry,
  repository: Reference,
  source: Descriptor,
  victim: Descriptor,
): Promise<string> {
  const { envelope: envelopeDesc } = parseSignatureManifest(await registry.fetchManifest(repository, source));
  const envelope = JSON.parse(
    Buffer.from(await registry.fetchBlob(repository, envelopeDesc)).toString('utf8'),
  ) as Record<string, unknown>;
  envelope['payload'] = encodeBase64Url(
    buildPayload({ mediaType: victim.mediaType, digest: victim.digest, size: victim.size }),
  );
  const forged = new TextEncoder().encode(JSON.stringify(envelope));
  const forgedDesc = descriptorFor(forged, MediaType.JwsEnvelope);
  const manifest = buildSignatureManifest({
    subject: victim,
    envelope: forgedDesc,
    annotations: source.annotations ?? {},
  });
  await registry.pushBlob(repository, forgedDesc, forged);
  await registry.pushBlob(repository, manifest.config.descriptor, manifest.config.bytes);
  await registry.pushManifest(repository, manifest.descriptor, manifest.bytes);
  return manifest.descriptor.digest;
}
