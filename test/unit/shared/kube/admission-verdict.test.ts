import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { judgeAdmission, notationText } from '../../../../shared/kube/admission-verdict';
import type {
  EvidenceMode,
  ExtensionFacts,
  ImageVerdict,
  WorkloadFacts,
} from '../../../../shared/kube/admission-verdict';
import type { KubeObject } from '../../../../shared/kube/cluster';
import { parseExtensionLog } from '../../../../shared/kube/extension-log';
import type { ExtensionRecord } from '../../../../shared/kube/extension-log';
import {
  DEPLOY_START,
  MESSAGES,
  REGISTRY,
  SIGNED,
  TOKEN_IN_DUMP,
  UNSIGNED,
  pinned,
} from '../../../fixtures/kyverno-logs/names';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/kyverno-logs');
const since = new Date(DEPLOY_START);
const logOf = (...names: string[]): ExtensionRecord[] =>
  names.flatMap((name) =>
    parseExtensionLog(readFileSync(path.join(dir, name), 'utf8'), { source: name, since }),
  );

const pod = (name: string, digest: string, imageID = `${REGISTRY}/app@${digest}`): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'prod' },
  spec: { containers: [{ name: 'app', image: pinned(digest) }] },
  status: { containerStatuses: [{ name: 'app', image: pinned(digest), imageID, ready: true }] },
});

const workload = (digest: string, overrides: Partial<WorkloadFacts> = {}): WorkloadFacts => ({
  workload: { kind: 'Deployment', namespace: 'prod', name: 'web' },
  images: [{ container: 'app', image: pinned(digest), digest }],
  rollout: { state: 'done', message: 'deployment "web" successfully rolled out' },
  denials: [],
  pods: [pod('web-1', digest), pod('web-2', digest)],
  ...overrides,
});

const notCreated = (digest: string, denials: string[]): WorkloadFacts =>
  workload(digest, {
    rollout: {
      state: 'waiting',
      message: 'Waiting for deployment "web" rollout to finish: 0 out of 2 new replicas have been updated...',
    },
    pods: [],
    denials,
  });

const extension = (records: ExtensionRecord[], overrides: Partial<ExtensionFacts> = {}): ExtensionFacts => ({
  pods: [
    { name: 'kyverno-notation-aws-0', ready: true },
    { name: 'kyverno-notation-aws-1', ready: true },
  ],
  records,
  logsRead: true,
  ...overrides,
});

const judge = (
  facts: WorkloadFacts,
  ext: ExtensionFacts,
  options: { evidence?: EvidenceMode; final?: boolean } = {},
): ImageVerdict => {
  const [verdict] = judgeAdmission({
    workloads: [facts],
    extension: ext,
    evidence: options.evidence ?? 'logs',
    final: options.final ?? false,
  });
  return verdict!;
};

