/**
 * Renders values the way notation-go prints them, so that messages read exactly like notation's:
 * Go's `pkix.Name.String()` for certificate subjects and `time.RFC1123Z` for instants.
 */
import type { X509Certificate } from 'node:crypto';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function pad2(n: number): string {
  return n.toString().padStart(2, '0');
}

/** Go's `time.RFC1123Z` in UTC: `Fri, 29 Jul 2022 23:59:00 +0000`. */
export function formatRfc1123Z(date: Date): string {
  return (
    `${DAYS[date.getUTCDay()]}, ${pad2(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} +0000`
  );
}

/** RFC 3339 in UTC without fractional seconds (`2023-12-06T01:20:03Z`), as Go marshals a truncated time. */
export function formatRfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A certificate subject as Go's `pkix.Name.String()` prints it: RDNs in reverse order joined by
 * commas (`CN=AWS Signer,OU=AWS Cryptography,O=AWS,L=Seattle,ST=WA,C=US`). Node prints the RDNs
 * forward, one per line.
 */
export function goSubjectString(cert: X509Certificate): string {
  return cert.subject.split('\n').filter(Boolean).reverse().join(',');
}

/** The subject as attribute type → value (last occurrence wins), for x509.subject identity matching. */
export function subjectAttributes(cert: X509Certificate): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of cert.subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq).toUpperCase()] = line.slice(eq + 1);
  }
  return out;
}
