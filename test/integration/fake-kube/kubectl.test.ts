/**
 * Fidelity check with the real kubectl: discovery, OpenAPI-driven server-side field validation,
 * server-side apply, `rollout status` (list + watch from the list's resourceVersion),
 * `set image` (strategic merge patch), `rollout undo` (JSON patch), `logs`, `get`.
 * Skips loudly without kubectl (CI installs Debian's kubernetes-client: see .ci/run).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrationRequired } from '../../helpers/docker-registry';
import { startFakeKube, type FakeKube } from '../../helpers/fake-kube/index';

function findKubectl(): string | undefined {
  const override = process.env.STAGESIGN_KUBECTL_BIN;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin'];
  for (const candidate of override ? [override] : dirs.map((d) => path.join(d, 'kubectl'))) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const KUBECTL = findKubectl();
const TITLE = 'fake-kube with kubectl';
if (!KUBECTL) {
  const message = `kubectl is missing; install it with \`sudo apt-get install -y kubernetes-client\` (Debian/Ubuntu) or set STAGESIGN_KUBECTL_BIN`;
  // CI (STAGESIGN_REQUIRE_INTEGRATION=1) fails instead of skipping.
  if (integrationRequired()) throw new Error(message);
  process.stderr.write(`\n⚠️  SKIPPED "${TITLE}": ${message}.\n`);
}

const DIGEST = `sha256:${'c'.repeat(64)}`;
let fake: FakeKube;
let dir: string;
/** kubectl's minor version: before 1.24 it validates against /openapi/v2 (protobuf), which the fake does not serve. */
let minor = 0;

function validate(): string[] {
  return minor < 24 ? ['--validate=false'] : [];
}

function kubectl(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL!,
      ['--kubeconfig', path.join(dir, 'config'), ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: dir }, timeout: 30_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, out: `${stdout}${stderr}` });
      },
    );
  });
}

