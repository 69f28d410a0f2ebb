/**
 * Parsing of `WWW-Authenticate` challenges (RFC 7235) as registries send them:
 * `Bearer realm="https://auth.example/token",service="registry.example",scope="repository:app:pull"`
 * or `Basic realm="…"`. Pure.
 */
export type AuthChallenge =
  | { scheme: 'bearer'; realm: string; service?: string; scope?: string }
  | { scheme: 'basic'; realm?: string }
  | { scheme: 'unknown'; raw: string };

export function parseAuthChallenge(header: string | null): AuthChallenge | undefined {
  if (header === null || header.trim() === '') return undefined;
  const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!match) return { scheme: 'unknown', raw: header };
  const scheme = match[1]!.toLowerCase();
  const params: Record<string, string> = {};
  const paramRe = /([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = match[2]!;
  paramRe.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (paramRe.lastIndex < rest.length && (m = paramRe.exec(rest)) !== null) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  if (scheme === 'bearer' && params.realm) {
    const out: AuthChallenge = { scheme: 'bearer', realm: params.realm };
    if (params.service !== undefined) out.service = params.service;
    if (params.scope !== undefined) out.scope = params.scope;
    return out;
  }
  if (scheme === 'basic')
    return params.realm !== undefined ? { scheme: 'basic', realm: params.realm } : { scheme: 'basic' };
  return { scheme: 'unknown', raw: scheme };
}
