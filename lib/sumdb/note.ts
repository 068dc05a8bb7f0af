// Signed notes, as a checksum database signs its tree heads.
//
// A signed note is some text (ending in a newline), a blank line, and one or
// more signature lines "— <name> <base64>", where the base64 holds a 4-byte
// big-endian key hash followed by the signature over the text (final newline
// included, separating blank line excluded). A verifier key is the string
// "<name>+<8 hex digits of key hash>+<base64(algorithm byte || public key)>";
// the only algorithm is Ed25519 (byte 1), and the key hash is the first four
// bytes of SHA-256(name || "\n" || algorithm byte || public key).
//
// openNote accepts exactly what the go command's note.Open accepts (checked
// differentially in test/sumdb.test.ts), except that it also refuses inputs
// larger than a bound.
import crypto from 'node:crypto';

/** Why a note or key was refused; `code` tells the cases apart without parsing the message. */
export type NoteErrorCode =
  | 'malformed-note'
  | 'too-large'
  | 'unverified'
  | 'invalid-signature'
  | 'ambiguous-key'
  | 'malformed-key'
  | 'unknown-algorithm'
  | 'key-hash-mismatch';

export class NoteError extends Error {
  override name = 'NoteError';
  constructor(
    readonly code: NoteErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Verifier {
  readonly name: string;
  /** The 32-bit key hash. */
  readonly keyHash: number;
  /** Reports whether sig is a valid signature of msg by this key. */
  verify(msg: Uint8Array, sig: Uint8Array): boolean;
}

export interface NoteSignature {
  name: string;
  keyHash: number;
  /** The signature line's base64 field, as sent. */
  base64: string;
}

export interface OpenedNote {
  /** The signed text, ending in "\n". */
  text: string;
  /** The same text as bytes, exactly as signed. */
  textBytes: Uint8Array;
  /** Signatures by known keys, all verified. */
  sigs: NoteSignature[];
  /** Signatures by keys not among the verifiers (ignored, never trusted). */
  unverifiedSigs: NoteSignature[];
}

export interface OpenNoteOptions {
  /** Largest note accepted, in bytes (default 64 KiB). */
  maxBytes?: number;
}

const ALG_ED25519 = 1;
/** More signature lines than this make the note malformed (as in the go command). */
export const MAX_NOTE_SIGNATURES = 100;
export const DEFAULT_MAX_NOTE_BYTES = 64 * 1024;
/** Verifier keys longer than this are refused outright. */
const MAX_KEY_CHARS = 4096;

// ignoreBOM: Go keeps a leading U+FEFF in a note's text and in a signer's name; dropped, a text Go refuses to parse
// as a tree would parse here, and a signature Go counts as an unknown signer's would verify.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Formats a key hash as the 8 lower-case hex digits used in keys and messages. */
export function keyHashHex(h: number): string {
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The key hash of an encoded public key (algorithm byte included) under a name. */
export function computeKeyHash(name: string, key: Uint8Array): number {
  const sum = crypto.createHash('sha256').update(Buffer.from(name, 'utf8')).update('\n').update(key).digest();
  return sum.readUInt32BE(0);
}

// Unicode White_Space as Go's unicode.IsSpace sees it (note: U+0085 is in, U+FEFF is not).
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

/** A key or signer name: non-empty, no white space, no "+". (Strings from JS are always well-formed here.) */
export function isValidName(name: string): boolean {
  return name !== '' && !SPACE.test(name) && !name.includes('+') && !/[\ud800-\udfff]/u.test(name);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_VALUE[B64.charCodeAt(i)] = i;

/**
 * Decodes standard, padded base64 the way Go's base64.StdEncoding does:
 * strict alphabet and padding, but "\r" and "\n" are skipped and unused
 * trailing bits need not be zero. Returns null when malformed. Node's own
 * decoder is far more lenient (it skips junk), which would let different byte
 * strings pass for the same signature.
 */
export function decodeStdBase64(s: string): Uint8Array | null {
  const chars: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) continue;
    chars.push(c);
  }
  if (chars.length % 4 !== 0) return null;
  const out: number[] = [];
  for (let i = 0; i < chars.length; i += 4) {
    const last = i + 4 === chars.length;
    const q = chars.slice(i, i + 4);
    let pad = 0;
    if (q[3] === 0x3d) pad = q[2] === 0x3d ? 2 : 1;
    if (pad > 0 && !last) return null;
    const v: number[] = [];
    for (let k = 0; k < 4 - pad; k++) {
      const c = q[k];
      const x = c < 128 ? B64_VALUE[c] : -1;
      if (x < 0) return null;
      v.push(x);
    }
    if (pad === 2 && q[2] !== 0x3d) return null;
    out.push(((v[0] << 2) | (v[1] >> 4)) & 0xff);
    if (pad < 2) out.push(((v[1] << 4) | (v[2] >> 2)) & 0xff);
    if (pad < 1) out.push(((v[2] << 6) | v[3]) & 0xff);
  }
  return Uint8Array.from(out);
}

function ed25519Verifier(pub: Uint8Array): (msg: Uint8Array, sig: Uint8Array) => boolean {
  let key: crypto.KeyObject | null = null;
  try {
    key = crypto.createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pub).toString('base64url') },
      format: 'jwk',
    });
  } catch {
    key = null; // not a point on the curve: nothing verifies
  }
  return (msg, sig) => {
    if (key === null || sig.length !== 64) return false;
    try {
      return crypto.verify(null, msg, key, sig);
    } catch {
      return false;
    }
  };
}

