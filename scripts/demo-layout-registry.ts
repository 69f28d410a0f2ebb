/**
 * The demo's stand-in for Amazon ECR: a directory of OCI image layouts, one per repository, reached
 * with ordinary registry references (`<host>/<repository>:<tag>`), so the stages receive the same
 * kind of image reference they get in a pipeline while every byte lives on disk. Each repository
 * `<host>/<repo>` is the OCI image layout `<root>/<host>/<repo>/`, read and written by the
 * shared `OciLayoutRegistry`.
 */
import path from 'node:path';
import { OciLayoutRegistry } from '../shared/oci/oci-layout-registry';
import type { Reference } from '../shared/oci/reference';
import type { CallOptions, PushManifestOptions, Registry } from '../shared/oci/registry';
import type { Descriptor } from '../shared/oci/types';

export class LayoutDirectoryRegistry implements Registry {
  private readonly layouts = new OciLayoutRegistry();

  constructor(
    /** The folder holding one OCI image layout per repository. */
    readonly root: string,
  ) {}

  /** The OCI image layout directory that holds `ref`'s repository. */
  layoutDirectory(ref: Reference): string {
    return path.join(this.root, ref.registry, ...ref.repository.split('/'));
  }

  /** `ref` as a layout reference (`registry: ''`, repository = the directory), as `OciLayoutRegistry` takes it. */
  private local(ref: Reference): Reference {
    return { ...ref, registry: '', repository: this.layoutDirectory(ref) };
  }

  resolve(ref: Reference, options?: CallOptions): Promise<Descriptor> {
    return this.layouts.resolve(this.local(ref), options);
  }

  fetchManifest(ref: Reference, desc: Descriptor, options?: CallOptions): Promise<Uint8Array> {
    return this.layouts.fetchManifest(this.local(ref), desc, options);
  }

  fetchBlob(ref: Reference, desc: Descriptor, options?: CallOptions): Promise<Uint8Array> {
    return this.layouts.fetchBlob(this.local(ref), desc, options);
  }

  pushBlob(ref: Reference, desc: Descriptor, content: Uint8Array, options?: CallOptions): Promise<void> {
    return this.layouts.pushBlob(this.local(ref), desc, content, options);
  }

  pushManifest(
    ref: Reference,
    desc: Descriptor,
    content: Uint8Array,
    options?: PushManifestOptions,
  ): Promise<void> {
    return this.layouts.pushManifest(this.local(ref), desc, content, options);
  }

  listReferrers(
    ref: Reference,
    subject: Descriptor,
    artifactType?: string,
    options?: CallOptions,
  ): Promise<Descriptor[]> {
    return this.layouts.listReferrers(this.local(ref), subject, artifactType, options);
  }
}
