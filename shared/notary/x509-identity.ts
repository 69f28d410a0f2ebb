/**
 * `x509.subject:` trusted identities: parsing the RFC 4514 distinguished name after the prefix with
 * notation's rules, and matching a signing certificate's subject against them (subset match).
 * Spec: `specs/trust-store-trust-policy.md` §"Trusted Identities Constraints";
 * notation-go `internal/pkix` (`ParseDistinguishedName`, `IsSubsetDN`).
 */
import type { X509Certificate } from 'node:crypto';
import { ConfigurationError } from '../errors';
import { goSubjectString } from './go-format';

/** One parsed `x509.subject:` identity: attribute type (as notation names it: `C`, `ST`, `O`, `CN`…) → value. */
export interface X509Identity {
  rdns: Record<string, string>;
}

/** The prefix of trusted identities that notation evaluates natively. */
export const X509_SUBJECT_PREFIX = 'x509.subject';

const MANDATORY_ATTRIBUTES = ['C', 'ST', 'O'] as const;

/** One attribute of a relative distinguished name. */
interface Attribute {
  type: string;
  value: string;
}

/**
 * Parses the part after `x509.subject:` with notation's rules: RFC 4514 syntax, no `=#` (hex-encoded
 * values), no multi-valued RDNs, no duplicate attribute types, and C, ST (`S` is accepted as its
 * alias) and O present with non-empty values. Throws ConfigurationError `TRUST_POLICY_INVALID` whose
 * message is notation's text; `parseTrustPolicy` prefixes it with the statement and identity.
 */
export function parseX509Identity(value: string): X509Identity {
  const fail = (message: string): never => {
    throw new ConfigurationError('TRUST_POLICY_INVALID', message);
  };
  if (value.includes('=#')) {
    fail(
      `unsupported distinguished name (DN) ${goQuote(value)}: notation does not support x509.subject identities containing "=#"`,
    );
  }
  let rdns: Attribute[][];
  try {
    rdns = parseDistinguishedName(value);
  } catch (error) {
    return fail(
      `parsing distinguished name (DN) ${goQuote(value)} failed with err: ${(error as Error).message}. A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard`,
    );
  }
  const map: Record<string, string> = {};
  for (const rdn of rdns) {
    if (rdn.length > 1) {
      fail(
        `distinguished name (DN) ${goQuote(value)} has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported`,
      );
    }
    for (const { type, value: attributeValue } of rdn) {
      // notation treats an attribute with an empty value as absent (Go map zero value).
      if (map[type] === undefined || map[type] === '') map[type] = attributeValue;
      else {
        fail(
          `distinguished name (DN) ${goQuote(value)} has duplicate RDN attribute for ${goQuote(type)}, DN can only have unique RDN attributes`,
        );
      }
    }
  }
  for (const field of MANDATORY_ATTRIBUTES) {
    if (!map[field]) {
      fail(
        `distinguished name (DN) ${goQuote(value)} has no mandatory RDN attribute for ${goQuote(field)}, it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum`,
      );
    }
  }
  return { rdns: map };
}

/**
 * True when `identities` contains one whose every RDN equals the same RDN of the leaf subject
 * (notation's `IsSubsetDN`). The subject may be given as a map (see `certificateSubjectRdns`), as an
 * RFC 4514 string (`CN=…,O=…`), or as node:crypto's `X509Certificate.subject` (one RDN a line).
 * A subject that cannot be read as a DN, or has duplicate or multi-valued RDNs, matches nothing.
 */
export function matchesX509Identity(
  leafSubject: string | Record<string, string>,
  identities: X509Identity[],
): boolean {
  let subject: Record<string, string>;
  if (typeof leafSubject === 'string') {
    const parsed = subjectStringToRdns(leafSubject);
    if (parsed === undefined) return false;
    subject = parsed;
  } else {
    subject = leafSubject;
  }
  return identities.some((identity) => isSubsetDn(identity.rdns, subject));
}

/** notation's overlap test: every attribute of `a` has the same value in `b`. */
export function isSubsetDn(a: Record<string, string>, b: Record<string, string>): boolean {
  return Object.entries(a).every(([type, value]) => Object.hasOwn(b, type) && b[type] === value);
}

/**
 * A certificate's subject as an attribute map with Go's attribute names (`CN`, `O`, `OU`, `L`, `ST`,
 * `C`, `SERIALNUMBER`, `STREET`, `POSTALCODE`), for identity matching. Undefined when the subject
 * has multi-valued or duplicate RDNs, which notation cannot match against an identity either.
 */
export function certificateSubjectRdns(cert: X509Certificate): Record<string, string> | undefined {
  return subjectStringToRdns(goSubjectString(cert));
}

/**
 * A certificate's subject formatted as Go's `pkix.Name.String()` prints it (RDNs in reverse order,
 * comma-separated, e.g. `CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US`), so messages quote
 * subjects exactly as notation does.
 */
export function x509SubjectString(cert: X509Certificate): string {
  return goSubjectString(cert);
}

