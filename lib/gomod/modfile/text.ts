// How modfile (read.go, rule.go) and gover.GoModLookup see a go.mod file's
// bytes, with Go's string semantics: strings.TrimSpace, strconv.Unquote and
// UnquoteChar, and %q of text that need not be UTF-8. It exists because the
// go command parses go.mod bytes, not text, and its results and messages
// depend on how invalid UTF-8 reads.
//
// Text model. Go works on the file's bytes, which need not be UTF-8; the
// lexer sees each invalid byte as one rune U+FFFD, but %q in an error message
// prints it as \xHH. So the bytes are decoded into a JS string in which an
// invalid byte b becomes the lone surrogate U+DC00+b (a "surrogate escape":
// decoding valid UTF-8 never yields a lone surrogate, so this is unambiguous).
// The lexer reads an escape as U+FFFD, quoting turns it back into its byte,
// and every string handed out (values, and %s parts of messages) has escapes
// replaced by U+FFFD, which is how Go's bytes read when decoded rune by rune.
import { appendRune, decodeUTF8, isSpace } from '../unicode.js';
import { quoteBytes } from '../module.js';

// ---------------------------------------------------------------------------
// Text helpers with Go's semantics

/** Decodes bytes, turning each invalid byte into its surrogate escape. */
export const decodeBytes = (b: Uint8Array): string => decodeUTF8(b, (byte) => String.fromCharCode(0xdc00 + byte));

/** A surrogate escape: a low surrogate not preceded by a high one. */
const ESCAPES = /(?<![\ud800-\udbff])[\udc80-\udcff]/g;
const HAS_ESCAPE = /(?<![\ud800-\udbff])[\udc80-\udcff]/;

/** The rune Go decodes at s[i] and its width in UTF-16 units (an escape reads as U+FFFD). */
export function runeAt(s: string, i: number): [rune: number, width: number] {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff) return [s.codePointAt(i) as number, 2]; // always paired here
  if (c >= 0xdc00 && c <= 0xdfff) return [0xfffd, 1];
  return [c, 1];
}

/** The original bytes of decoded text. */
function toBytes(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) {
      out.push(c - 0xdc00);
      i++;
      continue;
    }
    const r = s.codePointAt(i) as number;
    appendRune(out, r);
    i += r > 0xffff ? 2 : 1;
  }
  return Uint8Array.from(out);
}

/** Go's %q of decoded text. */
export function quoteText(s: string): string {
  return quoteBytes(toBytes(s));
}

/** Decoded text as handed out: invalid bytes read as U+FFFD. */
export function outText(s: string): string {
  return s.replace(ESCAPES, '\ufffd');
}

/**
 * strings.TrimSpace: trims Go's unicode.IsSpace runes (not JS's trim set).
 * Every such rune is in the BMP and not a surrogate, so code units will do.
 */
export function trimSpace(s: string): string {
  let i = 0;
  let j = s.length;
  while (i < j && isSpace(s.charCodeAt(i))) i++;
  while (j > i && isSpace(s.charCodeAt(j - 1))) j--;
  return s.slice(i, j);
}

/**
 * strconv.Unquote for the double-quoted and back-quoted forms (the only ones
 * modfile unquotes); undefined where Go returns ErrSyntax. Escapes such as
 * \xff can produce bytes that are not UTF-8, so the result is assembled as
 * bytes and decoded like everything else.
 */
export function unquote(s: string): string | undefined {
  if (s.length < 2) return undefined;
  const q = s[0];
  let end = s.indexOf(q, 1);
  if (end < 0) return undefined;
  end += 1; // just past the first closing quote, if there are no escapes
  if (q === '`') {
    if (end !== s.length) return undefined; // trailing input
    // Carriage returns inside raw strings are discarded.
    return s.slice(1, end - 1).replace(/\r/g, '');
  }
  if (q !== '"') return undefined;
  const head = s.slice(0, end);
  // Without escapes, and valid UTF-8 (no surrogate escapes), it is taken as is.
  if (!head.includes('\\') && !head.includes('\n') && !HAS_ESCAPE.test(head)) {
    return end === s.length ? s.slice(1, end - 1) : undefined;
  }
  const out: number[] = [];
  let rest = s.slice(1);
  while (rest.length > 0 && rest[0] !== q) {
    if (rest[0] === '\n') return undefined;
    const c = unquoteChar(rest, q);
    if (!c) return undefined;
    const [r, multibyte, tail] = c;
    if (r < 0x80 || !multibyte) out.push(r);
    else appendRune(out, r);
    rest = tail;
  }
  if (rest.length === 0) return undefined; // no closing quote
  if (rest.length > 1) return undefined; // trailing input
  return decodeBytes(Uint8Array.from(out));
}

/** strconv.UnquoteChar for q = '"': [value, multibyte, tail], or undefined on a syntax error. */
function unquoteChar(s: string, q: string): [number, boolean, string] | undefined {
  const c = s.charCodeAt(0);
  if (s[0] === q) return undefined;
  if (c >= 0x80) {
    const [r, width] = runeAt(s, 0); // an invalid byte becomes U+FFFD here
    return [r, true, s.slice(width)];
  }
  if (s[0] !== '\\') return [c, false, s.slice(1)];
  if (s.length <= 1) return undefined;
  const e = s[1];
  s = s.slice(2);
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 0x5c };
  if (e in simple) return [simple[e], false, s];
  if (e === 'x' || e === 'u' || e === 'U') {
    const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
    if (s.length < n || !/^[0-9A-Fa-f]+$/.test(s.slice(0, n))) return undefined;
    const v = parseInt(s.slice(0, n), 16);
    s = s.slice(n);
    if (e === 'x') return [v, false, s]; // a single byte, possibly not UTF-8
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return undefined;
    return [v, true, s];
  }
  if (e >= '0' && e <= '7') {
    if (s.length < 2 || !/^[0-7]{2}/.test(s)) return undefined;
    const v = parseInt(e + s.slice(0, 2), 8);
    if (v > 255) return undefined;
    return [v, false, s.slice(2)];
  }
  if (e === "'" || e === '"') return e === q ? [e.charCodeAt(0), false, s] : undefined;
  return undefined;
}
