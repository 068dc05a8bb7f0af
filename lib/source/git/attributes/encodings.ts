/**
 * working-tree-encoding as git 2.39 applies it on glibc: convert.c
 * encode_to_worktree(), utf8.c reencode_string_len() and same_encoding(),
 * and the glibc iconv converters they end up in (the Unicode encodings,
 * ISO-8859-1 and ASCII natively, the legacy charsets of charsets.ts through
 * iconv-lite corrected by glibc's tables).
 *
 * It exists because git re-encodes UTF-8 blobs to the attribute's charset
 * in `git archive`, so the module zip holds those bytes. Any charset glibc
 * knows but this file does not emulate (UCS-4, UTF-7, EBCDIC, ISO-2022-*,
 * BIG5, EUC-KR, "//TRANSLIT" suffixes, ...) raises
 * UnsupportedConversionError instead of guessing.
 */

import iconv from 'iconv-lite';
import { LEGACY_CHARSETS, glibcKnows, type LegacyCharset } from './charsets.js';

/**
 * Thrown when git would convert the content in a way this module cannot
 * reproduce byte-for-byte (a working-tree-encoding that glibc's iconv knows
 * but that is not emulated here). Failing loudly beats serving a zip whose
 * hash differs from what the go command computes.
 */
export class UnsupportedConversionError extends Error {
  override name = 'UnsupportedConversionError';
}

// ---------------------------------------------------------------------------
// working-tree-encoding (convert.c encode_to_worktree(), utf8.c
// reencode_string_len() on top of glibc's iconv)

/** strcasecmp()/toupper() fold ASCII only (C locale); JS would also fold
 *  e.g. "ß" to "SS". */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

function asciiUpper(s: string): string {
  return s.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 32));
}

/** utf8.c same_utf_encoding(): "UTF-16LE-BOM" == "utf16le-bom", etc. */
function sameUtfEncoding(a: string, b: string): boolean {
  const strip = (s: string) => {
    if (asciiLower(s.slice(0, 3)) !== 'utf') return null;
    return asciiLower(s.slice(3).replace(/^-/, ''));
  };
  const x = strip(a);
  const y = strip(b);
  return x !== null && y !== null && x === y;
}

export function sameEncoding(a: string, b: string): boolean {
  return sameUtfEncoding(a, b) || asciiLower(a) === asciiLower(b);
}

/**
 * Re-encode UTF-8 content to `enc` like git on glibc. git never fails the
 * archive here: when iconv cannot open the encoding, or the content is not
 * valid UTF-8, or a character has no mapping in the target, git prints an
 * error and writes the content unchanged.
 */
export function encodeToWorktree(src: Uint8Array, enc: string): Uint8Array {
  if (src.length === 0) return src;
  const encoder = resolveEncoder(enc);
  if (encoder === 'unknown') return src;
  const cps = decodeUtf8Strict(src);
  if (cps === null) return src;
  return encoder(cps) ?? src;
}

/** An encoder gets code points and returns bytes, or null when a character
 *  is not representable (iconv EILSEQ). */
type Encoder = (cps: Uint32Array) => Uint8Array | null;

/**
 * glibc's UTF-8 decoder: rejects overlong forms, surrogates and truncated
 * sequences. It accepts up to U+7FFFFFFF, but every encoder emulated here
 * rejects anything above U+10FFFF, so such input fails either way.
 */