describe.skipIf(!KUBECTL)(KUBECTL ? TITLE : `${TITLE} (skipped: kubectl is not installed)`, () => {
  beforeAll(async () => {
    const version = await new Promise<string>((resolve) =>
      execFile(KUBECTL!, ['version', '--client', '-o', 'json'], (_e, stdout) => resolve(stdout)),
    );
    minor = Number.parseInt(
      (JSON.parse(version) as { clientVersion: { minor: string } }).clientVersion.minor,
      10,
    );
    if (minor < 24)
      console.warn(
        `kubectl 1.${minor}: applying with --validate=false (client-side validation needs /openapi/v2)`,
      );
    fake = await startFakeKube({
      namespaces: ['shop'],
      controllers: { imageDigests: { 'nginx:1.25': DIGEST } },
    });
    dir = mkdtempSync(path.join(tmpdir(), 'fake-kube-kubectl-'));
    writeFileSync(
      path.join(dir, 'config'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'eks', cluster: { server: fake.endpoint, 'certificate-authority-data': fake.caData } },
        ],
        users: [{ name: 'lambda', user: { token: fake.token() } }],
        contexts: [{ name: 'ctx', context: { cluster: 'eks', user: 'lambda', namespace: 'shop' } }],
        'current-context': 'ctx',
      }),
    );
    writeFileSync(
      path.join(dir, 'web.yaml'),
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: web, namespace: shop}',
        'spec:',
        '  replicas: 2',
        '  selector: {matchLabels: {app: web}}',
        '  template:',
        '    metadata: {labels: {app: web}}',
        '    spec: {containers: [{name: web, image: "nginx:1.25"}]}',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('applies server-side, follows the rollout, rolls back and reads logs', async () => {
    const applied = await kubectl('apply', '--server-side', ...validate(), '-f', path.join(dir, 'web.yaml'));
    expect(applied).toEqual({ code: 0, out: 'deployment.apps/web serverside-applied\n' });
    const patch = fake.requests.matching({ verb: 'patch', resource: 'deployments' })[0]!;
    expect(patch.contentType).toBe('application/apply-patch+yaml');
    expect(patch.query).toMatchObject({ fieldManager: 'kubectl', force: 'false' });
    if (minor >= 24) expect(patch.query.fieldValidation).toBe('Strict');

    const status = await kubectl('rollout', 'status', 'deployment/web', '--timeout=20s');
    expect(status.code).toBe(0);
    expect(status.out).toContain('deployment "web" successfully rolled out');
    expect(fake.requests.count({ verb: 'watch', resource: 'deployments' })).toBeGreaterThanOrEqual(1);

    const pods = fake.list('v1', 'Pod', 'shop');
    expect(pods).toHaveLength(2);
    const pod = String((pods[0]!.metadata as Record<string, unknown>).name);
    expect(
      (pods[0]!.status as { containerStatuses: { imageID: string }[] }).containerStatuses[0]!.imageID,
    ).toBe(`docker.io/library/nginx@${DIGEST}`);

    // A second apply by another manager that changes the image conflicts.
    writeFileSync(
      path.join(dir, 'web2.yaml'),
      readFileSync(path.join(dir, 'web.yaml'), 'utf8').replace('nginx:1.25', 'nginx:1.26'),
    );
    const conflict = await kubectl(
      'apply',
      '--server-side',
      ...validate(),
      '--field-manager=other',
      '-f',
      path.join(dir, 'web2.yaml'),
    );
    expect(conflict.code).not.toBe(0);
    expect(conflict.out).toContain(
      'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.template.spec.containers[name="web"].image',
    );

    expect((await kubectl('set', 'image', 'deployment/web', 'web=nginx:1.26')).out).toContain(
      'image updated',
    );
    await fake.step(3);
    const undo = await kubectl('rollout', 'undo', 'deployment/web');
    expect(undo).toEqual({ code: 0, out: 'deployment.apps/web rolled back\n' });
    const jsonPatch = fake.requests.matching({ verb: 'patch', resource: 'deployments' }).at(-1)!;
    expect(jsonPatch.contentType).toBe('application/json-patch+json');
    expect((await kubectl('rollout', 'status', 'deployment/web', '--timeout=20s')).out).toContain(
      'successfully rolled out',
    );
    const d = fake.read('apps/v1', 'Deployment', 'shop', 'web')!;
    expect(
      (d.metadata as { annotations: Record<string, string> }).annotations[
        'deployment.kubernetes.io/revision'
      ],
    ).toBe('3');
    const history = await kubectl('rollout', 'history', 'deployment/web');
    expect(history.out).toMatch(/2\s+<none>\n3\s+<none>/);

    const t0 = new Date(Date.now() - 5_000);
    fake.logs.append('shop', pod, 'web', 'first line\nsecond line', t0);
    fake.logs.append('shop', pod, 'web', 'third line', new Date());
    expect(await kubectl('logs', pod, '-c', 'web')).toEqual({
      code: 0,
      out: 'first line\nsecond line\nthird line\n',
    });
    expect((await kubectl('logs', pod, '--tail=1', '--timestamps')).out).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z third line\n$/,
    );

    const get = await kubectl(
      'get',
      'deployment',
      'web',
      '-o',
      'jsonpath={.status.updatedReplicas}/{.status.availableReplicas}',
    );
    expect(get).toEqual({ code: 0, out: '2/2' });
  });

  it('rolls StatefulSets and DaemonSets out and back through ControllerRevisions', async () => {
    fake.controllers.options.imageDigests!['nginx:1.26'] = `sha256:${'d'.repeat(64)}`;
    writeFileSync(
      path.join(dir, 'sets.yaml'),
      [
        'apiVersion: apps/v1',
        'kind: StatefulSet',
        'metadata: {name: db, namespace: shop}',
        'spec:',
        '  replicas: 2',
        '  serviceName: db',
        '  selector: {matchLabels: {app: db}}',
        '  template:',
        '    metadata: {labels: {app: db}}',
        '    spec: {containers: [{name: db, image: "nginx:1.25"}]}',
        '---',
        'apiVersion: apps/v1',
        'kind: DaemonSet',
        'metadata: {name: agent, namespace: shop}',
        'spec:',
        '  selector: {matchLabels: {app: agent}}',
        '  template:',
        '    metadata: {labels: {app: agent}}',
        '    spec: {containers: [{name: agent, image: "nginx:1.25"}]}',
        '',
      ].join('\n'),
    );
    expect(
      (await kubectl('apply', '--server-side', ...validate(), '-f', path.join(dir, 'sets.yaml'))).out,
    ).toBe('statefulset.apps/db serverside-applied\ndaemonset.apps/agent serverside-applied\n');
    // A defaulted RollingUpdate strategy has partition 0, so kubectl words it as a partitioned roll out.
    expect((await kubectl('rollout', 'status', 'statefulset/db', '--timeout=20s')).out).toContain(
      'partitioned roll out complete: 2 new pods have been updated...',
    );
    expect((await kubectl('rollout', 'status', 'daemonset/agent', '--timeout=20s')).out).toContain(
      'daemon set "agent" successfully rolled out',
    );
    await kubectl('set', 'image', 'statefulset/db', 'db=nginx:1.26');
    await kubectl('set', 'image', 'daemonset/agent', 'agent=nginx:1.26');
    expect((await kubectl('rollout', 'status', 'statefulset/db', '--timeout=20s')).code).toBe(0);
    expect((await kubectl('rollout', 'undo', 'statefulset/db')).out).toBe(
      'statefulset.apps/db rolled back\n',
    );
    expect((await kubectl('rollout', 'undo', 'daemonset/agent')).out).toBe(
      'daemonset.apps/agent rolled back\n',
    );
    const undoPatches = fake.requests.all.filter(
      (r) => r.verb === 'patch' && r.contentType === 'application/strategic-merge-patch+json',
    );
    expect(undoPatches.length).toBeGreaterThanOrEqual(4);
    expect((await kubectl('rollout', 'status', 'statefulset/db', '--timeout=20s')).code).toBe(0);
    expect((await kubectl('rollout', 'status', 'daemonset/agent', '--timeout=20s')).code).toBe(0);
    await fake.step(4);
    const images = fake
      .list('v1', 'Pod', 'shop')
      .filter((p) => /^(db|agent)-/.test(String((p.metadata as { name: string }).name)))
      .map((p) => (p.spec as { containers: { image: string }[] }).containers[0]!.image);
    expect(images).toEqual(['nginx:1.25', 'nginx:1.25', 'nginx:1.25']);
    const sts = fake.read('apps/v1', 'StatefulSet', 'shop', 'db')!.status as Record<string, unknown>;
    expect(sts.currentRevision).toBe(sts.updateRevision);
    const revisions = fake
      .list('apps/v1', 'ControllerRevision', 'shop')
      .filter((cr) => String((cr.metadata as { name: string }).name).startsWith('db-'))
      .map((cr) => cr.revision);
    expect(revisions.sort()).toEqual([2, 3]);
  });

  it('is refused with 401 when the token is not an EKS token', async () => {
    const other = path.join(dir, 'bad-config');
    writeFileSync(
      other,
      readFileSync(path.join(dir, 'config'), 'utf8').replace(/"token":"[^"]+"/, '"token":"abc"'),
    );
    const out = await new Promise<string>((resolve) =>
      execFile(
        KUBECTL!,
        ['--kubeconfig', other, 'get', 'pods'],
        { env: { PATH: '', HOME: dir } },
        (_e, so, se) => resolve(`${so}${se}`),
      ),
    );
    expect(out).toContain('error: You must be logged in to the server (Unauthorized)');
  });
});
