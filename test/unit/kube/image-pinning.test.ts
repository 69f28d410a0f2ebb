import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/kube/cluster';
import { matchesPattern, normaliseImage, pinImages } from '../../../shared/kube/image-pinning';
import type { PinTarget } from '../../../shared/kube/image-pinning';
import { canonicalScope, parseReference } from '../../../shared/oci/reference';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const ECR_FIPS = '123456789012.dkr.ecr-fips.us-east-1.amazonaws.com';
const APP: PinTarget = { image: `${ECR}/app:v1`, imageUri: `${ECR}/app@${D1}`, digest: D1, name: 'web' };
const NGINX: PinTarget = {
  image: 'docker.io/library/nginx:1.27',
  imageUri: `docker.io/library/nginx@${D2}`,
  digest: D2,
};

function deployment(
  containers: Array<{ name: string; image: string }>,
  extra: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'prod' },
    spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers, ...extra } } },
  };
}
const src = { file: 'k8s/app.yaml', document: 1 };
const pin = (object: KubeObject, verified: PinTarget[] = [APP, NGINX], allow: string[] = []) =>
  pinImages([{ object, source: src }], verified, allow)[0]!;

function errorOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected a refusal');
}

describe('normaliseImage', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx', 'docker.io/library/nginx', undefined],
    ['nginx:1.27', 'docker.io/library/nginx', 'docker.io/library/nginx', '1.27'],
    ['user/app:v2', 'docker.io/user/app', 'docker.io/user/app', 'v2'],
    ['localhost:5000/app', 'localhost:5000/app', 'localhost:5000/app', undefined],
    ['INDEX.DOCKER.IO/library/nginx', 'docker.io/library/nginx', 'index.docker.io/library/nginx', undefined],
    [
      'Registry-1.Docker.IO/library/nginx',
      'docker.io/library/nginx',
      'registry-1.docker.io/library/nginx',
      undefined,
    ],
    [`${ECR.toUpperCase()}/app:v1`, `${ECR}/app`, `${ECR}/app`, 'v1'],
    [`${ECR_FIPS}/app`, `${ECR}/app`, `${ECR_FIPS}/app`, undefined],
    [
      'registry.example.com:443/team/app',
      'registry.example.com/team/app',
      'registry.example.com/team/app',
      undefined,
    ],
  ])(
    "normalises %s like Docker: matched as %s (the verifier's scope host), named %s",
    (image, repository, name, tag) => {
      expect(normaliseImage(image)).toEqual({ repository, name, ...(tag ? { tag } : {}) });
    },
  );

  it('is undefined for text that is no reference', () => {
    expect(normaliseImage('<IMAGE>')).toBeUndefined();
    expect(normaliseImage('')).toBeUndefined();
  });

  it('compares hosts exactly as trust policy scopes do (shared/oci/reference.ts canonicalScope)', () => {
    for (const image of [`${ECR_FIPS.toUpperCase()}:443/app`, 'index.docker.io/library/nginx:1']) {
      const ref = parseReference(image);
      expect(normaliseImage(image)!.repository).toBe(canonicalScope(`${ref.registry}/${ref.repository}`));
    }
  });
});

