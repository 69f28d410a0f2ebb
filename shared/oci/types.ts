/**
 * OCI content types shared by every domain (image-spec descriptor, manifest, index) and the
 * one `Registry` interface the stages use. Pure: no I/O here.
 *
 * Implementations: `DistributionRegistry` (OCI Distribution API: ECR and any registry) and
 * `OciLayoutRegistry` (an OCI image layout directory on disk).
 */

export const MediaType = {
  ImageManifest: 'application/vnd.oci.image.manifest.v1+json',
  ImageIndex: 'application/vnd.oci.image.index.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ImageConfig: 'application/vnd.oci.image.config.v1+json',
  Empty: 'application/vnd.oci.empty.v1+json',
  NotarySignature: 'application/vnd.cncf.notary.signature',
  JwsEnvelope: 'application/jose+json',
  CoseEnvelope: 'application/cose',
} as const;

/** The OCI empty descriptor (`{}`), used as config of OCI 1.1 artifact manifests. */
export const EMPTY_DESCRIPTOR = {
  mediaType: MediaType.Empty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
} as const;

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

/** image-spec descriptor. Key order when serialised (Go): mediaType, digest, size, urls, annotations, data, platform, artifactType. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}