export function decodeUtf8Strict(buf: Uint8Array): Uint32Array | null {
  const out = new Uint32Array(buf.length);
  let n = 0;
  for (let i = 0; i < buf.length; ) {
    const b = buf[i];
    if (b < 0x80) {
      out[n++] = b;
      i++;
      continue;
    }
    let len: number;
    let cp: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [len, cp, min] = [2, b & 0x1f, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [len, cp, min] = [3, b & 0x0f, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [len, cp, min] = [4, b & 0x07, 0x10000];
    else return null;
    if (i + len > buf.length) return null;
    for (let k = 1; k < len; k++) {
      const c = buf[i + k];
      if ((c & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
    out[n++] = cp;
    i += len;
  }
  return out.subarray(0, n);
}

function utf16(le: boolean, bom: boolean, allowAstral: boolean): Encoder {
  return (cps) => {
    const units: number[] = bom ? [0xfeff] : [];
    for (const cp of cps) {
      if (cp < 0x10000) units.push(cp);
      else if (!allowAstral) return null;
      else units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    }
    const out = Buffer.alloc(units.length * 2);
    units.forEach((u, k) => (le ? out.writeUInt16LE(u, k * 2) : out.writeUInt16BE(u, k * 2)));
    return out;
  };
}

function utf32(le: boolean, bom: boolean): Encoder {
  return (cps) => {
    const all = bom ? [0xfeff, ...cps] : [...cps];
    const out = Buffer.alloc(all.length * 4);
    all.forEach((u, k) => (le ? out.writeUInt32LE(u, k * 4) : out.writeUInt32BE(u, k * 4)));
    return out;
  };
}

function singleByte(max: number): Encoder {
  return (cps) => {
    const out = new Uint8Array(cps.length);
    for (let k = 0; k < cps.length; k++) {
      if (cps[k] > max) return null;
      out[k] = cps[k];
    }
    return out;
  };
}

/**
 * Encoders by glibc iconv name (upper case; glibc matches names case-
 * insensitively but punctuation exactly). Byte order of the unmarked and
 * BOM-carrying forms is that of glibc on little-endian hosts (x86-64,
 * arm64), where "UTF-16" writes FF FE and little-endian units.
 */
const NATIVE_ENCODERS: ReadonlyArray<[string[], Encoder]> = [
  [['UTF-16', 'UTF16'], utf16(true, true, true)],
  [['UTF-16LE', 'UTF16LE'], utf16(true, false, true)],
  [['UTF-16BE', 'UTF16BE'], utf16(false, false, true)],
  // glibc's UCS-2 family is BMP-only; "UNICODE" adds a BOM.
  [['UNICODE', 'CSUNICODE'], utf16(true, true, false)],
  [['UCS-2', 'UCS2', 'UCS-2LE', 'UNICODELITTLE'], utf16(true, false, false)],
  [['UCS-2BE', 'UNICODEBIG'], utf16(false, false, false)],
  [['UTF-32', 'UTF32'], utf32(true, true)],
  [['UTF-32LE', 'UTF32LE'], utf32(true, false)],
  [['UTF-32BE', 'UTF32BE'], utf32(false, false)],
  [
    ['ISO-8859-1', 'ISO8859-1', 'ISO88591', 'ISO_8859-1', 'ISO_8859-1:1987', 'ISO-IR-100', 'LATIN1', 'L1',
      'IBM819', 'CP819', 'CSISOLATIN1', '8859_1', 'OSF00010001'],
    singleByte(0xff),
  ],
  [
    ['ANSI_X3.4-1968', 'ANSI_X3.4-1986', 'ASCII', 'CP367', 'CSASCII', 'IBM367', 'ISO-IR-6', 'ISO646-US',
      'ISO_646.IRV:1991', 'US', 'US-ASCII'],
    singleByte(0x7f),
  ],
];

function parseRanges(spec: string): Array<[number, number]> {
  if (spec === '') return [];
  return spec.split(' ').map((r) => {
    const [a, b = a] = r.split('-');
    return [parseInt(a, 16), parseInt(b, 16)];
  });
}

function parseOverrides(spec: string): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  if (spec === '') return m;
  for (const entry of spec.split(' ')) {
    const [cp, hex] = entry.split(':');
    m.set(parseInt(cp, 16), Buffer.from(hex, 'hex'));
  }
  return m;
}

function inRanges(cp: number, ranges: Array<[number, number]>): boolean {
  return ranges.some(([a, b]) => cp >= a && cp <= b);
}

function legacyEncoder(cs: LegacyCharset): Encoder {
  let tables: { rejects: Array<[number, number]>; overrides: Map<number, Buffer> } | null = null;
  const mappable = new Map<number, boolean>();
  /** Can glibc map cp? Cached: the reject lists can be long. */
  const glibcMaps = (cp: number, rejects: Array<[number, number]>): boolean => {
    let ok = mappable.get(cp);
    if (ok === undefined) {
      // iconv-lite silently substitutes '?' for what it cannot map.
      const b = iconv.encode(String.fromCodePoint(cp), cs.codec);
      ok = !inRanges(cp, rejects) && (cp === 0x3f || !b.every((x) => x === 0x3f));
      mappable.set(cp, ok);
    }
    return ok;
  };
  return (cps) => {
    tables ??= { rejects: parseRanges(cs.rejects), overrides: parseOverrides(cs.overrides) };
    const { rejects, overrides } = tables;
    for (const cp of cps) {
      if (!overrides.has(cp) && !glibcMaps(cp, rejects)) return null;
    }
    const chunks: Buffer[] = [];
    let run: number[] = [];
    const flush = () => {
      for (let k = 0; k < run.length; k += 4096) {
        chunks.push(iconv.encode(String.fromCodePoint(...run.slice(k, k + 4096)), cs.codec));
      }
      run = [];
    };
    for (const cp of cps) {
      const o = overrides.get(cp);
      if (o) {
        flush();
        chunks.push(o);
      } else {
        run.push(cp);
      }
    }
    flush();
    return Buffer.concat(chunks);
  };
}

const ENCODER_BY_NAME = new Map<string, Encoder>();
for (const [names, enc] of NATIVE_ENCODERS) {
  for (const name of names) if (!ENCODER_BY_NAME.has(name)) ENCODER_BY_NAME.set(name, enc);
}
for (const cs of LEGACY_CHARSETS) {
  const enc = legacyEncoder(cs);
  for (const name of cs.names) if (!ENCODER_BY_NAME.has(name)) ENCODER_BY_NAME.set(name, enc);
}

function resolveEncoder(enc: string): Encoder | 'unknown' {
  // Handled by git itself, ahead of iconv (utf8.c reencode_string_len()).
  if (sameUtfEncoding(enc, 'UTF-16LE-BOM')) return utf16(true, true, true);
  if (sameUtfEncoding(enc, 'UTF-16BE-BOM')) return utf16(false, true, true);
  const upper = asciiUpper(enc);
  // Names with "/" carry iconv suffixes (//TRANSLIT, //IGNORE) that change
  // error handling: never emulated, only classified as known or unknown.
  const direct = upper.includes('/') ? undefined : ENCODER_BY_NAME.get(upper);
  if (direct) return direct;
  if (!glibcKnows(upper)) {
    // git retries iconv_open() with "latin-1" spelled "ISO-8859-1".
    if (upper === 'LATIN-1') return ENCODER_BY_NAME.get('ISO-8859-1') as Encoder;
    return 'unknown';
  }
  throw new UnsupportedConversionError(
    `working-tree-encoding=${enc} is known to glibc's iconv but not emulated; cannot reproduce git archive output`,
  );
}
