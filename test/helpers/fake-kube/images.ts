/**
 * Image references as the kubelet (containerd) reports them: `nginx:1.25` is
 * `docker.io/library/nginx:1.25`, and `imageID` is `<repository>@sha256:<digest>`.
 */

export interface ImageParts {
  /** Normalised repository, with registry host: `docker.io/library/nginx`. */
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

export function parseImage(image: string): ImageParts {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const first = rest.split('/')[0]!;
  const hasHost = rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasHost) rest = `docker.io/${rest.includes('/') ? rest : `library/${rest}`}`;
  return { repository: rest, tag, digest };
}

/** `docker.io/library/nginx:1.25` (what containerd puts in `containerStatuses[].image`). */
export function normalisedImage(image: string): string {
  const p = parseImage(image);
  return p.digest ? `${p.repository}@${p.digest}` : `${p.repository}:${p.tag ?? 'latest'}`;
}
