/**
 * kyverno-notation-aws log records, parsed (pure: text in, typed records out).
 *
 * The extension logs with zap's development console encoder: one record is
 * `<RFC 3339 time>\t<LEVEL>\t<file.go:line>\t<message>[\t{json fields}]`, and a message may span
 * several physical lines (the indented JSON of `Sending response`, notation errors with `\n`).
 * Read with `timestamps=true`, the kubelet prefixes **every** physical line with its own RFC 3339
 * time and a space. So a record starts at a line whose text after that prefix is a zap time, a tab
 * and a level; any other line continues the record before it (eks-and-kyverno.md §3.5, §4.1).
 *
 * The verdict-bearing messages (kyverno-notation-verifier @7ead86e) are parsed into
 * {@link ExtensionRecord} kinds; everything else is `other`. Two traps the old `grep ERROR`
 * fell into are explicit here: a cache miss (`ERROR … Entry not found key=…`) is its own kind,
 * never a failure, and records are matched to an image by digest or by the exact reference
 * ({@link sameImageReference}), never by a tag substring (`v1` is not `v1-unsigned`).
 */

/** zap's capital level names. */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'DPANIC' | 'PANIC' | 'FATAL';

/** Kyverno's `ImageInfo` as the verifier dumps it with `%s`: `{{{registry name path tag digest [reference referenceWithTag]}} jsonPointer}`. */
export interface DumpedImageInfo {
  readonly registry: string;
  /** The last path segment (`failed to verify container <name>` prints this). */
  readonly name: string;
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
  readonly jsonPointer?: string;
}

/** The typed content of one record. */
export type ExtensionRecordKind =
  /** `successfully verified image <ref> digest <digest>` (INFO). */
  | { readonly kind: 'verified'; readonly reference: string; readonly digest: string }
  /** `Entry for the image found in cache, skipping image=<ref>; trustpolicy=<tp>` (INFO): verified earlier, within the cache TTL. */
  | { readonly kind: 'cache-hit'; readonly reference: string; readonly trustPolicy?: string }
  /** `Entry not found key=<tp>;<ref>` (ERROR) or `Entry not found in the cache verifying image=<ref>` (INFO): a verification starts. Never a rejection. */
  | { readonly kind: 'cache-miss'; readonly reference: string; readonly trustPolicy?: string }
  /**
   * A verification failure: `verification failed for image {…}: <err>`,
   * `failed to verify [init |ephemeral ]container <name>: <err>`, `Verification failed with error <msg>`
   * (ERROR) or `Verfication failed <err>` (INFO, sic). `digests` are every `sha256:` digest that
   * names the image (from the dumped ImageInfo and `no signature is associated with "…@<digest>"`).
   */
  | {
      readonly kind: 'verification-failed';
      /** notation's text (what follows the image), joined lines kept as `\n`. */
      readonly error: string;
      readonly image?: DumpedImageInfo;
      /** `failed to verify container <name>`: the image's last path segment. */
      readonly containerImageName?: string;
      /** The reference of `no signature is associated with "<ref>"`, when present. */
      readonly unsignedReference?: string;
      readonly digests: readonly string[];
    }
  /** `Skipping image <img>` (outside the policy's `imageReferences`: passed unverified) or `Image reference has been skipped in the trust policy, image=<ref>`. */
  | {
      readonly kind: 'skipped';
      readonly why: 'image-references' | 'trust-policy-scope';
      readonly reference?: string;
      readonly image?: DumpedImageInfo;
    }
  /** `Token is not authorized …` (the caller is not in `--allowedUsers`). Only the user name is kept: the dump holds the token. */
  | { readonly kind: 'token-not-authorized'; readonly username?: string }
  | { readonly kind: 'other' };

/** One joined log record. */
export type ExtensionRecord = ExtensionRecordKind & {
  /** When it was written: the kubelet prefix if present, else zap's own time. */
  readonly time: Date;
  readonly level: LogLevel;
  /** zap's caller, e.g. `verifier/verify.go:436`. */
  readonly caller: string;
  /** The message with its continuation lines (kubelet prefixes removed), joined with `\n`. */
  readonly message: string;
  /** Where it was read, e.g. `kyverno-notation-aws-5f9c-abcde` or `…(previous)`. */
  readonly source: string;
};

