/**
 * The demo's source revisions (what CodeCommit would hold) and the artifact store that hands them
 * to deploy-manifest as its `SourceOutput` input artifact. Each revision is a folder under
 * `<dir>/source/<revision>/` whose files are the artifact's files; the job event names the
 * revision as the artifact's S3 object key, and the store reads that folder instead of S3.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../shared/errors';
import type { ArtifactFiles, ArtifactStore } from '../shared/pipeline/artifact-store';

/** The Deployment as a developer writes it: the image by tag; deploy-manifest pins the verified digest. */
export function appManifest(appImage: string, sidecarImage?: string): string {
  const sidecar =
    sidecarImage === undefined
      ? ''
      : `        - name: log-shipper
          image: ${sidecarImage}
`;
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: app
          image: ${appImage}
          ports: [{ containerPort: 8080 }]
${sidecar}---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
`;
}

/** Writes a source revision: `files` (relative path → text) under `<root>/<revision>/`. */
export async function writeRevision(
  root: string,
  revision: string,
  files: Record<string, string>,
): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(root, revision, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
}

/** An artifact store whose input artifacts are the revision folders under `root`. */
export function folderArtifactStore(root: string): ArtifactStore {
  return {
    async read(_job, artifact) {
      const base = path.join(root, artifact.location.objectKey);
      const files = new Map<string, Uint8Array>();
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) await walk(full);
          else files.set(path.relative(base, full).split(path.sep).join('/'), await readFile(full));
        }
      };
      await walk(base);
      return files as ArtifactFiles;
    },
    write() {
      return Promise.reject(new InputError('DEMO_NO_OUTPUT', 'the demo stages write no output artifact'));
    },
  };
}
