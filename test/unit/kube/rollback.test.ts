import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/kube/cluster';
import {
  controllerRevisionOf,
  describeRollback,
  planControllerRevisionUndo,
  planDeploymentUndo,
  selectorOf,
} from '../../../shared/kube/rollback';

const template = (image: string, hash?: string) => ({
  metadata: { labels: { app: 'web', ...(hash ? { 'pod-template-hash': hash } : {}) } },
  spec: { containers: [{ name: 'web', image }] },
});
const owner = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-1', controller: true };
const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'prod',
    uid: 'd-1',
    annotations: {
      'deployment.kubernetes.io/revision': '2',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
    },
  },
  spec: { selector: { matchLabels: { app: 'web' } }, template: template('app@sha256:new') },
};
const rs = (revision: number, image: string, extra: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: {
    name: `web-${revision}`,
    uid: `rs-${revision}`,
    ownerReferences: [owner],
    annotations: { 'deployment.kubernetes.io/revision': String(revision), ...extra },
  },
  spec: { template: template(image, `h${revision}`) },
});

describe('planDeploymentUndo (kubectl rollout undo)', () => {
  it('patches the template of the earlier ReplicaSet without pod-template-hash, and its annotations', () => {
    const plan = planDeploymentUndo(
      deployment,
      [rs(1, 'app@sha256:old', { team: 'a' }), rs(2, 'app@sha256:new')],
      1,
    );
    expect(plan).toEqual({
      kind: 'patch',
      operations: [
        { op: 'replace', path: '/spec/template', value: template('app@sha256:old') },
        {
          op: 'replace',
          path: '/metadata/annotations',
          value: {
            'kubectl.kubernetes.io/last-applied-configuration': '{}',
            'deployment.kubernetes.io/revision': '2',
            team: 'a',
          },
        },
      ],
    });
  });

  it('does nothing when the template already matches', () => {
    expect(planDeploymentUndo(deployment, [rs(2, 'app@sha256:new')], 2)).toMatchObject({ kind: 'unchanged' });
  });

  it('names why it cannot: a missing revision, a paused Deployment, a ReplicaSet of another owner', () => {
    expect(planDeploymentUndo(deployment, [rs(2, 'x')], 1)).toMatchObject({
      kind: 'impossible',
      why: expect.stringContaining('revision 1') as unknown as string,
    });
    const paused = { ...deployment, spec: { ...(deployment.spec as object), paused: true } };
    expect(planDeploymentUndo(paused, [rs(1, 'x')], 1)).toMatchObject({
      kind: 'impossible',
      why: expect.stringContaining('paused') as unknown as string,
    });
    const foreign = {
      ...rs(1, 'x'),
      metadata: { ...rs(1, 'x').metadata, ownerReferences: [{ ...owner, uid: 'other' }] },
    };
    expect(planDeploymentUndo(deployment, [foreign], 1).kind).toBe('impossible');
  });
});

describe('planControllerRevisionUndo', () => {
  const sts: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', uid: 's-1' },
    spec: { selector: { matchLabels: { app: 'db' } }, template: template('db@sha256:new') },
    status: { updateRevision: 'db-2' },
  };
  const cr = (revision: number, image: string): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: { name: `db-${revision}`, ownerReferences: [{ ...owner, uid: 's-1' }] },
    revision,
    data: { spec: { template: { ...template(image), $patch: 'replace' } } },
  });

  it("replaces the template with the earlier revision's", () => {
    expect(planControllerRevisionUndo(sts, [cr(1, 'db@sha256:old'), cr(2, 'db@sha256:new')], 1)).toEqual({
      kind: 'patch',
      operations: [{ op: 'replace', path: '/spec/template', value: template('db@sha256:old') }],
    });
  });

  it('reads the current revision from updateRevision, else the highest', () => {
    expect(controllerRevisionOf(sts, [cr(1, 'a'), cr(2, 'b'), cr(3, 'c')])).toBe(2);
    expect(controllerRevisionOf({ ...sts, kind: 'DaemonSet', status: {} }, [cr(1, 'a'), cr(3, 'c')])).toBe(3);
  });
});

describe('selectorOf and describeRollback', () => {
  it('builds a label selector from matchLabels', () => {
    expect(selectorOf(deployment)).toBe('app=web');
  });

  it('says what was rolled back and what was not', () => {
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'prod' };
    const svc = { apiVersion: 'v1', kind: 'Service', name: 'web', namespace: 'prod' };
    expect(
      describeRollback([
        { ref, action: 'restored', revision: 3 },
        {
          ref: svc,
          action: 'not-restored',
          why: 'Service has no revision history; it keeps what this job applied',
        },
      ]),
    ).toBe(
      'Rolled back: Deployment prod/web to revision 3. Not restored: Service prod/web (Service has no revision history; it keeps what this job applied).',
    );
    expect(describeRollback([])).toBe('Nothing was changed.');
  });
});
