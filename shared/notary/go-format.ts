/**
 * Renders values the way notation-go prints them, so that messages read exactly like notation's:
 * Go's `pkix.Name.String()` for certificate subjects and `time.RFC1123Z` for instants.
 */
import type { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type AttributeValue, type Name } from '@peculiar/asn1-x509';

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

/** The attribute types Go's `pkix` names (`attributeTypeNames`); any other type prints as `OID=#hex`. */
const GO_ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.6': 'C',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.3': 'CN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.17': 'POSTALCODE',
};

/** Go's `Name.ToRDNSequence` order of the named multi-valued fields (CN and SERIALNUMBER follow, single-valued). */
const GO_FIELD_ORDER = [
  '2.5.4.6',
  '2.5.4.8',
  '2.5.4.7',
  '2.5.4.9',
  '2.5.4.17',
  '2.5.4.10',
  '2.5.4.11',
] as const;
const OID_CN = '2.5.4.3';
const OID_SERIAL = '2.5.4.5';

/** One attribute as Go holds it after parsing: a string, or (not a string type Go reads) its raw DER. */
interface GoAttribute {
  type: string;
  value: string | Uint8Array;
}

function attributeValue(value: AttributeValue): string | Uint8Array {
  if (value.anyValue !== undefined) return new Uint8Array(value.anyValue);
  return value.toString();
}

/**
 * A Name as Go's `pkix.Name.String()` prints it, exactly: attributes Go does not name (emailAddress,
 * DC, UID, …) first as `OID=#<DER hex>` (in reverse order of appearance), then SERIALNUMBER, CN,
 * OU, O, POSTALCODE, STREET, L, ST, C — repeated values of one type joined by `+` in one RDN, the
 * last CN and SERIALNUMBER only — with Go's escaping (`,+"\<>;` always, a leading `#` or space and
 * a trailing space). This is the string notation parses to match `x509.subject` identities and
 * quotes in its messages, whatever order the certificate's RDNs are in.
 */
export function goNameString(name: Name): string {
  const attributes: GoAttribute[] = [];
  for (const rdn of name) {
    for (const atv of rdn) attributes.push({ type: atv.type, value: attributeValue(atv.value) });
  }
  const rdns: GoAttribute[][] = [];
  const fields = new Map<string, string[]>();
  let cn: string | undefined;
  let serial: string | undefined;
  for (const attribute of attributes) {
    const { type, value } = attribute;
    if (typeof value !== 'string' || GO_ATTRIBUTE_NAMES[type] === undefined) {
      // Go keeps these in `Names` only and puts them first in the sequence (last in the string).
      rdns.push([attribute]);
      continue;
    }
    if (type === OID_CN) cn = value;
    else if (type === OID_SERIAL) serial = value;
    else fields.set(type, [...(fields.get(type) ?? []), value]);
  }
  for (const type of GO_FIELD_ORDER) {
    const values = fields.get(type);
    if (values && values.length > 0) rdns.push(values.map((value) => ({ type, value })));
  }
  if (cn) rdns.push([{ type: OID_CN, value: cn }]);
  if (serial) rdns.push([{ type: OID_SERIAL, value: serial }]);
  return rdns
    .reverse()
    .map((rdn) => rdn.map(formatAttribute).join('+'))
    .join(',');
}

function formatAttribute({ type, value }: GoAttribute): string {
  const name = GO_ATTRIBUTE_NAMES[type];
  if (name === undefined || typeof value !== 'string') {
    const der = typeof value === 'string' ? goMarshalString(value) : value;
    return `${type}=#${Buffer.from(der).toString('hex')}`;
  }
  return `${name}=${goEscapeValue(value)}`;
}

/** Go's RDN value escaping in `RDNSequence.String`. */
function goEscapeValue(value: string): string {
  let out = '';
  const chars = [...value];
  chars.forEach((c, k) => {
    const escape =
      ',+"\\<>;'.includes(c) || (c === ' ' && (k === 0 || k === chars.length - 1)) || (c === '#' && k === 0);
    out += escape ? `\\${c}` : c;
  });
  return out;
}

// encoding/asn1 `isPrintable` as Marshal uses it (no '*', no '&').
const PRINTABLE = /^[A-Za-z0-9'()+,\-./:=? ]*$/;

/** Go's `asn1.Marshal` of a string: PrintableString when every character allows it, else UTF8String. */
function goMarshalString(value: string): Uint8Array {
  const body = new TextEncoder().encode(value);
  const tag = PRINTABLE.test(value) ? 0x13 : 0x0c;
  return Uint8Array.from([tag, ...derLength(body.length), ...body]);
}

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** Go's `pkix.Name.String()` of a certificate's subject (see {@link goNameString}). */
export function goSubjectString(cert: X509Certificate): string {
  return goNameString(AsnConvert.parse(cert.raw, Certificate).tbsCertificate.subject);
}

/** Go's `pkix.Name.String()` of a certificate's issuer. */
export function goIssuerString(cert: X509Certificate): string {
  return goNameString(AsnConvert.parse(cert.raw, Certificate).tbsCertificate.issuer);
}