describe('pinImages', () => {
  it('pins containers, init containers and ephemeral containers to the verified digest', () => {
    const object = deployment([{ name: 'web', image: `${ECR}/app:v1` }], {
      initContainers: [{ name: 'init', image: 'nginx:1.27' }],
      ephemeralContainers: [{ name: 'debug', image: `${ECR}/app` }],
    });
    const pinned = pin(object);
    const spec = (pinned.object.spec as { template: { spec: Record<string, Array<{ image: string }>> } })
      .template.spec;
    expect(spec.containers![0]!.image).toBe(`${ECR}/app@${D1}`);
    expect(spec.initContainers![0]!.image).toBe(`docker.io/library/nginx@${D2}`);
    expect(spec.ephemeralContainers![0]!.image).toBe(`${ECR}/app@${D1}`);
    expect(pinned.containers.map((c) => c.container)).toEqual(['init', 'web', 'debug']);
    // the input is not changed
    expect(
      (object.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec
        .containers[0]!.image,
    ).toBe(`${ECR}/app:v1`);
  });

  it.each([
    ['Pod', { spec: { containers: [{ name: 'web', image: 'nginx' }] } }],
    [
      'CronJob',
      {
        spec: {
          jobTemplate: { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } } } },
        },
      },
    ],
    ['StatefulSet', { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } } } }],
    ['DaemonSet', { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } } } }],
    ['ReplicaSet', { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } } } }],
    [
      'ReplicationController',
      { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } } } },
    ],
    ['Job', { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } } } }],
  ])('finds the pod spec of a %s', (kind, body) => {
    const pinned = pin({ apiVersion: 'v1', kind, metadata: { name: 'x' }, ...body });
    expect(pinned.containers).toEqual([
      { container: 'web', image: `docker.io/library/nginx@${D2}`, verified: true },
    ]);
  });

  it('matches the CodeBuild placeholder `image: image` by the imagedefinitions name', () => {
    expect(pin(deployment([{ name: 'web', image: 'image' }])).containers[0]!.image).toBe(`${ECR}/app@${D1}`);
  });

  it('pins containers that share one image, listed once per container name, by placeholder or by repository', () => {
    const sidecar: PinTarget = { ...APP, name: 'sidecar' };
    const pinned = pin(
      deployment([
        { name: 'web', image: 'image' },
        { name: 'sidecar', image: 'image' },
        { name: 'shell', image: `${ECR}/app:v1` },
      ]),
      [APP, sidecar, NGINX],
    );
    expect(pinned.containers.map((c) => [c.container, c.image])).toEqual([
      ['web', APP.imageUri],
      ['sidecar', APP.imageUri],
      ['shell', APP.imageUri],
    ]);
  });

  it('refuses a placeholder whose container name matches no entry', () => {
    expect(errorOf(() => pin(deployment([{ name: 'api', image: 'image' }]))).code).toBe('IMAGE_NOT_VERIFIED');
  });

  it('refuses an unverified image naming file, object, container and image', () => {
    const error = errorOf(() => pin(deployment([{ name: 'web', image: 'redis:7' }])));
    expect(error.code).toBe('IMAGE_NOT_VERIFIED');
    expect(error.message).toContain(
      'File "k8s/app.yaml" document 1, Deployment prod/web, container "web", image "redis:7"',
    );
    expect(error.message).toContain('allowUnverified');
  });

  it('leaves an image of an allowUnverified repository as written', () => {
    const pinned = pin(
      deployment([{ name: 'proxy', image: 'public.ecr.aws/eks-distro/kubernetes/pause:3.9' }]),
      [APP],
      ['public.ecr.aws/eks-distro/*'],
    );
    expect(pinned.containers).toEqual([
      { container: 'proxy', image: 'public.ecr.aws/eks-distro/kubernetes/pause:3.9', verified: false },
    ]);
  });

  it('refuses an image pinned to another digest than the verified one', () => {
    expect(errorOf(() => pin(deployment([{ name: 'web', image: `${ECR}/app@${D2}` }]))).code).toBe(
      'IMAGE_DIGEST_MISMATCH',
    );
  });

  it('accepts an image already pinned to the verified digest', () => {
    expect(pin(deployment([{ name: 'web', image: `${ECR}/app:v1@${D1}` }])).containers[0]!.image).toBe(
      `${ECR}/app@${D1}`,
    );
  });

  it('refuses a verified entry the trust policy skipped', () => {
    const skipped = { ...APP, skipped: true };
    expect(errorOf(() => pin(deployment([{ name: 'web', image: `${ECR}/app:v1` }]), [skipped])).code).toBe(
      'IMAGE_VERIFICATION_SKIPPED',
    );
  });

  it('picks among several entries of a repository by tag, and refuses when it cannot', () => {
    const v2: PinTarget = { image: `${ECR}/app:v2`, imageUri: `${ECR}/app@${D2}`, digest: D2 };
    expect(pin(deployment([{ name: 'x', image: `${ECR}/app:v2` }]), [APP, v2]).containers[0]!.image).toBe(
      `${ECR}/app@${D2}`,
    );
    expect(errorOf(() => pin(deployment([{ name: 'x', image: `${ECR}/app` }]), [APP, v2])).code).toBe(
      'IMAGE_AMBIGUOUS',
    );
  });

  describe.each([
    ['the verified host', `${ECR}/app@${D1}`, `${ECR}/app@${D1}`],
    ['a FIPS-verified host', `${ECR_FIPS}/app@${D1}`, `${ECR_FIPS}/app@${D1}`],
    ['an uppercase, :443 verified host', `${ECR.toUpperCase()}:443/app@${D1}`, `${ECR}/app@${D1}`],
  ])('with the repository verified at %s', (_, imageUri, pinnedTo) => {
    const verified: PinTarget = { image: imageUri, imageUri, digest: D1 };
    it.each([
      `${ECR}/app`,
      `${ECR}/app:v1`,
      `${ECR.toUpperCase()}/app:v1`,
      `${ECR}:443/app:v1`,
      `${ECR.toUpperCase()}:443/app`,
      `${ECR_FIPS}/app:v1`,
      `${ECR_FIPS.toUpperCase()}:443/app`,
      `${ECR_FIPS}/app@${D1}`,
    ])('matches %s and pins it to the verified host, in its one spelling', (image) => {
      expect(pin(deployment([{ name: 'other', image }]), [verified]).containers).toEqual([
        { container: 'other', image: pinnedTo, verified: true },
      ]);
    });

    it.each([
      `123456789013.dkr.ecr.us-east-1.amazonaws.com/app`,
      `123456789012.dkr.ecr.us-west-2.amazonaws.com/app`,
      `${ECR}/app2`,
      `${ECR}.evil.example/app`,
    ])('does not match %s (another registry or repository)', (image) => {
      expect(errorOf(() => pin(deployment([{ name: 'other', image }]), [verified])).code).toBe(
        'IMAGE_NOT_VERIFIED',
      );
    });
  });

  it('matches Docker Hub images however they are spelled', () => {
    for (const image of ['nginx:1.27', 'docker.io/library/nginx', 'INDEX.DOCKER.IO/library/nginx:1.27'])
      expect(pin(deployment([{ name: 'web', image }]), [NGINX]).containers[0]!.image).toBe(
        `docker.io/library/nginx@${D2}`,
      );
  });

  it('leaves objects without a pod spec alone', () => {
    const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } };
    expect(pin(svc)).toEqual({ object: svc, source: src, containers: [] });
  });
});

describe('matchesPattern', () => {
  it.each([
    ['public.ecr.aws/eks-distro/kubernetes/pause', 'public.ecr.aws/eks-distro/*', true],
    ['public.ecr.aws/other/pause', 'public.ecr.aws/eks-distro/*', false],
    ['docker.io/library/busybox', 'busybox', true],
    ['docker.io/library/busybox', 'docker.io/library/*', true],
  ])('%s against %s is %s', (repository, pattern, expected) => {
    expect(matchesPattern(repository, pattern)).toBe(expected);
  });
});
