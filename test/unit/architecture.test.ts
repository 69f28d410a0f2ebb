import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Holds the dependency table of architecture.md §3 by scanning import statements of every
 * source file (test/ excluded: tests may import anything).
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE_ROOTS = ['functions', 'shared', 'cli', 'scripts', 'bench'];

/**
 * I/O adapter files inside shared/notary and shared/oci: the only files there allowed to touch
 * AWS SDKs, http, fs, process.env or the clock. Add a file here only when it is an adapter
 * behind a small interface (architecture.md §1.1), and keep its pure logic in another file.
 */
const ADAPTER_ALLOWLIST = new Set([
  'shared/oci/distribution-registry.ts', // OCI Distribution API client (http)
  'shared/oci/registry-auth.ts', // ECR GetAuthorizationToken + registry token exchange
  'shared/oci/oci-layout-registry.ts', // OCI image layout on disk (fs)
  'shared/notary/trust-store-directory.ts', // notation trust store folders (fs)
]);

/**
 * The two adapter files of shared/kube (architecture.md §7): the EKS connection (DescribeCluster,
 * the presigned-STS token) and the client-node cluster. Everything else in shared/kube is pure
 * (manifests, image pinning, rollout status, admission verdicts). They need not exist yet: the
 * rules hold vacuously until the deploy stage adds them.
 */
const KUBE_ADAPTERS = new Set(['shared/kube/eks-connection.ts', 'shared/kube/kube-cluster.ts']);

/** Folders whose files are pure except the listed adapters. */
const PURE_DOMAINS = /^shared\/(notary|oci|kube)\//;

const FORBIDDEN_IN_PURE_MODULES = [
  /^@aws-sdk\//,
  /^@kubernetes\//,
  /^@smithy\//,
  /^(node:)?https?$/,
  /^(node:)?http2$/,
  /^(node:)?net$/,
  /^(node:)?fs(\/promises)?$/,
  /^(node:)?child_process$/,
  /^undici$/,
];

const FORBIDDEN_CODE_IN_PURE_MODULES: [RegExp, string][] = [
  [/\bprocess\.env\b/, 'process.env'],
  [/\bDate\.now\s*\(/, 'Date.now()'],
  [/\bnew Date\s*\(\s*\)/, 'new Date() (the clock)'],
  [/(?<![.\w$])fetch\s*\(/, 'fetch()'],
];

interface SourceFile {
  readonly rel: string;
  readonly code: string;
  readonly imports: readonly string[];
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(full).isDirectory()) return walk(full);
    return /\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [full] : [];
  });
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function importsOf(code: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) found.push(match[1]!);
  return found;
}

/** Repo-relative target of a relative import, else the bare specifier. */
function target(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return path
    .relative(root, path.resolve(root, path.dirname(from), specifier))
    .split(path.sep)
    .join('/');
}

const files: SourceFile[] = SOURCE_ROOTS.flatMap((dir) => walk(path.join(root, dir))).map((full) => {
  const rel = path.relative(root, full).split(path.sep).join('/');
  const code = stripComments(readFileSync(full, 'utf8'));
  return { rel, code, imports: importsOf(code).map((s) => target(rel, s)) };
});

const stageOf = (rel: string): string | undefined => /^functions\/([^/]+)\//.exec(rel)?.[1];
const isPureDomainFile = (rel: string) =>
  PURE_DOMAINS.test(rel) && !ADAPTER_ALLOWLIST.has(rel) && !KUBE_ADAPTERS.has(rel);

