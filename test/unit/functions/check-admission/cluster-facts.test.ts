import { describe, expect, it } from 'vitest';
import {
  LOG_LIMIT_BYTES,
  LOG_SKEW_SECONDS,
  extensionFacts,
} from '../../../../functions/check-admission/cluster-facts';
import { DEFAULT_EXTENSION } from '../../../../functions/check-admission/params';
import type { KubeCluster, KubeObject, PodLogQuery } from '../../../../shared/kube/cluster';

import { kubeApiFailure } from '../../../../shared/kube/api-failure';
import { SIGNED, pinned } from '../../../fixtures/kyverno-logs/names';

const SINCE = new Date('2026-12-07T21:40:00Z');
const NOW = new Date('2026-12-07T21:42:00Z');

const pod = (name: string, status: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'kyverno-notation-aws' },
  status: { conditions: [{ type: 'Ready', status: 'True' }], ...status },
});

const line = (seconds: number, message: string): string => {
  const at = new Date(SINCE.getTime() + seconds * 1000).toISOString();
  return `${at} ${at}\tINFO\tverifier/verify.go:436\t${message}\n`;
};

/** A cluster whose only behaviour is listing `pods` and answering log reads with `logs`. */
function cluster(
  pods: KubeObject[],
  logs: (query: PodLogQuery) => string,
): KubeCluster & { reads: PodLogQuery[] } {
  const reads: PodLogQuery[] = [];
  const unused = (): never => {
    throw new Error('not used by extensionFacts');
  };
  return {
    reads,
    list: async () => pods,
    readPodLog: async (query) => {
      reads.push(query);
      return logs(query);
    },
    apply: unused,
    createDryRunPod: unused,
    get: unused,
    patchJson: unused,
    delete: unused,
  };
}

const options = { location: DEFAULT_EXTENSION, since: SINCE, now: NOW, readLogs: true, logsRequired: true };

describe('extensionFacts', () => {
  it('reads every replica since the deploy began (plus skew), with timestamps and a byte limit', async () => {
    const c = cluster([pod('a'), pod('b')], () =>
      line(5, `successfully verified image ${pinned(SIGNED)} digest ${SIGNED}`),
    );
    const facts = await extensionFacts(c, options);
    expect(facts.pods).toEqual([
      { name: 'a', ready: true },
      { name: 'b', ready: true },
    ]);
    expect(facts.records.map((r) => r.source)).toEqual(['a', 'b']);
    expect(c.reads).toEqual(
      ['a', 'b'].map((name) => ({
        namespace: 'kyverno-notation-aws',
        name,
        container: 'kyverno-notation-aws',
        sinceSeconds: 120 + LOG_SKEW_SECONDS,
        timestamps: true,
        limitBytes: LOG_LIMIT_BYTES,
      })),
    );
  });

  it('reads a log larger than the limit in pages from the last complete record, without repeats', async () => {
    const filler = 'x'.repeat(200);
    let first = '';
    for (let i = 0; first.length < LOG_LIMIT_BYTES; i++) first += line(1 + i / 10000, `other ${i} ${filler}`);
    const pages = [
      first.slice(0, LOG_LIMIT_BYTES),
      line(50, `successfully verified image ${pinned(SIGNED)} digest ${SIGNED}`),
    ];
    const c = cluster([pod('a')], () => pages.shift() ?? '');
    const facts = await extensionFacts(c, options);
    expect(c.reads).toHaveLength(2);
    expect(c.reads[1]!.sinceSeconds).toBeLessThan(c.reads[0]!.sinceSeconds!);
    expect(facts.records.filter((r) => r.kind === 'verified')).toHaveLength(1);
    const keys = facts.records.map((r) => `${r.time.toISOString()} ${r.message}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('also reads the previous container of a replica restarted since the deploy began', async () => {
    const restarted = pod('a', {
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        {
          name: 'kyverno-notation-aws',
          restartCount: 1,
          lastState: { terminated: { finishedAt: '2026-12-07T21:41:00Z' } },
        },
      ],
    });
    const c = cluster([restarted], (q) =>
      q.previous ? line(5, `successfully verified image ${pinned(SIGNED)} digest ${SIGNED}`) : '',
    );
    const facts = await extensionFacts(c, options);
    expect(c.reads.map((r) => r.previous ?? false)).toEqual([false, true]);
    expect(facts.records[0]).toMatchObject({ kind: 'verified', source: 'a (previous)' });
  });

  it('fails with PermissionError naming pods/log on 403, or only warns when logs are optional', async () => {
    const forbidden = cluster([pod('a')], () => {
      throw kubeApiFailure(
        { verb: 'log', resource: 'pods/log', namespace: 'kyverno-notation-aws', name: 'a' },
        { code: 403, message: 'pods "a" is forbidden', causes: [] },
      );
    });
    await expect(extensionFacts(forbidden, options)).rejects.toMatchObject({
      name: 'PermissionError',
      code: 'ADMISSION_LOGS_FORBIDDEN',
      message: expect.stringContaining('forbids get on pods/log in namespace "kyverno-notation-aws"'),
    });
    const facts = await extensionFacts(forbidden, { ...options, logsRequired: false });
    expect(facts).toMatchObject({ logsRead: false, records: [] });
    expect(facts.warnings[0]).toContain('pods/log');
  });

  it('skips a replica that went away (404)', async () => {
    const c = cluster([pod('gone')], () => {
      throw kubeApiFailure(
        { verb: 'log', resource: 'pods/log', namespace: 'kyverno-notation-aws', name: 'gone' },
        { code: 404, message: 'not found', causes: [] },
      );
    });
    expect((await extensionFacts(c, options)).records).toEqual([]);
  });
});