describe('judgeAdmission', () => {
  describe('with the extension log traps', () => {
    it('admits a signed image whose first verification logged a cache-miss ERROR', () => {
      const v = judge(workload(SIGNED), extension(logOf('cache-miss-error-for-signed-image.log')));
      expect(v).toMatchObject({ verdict: 'admitted', evidence: { kind: 'verified' } });
      if (v.verdict === 'admitted')
        expect(v.evidence?.line).toBe(`successfully verified image ${pinned(SIGNED)} digest ${SIGNED}`);
    });

    it('admits when the success JSON is the last lines of the log', () => {
      expect(judge(workload(SIGNED), extension(logOf('success-json-last-lines.log'))).verdict).toBe(
        'admitted',
      );
    });

    it('rejects with both lines of a multi-line notation error', () => {
      const v = judge(notCreated(SIGNED, []), extension(logOf('multi-line-notation-failure.log')));
      expect(v).toMatchObject({ verdict: 'rejected', by: 'kyverno-notation-aws', source: 'log' });
      if (v.verdict === 'rejected') {
        expect(v.reason).toMatch(
          /^signature verification failed\nfailed to verify signature with digest sha256:/,
        );
        expect(v.reason).toContain(
          'revocation check by verification plugin "com.amazonaws.signer.notation.plugin" failed',
        );
      }
    });

    it("rejects from the second replica's log", () => {
      const v = judge(
        notCreated(UNSIGNED, []),
        extension(
          logOf('verdict-on-second-replica.replica-0.log', 'verdict-on-second-replica.replica-1.log'),
        ),
      );
      expect(v).toMatchObject({ verdict: 'rejected', reason: MESSAGES.unsignedText, source: 'log' });
    });

    it('admits from the previous container of a restarted extension Pod', () => {
      const v = judge(
        workload(SIGNED),
        extension(logOf('restarted-extension-pod.current.log', 'restarted-extension-pod.previous.log')),
      );
      expect(v).toMatchObject({
        verdict: 'admitted',
        evidence: { pod: 'restarted-extension-pod.previous.log' },
      });
    });

    it("ignores an earlier run's rejection of the same digest", () => {
      expect(judge(workload(SIGNED), extension(logOf('stale-lines-from-earlier-run.log'))).verdict).toBe(
        'admitted',
      );
    });

    it("does not take another namespace's rejection for this image", () => {
      expect(judge(workload(SIGNED), extension(logOf('interleaved-other-namespaces.log'))).verdict).toBe(
        'admitted',
      );
    });

    it('does not admit `app:v1` on `app:v1-unsigned` records', () => {
      const v = judge(workload(SIGNED), extension(logOf('tag-v1-vs-v1-unsigned.log')), { final: true });
      expect(v).toMatchObject({ verdict: 'unverified', cause: 'namespace-not-matched' });
    });

    it('admits on a cache hit for the pinned reference without a success line', () => {
      expect(judge(workload(SIGNED), extension(logOf('cache-hit-without-success-line.log')))).toMatchObject({
        verdict: 'admitted',
        evidence: { kind: 'cache-hit' },
      });
    });

    it("cites a replica's verification line over another replica's later cache hit", () => {
      const verified = logOf('success-json-last-lines.log').filter((r) => r.kind === 'verified');
      expect(verified.length).toBeGreaterThan(0);
      const later = new Date(Math.max(...verified.map((r) => r.time.getTime())) + 1000);
      const hits = logOf('cache-hit-without-success-line.log')
        .filter((r) => r.kind === 'cache-hit')
        .map((r) => ({ ...r, time: later }));
      expect(hits.length).toBeGreaterThan(0);
      expect(judge(workload(SIGNED), extension([...verified, ...hits]))).toMatchObject({
        verdict: 'admitted',
        evidence: { kind: 'verified', line: verified.at(-1)!.message },
      });
    });

    it('reports `Token is not authorized` as a configuration problem with the fix, never the token', () => {
      const v = judge(notCreated(SIGNED, []), extension(logOf('token-not-authorized.log')));
      expect(v).toMatchObject({
        verdict: 'infrastructure',
        kind: 'configuration',
        code: 'EXTENSION_TOKEN_NOT_AUTHORIZED',
      });
      if (v.verdict === 'infrastructure') {
        expect(v.reason).toContain('--allowedUsers');
        expect(v.reason).toContain('system:serviceaccount:kyverno-system:kyverno-admission-controller');
      }
      expect(JSON.stringify(v)).not.toContain(TOKEN_IN_DUMP);
    });

    describe('with --logLevel=error (no success lines)', () => {
      const ext = extension(logOf('log-level-error.log'));
      it('waits while the budget lasts', () => {
        expect(judge(workload(SIGNED), ext).verdict).toBe('pending');
      });
      it('then reports unverified, pointing at the log level', () => {
        const v = judge(workload(SIGNED), ext, { final: true });
        expect(v).toMatchObject({ verdict: 'unverified', cause: 'success-not-logged' });
        if (v.verdict === 'unverified') expect(v.detail).toContain('--logLevel=error');
      });
      it('with evidence "none", reports the cause at once (the stage makes it a warning)', () => {
        expect(judge(workload(SIGNED), ext, { evidence: 'none' })).toMatchObject({
          verdict: 'unverified',
          cause: 'success-not-logged',
        });
      });
    });
  });

  describe("with the API server's rejection shapes", () => {
    it("rejects on Shape A (FailedCreate event) with notation's text, without any log", () => {
      const v = judge(notCreated(UNSIGNED, [MESSAGES.shapeAEvent]), extension([]));
      expect(v).toMatchObject({
        verdict: 'rejected',
        by: 'kyverno-notation-aws',
        source: 'replica-set',
        reason: MESSAGES.unsignedText,
      });
    });
    it('rejects on Shape A (ReplicaFailure condition)', () => {
      expect(judge(notCreated(UNSIGNED, [MESSAGES.shapeACondition]), extension([]))).toMatchObject({
        verdict: 'rejected',
        reason: MESSAGES.unsignedText,
      });
    });
    it('rejects on Shape B (apply-time denial)', () => {
      const v = judge(notCreated(UNSIGNED, []), extension([]));
      expect(v.verdict).toBe('pending');
      expect(
        judge({ ...notCreated(UNSIGNED, []), applyDenial: MESSAGES.shapeBApply }, extension([])),
      ).toMatchObject({
        verdict: 'rejected',
        source: 'apply',
        reason: MESSAGES.unsignedText,
      });
    });
    it('names another image of the workload as the cause, not this one', () => {
      const facts: WorkloadFacts = {
        ...notCreated(UNSIGNED, [MESSAGES.shapeAEvent]),
        images: [
          { container: 'app', image: pinned(UNSIGNED), digest: UNSIGNED },
          { container: 'sidecar', image: `${REGISTRY}/sidecar@${SIGNED}`, digest: SIGNED },
        ],
      };
      const [app, sidecar] = judgeAdmission({
        workloads: [facts],
        extension: extension([]),
        evidence: 'logs',
        final: false,
      });
      expect(app).toMatchObject({ verdict: 'rejected', reason: MESSAGES.unsignedText });
      expect(sidecar).toMatchObject({ verdict: 'rejected' });
      if (sidecar?.verdict === 'rejected')
        expect(sidecar.reason).toMatch(/^the Pods were denied because of another image: /);
    });
    it("rejects on another policy's denial, naming its webhook", () => {
      expect(judge(notCreated(SIGNED, [MESSAGES.otherPolicy]), extension([]))).toMatchObject({
        verdict: 'rejected',
        by: 'validate.kyverno.svc-fail',
      });
    });
    it("reports the extension refusing Kyverno's token (406) as configuration", () => {
      expect(judge(notCreated(SIGNED, [MESSAGES.tokenNotAuthorized]), extension([]))).toMatchObject({
        verdict: 'infrastructure',
        kind: 'configuration',
      });
    });
    it('waits out an unavailable webhook, then reports it as a dependency failure', () => {
      const facts = notCreated(SIGNED, [MESSAGES.webhookUnavailable]);
      expect(judge(facts, extension([])).verdict).toBe('pending');
      expect(judge(facts, extension([]), { final: true })).toMatchObject({
        verdict: 'infrastructure',
        kind: 'dependency',
        code: 'ADMISSION_WEBHOOK_UNAVAILABLE',
      });
    });
  });

  describe('when the Pods run', () => {
    it("requires every Pod's imageID to end in the digest", () => {
      const facts = workload(SIGNED, { pods: [pod('web-1', SIGNED), pod('web-2', SIGNED, '')] });
      expect(judge(facts, extension(logOf('success-json-last-lines.log'))).verdict).toBe('pending');
    });
    it('calls a Pod that runs another digest unverified', () => {
      const other = pod('web-2', UNSIGNED);
      const v = judge(
        workload(SIGNED, { pods: [pod('web-1', SIGNED), other] }),
        extension(logOf('success-json-last-lines.log')),
      );
      expect(v).toMatchObject({ verdict: 'unverified', cause: 'runs-another-digest' });
    });
    it('rejects when the extension failed the digest and the Pods run anyway (failurePolicy: Ignore)', () => {
      expect(
        judge(workload(UNSIGNED), extension(logOf('verdict-on-second-replica.replica-1.log'))),
      ).toMatchObject({
        verdict: 'rejected',
        podsRun: true,
      });
    });
    it('admits when a later success follows a failure of the same digest', () => {
      const records = [
        ...logOf('multi-line-notation-failure.log'),
        ...logOf('cache-hit-without-success-line.log'),
      ].map((r) => ({
        ...r,
        time: r.message.startsWith('Entry for the image')
          ? new Date(Date.parse(DEPLOY_START) + 60_000)
          : r.time,
      }));
      expect(judge(workload(SIGNED), extension(records)).verdict).toBe('admitted');
    });
    it('reports a namespace no policy covers as unverified when the budget ends', () => {
      const v = judge(
        { ...workload(SIGNED), workload: { kind: 'Deployment', namespace: 'unpoliced', name: 'web' } },
        extension([]),
        { final: true },
      );
      expect(v).toMatchObject({ verdict: 'unverified', cause: 'namespace-not-matched' });
      if (v.verdict === 'unverified') expect(v.detail).toContain('"unpoliced"');
    });
    it('points at imageReferences when the extension skipped the image', () => {
      const [skipped] = parseExtensionLog(
        `2026-12-07T21:40:05.000Z\tINFO\tverifier/verify.go:111\tSkipping image ${pinned(SIGNED)}\n`,
        { source: 'p' },
      );
      expect(judge(workload(SIGNED), extension([skipped!]), { final: true })).toMatchObject({
        verdict: 'unverified',
        cause: 'outside-image-references',
      });
    });
    it('points at failurePolicy: Ignore when the webhook failed and the Pods run', () => {
      const facts = workload(SIGNED, { denials: [MESSAGES.webhookUnavailable] });
      expect(judge(facts, extension([]), { final: true })).toMatchObject({
        verdict: 'unverified',
        cause: 'failure-policy-ignore',
      });
    });
  });

  describe('when the extension is down', () => {
    it('reports no extension Pod at once as configuration', () => {
      expect(judge(notCreated(SIGNED, []), extension([], { pods: [] }))).toMatchObject({
        verdict: 'infrastructure',
        kind: 'configuration',
        code: 'EXTENSION_ABSENT',
      });
    });
    it('waits for a Pod that is not Ready, then reports it', () => {
      const ext = extension([], { pods: [{ name: 'kyverno-notation-aws-0', ready: false }] });
      expect(judge(notCreated(SIGNED, []), ext).verdict).toBe('pending');
      expect(judge(notCreated(SIGNED, []), ext, { final: true })).toMatchObject({
        verdict: 'infrastructure',
        code: 'EXTENSION_NOT_READY',
      });
    });
  });

  it('reports an incomplete rollout as unverified when the budget ends', () => {
    expect(judge(notCreated(SIGNED, []), extension([]), { final: true })).toMatchObject({
      verdict: 'unverified',
      cause: 'rollout-incomplete',
    });
  });
});

describe('notationText', () => {
  it.each([
    ['Shape A event', MESSAGES.shapeAEvent],
    ['Shape B apply', MESSAGES.shapeBApply],
    [
      'a log failure',
      `failed to verify container app: failed to verify image {{{r app app  ${UNSIGNED} r/app@${UNSIGNED} r/app}} /spec/containers/0/image}: ${MESSAGES.unsignedText}`,
    ],
  ])("extracts notation's text from %s", (_what, message) => {
    expect(notationText(message)).toBe(MESSAGES.unsignedText);
  });
});