/** Why `file` breaks the purity rule (empty when it is an adapter or outside the pure domains). */
function pureModuleViolations(file: SourceFile): string[] {
  if (!isPureDomainFile(file.rel)) return [];
  const bad = file.imports
    .filter((s) => FORBIDDEN_IN_PURE_MODULES.some((p) => p.test(s)))
    .map((s) => `imports ${s}`);
  // shared/aws is SDK plumbing for adapters; a pure file has no use for it.
  bad.push(...file.imports.filter((t) => t.startsWith('shared/aws/')).map((t) => `imports ${t}`));
  const code = file.code
    .split('\n')
    .filter((line) => !/^\s*(async\s+)?fetch\s*\(/.test(line)) // a method named fetch is not a call
    .join('\n');
  for (const [pattern, what] of FORBIDDEN_CODE_IN_PURE_MODULES)
    if (pattern.test(code)) bad.push(`uses ${what}`);
  return bad.map(
    (b) => `${b} (pure domain file; move the I/O to an adapter, or add an adapter to ADAPTER_ALLOWLIST)`,
  );
}

/** A source file as the scanner sees it, for testing the rules themselves. */
function sourceFile(rel: string, text: string): SourceFile {
  const code = stripComments(text);
  return { rel, code, imports: importsOf(code).map((s) => target(rel, s)) };
}

function violations(check: (file: SourceFile) => string[]): string[] {
  return files.flatMap((file) => check(file).map((why) => `${file.rel}: ${why}`));
}

describe('architecture (dependency direction, architecture.md §3)', () => {
  it('finds the source files it checks', () => {
    expect(files.some((f) => f.rel.startsWith('shared/pipeline/'))).toBe(true);
    expect(files.find((f) => f.rel === 'shared/pipeline/action.ts')?.imports).toContain(
      'shared/pipeline/job',
    );
  });

  it('keeps pure shared/notary, shared/oci and shared/kube files free of AWS SDKs, Kubernetes clients, http, fs, process.env and the clock', () => {
    expect(violations(pureModuleViolations)).toEqual([]);
  });

  it('fails a pure module that imports @kubernetes/client-node, and lets the kube adapters do it', () => {
    const text =
      "import { KubeConfig } from '@kubernetes/client-node';\nexport const k = new KubeConfig();\n";
    expect(pureModuleViolations(sourceFile('shared/kube/image-pinning.ts', text))).toEqual([
      'imports @kubernetes/client-node (pure domain file; move the I/O to an adapter, or add an adapter to ADAPTER_ALLOWLIST)',
    ]);
    expect(pureModuleViolations(sourceFile('shared/notary/verifier.ts', text))).toHaveLength(1);
    expect(pureModuleViolations(sourceFile('shared/kube/kube-cluster.ts', text))).toEqual([]);
    expect(pureModuleViolations(sourceFile('shared/kube/eks-connection.ts', text))).toEqual([]);
  });

  it('fails a pure module that imports shared/aws plumbing or reads the clock', () => {
    const text = "import { describeAwsError } from '../aws/aws-error';\nexport const t = Date.now();\n";
    expect(pureModuleViolations(sourceFile('shared/kube/rollout-status.ts', text))).toEqual([
      'imports shared/aws/aws-error (pure domain file; move the I/O to an adapter, or add an adapter to ADAPTER_ALLOWLIST)',
      'uses Date.now() (pure domain file; move the I/O to an adapter, or add an adapter to ADAPTER_ALLOWLIST)',
    ]);
  });

  it('allows @kubernetes/* only in the shared/kube adapter files', () => {
    const found = violations((file) =>
      KUBE_ADAPTERS.has(file.rel)
        ? []
        : file.imports
            .filter((s) => /^@kubernetes\//.test(s))
            .map((s) => `imports ${s} (only ${[...KUBE_ADAPTERS].join(' and ')} may)`),
    );
    expect(found).toEqual([]);
  });

  it('keeps shared/aws plumbing below the domains: it imports no domain folder', () => {
    const found = violations((file) =>
      file.rel.startsWith('shared/aws/')
        ? file.imports
            .filter((t) => /^shared\/(notary|oci|kube|pipeline|signer)\//.test(t))
            .map((t) => `imports ${t}`)
        : [],
    );
    expect(found).toEqual([]);
  });

  it('lists only adapter files that exist', () => {
    const missing = [...ADAPTER_ALLOWLIST].filter((rel) => !existsSync(path.join(root, rel)));
    expect(missing).toEqual([]);
  });

  it('never imports a handler', () => {
    const found = violations((file) =>
      file.imports.filter((t) => /^functions\/[^/]+\/handler(\.ts)?$/.test(t)).map((t) => `imports ${t}`),
    );
    expect(found).toEqual([]);
  });

  it('keeps each stage out of the other stages', () => {
    const found = violations((file) => {
      const stage = stageOf(file.rel);
      if (!stage) return [];
      return file.imports
        .filter((t) => stageOf(`${t}/`) !== undefined && stageOf(`${t}/`) !== stage)
        .map((t) => `imports ${t}`);
    });
    expect(found).toEqual([]);
  });

  it('keeps shared/ independent of functions/', () => {
    const found = violations((file) =>
      file.rel.startsWith('shared/')
        ? file.imports.filter((t) => t.startsWith('functions/')).map((t) => `imports ${t}`)
        : [],
    );
    expect(found).toEqual([]);
  });

  // Shipped code (what the bundles and the CLI contain) never reaches into test/. Dev tooling in
  // scripts/ and bench/ may: e.g. the fixture generator signs with the test signing authority.
  it('never imports test/ from shipped source (functions/, shared/, cli/)', () => {
    const found = violations((file) =>
      /^(functions|shared|cli)\//.test(file.rel)
        ? file.imports.filter((t) => t === 'test' || t.startsWith('test/')).map((t) => `imports ${t}`)
        : [],
    );
    expect(found).toEqual([]);
  });

  it('keeps shared/pipeline pure files free of the SDK (only the reporter and artifact adapters do I/O)', () => {
    const adapters = new Set([
      'shared/pipeline/codepipeline-reporter.ts',
      'shared/pipeline/default-reporter.ts',
      'shared/pipeline/s3-artifact-store.ts',
      'shared/pipeline/action.ts',
    ]);
    const found = violations((file) => {
      if (!file.rel.startsWith('shared/pipeline/') || adapters.has(file.rel)) return [];
      return file.imports
        .filter((s) => FORBIDDEN_IN_PURE_MODULES.some((p) => p.test(s)))
        .map((s) => `imports ${s}`);
    });
    expect(found).toEqual([]);
  });
});
