/**
 * JSON text as Go's `encoding/json` marshals a `map[string]interface{}`: object keys sorted at
 * every level, no whitespace, and `<`, `>`, `&`, U+2028, U+2029 escaped. The JWS protected header
 * of a Go signer (notation-core-go, golang-jwt) is produced this way; matching it byte for byte
 * lets our envelopes be compared with notation-core-go's conformance vector.
 */
export function goJsonStringify(value: unknown): string {
  return escapeHtml(JSON.stringify(sortKeys(value)));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

function escapeHtml(json: string): string {
  return json
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
