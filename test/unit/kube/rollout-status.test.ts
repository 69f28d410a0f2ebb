import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/kube/cluster';
import { kubectlRolloutStatus, rolloutStatus } from '../../../shared/kube/rollout-status';

const SINCE = new Date('2026-12-07T10:00:00Z');

function deployment(status: Record<string, unknown>, generation = 2, replicas = 3): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', generation },
    spec: { replicas },
    status,
  };
}

describe('kubectlRolloutStatus (kubectl rollout status wording)', () => {
  it.each([
    [{ observedGeneration: 1 }, 'waiting', 'Waiting for deployment spec update to be observed...'],
    [
      { observedGeneration: 2, updatedReplicas: 1, replicas: 3 },
      'waiting',
      'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
    ],
    [
      { observedGeneration: 2, updatedReplicas: 3, replicas: 4 },
      'waiting',
      'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
    ],
    [
      { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 1 },
      'waiting',
      'Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...',
    ],
    [
      { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 },
      'done',
      'deployment "web" successfully rolled out',
    ],
    [
      {
        observedGeneration: 2,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      },
      'failed',
      'deployment "web" exceeded its progress deadline',
    ],
  ])('Deployment with status %j is %s: %s', (status, state, message) => {
    expect(kubectlRolloutStatus(deployment(status))).toMatchObject({ state, message });
  });

  it.each([
    [
      { observedGeneration: 1, desiredNumberScheduled: 2 },
      'Waiting for daemon set spec update to be observed...',
    ],
    [
      { observedGeneration: 2, desiredNumberScheduled: 2, updatedNumberScheduled: 1 },
      'Waiting for daemon set "agent" rollout to finish: 1 out of 2 new pods have been updated...',
    ],
    [
      { observedGeneration: 2, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 1 },
      'Waiting for daemon set "agent" rollout to finish: 1 of 2 updated pods are available...',
    ],
    [
      { observedGeneration: 2, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 },
      'daemon set "agent" successfully rolled out',
    ],
  ])('DaemonSet with status %j: %s', (status, message) => {
    expect(
      kubectlRolloutStatus({
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'agent', generation: 2 },
        spec: {},
        status,
      }).message,
    ).toBe(message);
  });

  it.each([
    [{ observedGeneration: 0 }, {}, 'Waiting for statefulset spec update to be observed...'],
    [{ observedGeneration: 2, readyReplicas: 1 }, {}, 'Waiting for 2 pods to be ready...'],
    [
      { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1 },
      { type: 'RollingUpdate', rollingUpdate: { partition: 1 } },
      'Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...',
    ],
    [
      { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 2 },
      { type: 'RollingUpdate', rollingUpdate: { partition: 1 } },
      'partitioned roll out complete: 2 new pods have been updated...',
    ],
    [
      {
        observedGeneration: 2,
        readyReplicas: 3,
        updatedReplicas: 1,
        updateRevision: 'db-2',
        currentRevision: 'db-1',
      },
      {},
      'waiting for statefulset rolling update to complete 1 pods at revision db-2...',
    ],
    [
      {
        observedGeneration: 2,
        readyReplicas: 3,
        currentReplicas: 3,
        updateRevision: 'db-2',
        currentRevision: 'db-2',
      },
      {},
      'statefulset rolling update complete 3 pods at revision db-2...',
    ],
  ])('StatefulSet with status %j and strategy %j: %s', (status, updateStrategy, message) => {
    const sts: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', generation: 2 },
      spec: { replicas: 3, updateStrategy },
      status,
    };
    expect(kubectlRolloutStatus(sts).message).toBe(message);
  });

  it('refuses OnDelete strategies like kubectl', () => {
    const ds: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'a' },
      spec: { updateStrategy: { type: 'OnDelete' } },
    };
    expect(kubectlRolloutStatus(ds)).toMatchObject({
      state: 'failed',
      message: 'rollout status is only available for RollingUpdate strategy type',
    });
  });
});

