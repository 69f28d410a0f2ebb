import { describe, expect, it } from 'vitest';
import {
  MANIFEST_LIMITS,
  inInstallOrder,
  parseManifests,
  selectManifestFiles,
} from '../../../shared/kube/manifests';

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
const files = (entries: Record<string, string>): Map<string, Uint8Array> =>
  new Map(Object.entries(entries).map(([k, v]) => [k, enc(v)]));

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  template:
    spec:
      containers: [{ name: web, image: app }]
`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

describe('selectManifestFiles', () => {
  const names = ['k8s/b.yaml', 'k8s/a.yml', 'k8s/notes.txt', 'k8s/sub/c.json', 'deployment.yaml'];

  it('takes a file by its path', () => {
    expect(selectManifestFiles(names, ['deployment.yaml'], 'SourceOutput')).toEqual(['deployment.yaml']);
  });

  it('takes a directory as its manifest files, sorted, with or without the slash', () => {
    expect(selectManifestFiles(names, ['k8s/'], 'SourceOutput')).toEqual([
      'k8s/a.yml',
      'k8s/b.yaml',
      'k8s/sub/c.json',
    ]);
    expect(selectManifestFiles(names, ['./k8s'], 'SourceOutput')).toHaveLength(3);
  });

  it('takes a list, reading a file named twice once', () => {
    expect(selectManifestFiles(names, ['deployment.yaml', 'k8s/a.yml', 'deployment.yaml'], 'S')).toEqual([
      'deployment.yaml',
      'k8s/a.yml',
    ]);
  });

  it('refuses a path that names nothing, saying what the artifact holds', () => {
    const message = messageOf(() => selectManifestFiles(names, ['deploy.yaml'], 'SourceOutput'));
    expect(message).toContain('UserParameters.manifests names "deploy.yaml"');
    expect(message).toContain('deployment.yaml');
  });
});

describe('parseManifests', () => {
  it('reads every document of a multi-document file and skips empty ones', () => {
    const objects = parseManifests(
      files({
        'a.yaml': `${DEPLOYMENT}---\n---\napiVersion: v1\nkind: Service\nmetadata: { name: web }\n---\n`,
      }),
      ['a.yaml'],
      'prod',
    );
    expect(objects.map((o) => [o.object.kind, o.source.document])).toEqual([
      ['Deployment', 1],
      ['Service', 3],
    ]);
  });

  it('gives namespaced objects without a namespace the default one, and cluster-scoped ones none', () => {
    const objects = parseManifests(
      files({ 'a.yaml': `${DEPLOYMENT}---\napiVersion: v1\nkind: Namespace\nmetadata: { name: prod }\n` }),
      ['a.yaml'],
      'prod',
    );
    expect(objects.map((o) => o.object.metadata.namespace)).toEqual(['prod', undefined]);
  });

  it('reads JSON and flattens List kinds, naming the item', () => {
    const list = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } },
      ],
    });
    const objects = parseManifests(files({ 'l.json': list }), ['l.json'], 'default');
    expect(objects.map((o) => [o.object.metadata.name, o.source.item])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it.each([
    ['apiVersion', 'kind: Service\nmetadata: { name: x }\n', 'field apiVersion is missing'],
    ['kind', 'apiVersion: v1\nmetadata: { name: x }\n', 'field kind is missing'],
    [
      'metadata.name',
      'apiVersion: v1\nkind: Service\nmetadata: { labels: { a: b } }\n',
      'field metadata.name is missing',
    ],
    ['a scalar document', 'just text\n', 'must be a Kubernetes object'],
  ])('refuses a document without %s, naming file, document and field', (_what, doc, text) => {
    const message = messageOf(() =>
      parseManifests(files({ 'k8s/x.yaml': `${DEPLOYMENT}---\n${doc}` }), ['k8s/x.yaml'], 'd'),
    );
    expect(message).toContain('Manifest file "k8s/x.yaml" document 2');
    expect(message).toContain(text);
  });

  it('refuses the same object twice, naming both places', () => {
    const message = messageOf(() =>
      parseManifests(files({ 'a.yaml': DEPLOYMENT, 'b.yaml': DEPLOYMENT }), ['a.yaml', 'b.yaml'], 'prod'),
    );
    expect(message).toContain('Deployment prod/web is also defined in file "a.yaml" document 1');
  });

  it('refuses a file over 1 MiB', () => {
    const big = `${DEPLOYMENT}# ${'x'.repeat(MANIFEST_LIMITS.fileBytes)}\n`;
    expect(codeOf(() => parseManifests(files({ 'a.yaml': big }), ['a.yaml'], 'd'))).toBe(
      'MANIFEST_TOO_LARGE',
    );
  });

  it('refuses more than 500 objects', () => {
    const docs = Array.from(
      { length: MANIFEST_LIMITS.objects + 1 },
      (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c${i} }\n`,
    ).join('---\n');
    expect(codeOf(() => parseManifests(files({ 'a.yaml': docs }), ['a.yaml'], 'd'))).toBe(
      'MANIFEST_TOO_LARGE',
    );
  });

  it('refuses a YAML alias bomb', () => {
    const bomb = [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: { name: bomb }',
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'data: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    ].join('\n');
    const message = messageOf(() => parseManifests(files({ 'a.yaml': bomb }), ['a.yaml'], 'd'));
    expect(message).toContain('Manifest file "a.yaml" document 1');
    expect(message).toContain('aliases are limited');
  });

  it('refuses YAML syntax errors with the place', () => {
    expect(messageOf(() => parseManifests(files({ 'a.yaml': 'a: [\n' }), ['a.yaml'], 'd'))).toContain(
      'Manifest file "a.yaml" document 1: YAML error',
    );
  });
});

describe('inInstallOrder', () => {
  it('orders like Helm: namespaces, service accounts, config, services, then workloads; unknown kinds last', () => {
    const kinds = [
      'Deployment',
      'Widget',
      'Service',
      'ConfigMap',
      'ServiceAccount',
      'Namespace',
      'CustomResourceDefinition',
    ];
    const sorted = inInstallOrder(
      kinds.map((kind) => ({ object: { apiVersion: 'v1', kind, metadata: { name: kind } } })),
    );
    expect(sorted.map((o) => o.object.kind)).toEqual([
      'Namespace',
      'ServiceAccount',
      'ConfigMap',
      'CustomResourceDefinition',
      'Service',
      'Deployment',
      'Widget',
    ]);
  });
});
