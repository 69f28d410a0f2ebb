/**
 * Turns the `<reference>` argument and `--oci-layout` / `--plain-http` into the Registry that holds
 * the image and the parsed reference: an OCI image layout on disk (`<path>@<digest>` or
 * `<path>:<tag>`), or a remote registry through the Distribution API. ECR hosts authenticate with
 * the caller's AWS credentials (`ecr:GetAuthorizationToken`, region from the host; the SDK
 * honours `AWS_ENDPOINT_URL_ECR`).
 */
import { DistributionRegistry } from '../shared/oci/distribution-registry';
import { OciLayoutRegistry, parseLayoutReference } from '../shared/oci/oci-layout-registry';
import { parseReference } from '../shared/oci/reference';
import type { Reference } from '../shared/oci/reference';
import type { Registry } from '../shared/oci/registry';

export interface TargetOptions {
  /** The reference is `<path>@<digest>` or `<path>:<tag>` of an OCI image layout. */
  ociLayout?: boolean;
  /** Talk plain HTTP to the registry (local test registries only). */
  plainHttp?: boolean;
}

/** Where an image lives and how to reach it. */
export interface Target {
  registry: Registry;
  ref: Reference;
}

/** Parses `reference` and builds its registry; throws InputError `INVALID_REFERENCE` naming what is wrong. */
export function openTarget(reference: string, options: TargetOptions): Target {
  if (options.ociLayout) return { registry: new OciLayoutRegistry(), ref: parseLayoutReference(reference) };
  return {
    registry: new DistributionRegistry({ plainHttp: options.plainHttp === true }),
    ref: parseReference(reference),
  };
}
