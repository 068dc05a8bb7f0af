// Port of golang.org/x/mod/module's path and version rules (module.go of
// x/mod v0.19.0, as vendored in Go 1.23): which module and file paths are
// valid, how a module path splits into prefix and major-version suffix,
// and the case-escaping used in proxy URLs and the module cache.
//
// Functions that return an error in Go throw here, and the thrown error's
// message is byte-for-byte Go's err.Error(). Go's structured error types are
// mirrored as classes with the same fields. Strings are treated as Go would
// treat their WTF-8 bytes (see unicode.ts): a lone surrogate is invalid UTF-8.
import { ProxyError } from '../errors.js';
import { decodeRune, encodeUTF8, goRunes, isLetter, isPrint, isValidUTF8 } from './unicode.js';
import * as semver from './semver.js';

// ---------------------------------------------------------------------------
// Errors
//
// Each is an answer the go command would give about the module or version, so
// to a proxy client each is "not found" (docs/go-rules/errors.md#not-found).

/** A plain Go error (errors.New or fmt.Errorf): all there is to it is its text. */
export class GoError extends ProxyError {
  override name = 'GoError';
  constructor(message: string) {
    super('not-found', message);
  }
}

/**
 * InvalidVersionError: a problem with a version, the module path being unknown
 * or given elsewhere. Error(): `version "v" invalid: <err>`, or
 * `pseudo-version "v" invalid: <err>` when pseudo is set.
 */
export class InvalidVersionError extends ProxyError {
  override name = 'InvalidVersionError';
  constructor(
    readonly version: string,
    readonly pseudo: boolean,
    readonly err: Error,
  ) {
    super('not-found', `${pseudo ? 'pseudo-version' : 'version'} ${quote(version)} invalid: ${err.message}`);
  }

  /** "version" or "pseudo-version". */
  get noun(): string {
    return this.pseudo ? 'pseudo-version' : 'version';
  }

  unwrap(): Error {
    return this.err;
  }
}

/**
 * ModuleError: a problem specific to a module. Error() is
 * `path@v: invalid version: <inner>` (or `invalid pseudo-version:`) when err is
 * an InvalidVersionError (whose version is used), else `path@version: <err>`,
 * or `module path: <err>` when version is empty.
 */
export class ModuleError extends ProxyError {
  override name = 'ModuleError';
  constructor(
    readonly path: string,
    readonly version: string,
    readonly err: Error,
  ) {
    super('not-found', moduleErrorMessage(path, version, err));
  }

  unwrap(): Error {
    return this.err;
  }
}

function moduleErrorMessage(path: string, version: string, err: Error): string {
  if (err instanceof InvalidVersionError) return `${path}@${err.version}: invalid ${err.noun}: ${err.err.message}`;
  if (version !== '') return `${path}@${version}: ${err.message}`;
  return `module ${path}: ${err.message}`;
}

/** InvalidPathError: `malformed <kind> path "<path>": <err>`, kind being module or file. */
export class InvalidPathError extends ProxyError {
  override name = 'InvalidPathError';
  constructor(
    readonly pathKind: PathKind,
    readonly path: string,
    readonly err: Error,
  ) {
    super('not-found', `malformed ${pathKind} path ${quote(path)}: ${err.message}`);
  }

  unwrap(): Error {
    return this.err;
  }
}

// ---------------------------------------------------------------------------
// Go's %q (strconv.Quote / strconv.QuoteRune), needed for exact error texts.

const LOWER_HEX = '0123456789abcdef';

/** strconv.Quote of s's (WTF-8) bytes: invalid bytes come out as \xHH. */
export function quote(s: string): string {
  if (/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(s)) return `"${s}"`; // nothing to escape
  return quoteBytes(encodeUTF8(s));
}

/** strconv.Quote of a byte string. */
export function quoteBytes(b: Uint8Array): string {
  let out = '"';
  for (let i = 0; i < b.length; ) {
    const [r, size] = decodeRune(b, i);
    if (size === 1 && r === 0xfffd) {
      out += '\\x' + LOWER_HEX[b[i] >> 4] + LOWER_HEX[b[i] & 0xf];
    } else {
      out += escapedRune(r, '"');
    }
    i += size;
  }
  return out + '"';
}