const RFC3339 = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)`;
/** The kubelet's `timestamps=true` prefix: a time and one space (zap separates with a tab). */
const KUBELET_PREFIX = new RegExp(`^(${RFC3339}) `);
const RECORD_START = new RegExp(
  `^(${RFC3339})\\t(DEBUG|INFO|WARN|ERROR|DPANIC|PANIC|FATAL)\\t([^\\t]*)\\t?(.*)$`,
);
const DIGEST = /sha256:[0-9a-f]{64}/g;

/** Options of {@link parseExtensionLog}. */
export interface ParseOptions {
  /** Where the text was read (a Pod name), copied to every record. */
  readonly source: string;
  /** Records written before this instant are dropped (an earlier run of the same digest). */
  readonly since?: Date;
}

/**
 * Splits one container log (one replica, one container instance) into records, joins
 * continuation lines, drops records older than `since`, and parses the known kinds. Lines before
 * the first record start (a log cut by `sinceSeconds` or `limitBytes` in the middle of a record)
 * are dropped: they cannot be attributed.
 */
export function parseExtensionLog(text: string, options: ParseOptions): ExtensionRecord[] {
  const records: ExtensionRecord[] = [];
  let current: { time: Date; level: LogLevel; caller: string; lines: string[] } | undefined;
  const flush = (): void => {
    if (!current) return;
    const message = current.lines.join('\n');
    if (options.since === undefined || current.time.getTime() >= options.since.getTime()) {
      records.push({
        ...classify(message, current.level),
        time: current.time,
        level: current.level,
        caller: current.caller,
        message,
        source: options.source,
      });
    }
    current = undefined;
  };
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const prefix = KUBELET_PREFIX.exec(line);
    const body = prefix ? line.slice(prefix[0].length) : line;
    const start = RECORD_START.exec(body);
    if (start) {
      flush();
      const time = new Date(prefix?.[1] ?? normalizeZapTime(start[1]!));
      if (Number.isNaN(time.getTime())) continue;
      current = { time, level: start[2] as LogLevel, caller: start[3]!, lines: [start[4]!] };
    } else if (current && !(body === '' && prefix === null)) {
      current.lines.push(body);
    }
  }
  flush();
  return records;
}

/** zap's ISO8601 encoder writes `+0000`; `Date` wants `+00:00`. */
function normalizeZapTime(text: string): string {
  return text.replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
}

function classify(message: string, level: LogLevel): ExtensionRecordKind {
  // zap appends structured fields after a tab; the verifier's messages are interpolated text.
  const text = message;
  let m: RegExpExecArray | null;
  if ((m = /^successfully verified image (\S+) digest (sha256:[0-9a-f]{64})/.exec(text)))
    return { kind: 'verified', reference: m[1]!, digest: m[2]! };
  if (
    (m = /^Entry for the image found in cache, skipping image=([^;\s]+);?\s*(?:trustpolicy=(\S+))?/.exec(
      text,
    ))
  )
    return { kind: 'cache-hit', reference: m[1]!, ...(m[2] ? { trustPolicy: m[2] } : {}) };
  if ((m = /^Entry not found key=([^;\s]*);(\S+)/.exec(text)))
    return { kind: 'cache-miss', reference: m[2]!, ...(m[1] ? { trustPolicy: m[1] } : {}) };
  if ((m = /^Entry not found in the cache verifying image=(\S+)/.exec(text)))
    return { kind: 'cache-miss', reference: m[1]! };
  if ((m = /^Token is not authorized\b/.exec(text))) {
    const user = /Username:([^,\s}]+)/.exec(text)?.[1];
    return { kind: 'token-not-authorized', ...(user ? { username: user } : {}) };
  }
  if ((m = /^Skipping image (.*)$/s.exec(text))) return skipped('image-references', m[1]!);
  if ((m = /^Image reference has been skipped in the trust policy, image=(\S+)/.exec(text)))
    return { kind: 'skipped', why: 'trust-policy-scope', reference: m[1]! };
  if (level === 'ERROR' || level === 'INFO') {
    const failure =
      /^verification failed for image (.*)$/s.exec(text) ??
      /^(failed to verify (?:init |ephemeral )?container .*)$/s.exec(text) ??
      /^Verification failed with error (.*)$/s.exec(text) ??
      /^Verfication failed (.*)$/s.exec(text);
    if (failure) return verificationFailed(failure[1]!);
  }
  return { kind: 'other' };
}

function skipped(why: 'image-references', rest: string): ExtensionRecordKind {
  const dumped = parseImageDump(rest);
  if (dumped) return { kind: 'skipped', why, image: dumped.image };
  const ref = /^(\S+)/.exec(rest.trim())?.[1];
  return { kind: 'skipped', why, ...(ref ? { reference: ref } : {}) };
}

function verificationFailed(rest: string): ExtensionRecordKind {
  // `Verification failed with error failed to verify container x: failed to verify image {…}: <err>`
  // nests the container name and the image dump; peel them off in order.
  let remaining = rest;
  let containerImageName: string | undefined;
  const container = /^failed to verify (?:init |ephemeral )?container (\S+): /.exec(remaining);
  if (container) {
    containerImageName = container[1]!;
    remaining = remaining.slice(container[0].length);
  }
  const nested = /^failed to verify image (.*)$/s.exec(remaining);
  if (nested) remaining = nested[1]!;
  let image: DumpedImageInfo | undefined;
  const dumped = parseImageDump(remaining);
  if (dumped) {
    image = dumped.image;
    remaining = dumped.rest.replace(/^:\s*/, '');
  }
  const unsigned = /no signature is associated with "([^"]+)"/.exec(remaining)?.[1];
  const digests = new Set<string>();
  if (image?.digest) digests.add(image.digest);
  if (unsigned) for (const d of unsigned.match(DIGEST) ?? []) digests.add(d);
  return {
    kind: 'verification-failed',
    error: remaining.trim(),
    ...(image ? { image } : {}),
    ...(containerImageName ? { containerImageName } : {}),
    ...(unsigned ? { unsignedReference: unsigned } : {}),
    digests: [...digests],
  };
}

/**
 * Parses Go's `%s` of Kyverno's `ImageInfo` (a pointer-receiver `String()` is not used, so the
 * struct is printed field by field, space separated, empty fields included):
 * `{{{<registry> <name> <path> <tag> <digest> <reference> <referenceWithTag>}} <jsonPointer>}`, or in
 * older Kyverno `{{<registry> <name> <path> <tag> <digest>} <jsonPointer>}`.
 */
export function parseImageDump(text: string): { image: DumpedImageInfo; rest: string } | undefined {
  const m = /^\{\{\{?([^{}]*)\}\}?\s*([^{}]*)\}/.exec(text.trimStart());
  if (!m) return undefined;
  const fields = m[1]!.split(' ');
  if (fields.length < 5) return undefined;
  const [registry, name, path, tag, digest] = fields as [string, string, string, string, string];
  const pointer = m[2]!.trim();
  const image: DumpedImageInfo = {
    registry,
    name,
    path,
    ...(tag ? { tag } : {}),
    ...(/^sha256:[0-9a-f]{64}$/.test(digest) ? { digest } : {}),
    ...(pointer ? { jsonPointer: pointer } : {}),
  };
  return { image, rest: text.trimStart().slice(m[0].length) };
}

/** An image reference split for comparison: `name` includes the registry, docker.io made explicit. */
export interface ImageRefParts {
  readonly name: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Splits `registry/path[:tag][@digest]` leniently (log text is not validated input). */
export function splitImageReference(reference: string): ImageRefParts {
  let rest = reference.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const first = rest.split('/')[0]!;
  const hasHost = rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  let name = hasHost ? rest : `docker.io/${rest}`;
  if (/^docker\.io\/[^/]+$/.test(name)) name = name.replace('docker.io/', 'docker.io/library/');
  if (name.startsWith('index.docker.io/')) name = name.replace('index.docker.io/', 'docker.io/');
  return { name, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/**
 * True when two references name the same image exactly: same repository, same tag (or both
 * none), same digest (or both none). `repo:v1` never equals `repo:v1-unsigned`.
 */
export function sameImageReference(a: string, b: string): boolean {
  const x = splitImageReference(a);
  const y = splitImageReference(b);
  return x.name === y.name && x.tag === y.tag && x.digest === y.digest;
}

/** The repository (`registry/path`) of a dumped ImageInfo, comparable with {@link splitImageReference}'s `name`. */
export function dumpedImageName(image: DumpedImageInfo): string {
  return splitImageReference(`${image.registry}/${image.path}`).name;
}

/** What a deployed image is looked up by: its repository and the digest it was pinned to. */
export interface ImageKey {
  /** The reference the Pods run (`registry/repo@sha256:…`, possibly with a tag too). */
  readonly reference: string;
  readonly digest: string;
}

/**
 * True when `record` is about `image`: by digest where the record carries one (success line,
 * failure dump, `no signature is associated with "…@<digest>"`), otherwise by the exact reference.
 * A digest alone is not enough when the record names a repository: the same digest in another
 * repository is another image.
 */
export function recordConcerns(record: ExtensionRecord, image: ImageKey): boolean {
  const key = splitImageReference(image.reference);
  switch (record.kind) {
    case 'verified': {
      const ref = splitImageReference(record.reference);
      return record.digest === image.digest && ref.name === key.name;
    }
    case 'cache-hit':
    case 'cache-miss':
      // These carry only the reference as sent; a tag-form hit may hold an older digest, so only
      // a reference that is exactly the deployed one (which carries the digest) counts.
      return (
        sameImageReference(record.reference, image.reference) &&
        splitImageReference(record.reference).digest === image.digest
      );
    case 'verification-failed': {
      if (record.image && dumpedImageName(record.image) !== key.name) return false;
      if (record.unsignedReference && splitImageReference(record.unsignedReference).name !== key.name)
        return false;
      if (record.digests.length > 0) return record.digests.includes(image.digest);
      return false;
    }
    case 'skipped': {
      if (record.image) {
        return (
          dumpedImageName(record.image) === key.name &&
          (record.image.digest === image.digest ||
            (record.image.digest === undefined && record.image.tag === key.tag && key.tag !== undefined))
        );
      }
      return record.reference !== undefined && sameImageReference(record.reference, image.reference);
    }
    case 'token-not-authorized':
    case 'other':
      return false;
  }
}
