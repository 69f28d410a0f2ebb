/**
 * Image references as the kubelet (containerd) sees them: Docker's short names are expanded
 * (`nginx:1.25` → `docker.io/library/nginx:1.25`), then parsed with the project's OCI reference
 * grammar; `imageID` is `<repository>@sha256:<digest>`. An unparsable image is what the kubelet
 * reports as `InvalidImageName`.
 */
import { parseReference } from '../../../shared/oci/reference';

export interface ImageParts {
  /** Registry host and repository: `docker.io/library/nginx`. */
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

function dockerNormalised(image: string): string {
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) return image;
  return `docker.io/${slash < 0 ? `library/${image}` : image}`;
}

/** The parts of `image`, or undefined when it is not a valid reference. */
export function parseImage(image: string): ImageParts | undefined {
  try {
    const ref = parseReference(dockerNormalised(image));
    return { repository: `${ref.registry}/${ref.repository}`, tag: ref.tag, digest: ref.digest };
  } catch {
    return undefined;
  }
}

/** `docker.io/library/nginx:1.25` (what containerd puts in `containerStatuses[].image`). */
export function normalisedImage(image: string): string {
  const p = parseImage(image);
  if (!p) return image;
  return p.digest ? `${p.repository}@${p.digest}` : `${p.repository}:${p.tag ?? 'latest'}`;
}