/** strconv.QuoteRune (fmt's %q of a rune): invalid runes become U+FFFD. */
export function quoteRune(r: number): string {
  if (!validRune(r)) r = 0xfffd;
  return `'${escapedRune(r, "'")}'`;
}

function validRune(r: number): boolean {
  return (r >= 0 && r < 0xd800) || (r > 0xdfff && r <= 0x10ffff);
}

/** strconv's appendEscapedRune without the ASCII-only and graphic-only modes. */
function escapedRune(r: number, q: '"' | "'"): string {
  if (r === q.charCodeAt(0) || r === 0x5c) return '\\' + String.fromCharCode(r);
  if (isPrint(r)) return String.fromCodePoint(r);
  switch (r) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  if (r < 0x20 || r === 0x7f) return '\\x' + LOWER_HEX[r >> 4] + LOWER_HEX[r & 0xf];
  if (!validRune(r)) r = 0xfffd;
  if (r < 0x10000) return '\\u' + r.toString(16).padStart(4, '0');
  return '\\U' + r.toString(16).padStart(8, '0');
}

// ---------------------------------------------------------------------------
// Path checks

/** The kinds of path this proxy checks (x/mod also has import paths, which it never sees). */
type PathKind = 'module' | 'file';

/** Characters allowed in the first element of a module path: an LDH domain name in lower case. */
function firstPathOK(r: number): boolean {
  return r === 0x2d || r === 0x2e || (r >= 0x30 && r <= 0x39) || (r >= 0x61 && r <= 0x7a);
}

/**
 * Characters allowed in module path elements: ASCII letters and digits and
 * - . _ ~ (what "go get" always accepted, and nothing that changes meaning in
 * a URL, such as % or +).
 */
function modPathOK(r: number): boolean {
  return (
    r === 0x2d ||
    r === 0x2e ||
    r === 0x5f ||
    r === 0x7e ||
    (r >= 0x30 && r <= 0x39) ||
    (r >= 0x41 && r <= 0x5a) ||
    (r >= 0x61 && r <= 0x7a)
  );
}

/**
 * File names allow ASCII letters, digits, space and !#$%&()+,-.=@[]^_{}~
 * (not the shell/OS-special " ' * < > ? ` | / \ :), plus every Unicode letter
 * per Go's unicode.IsLetter.
 */
function fileNameOK(r: number): boolean {
  if (r < 0x80) {
    if ((r >= 0x30 && r <= 0x39) || (r >= 0x41 && r <= 0x5a) || (r >= 0x61 && r <= 0x7a)) return true;
    return '!#$%&()+,-.=@[]^_{}~ '.includes(String.fromCharCode(r));
  }
  return isLetter(r);
}

/**
 * checkPath checks that a module path is valid: slash-separated elements of
 * ASCII letters, digits and - . _ ~, none empty, starting or ending with a
 * dot, a Windows reserved name before its first dot, or ending in ~digits;
 * a first element that is a lower-case domain name with a dot (not starting
 * with a dash); and a well-formed /vN or gopkg.in .vN suffix. Throws
 * InvalidPathError (kind "module").
 */
export function checkPath(path: string): void {
  const msg = modulePathProblem(path);
  if (msg !== undefined) throw new InvalidPathError('module', path, new GoError(msg));
}

function modulePathProblem(path: string): string | undefined {
  const msg = pathProblem(path, 'module');
  if (msg !== undefined) return msg;
  let i = path.indexOf('/');
  if (i < 0) i = path.length;
  if (i === 0) return 'leading slash';
  if (!path.slice(0, i).includes('.')) return 'missing dot in first path element';
  if (path[0] === '-') return 'leading dash in first path element';
  for (const r of goRunes(path.slice(0, i))) {
    if (!firstPathOK(r)) return `invalid char ${quoteRune(r)} in first path element`;
  }
  if (!splitPathVersion(path).ok) return 'invalid version';
  return undefined;
}

/**
 * checkFilePath checks a slash-separated file path (e.g. a module zip entry):
 * like a module path's elements but allowing Unicode letters, space and more
 * ASCII punctuation, a leading dash or dot, and ~digits endings, with no rule
 * for the first element or a version suffix. Throws InvalidPathError (kind
 * "file").
 */
export function checkFilePath(path: string): void {
  const msg = pathProblem(path, 'file');
  if (msg !== undefined) throw new InvalidPathError('file', path, new GoError(msg));
}