describe('rolloutStatus failure signals', () => {
  const waiting = deployment({ observedGeneration: 2, updatedReplicas: 0, replicas: 3 });
  const denial =
    'admission webhook "mutate.kyverno.svc-fail" denied the request: mutation policy check-images error: failed to apply policy check-images rules [call-aws-signer-extension: failed to fetch data for APICall: HTTP 406 Not Acceptable: failed to verify container web: no signature is associated with "x", make sure the artifact was signed successfully]';

  it('fails at once on a FailedCreate event newer than the job with a Kyverno signature rejection', () => {
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {},
      reason: 'FailedCreate',
      message: `Error creating: ${denial}`,
      lastTimestamp: '2026-12-07T10:00:05Z',
    };
    const status = rolloutStatus({ workload: waiting, events: [event] }, SINCE);
    expect(status).toMatchObject({ state: 'failed', reason: 'FailedCreate', message: denial });
    expect(status.state === 'failed' && status.admission?.verdict).toBe('signature-rejected');
  });

  it('ignores events older than the job and falls back to the ReplicaSet condition', () => {
    const old = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {},
      reason: 'FailedCreate',
      message: 'Error creating: pods "x" is forbidden: exceeded quota',
      lastTimestamp: '2026-12-07T09:00:00Z',
    };
    expect(rolloutStatus({ workload: waiting, events: [old] }, SINCE).state).toBe('waiting');
    const rs: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-1' },
      status: {
        conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: denial }],
      },
    };
    expect(rolloutStatus({ workload: waiting, newReplicaSet: rs, events: [old] }, SINCE)).toMatchObject({
      state: 'failed',
      reason: 'FailedCreate',
    });
  });

  it('keeps waiting on an unreachable webhook and notes it as the problem', () => {
    const text =
      'Error creating: Internal error occurred: failed calling webhook "mutate.kyverno.svc-fail": failed to call webhook: context deadline exceeded';
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {},
      reason: 'FailedCreate',
      message: text,
      eventTime: '2026-12-07T10:00:05.000000Z',
    };
    expect(rolloutStatus({ workload: waiting, events: [event] }, SINCE)).toMatchObject({
      state: 'waiting',
      problem: text,
    });
  });

  it('says why the progress deadline passed when the new Pods could not be created', () => {
    const stuck = deployment({
      observedGeneration: 2,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    });
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {},
      reason: 'FailedCreate',
      message: 'Error creating: pods "web-1-x" is forbidden: exceeded quota: compute',
      lastTimestamp: '2026-12-07T10:00:05Z',
    };
    expect(rolloutStatus({ workload: stuck, events: [event] }, SINCE)).toMatchObject({
      state: 'failed',
      reason: 'ProgressDeadlineExceeded',
      message:
        'deployment "web" exceeded its progress deadline; last FailedCreate: Error creating: pods "web-1-x" is forbidden: exceeded quota: compute',
    });
  });

  it('does not fail an OnDelete rollout kubectl cannot follow: it was applied', () => {
    const ds: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: { updateStrategy: { type: 'OnDelete' } },
    };
    expect(rolloutStatus({ workload: ds }, SINCE)).toEqual({
      state: 'done',
      message:
        'rollout status is only available for RollingUpdate strategy type: DaemonSet "agent" applied, not followed',
    });
  });

  it.each(['ImagePullBackOff', 'ErrImagePull', 'CrashLoopBackOff', 'CreateContainerConfigError'])(
    'fails on a Pod stuck in %s',
    (reason) => {
      const pod: KubeObject = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web-1-abc' },
        status: { containerStatuses: [{ name: 'web', state: { waiting: { reason, message: 'Back-off' } } }] },
      };
      expect(rolloutStatus({ workload: waiting, pods: [pod] }, SINCE)).toEqual({
        state: 'failed',
        reason: 'PodFailing',
        message: `pod "web-1-abc" container "web" is in ${reason}: Back-off`,
      });
    },
  );
});
