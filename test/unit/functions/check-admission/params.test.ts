import { describe, expect, it } from 'vitest';
import {
  DEFAULT_EXTENSION,
  ENV_INVALID,
  PARAM_INVALID,
  parseCheckAdmissionEnvironment,
  parseCheckAdmissionParams,
} from '../../../../functions/check-admission/params';
import { ConfigurationError } from '../../../../shared/errors';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const IMAGE = `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@${DIGEST}`;
const DEPLOYED = [
  {
    kind: 'Deployment',
    namespace: 'prod',
    name: 'web',
    uid: '6b1f2c3d-0000-4000-8000-00000000a001',
    generation: 2,
    revision: '2',
    appliedAt: '2026-12-07T21:40:00Z',
    images: [{ container: 'app', image: IMAGE }],
  },
];

const parse = (params: Record<string, unknown>, env: Record<string, string> = {}) =>
  parseCheckAdmissionParams(params, parseCheckAdmissionEnvironment(env));

function refusal(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('parseCheckAdmissionParams', () => {
  it('applies the documented defaults', () => {
    const params = parse({ deployed: DEPLOYED }, { CLUSTER_NAME: 'prod' });
    expect(params).toEqual({
      clusterName: 'prod',
      deployed: [
        {
          kind: 'Deployment',
          namespace: 'prod',
          name: 'web',
          uid: DEPLOYED[0]!.uid,
          generation: 2,
          revision: '2',
          appliedAt: new Date('2026-12-07T21:40:00Z'),
          images: [{ container: 'app', image: IMAGE, digest: DIGEST }],
        },
      ],
      extension: DEFAULT_EXTENSION,
      evidence: 'logs',
      timeoutSeconds: 600,
      onRejection: 'rollback',
    });
    expect(DEFAULT_EXTENSION).toEqual({
      namespace: 'kyverno-notation-aws',
      labelSelector: 'app=kyverno-notation-aws',
      container: 'kyverno-notation-aws',
    });
  });

  it('takes every documented field', () => {
    const params = parse({
      clusterName: 'arn:aws:eks:eu-west-1:123456789012:cluster/prod',
      deployed: DEPLOYED,
      extension: {
        namespace: 'kyverno',
        labelSelector: 'app.kubernetes.io/instance=kna',
        container: 'verifier',
      },
      evidence: 'none',
      timeoutSeconds: 0,
      onRejection: 'delete',
    });
    expect(params).toMatchObject({
      clusterName: 'arn:aws:eks:eu-west-1:123456789012:cluster/prod',
      extension: {
        namespace: 'kyverno',
        labelSelector: 'app.kubernetes.io/instance=kna',
        container: 'verifier',
      },
      evidence: 'none',
      timeoutSeconds: 0,
      onRejection: 'delete',
    });
  });

  it.each([
    [{ deployed: DEPLOYED }, /UserParameters\.clusterName is missing and the function has no CLUSTER_NAME/],
    [
      { clusterName: 'prod' },
      /UserParameters\.deployed is required: pass the deploy stage's variable unquoted/,
    ],
    [{ clusterName: 'prod', deployed: [] }, /UserParameters\.deployed is empty/],
    [
      { clusterName: 'prod', deployed: { a: 1 } },
      /UserParameters\.deployed must be the JSON array deploy-manifest writes as DEPLOYED/,
    ],
    [
      {
        clusterName: 'prod',
        deployed: [{ ...DEPLOYED[0], images: [{ container: 'app', image: 'r.io/app:v1' }] }],
      },
      /UserParameters\.deployed\[0\]\.images\[0\]\.image "r\.io\/app:v1" is not pinned to a digest/,
    ],
    [
      { clusterName: 'prod/x', deployed: DEPLOYED },
      /UserParameters\.clusterName must be an EKS cluster name/,
    ],
    [
      { clusterName: 'prod', deployed: DEPLOYED, evidence: 'grep' },
      /UserParameters\.evidence must be one of "logs", "none"/,
    ],
    [
      { clusterName: 'prod', deployed: DEPLOYED, onRejection: 'undo' },
      /UserParameters\.onRejection must be one of "rollback", "delete", "none"/,
    ],
    [
      { clusterName: 'prod', deployed: DEPLOYED, timeoutSeconds: 1.5 },
      /UserParameters\.timeoutSeconds must be an integer from 0 to 10800/,
    ],
    [
      { clusterName: 'prod', deployed: DEPLOYED, extension: 'kyverno' },
      /UserParameters\.extension must be an object/,
    ],
    [
      { clusterName: 'prod', deployed: DEPLOYED, extension: { namespace: 'Kyverno' } },
      /UserParameters\.extension\.namespace must be a Kubernetes namespace name/,
    ],
    [
      { clusterName: 'prod', deployed: DEPLOYED, extension: { pod: 'x' } },
      /UserParameters\.extension\.pod is not known/,
    ],
    [
      { clusterName: 'prod', deployed: DEPLOYED, extension: { labelSelector: 'app=$(rm -rf)' } },
      /UserParameters\.extension\.labelSelector must be a Kubernetes label selector/,
    ],
    [
      { clusterName: 'prod', deployed: DEPLOYED, imageTag: 'v1' },
      /UserParameters\.imageTag is not a parameter of check-admission/,
    ],
  ])('refuses %j naming the field', (params, message) => {
    const error = refusal(() => parse(params));
    expect(error.code).toBe(PARAM_INVALID);
    expect(error.message).toMatch(message);
  });

  it('reports a bad CLUSTER_NAME on every job, not at cold start', () => {
    const env = parseCheckAdmissionEnvironment({ CLUSTER_NAME: 'not a cluster' });
    expect(env.error?.code).toBe(ENV_INVALID);
    const error = refusal(() => parseCheckAdmissionParams({ deployed: DEPLOYED }, env));
    expect(error.message).toMatch(/^CLUSTER_NAME is invalid/);
  });
});
