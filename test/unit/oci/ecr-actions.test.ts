/**
 * issue 9 item 6: each function's ECR actions in template.yaml equal what its code can call.
 *
 * 1. The client's table (`ECR_ACTIONS_BY_METHOD`) is checked against the requests it really sends,
 *    on every path (Referrers API or tag schema, blob mount or HEAD), mapped to IAM actions.
 * 2. Each function's code side is derived from the `Registry` methods its module graph calls,
 *    through that table; the template's `ecr:` actions of the function must equal it.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DistributionRegistry,
  ECR_ACTIONS_BY_METHOD,
  ecrActionsOfRequest,
  type RegistryMethod,
} from '../../../shared/oci/distribution-registry';
import { parseReference, withDigest } from '../../../shared/oci/reference';
import { MediaType, type Descriptor } from '../../../shared/oci/types';
import { esbuildFunctions, parseTemplate } from '../../../scripts/lib/sam-template';
import { FakeRegistry, type FakeRegistryOptions } from '../../helpers/fake-registry';
import { buildSignature, pushImage, pushSignature } from '../../integration/oci/registry-behaviour';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const METHODS = Object.keys(ECR_ACTIONS_BY_METHOD) as RegistryMethod[];
const AUTH_TOKEN = 'ecr:GetAuthorizationToken';

const started: FakeRegistry[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

/** Runs every Registry method against a fake registry; returns the IAM actions of each method's requests. */
async function actionsPerMethod(
  options: FakeRegistryOptions,
  rejectMount: boolean,
): Promise<Map<RegistryMethod, Set<string>>> {
  const fake = await FakeRegistry.start(options);
  started.push(fake);
  // A registry without blob mount: the client falls back to HEAD before uploading.
  if (rejectMount) fake.intercept((r) => (r.query.has('mount') ? { status: 405 } : undefined));
  const inner = new DistributionRegistry({ plainHttp: true });
  const seen = new Map<RegistryMethod, Set<string>>(METHODS.map((m) => [m, new Set<string>()]));
  // Every call goes through this wrapper, which attributes the requests it caused to the method.
  const registry = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function' || !METHODS.includes(key as RegistryMethod)) return value;
      return async (...args: unknown[]) => {
        const before = fake.registryRequests().length;
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          for (const request of fake.registryRequests().slice(before)) {
            // Deleting an outdated tag-schema index is best effort (a denial is only logged).
            if (key === 'pushManifest' && request.method === 'DELETE') continue;
            for (const action of ecrActionsOfRequest(request.method, request.path))
              seen.get(key as RegistryMethod)!.add(action);
          }
        }
      };
    },
  });
  const ref = parseReference(`${fake.host}/app`);
  const image = await pushImage(registry, ref, 'ecr-actions');
  const first = buildSignature(image, 'one');
  await pushSignature(registry, ref, first);
  await pushSignature(registry, ref, buildSignature(image, 'two'));
  await registry.pushManifest(ref, image, await registry.fetchManifest(ref, image), { tag: 'v1' });
  await registry.resolve(withDigest(ref, image.digest));
  await registry.resolve({ ...ref, tag: 'v1' });
  const listed: Descriptor[] = await registry.listReferrers(ref, image, MediaType.NotarySignature);
  expect(listed.length).toBe(2);
  await registry.fetchBlob(ref, first.envelopeDesc);
  return seen;
}

describe('ECR_ACTIONS_BY_METHOD matches the requests the client sends', () => {
  it('on every path, each method needs exactly the actions of its table entry', async () => {
    const union = new Map<RegistryMethod, Set<string>>(METHODS.map((m) => [m, new Set<string>()]));
    for (const [options, rejectMount] of [
      [{ referrersApi: true, supportMount: true }, false],
      [{ referrersApi: false, supportMount: false }, true],
    ] satisfies [FakeRegistryOptions, boolean][]) {
      for (const [method, actions] of await actionsPerMethod(options, rejectMount))
        for (const action of actions) union.get(method)!.add(action);
    }
    for (const method of METHODS)
      expect([...union.get(method)!].sort(), method).toEqual([...ECR_ACTIONS_BY_METHOD[method]].sort());
  });
});

/** The relative imports of the module graph starting at `entry` (project files only). */
function moduleGraph(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(/(?:from|import)\s*'(\.{1,2}\/[^']+)'/g)) {
      const base = path.resolve(path.dirname(file), m[1]!);
      const resolved = [base, `${base}.ts`, path.join(base, 'index.ts')].find(
        (candidate) => candidate.endsWith('.ts') && existsSync(candidate),
      );
      if (resolved) queue.push(resolved);
    }
  }
  return [...seen];
}

/** The Registry methods the code of `files` calls on a registry object (helpers included). */
function registryMethodsCalled(files: string[]): Set<RegistryMethod> {
  const called = new Set<RegistryMethod>();
  const call = new RegExp(`registry\\??\\.(${METHODS.join('|')})\\(`, 'gi');
  for (const file of files) {
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(call)) called.add(m[1] as RegistryMethod);
  }
  return called;
}

/** The `ecr:` actions in the function's inline policy statements. */
function templateEcrActions(resource: Record<string, unknown>): Set<string> {
  const actions = new Set<string>();
  const policies = ((resource.Properties as Record<string, unknown>).Policies ?? []) as unknown[];
  for (const policy of policies) {
    const statements = ((policy as { Statement?: unknown[] }).Statement ?? []) as Array<{
      Action?: string | string[];
    }>;
    for (const statement of statements) {
      for (const action of [statement.Action ?? []].flat())
        if (action.startsWith('ecr:')) actions.add(action);
    }
  }
  return actions;
}

describe('template.yaml grants each function exactly the ECR actions its code can call', () => {
  const template = parseTemplate(readFileSync(path.join(ROOT, 'template.yaml'), 'utf8'));
  const resources = template.Resources as Record<string, Record<string, unknown>>;
  const functions = esbuildFunctions(template);

  it('covers the functions that talk to ECR', () => {
    expect(functions.map((f) => f.stage)).toEqual(expect.arrayContaining(['sign-image', 'verify-image']));
  });

  it.each(functions.map((f) => [f.stage, f.logicalId] as const))('%s (%s)', (stage, logicalId) => {
    const entry = path.join(ROOT, 'functions', stage, 'handler.ts');
    const methods = registryMethodsCalled(moduleGraph(entry));
    const expected = new Set<string>(methods.size > 0 ? [AUTH_TOKEN] : []);
    for (const method of methods) for (const action of ECR_ACTIONS_BY_METHOD[method]) expected.add(action);
    expect([...templateEcrActions(resources[logicalId]!)].sort()).toEqual([...expected].sort());
  });
});