/** Go's checkPath: the reason path is invalid for kind, or undefined. */
function pathProblem(path: string, kind: PathKind): string | undefined {
  if (!isValidUTF8(path)) return 'invalid UTF-8';
  if (path === '') return 'empty string';
  if (path[0] === '-' && kind !== 'file') return 'leading dash';
  if (path.includes('//')) return 'double slash';
  if (path[path.length - 1] === '/') return 'trailing slash';
  for (const elem of path.split('/')) {
    const msg = elemProblem(elem, kind);
    if (msg !== undefined) return msg;
  }
  return undefined;
}

/** Reserved file names on Windows (compared case-insensitively to the part before the first dot). */
const badWindowsNames = new Set([
  'CON',
  'PRN',
  'AUX',
  'NUL',
  'COM1',
  'COM2',
  'COM3',
  'COM4',
  'COM5',
  'COM6',
  'COM7',
  'COM8',
  'COM9',
  'LPT1',
  'LPT2',
  'LPT3',
  'LPT4',
  'LPT5',
  'LPT6',
  'LPT7',
  'LPT8',
  'LPT9',
]);

/**
 * Go's loop of strings.EqualFold(bad, short) over badWindowsNames, without
 * the loop. Those names are 3 or 4 ASCII letters and digits, and no rune
 * outside ASCII folds to any of their letters (only U+212A folds to k and
 * U+017F to s), so a match is a 3- or 4-character ASCII string whose
 * upper-case form is in the set; a non-ASCII character stays as it is and
 * matches nothing.
 */
function isBadWindowsName(short: string): boolean {
  if (short.length !== 3 && short.length !== 4) return false;
  let upper = '';
  for (let i = 0; i < short.length; i++) {
    const c = short.charCodeAt(i);
    upper += String.fromCharCode(c >= 0x61 && c <= 0x7a ? c - 0x20 : c);
  }
  return badWindowsNames.has(upper);
}

/** modPathOK and fileNameOK for ASCII, by character code: the common case, without a call per character. */
const asciiOK: Record<PathKind, Uint8Array> = { module: new Uint8Array(0x80), file: new Uint8Array(0x80) };
for (let c = 0; c < 0x80; c++) {
  asciiOK.module[c] = modPathOK(c) ? 1 : 0;
  asciiOK.file[c] = fileNameOK(c) ? 1 : 0;
}

/** The first character of elem its kind does not allow, as Go reports it (quoteRune), or undefined. */
function badChar(elem: string, kind: PathKind): string | undefined {
  const table = asciiOK[kind];
  let i = 0;
  for (; i < elem.length; i++) {
    const c = elem.charCodeAt(i);
    if (c >= 0x80) break;
    if (table[c] === 0) return `invalid char ${quoteRune(c)}`;
  }
  if (i === elem.length) return undefined;
  // Not all ASCII: rune by rune from where ASCII ended (the characters before it passed).
  const ok = kind === 'module' ? modPathOK : fileNameOK;
  for (const r of goRunes(elem.slice(i))) {
    if (!ok(r)) return `invalid char ${quoteRune(r)}`;
  }
  return undefined;
}

