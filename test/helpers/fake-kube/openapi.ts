/**
 * Just enough OpenAPI v3 for kubectl: the root document (`/openapi/v3`, one `serverRelativeURL`
 * per group version) and each group version's paths, whose PATCH operations carry
 * `x-kubernetes-group-version-kind` and whose parameters include `fieldValidation`. kubectl
 * (client-go's QueryParamVerifierV3) reads exactly that to choose server-side field validation
 * instead of downloading schemas. No component schemas are served.
 */
import { RESOURCE_TYPES, apiVersionOf } from './discovery';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

const QUERY = (name: string): object => ({
  name,
  in: 'query',
  schema: { type: 'string', uniqueItems: true },
});

export function openApiRoot(): object {
  const paths: Record<string, object> = {};
  for (const t of RESOURCE_TYPES) {
    const p = gvPath(t.group, t.version);
    paths[p] = {
      serverRelativeURL: `/openapi/v3/${p}?hash=${Buffer.from(apiVersionOf(t)).toString('hex').toUpperCase()}`,
    };
  }
  return { paths };
}

export function openApiGroupVersion(path: string): object | undefined {
  const types = RESOURCE_TYPES.filter((t) => gvPath(t.group, t.version) === path);
  if (types.length === 0) return undefined;
  const paths: Record<string, object> = {};
  for (const t of types) {
    const base = `/${path}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}/{name}`;
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const op = (action: string, id: string, parameters: object[] = []): object => ({
      operationId: id,
      parameters,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      responses: { '200': { description: 'OK' } },
    });
    paths[base] = {
      parameters: [QUERY('pretty')],
      get: op('get', `read${t.kind}`),
      put: op('put', `replace${t.kind}`, [QUERY('dryRun'), QUERY('fieldManager'), QUERY('fieldValidation')]),
      patch: op('patch', `patch${t.kind}`, [
        QUERY('dryRun'),
        QUERY('fieldManager'),
        QUERY('fieldValidation'),
        QUERY('force'),
      ]),
      delete: op('delete', `delete${t.kind}`),
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.9-eks-fake' },
    paths,
    components: { schemas: {} },
  };
}