/** Parses a verifier key "<name>+<hash>+<base64 key>"; throws NoteError on anything else. */
export function parseVerifierKey(vkey: string): Verifier {
  if (vkey.length > MAX_KEY_CHARS) throw new NoteError('malformed-key', 'malformed verifier id');
  const [name, rest] = chop(vkey, '+');
  const [hash16, key64] = chop(rest, '+');
  const key = decodeStdBase64(key64);
  if (!/^[0-9a-fA-F]{8}$/.test(hash16) || key === null || !isValidName(name) || key.length === 0) {
    throw new NoteError('malformed-key', 'malformed verifier id');
  }
  const keyHash = parseInt(hash16, 16) >>> 0;
  if (keyHash !== computeKeyHash(name, key)) throw new NoteError('key-hash-mismatch', 'invalid verifier hash');
  if (key[0] !== ALG_ED25519) throw new NoteError('unknown-algorithm', 'unknown verifier algorithm');
  if (key.length !== 33) throw new NoteError('malformed-key', 'malformed verifier id');
  return { name, keyHash, verify: ed25519Verifier(key.subarray(1)) };
}

function chop(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + sep.length)];
}

const SIG_PREFIX = Uint8Array.from([0xe2, 0x80, 0x94, 0x20]); // "— "

function startsWith(b: Uint8Array, prefix: Uint8Array): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

/** The index of the last "\n\n" in msg, or -1. */
function lastBlankLine(msg: Uint8Array): number {
  for (let i = msg.length - 2; i >= 0; i--) if (msg[i] === 0x0a && msg[i + 1] === 0x0a) return i;
  return -1;
}

function malformed(): NoteError {
  return new NoteError('malformed-note', 'malformed note');
}

/**
 * Parses a signed note and checks its signatures against the known verifiers.
 * Signatures by unknown keys are listed but not trusted; a bad signature by a
 * known key is an error; at least one known key must have signed. Throws
 * NoteError.
 */
export function openNote(msg: Uint8Array, known: readonly Verifier[], opts: OpenNoteOptions = {}): OpenedNote {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_NOTE_BYTES;
  if (msg.length > maxBytes) throw new NoteError('too-large', `note larger than ${maxBytes} bytes`);

  // Valid UTF-8, and no ASCII control characters but newline.
  for (const b of msg) if (b < 0x20 && b !== 0x0a) throw malformed();
  try {
    utf8.decode(msg);
  } catch {
    throw malformed();
  }

  // The text runs up to and including the newline before the last blank line.
  const split = lastBlankLine(msg);
  if (split < 0) throw malformed();
  const textBytes = msg.subarray(0, split + 1);
  let sigs = msg.subarray(split + 2);
  if (sigs.length === 0 || sigs[sigs.length - 1] !== 0x0a) throw malformed();

  const note: OpenedNote = { text: utf8.decode(textBytes), textBytes, sigs: [], unverifiedSigs: [] };
  const seen = new Set<string>();
  const seenUnverified = new Set<string>();
  let count = 0;
  while (sigs.length > 0) {
    const nl = sigs.indexOf(0x0a);
    const lineBytes = sigs.subarray(0, nl);
    sigs = sigs.subarray(nl + 1);
    if (!startsWith(lineBytes, SIG_PREFIX)) throw malformed();
    const line = utf8.decode(lineBytes.subarray(SIG_PREFIX.length));
    const [name, b64] = chop(line, ' ');
    const raw = decodeStdBase64(b64);
    if (raw === null || !isValidName(name) || b64 === '' || raw.length < 5) throw malformed();
    const keyHash = ((raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]) >>> 0;
    const sig = raw.subarray(4);
    if (++count > MAX_NOTE_SIGNATURES) throw malformed();

    const matches = known.filter((v) => v.name === name && v.keyHash === keyHash);
    if (matches.length === 0) {
      if (seenUnverified.has(line)) continue;
      seenUnverified.add(line);
      note.unverifiedSigs.push({ name, keyHash, base64: b64 });
      continue;
    }
    if (matches.length > 1) throw new NoteError('ambiguous-key', `ambiguous key ${name}+${keyHashHex(keyHash)}`);
    const id = `${name}+${keyHashHex(keyHash)}`;
    if (seen.has(id)) continue; // a second signature by the same key is ignored
    seen.add(id);
    if (!matches[0].verify(textBytes, sig)) {
      throw new NoteError('invalid-signature', `invalid signature for key ${id}`);
    }
    note.sigs.push({ name, keyHash, base64: b64 });
  }
  if (note.sigs.length === 0) throw new NoteError('unverified', 'note has no verifiable signatures');
  return note;
}