/** Go `%q` for the strings notation quotes (JSON string syntax is equivalent for printable text). */
export function goQuote(value: string): string {
  return JSON.stringify(value);
}

// node:crypto prints OpenSSL short names; notation (Go) prints these few differently.
const GO_ATTRIBUTE_NAMES: Record<string, string> = {
  serialNumber: 'SERIALNUMBER',
  street: 'STREET',
  postalCode: 'POSTALCODE',
};

function goAttributeName(type: string): string {
  return GO_ATTRIBUTE_NAMES[type] ?? type;
}

function subjectStringToRdns(subject: string): Record<string, string> | undefined {
  let rdns: Attribute[][];
  try {
    // node:crypto prints one RDN a line (values RFC 2253-escaped); RFC 4514 text uses commas.
    rdns = subject.includes('\n')
      ? subject
          .split('\n')
          .filter((line) => line !== '')
          .flatMap((line) => parseDistinguishedName(line))
      : parseDistinguishedName(subject);
  } catch {
    return undefined;
  }
  const map: Record<string, string> = {};
  for (const rdn of rdns) {
    if (rdn.length !== 1) return undefined;
    const [attribute] = rdn as [Attribute];
    const type = goAttributeName(attribute.type);
    if (Object.hasOwn(map, type)) return undefined;
    map[type] = attribute.value;
  }
  return map;
}

const ATTRIBUTE_TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)$/;
const ESCAPABLE = new Set([',', '+', '"', '\\', '<', '>', ';', '#', '=', ' ']);

/**
 * RFC 4514 distinguished-name parser: RDNs separated by `,` (or `;`), multi-valued RDNs joined by
 * `+`, values with `\`-escapes (special characters or two hex digits, UTF-8) or double quotes;
 * unescaped spaces around types and values are ignored. `S` is read as `ST`.
 */
function parseDistinguishedName(text: string): Attribute[][] {
  const rdns: Attribute[][] = [];
  let current: Attribute[] = [];
  let i = 0;
  const n = text.length;
  if (text.trim() === '') return rdns;
  while (i <= n) {
    // attribute type
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`DN ended with incomplete type, value pair`);
    const rawType = text.slice(i, eq).trim();
    if (!ATTRIBUTE_TYPE.test(rawType)) throw new Error(`invalid attribute type ${goQuote(rawType)}`);
    const type = rawType === 'S' ? 'ST' : rawType;
    i = eq + 1;
    while (i < n && text[i] === ' ') i++;
    // attribute value
    const bytes: number[] = [];
    let trailingSpaces = 0; // unescaped spaces at the end of the value so far
    let terminator: string | undefined;
    if (text[i] === '#') throw new Error('hex-encoded attribute values are not supported');
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const ch = text[i]!;
        if (ch === '\\') {
          i = readEscape(text, i, bytes);
          continue;
        }
        if (ch === '"') {
          closed = true;
          i++;
          break;
        }
        i = pushCodePoint(text, i, bytes);
      }
      if (!closed) throw new Error('unterminated quoted value');
      while (i < n && text[i] === ' ') i++;
      if (i < n && !',;+'.includes(text[i]!)) throw new Error(`unexpected character after quoted value`);
    } else {
      while (i < n) {
        const ch = text[i]!;
        if (ch === ',' || ch === ';' || ch === '+') break;
        if (ch === '\\') {
          i = readEscape(text, i, bytes);
          trailingSpaces = 0;
          continue;
        }
        if (ch === '"' || ch === '<' || ch === '>' || ch === '=') {
          throw new Error(`unescaped ${goQuote(ch)} in attribute value`);
        }
        i = pushCodePoint(text, i, bytes);
        trailingSpaces = ch === ' ' ? trailingSpaces + 1 : 0;
      }
    }
    if (i < n) terminator = text[i];
    if (trailingSpaces > 0) bytes.splice(bytes.length - trailingSpaces, trailingSpaces);
    const value = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
    current.push({ type, value });
    if (terminator === '+') {
      i++;
      continue;
    }
    rdns.push(current);
    current = [];
    if (terminator === undefined) break;
    i++; // past ',' or ';'
    if (text.slice(i).trim() === '') throw new Error('DN ended with a separator');
  }
  return rdns;
}

function readEscape(text: string, i: number, bytes: number[]): number {
  const next = text[i + 1];
  if (next === undefined) throw new Error('DN ended with an incomplete escape');
  const pair = text.slice(i + 1, i + 3);
  if (/^[0-9A-Fa-f]{2}$/.test(pair)) {
    bytes.push(parseInt(pair, 16));
    return i + 3;
  }
  if (!ESCAPABLE.has(next)) throw new Error(`invalid escape ${goQuote('\\' + next)}`);
  pushUtf8(bytes, next);
  return i + 2;
}

function pushCodePoint(text: string, i: number, bytes: number[]): number {
  const ch = String.fromCodePoint(text.codePointAt(i)!);
  pushUtf8(bytes, ch);
  return i + ch.length;
}

function pushUtf8(bytes: number[], ch: string): void {
  for (const b of new TextEncoder().encode(ch)) bytes.push(b);
}