/** Go's checkElem: the reason a single path element is invalid, or undefined. */
function elemProblem(elem: string, kind: PathKind): string | undefined {
  if (elem === '') return 'empty path element';
  if (elem.charCodeAt(0) === 0x2e && /^\.+$/.test(elem)) return `invalid path element ${quote(elem)}`;
  if (elem[0] === '.' && kind === 'module') return 'leading dot in path element';
  if (elem[elem.length - 1] === '.') return 'trailing dot in path element';
  const bad = badChar(elem, kind);
  if (bad !== undefined) return bad;

  let short = elem;
  const dot = short.indexOf('.');
  if (dot >= 0) short = short.slice(0, dot);
  if (isBadWindowsName(short)) return `${quote(short)} disallowed as path element component on Windows`;

  // Windows short names (FOO~1) only matter for module (import) paths, not file names.
  if (kind === 'file') return undefined;
  const tilde = short.lastIndexOf('~');
  if (tilde >= 0 && tilde < short.length - 1 && /^[0-9]+$/.test(short.slice(tilde + 1))) {
    return 'trailing tilde and digits in path element';
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Major-version suffixes

export interface PathVersionSplit {
  prefix: string;
  /** "" or "/vN" (N >= 2), or for gopkg.in ".vN" (any N, optionally "-unstable"). */
  pathMajor: string;
  /** false when the final element looks like a bad suffix (/v0, /v1, /v02, /v2.0, gopkg.in without .vN). */
  ok: boolean;
}

/**
 * splitPathVersion splits path into prefix and major-version suffix such that
 * prefix + pathMajor === path. gopkg.in paths use ".vN" instead of "/vN".
 */
export function splitPathVersion(path: string): PathVersionSplit {
  if (path.startsWith('gopkg.in/')) return splitGopkgIn(path);
  let i = path.length;
  let dot = false;
  while (i > 0 && (isDigit(path.charCodeAt(i - 1)) || path[i - 1] === '.')) {
    if (path[i - 1] === '.') dot = true;
    i--;
  }
  if (i <= 1 || i === path.length || path[i - 1] !== 'v' || path[i - 2] !== '/') {
    return { prefix: path, pathMajor: '', ok: true };
  }
  const prefix = path.slice(0, i - 2);
  const pathMajor = path.slice(i - 2);
  if (dot || pathMajor.length <= 2 || pathMajor[2] === '0' || pathMajor === '/v1') {
    return { prefix: path, pathMajor: '', ok: false };
  }
  return { prefix, pathMajor, ok: true };
}

function splitGopkgIn(path: string): PathVersionSplit {
  if (!path.startsWith('gopkg.in/')) return { prefix: path, pathMajor: '', ok: false };
  let i = path.length;
  if (path.endsWith('-unstable')) i -= '-unstable'.length;
  while (i > 0 && isDigit(path.charCodeAt(i - 1))) i--;
  if (i <= 1 || path[i - 1] !== 'v' || path[i - 2] !== '.') {
    // Every gopkg.in path must end in .vN.
    return { prefix: path, pathMajor: '', ok: false };
  }
  const prefix = path.slice(0, i - 2);
  const pathMajor = path.slice(i - 2);
  if (pathMajor.length <= 2 || (pathMajor[2] === '0' && pathMajor !== '.v0')) {
    return { prefix: path, pathMajor: '', ok: false };
  }
  return { prefix, pathMajor, ok: true };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** matchPathMajor reports whether v matches pathMajor (exactly when checkPathMajor does not throw). */
export function matchPathMajor(v: string, pathMajor: string): boolean {
  return pathMajorProblem(v, pathMajor) === undefined;
}

/**
 * checkPathMajor throws InvalidVersionError ("should be vN, not vM") if the
 * version v does not match the path's major suffix. An empty suffix accepts
 * v0, v1 and +incompatible; gopkg.in ".v1" also accepts old v0.0.0-
 * pseudo-versions.
 */
export function checkPathMajor(v: string, pathMajor: string): void {
  const err = pathMajorProblem(v, pathMajor);
  if (err) throw err;
}

function pathMajorProblem(v: string, pathMajor: string): InvalidVersionError | undefined {
  if (pathMajor.startsWith('.v') && pathMajor.endsWith('-unstable')) {
    pathMajor = pathMajor.slice(0, -'-unstable'.length);
  }
  // An old bug generated v0.0.0- pseudo-versions for gopkg.in .v1 paths
  // (e.g. gopkg.in/yaml.v2@v2.2.1 requires such a check.v1), so they stay valid.
  if (v.startsWith('v0.0.0-') && pathMajor === '.v1') return undefined;
  const m = semver.major(v);
  if (pathMajor === '') {
    if (m === 'v0' || m === 'v1' || semver.build(v) === '+incompatible') return undefined;
    pathMajor = 'v0 or v1';
  } else if (pathMajor[0] === '/' || pathMajor[0] === '.') {
    if (m === pathMajor.slice(1)) return undefined;
    pathMajor = pathMajor.slice(1);
  }
  return new InvalidVersionError(v, false, new GoError(`should be ${pathMajor}, not ${semver.major(v)}`));
}

/**
 * pathMajorPrefix returns the major-version tag prefix implied by pathMajor
 * ("/v2" → "v2", ".v1-unstable" → "v1", "" → ""). Like Go, which panics, it
 * throws a plain Error for a suffix without separator or a non-major one.
 */
export function pathMajorPrefix(pathMajor: string): string {
  if (pathMajor === '') return '';
  if (pathMajor[0] !== '/' && pathMajor[0] !== '.') {
    throw new Error(`pathMajor suffix ${pathMajor} passed to PathMajorPrefix lacks separator`);
  }
  if (pathMajor.startsWith('.v') && pathMajor.endsWith('-unstable')) {
    pathMajor = pathMajor.slice(0, -'-unstable'.length);
  }
  const m = pathMajor.slice(1);
  if (m !== semver.major(m)) {
    // (sic: Go's message has no space before "passed")
    throw new Error(`pathMajor suffix ${pathMajor}passed to PathMajorPrefix is not a valid major version`);
  }
  return m;
}

/** canonicalVersion is semver.canonical, except that a "+incompatible" build suffix is kept. */
export function canonicalVersion(v: string): string {
  const cv = semver.canonical(v);
  return semver.build(v) === '+incompatible' ? cv + '+incompatible' : cv;
}

/**
 * check checks that path is a valid module path, version a valid semantic
 * version, and that they agree on the major version. Throws InvalidPathError
 * or ModuleError.
 */
export function check(path: string, version: string): void {
  checkPath(path);
  if (!semver.isValid(version)) {
    throw new ModuleError(path, '', new InvalidVersionError(version, false, new GoError('not a semantic version')));
  }
  const err = pathMajorProblem(version, splitPathVersion(path).pathMajor);
  if (err) throw new ModuleError(path, '', err);
}

// ---------------------------------------------------------------------------
// Case escaping ("!x" for "X"), used in proxy URLs and cache paths

/** escapePath returns the escaped form of a valid module path (throws InvalidPathError otherwise). */
export function escapePath(path: string): string {
  checkPath(path);
  return escapeString(path);
}

/**
 * escapeVersion returns the escaped form of a version, which need not be
 * semver but must be a valid file-name element without "!". Throws
 * InvalidVersionError "disallowed version string" otherwise.
 */
export function escapeVersion(v: string): string {
  if (elemProblem(v, 'file') !== undefined || v.includes('!')) {
    throw new InvalidVersionError(v, false, new GoError('disallowed version string'));
  }
  return escapeString(v);
}

function escapeString(s: string): string {
  // The checks above rule this out; the loop below relies on it.
  if (/[!\u0080-\uffff]/.test(s)) throw new GoError('internal error: inconsistency in EscapePath');
  return s.replace(/[A-Z]/g, (c) => '!' + c.toLowerCase());
}

/** unescapePath decodes an escaped module path, throwing GoError if it is malformed or invalid. */
export function unescapePath(escaped: string): string {
  const path = unescapeString(escaped);
  if (path === undefined) throw new GoError(`invalid escaped module path ${quote(escaped)}`);
  const msg = modulePathProblem(path);
  if (msg !== undefined) {
    const err = new InvalidPathError('module', path, new GoError(msg));
    throw new GoError(`invalid escaped module path ${quote(escaped)}: ${err.message}`);
  }
  return path;
}

/** unescapeVersion decodes an escaped version, throwing GoError if it is malformed or not a valid file name. */
export function unescapeVersion(escaped: string): string {
  const v = unescapeString(escaped);
  if (v === undefined) throw new GoError(`invalid escaped version ${quote(escaped)}`);
  const msg = elemProblem(v, 'file');
  // (Go quotes the decoded version here, not the escaped one.)
  if (msg !== undefined) throw new GoError(`invalid escaped version ${quote(v)}: ${msg}`);
  return v;
}

/** "!x" → "X"; undefined for non-ASCII, raw upper case, or "!" not followed by a-z. */
function unescapeString(escaped: string): string | undefined {
  let out = '';
  let bang = false;
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped.charCodeAt(i);
    if (c >= 0x80) return undefined;
    if (bang) {
      bang = false;
      if (c < 0x61 || c > 0x7a) return undefined;
      out += String.fromCharCode(c - 0x20);
      continue;
    }
    if (c === 0x21) {
      bang = true;
      continue;
    }
    if (c >= 0x41 && c <= 0x5a) return undefined;
    out += escaped[i];
  }
  return bang ? undefined : out;
}
