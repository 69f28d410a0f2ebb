/**
 * Strict base64url (RFC 4648 §5, no padding) as Go's `base64.RawURLEncoding` decodes it, with
 * Go's error text. Node's `Buffer.from(s, 'base64url')` silently accepts `=` and stray characters,
 * which would turn notation-go's integrity failure ("illegal base64 data at input byte N") into a
 * different one; see notary-and-signer.md §0.8.
 */

const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Thrown by {@link decodeStrictBase64Url}; `message` is Go's `CorruptInputError` text. */
export class IllegalBase64Error extends Error {
  override readonly name = 'IllegalBase64Error';
  constructor(readonly offset: number) {
    super(`illegal base64 data at input byte ${offset}`);
  }
}

/**
 * Decodes unpadded base64url; throws {@link IllegalBase64Error} at the first character outside
 * `[A-Za-z0-9_-]`, or at the dangling last character when the length is 1 mod 4 (as Go does).
 */
export function decodeStrictBase64Url(text: string): Uint8Array {
  if (!ALPHABET.test(text)) {
    const bad = [...text].findIndex((ch) => !/[A-Za-z0-9_-]/.test(ch));
    throw new IllegalBase64Error(bad);
  }
  if (text.length % 4 === 1) throw new IllegalBase64Error(text.length - 1);
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

/** Encodes bytes as unpadded base64url. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}
