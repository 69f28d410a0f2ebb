import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TIMEOUT_SECONDS,
  parseDeployManifestEnvironment,
  parseDeployManifestParams,
} from '../../../../functions/deploy-manifest/params';

const D = `sha256:${'a'.repeat(64)}`;
const VERIFIED = [
  { image: 'r.example.com/app:v1', imageUri: `r.example.com/app@${D}`, digest: D, name: 'web' },
];
const env = parseDeployManifestEnvironment({ CLUSTER_NAME: 'prod', AWS_REGION: 'us-east-1' });
const parse = (p: Record<string, unknown>, e = env) =>
  parseDeployManifestParams({ verifiedImages: VERIFIED, ...p }, e);

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('parseDeployManifestParams', () => {
  it('applies the documented defaults', () => {
    expect(parse({})).toEqual({
      clusterName: 'prod',
      manifests: ['deployment.yaml'],
      namespace: 'default',
      verifiedImages: VERIFIED,
      allowUnverified: [],
      preflight: true,
      wait: true,
      timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
      onFailure: 'rollback',
    });
  });

  it('takes every parameter of the contract', () => {
    const p = parse({
      clusterName: 'arn:aws:eks:eu-west-1:123456789012:cluster/x',
      manifests: ['k8s/', 'extra.yaml'],
      inputArtifact: 'SourceOutput',
      namespace: 'shop',
      allowUnverified: ['public.ecr.aws/eks-distro/*'],
      preflight: false,
      wait: false,
      timeoutSeconds: 60,
      onFailure: 'delete',
    });
    expect(p).toMatchObject({
      manifests: ['k8s/', 'extra.yaml'],
      inputArtifact: 'SourceOutput',
      namespace: 'shop',
      onFailure: 'delete',
    });
  });

  it.each([
    [{ verifiedImages: undefined }, 'UserParameters.verifiedImages is required'],
    [{ verifiedImages: JSON.stringify(VERIFIED) }, 'must be a JSON array, not a string'],
    [{ verifiedImages: [{ imageUri: 'r.example.com/app:v1' }] }, 'UserParameters.verifiedImages[0]'],
    [{ manifests: '/etc/passwd' }, 'UserParameters.manifests must be a relative path'],
    [{ manifests: '../x' }, 'UserParameters.manifests must be a relative path'],
    [{ namespace: 'Prod' }, 'UserParameters.namespace must be a Kubernetes namespace name'],
    [{ timeoutSeconds: 0 }, 'UserParameters.timeoutSeconds must be an integer'],
    [{ onFailure: 'undo' }, 'UserParameters.onFailure must be "rollback", "delete" or "none"'],
    [{ preflight: 'yes' }, 'UserParameters.preflight must be true or false'],
    [{ allowUnverified: 'x/*' }, 'UserParameters.allowUnverified must be a list'],
    [{ cluster: 'prod' }, 'UserParameters.cluster is not a parameter of deploy-manifest'],
  ])('refuses %j naming the field', (params, text) => {
    expect(messageOf(() => parse(params))).toContain(text);
  });

  it('needs a cluster from UserParameters or CLUSTER_NAME', () => {
    expect(messageOf(() => parse({}, parseDeployManifestEnvironment({})))).toContain(
      'UserParameters.clusterName is missing',
    );
  });

  it('reports a bad CLUSTER_NAME on every job', () => {
    const bad = parseDeployManifestEnvironment({ CLUSTER_NAME: 'not a name' });
    expect(messageOf(() => parse({ clusterName: 'prod' }, bad))).toContain('CLUSTER_NAME');
  });
});
