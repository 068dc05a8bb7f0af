// Port of golang.org/x/mod/semver (x/mod v0.19.0, as vendored in Go 1.23).
//
// Versions look like vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]: a leading
// "v" is required, MAJOR/MINOR/PATCH are decimal without extra leading zeros,
// PRERELEASE and BUILD are dot-separated non-empty [0-9A-Za-z-] identifiers,
// and numeric prerelease identifiers may not have leading zeros. The
// shorthands vMAJOR and vMAJOR.MINOR (without prerelease or build) stand for
// vMAJOR.0.0 and vMAJOR.MINOR.0.
//
// Go indexes bytes; this port indexes UTF-16 code units. The two agree
// because every check is against ASCII and any non-ASCII unit fails it at the
// same position.
import { compareDecimal, cutDecimal } from './decimal.js';
import { compareStrings } from './unicode.js';

interface Parsed {
  major: string;
  minor: string;
  patch: string;
  /** What Canonical appends to a shorthand: ".0.0", ".0" or "". */
  short: string;
  prerelease: string;
  build: string;
}

/** isValid reports whether v is a valid semantic version string. */
export function isValid(v: string): boolean {
  return parse(v) !== undefined;
}

/**
 * canonical returns the canonical form of v: missing .MINOR/.PATCH filled in,
 * build metadata dropped; "" if v is invalid. Two versions compare equal
 * exactly when their canonical forms are identical.
 */
export function canonical(v: string): string {
  const p = parse(v);
  if (!p) return '';
  if (p.build !== '') return v.slice(0, v.length - p.build.length);
  if (p.short !== '') return v + p.short;
  return v;
}

/** major returns the major version prefix ("v2" for "v2.1.0"), or "" if v is invalid. */
export function major(v: string): string {
  const p = parse(v);
  if (!p) return '';
  return v.slice(0, 1 + p.major.length);
}

/** prerelease returns the prerelease suffix ("-pre" for "v2.1.0-pre+meta"), or "". */
export function prerelease(v: string): string {
  return parse(v)?.prerelease ?? '';
}

/** build returns the build suffix ("+meta" for "v2.1.0+meta"), or "". */
export function build(v: string): string {
  return parse(v)?.build ?? '';
}

/**
 * compare returns -1, 0 or +1 by semantic version precedence. Invalid versions
 * compare below valid ones and equal to each other; build metadata is ignored.
 */
export function compare(v: string, w: string): -1 | 0 | 1 {
  const pv = parse(v);
  const pw = parse(w);
  if (!pv && !pw) return 0;
  if (!pv) return -1;
  if (!pw) return 1;
  return (
    compareDecimal(pv.major, pw.major) ||
    compareDecimal(pv.minor, pw.minor) ||
    compareDecimal(pv.patch, pw.patch) ||
    comparePrerelease(pv.prerelease, pw.prerelease)
  );
}

/**
 * sort sorts list in place as semver.Sort does (ByVersion: by compare, ties
 * broken by Go's byte-wise string order) and returns it. The order is total,
 * so the (unstable) algorithm Go uses does not matter.
 */
export function sort(list: string[]): string[] {
  return list.sort((a, b) => compare(a, b) || compareStrings(a, b));
}

function parse(v: string): Parsed | undefined {
  if (v === '' || v[0] !== 'v') return undefined;
  const p: Parsed = { major: '', minor: '', patch: '', short: '', prerelease: '', build: '' };
  let t = cutDecimal(v.slice(1));
  if (!t) return undefined;
  [p.major, v] = t;
  if (v === '') {
    p.minor = '0';
    p.patch = '0';
    p.short = '.0.0';
    return p;
  }
  if (v[0] !== '.') return undefined;
  t = cutDecimal(v.slice(1));
  if (!t) return undefined;
  [p.minor, v] = t;
  if (v === '') {
    p.patch = '0';
    p.short = '.0';
    return p;
  }
  if (v[0] !== '.') return undefined;
  t = cutDecimal(v.slice(1));
  if (!t) return undefined;
  [p.patch, v] = t;
  if (v.length > 0 && v[0] === '-') {
    t = parsePrerelease(v);
    if (!t) return undefined;
    [p.prerelease, v] = t;
  }
  if (v.length > 0 && v[0] === '+') {
    t = parseBuild(v);
    if (!t) return undefined;
    [p.build, v] = t;
  }
  if (v !== '') return undefined;
  return p;
}

type Split = [token: string, rest: string] | undefined;

function parsePrerelease(v: string): Split {
  // Identifiers are [0-9A-Za-z-], non-empty, and numeric ones have no leading zeros.
  if (v === '' || v[0] !== '-') return undefined;
  let i = 1;
  let start = 1;
  while (i < v.length && v[i] !== '+') {
    if (!isIdentChar(v.charCodeAt(i)) && v[i] !== '.') return undefined;
    if (v[i] === '.') {
      if (start === i || isBadNum(v.slice(start, i))) return undefined;
      start = i + 1;
    }
    i++;
  }
  if (start === i || isBadNum(v.slice(start, i))) return undefined;
  return [v.slice(0, i), v.slice(i)];
}

function parseBuild(v: string): Split {
  if (v === '' || v[0] !== '+') return undefined;
  let i = 1;
  let start = 1;
  while (i < v.length) {
    if (!isIdentChar(v.charCodeAt(i)) && v[i] !== '.') return undefined;
    if (v[i] === '.') {
      if (start === i) return undefined;
      start = i + 1;
    }
    i++;
  }
  if (start === i) return undefined;
  return [v.slice(0, i), v.slice(i)];
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isIdentChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || isDigit(c) || c === 0x2d;
}

/** A numeric identifier with a leading zero, e.g. "01". */
function isBadNum(v: string): boolean {
  let i = 0;
  while (i < v.length && isDigit(v.charCodeAt(i))) i++;
  return i === v.length && i > 1 && v[0] === '0';
}

function isNum(v: string): boolean {
  let i = 0;
  while (i < v.length && isDigit(v.charCodeAt(i))) i++;
  return i === v.length;
}

function comparePrerelease(x: string, y: string): -1 | 0 | 1 {
  // SemVer 2.0.0 §11: a prerelease sorts before the release; identifiers are
  // compared left to right, numeric ones numerically and below alphanumeric
  // ones, which compare in ASCII order; a longer list wins a tie.
  if (x === y) return 0;
  if (x === '') return 1;
  if (y === '') return -1;
  while (x !== '' && y !== '') {
    x = x.slice(1); // skip - or .
    y = y.slice(1);
    let dx: string;
    let dy: string;
    [dx, x] = nextIdent(x);
    [dy, y] = nextIdent(y);
    if (dx !== dy) {
      const ix = isNum(dx);
      const iy = isNum(dy);
      if (ix !== iy) return ix ? -1 : 1;
      if (ix && dx.length !== dy.length) return dx.length < dy.length ? -1 : 1;
      // Identifiers are ASCII, so JS string order is Go's byte order here.
      return dx < dy ? -1 : 1;
    }
  }
  return x === '' ? -1 : 1;
}

function nextIdent(x: string): [ident: string, rest: string] {
  let i = 0;
  while (i < x.length && x[i] !== '.') i++;
  return [x.slice(0, i), x.slice(i)];
}
