/**
 * Emulation of the content conversions that
 *
 *   git -c core.autocrlf=input -c core.eol=lf archive --format=zip <commit> -- <dir>
 *
 * (git 2.39, as run by the go command in its bare cache repository, with
 * `* -export-subst -export-ignore` appended to $GIT_DIR/info/attributes)
 * applies to every regular file, so that modproxy can build byte-identical
 * module zips from raw blobs without running git.
 *
 * How git gets there (archive.c, attr.c, convert.c, dir.c, wildmatch.c):
 *
 * - `git archive` loads the *whole* commit tree into a temporary index and
 *   switches the attribute machinery to GIT_ATTR_INDEX, so attributes come
 *   from the `.gitattributes` blobs of the archived commit (root file included
 *   even when only `-- sub` is archived), never from a work tree.
 * - Each regular file goes through convert_to_working_tree(), which applies,
 *   in this order: `ident` expansion, LF->CRLF conversion, re-encoding to
 *   `working-tree-encoding`, then the smudge filter of `filter=<driver>`.
 * - The go command's repository configures no filter driver, so `filter=`
 *   never changes content (a driver named in an attribute but absent from
 *   config is silently ignored).
 * - `export-subst` and `export-ignore` are disabled by the info/attributes
 *   line, so `$Format:...$` is never expanded and no file is dropped.
 * - Blobs larger than core.bigFileThreshold (512 MiB) are streamed raw,
 *   without any conversion (archive.c write_archive_entry()).
 * - Symlinks are written as their raw target: only regular files are
 *   converted (archive.c object_file_to_archive()). Callers must not pass
 *   symlink blobs to {@link ArchiveConverter.convert}.
 *
 * Paths and patterns are handled as byte strings ("binary" strings, one
 * char per byte), exactly like git's C strings: a pattern character class
 * such as `[é]` therefore matches single bytes, not a code point.
 *
 * Deliberately not emulated:
 * - Attribute files outside the commit ($(prefix)/etc/gitattributes,
 *   core.attributesFile, ~/.config/git/attributes) and filter drivers in
 *   the host's git config: they belong to a machine, not to the module.
 * - core.ignorecase: false in the go command's bare repository on Linux, so
 *   matching is case sensitive.
 * - working-tree-encoding relies on the host's iconv. This reproduces glibc
 *   (2.36, little-endian host) for the Unicode encodings, ISO-8859-1, ASCII
 *   and the charsets in LEGACY_CHARSETS; any other name glibc knows (UCS-4,
 *   UTF-7, EBCDIC, ISO-2022-*, BIG5, EUC-KR, "//TRANSLIT" suffixes, ...)
 *   raises UnsupportedConversionError instead of guessing.
 */

import iconv from 'iconv-lite';

// ---------------------------------------------------------------------------
// Public API

export interface GitattributesFile {
  /** '' for the repo root, else 'a/b' without trailing slash. */
  dir: string;
  content: Uint8Array;
}

/**
 * Thrown when git itself would abort the archive (so the go command fails to
 * build the zip). git 2.39 dies with "true/false are no valid
 * working-tree-encodings" for a bare `working-tree-encoding` attribute.
 */
export class GitArchiveFatalError extends Error {
  override name = 'GitArchiveFatalError';
}

/**
 * Thrown when git would convert the content in a way this module cannot
 * reproduce byte-for-byte (a working-tree-encoding that glibc's iconv knows
 * but that is not emulated here). Failing loudly beats serving a zip whose
 * hash differs from what the go command computes.
 */
export class UnsupportedConversionError extends Error {
  override name = 'UnsupportedConversionError';
}

/** Sizes above core.bigFileThreshold are streamed by git archive unconverted. */
export const BIG_FILE_THRESHOLD = 512 * 1024 * 1024;

export class ArchiveConverter {
  private readonly frames = new Map<string, Rule[]>();
  private readonly macros = new Map<string, AttrAssign[]>();
  private readonly stackCache = new Map<string, Frame[]>();

  /** @param files every `.gitattributes` blob in the archived commit's tree.
   *  In index mode git 2.39 reads the blob of a `.gitattributes` *symlink*
   *  too (its target text is parsed as attribute lines), so include those. */
  constructor(files: GitattributesFile[]) {
    for (const f of files) {
      const dir = toByteString(f.dir).replace(/^\/+|\/+$/g, '');
      // Only top-level attribute files may define macros (attr.c
      // READ_ATTR_MACRO_OK); in subdirectories such lines are dropped.
      this.frames.set(dir, parseAttributesBlob(f.content, dir === ''));
    }
    this.collectMacros();
  }

  /** false when no attribute could change this path's bytes, so callers can stream it untouched */
  affects(path: string): boolean {
    const ca = this.convAttrs(path);
    if (ca.fatal !== undefined) return true;
    return ca.ident || outputsCrlf(ca.crlfAction) || ca.encoding !== null;
  }

  /** bytes git archive would write for this blob at repo-relative `path` ('/'-separated) */
  convert(path: string, blobOid: string, content: Uint8Array): Uint8Array {
    if (content.length > BIG_FILE_THRESHOLD) return content;
    const ca = this.convAttrs(path);
    if (ca.fatal !== undefined) throw new GitArchiveFatalError(ca.fatal);
    // convert.c convert_to_working_tree_ca_internal(): ident, crlf, encoding,
    // then the (never configured) smudge filter.
    let out = content;
    if (ca.ident) out = identToWorktree(out, blobOid);
    out = crlfToWorktree(out, ca.crlfAction);
    if (ca.encoding !== null) out = encodeToWorktree(out, ca.encoding);
    return out;
  }

  /** The git attribute values in effect for `path` (for tests and diagnostics).
   *  Absent names are unspecified. */
  attributes(path: string): Map<string, AttrValue> {
    return this.collect(toByteString(path));
  }

  private convAttrs(path: string): ConvAttrs {
    return convAttrsFrom(this.collect(toByteString(path)));
  }

  private collectMacros(): void {
    // attr.c determine_macros(): the topmost definition on the stack wins;
    // macros can only come from the root file (above) or the builtin frame.
    const sources = [this.frames.get('') ?? [], BUILTIN_RULES];
    for (const rules of sources) {
      for (let i = rules.length - 1; i >= 0; i--) {
        const r = rules[i];
        if (r.kind === 'macro' && !this.macros.has(r.name)) this.macros.set(r.name, r.states);
      }
    }
  }

  /** Frames for the directory of `path`, deepest first (attr.c prepare_attr_stack()). */
  private stackFor(dir: string): Frame[] {
    const cached = this.stackCache.get(dir);
    if (cached) return cached;
    const frames: Frame[] = [];
    const parts = dir === '' ? [] : dir.split('/');
    for (let n = parts.length; n >= 0; n--) {
      const origin = parts.slice(0, n).join('/');
      const rules = this.frames.get(origin);
      if (rules && rules.length > 0) frames.push({ origin, rules });
    }
    this.stackCache.set(dir, frames);
    return frames;
  }

  /** attr.c collect_some_attrs()/fill(): walk from the highest-precedence
   *  rule down, the first assignment of an attribute wins. */
  private collect(bpath: string): Map<string, AttrValue> {
    // A trailing slash marks a directory; the last separator before it splits
    // dirname from basename.
    let lastSlash = -1;
    for (let i = 0; i < bpath.length; i++) {
      if (bpath[i] === '/' && i + 1 < bpath.length) lastSlash = i;
    }
    const dir = lastSlash < 0 ? '' : bpath.slice(0, lastSlash);
    const basenameOffset = lastSlash + 1;
    const values = new Map<string, AttrValue>();
    const stack = [...this.stackFor(dir), { origin: '', rules: BUILTIN_RULES }];
    for (const frame of stack) {
      for (let i = frame.rules.length - 1; i >= 0; i--) {
        const rule = frame.rules[i];
        if (rule.kind !== 'pattern') continue;
        if (pathMatches(bpath, basenameOffset, rule.pattern, frame.origin)) {
          this.fillOne(values, rule.states);
        }
      }
    }
    return values;
  }

  /** attr.c fill_one(): assignments on a line apply right to left, and a
   *  macro set to true expands in place (so its members lose against
   *  assignments to their right on the same line, but beat earlier lines). */
  private fillOne(values: Map<string, AttrValue>, states: AttrAssign[], depth = 0): void {
    for (let i = states.length - 1; i >= 0; i--) {
      const { name, value } = states[i];
      if (values.has(name)) continue;
      values.set(name, value);
      const macro = this.macros.get(name);
      // Recursion terminates because each expansion only recurses after
      // assigning a previously unknown attribute; the depth guard is belt
      // and braces against pathological input.
      if (value === true && macro && depth < 1000) this.fillOne(values, macro, depth + 1);
    }
  }
}

// ---------------------------------------------------------------------------
// Attribute file parsing (attr.c parse_attr_line(), read_attr_from_index())

/** true: set (`attr`), false: unset (`-attr`), null: unspecified (`!attr`),
 *  string: `attr=value`. An attribute absent from a lookup is unspecified. */
export type AttrValue = true | false | null | string;

export interface AttrAssign {
  name: string;
  value: AttrValue;
}

export interface Pattern {
  /** pattern bytes without a leading `!` or trailing `/` */
  text: string;
  /** length of the leading part without glob specials (dir.c simple_length) */
  noWildcardLen: number;
  /** no slash in the pattern: match against the basename only */
  noDir: boolean;
  /** `*literal`: a plain suffix comparison */
  endsWith: boolean;
  /** trailing slash: matches directories only, hence never a file */
  mustBeDir: boolean;
}

export type Rule =
  | { kind: 'pattern'; pattern: Pattern; states: AttrAssign[] }
  | { kind: 'macro'; name: string; states: AttrAssign[] };

interface Frame {
  origin: string;
  rules: Rule[];
}

const ATTR_MAX_LINE_LENGTH = 2048;
const ATTR_MAX_FILE_SIZE = 100 * 1024 * 1024;
const BLANK = ' \t\r\n';
const MACRO_PREFIX = '[attr]';

/** Parse a `.gitattributes` blob as read from the index. */
export function parseAttributesBlob(content: Uint8Array, macroOk: boolean): Rule[] {
  // Oversized files are ignored as a whole (CVE-2022-23521 hardening).
  if (content.length >= ATTR_MAX_FILE_SIZE) return [];
  let text = bytesToByteString(content);
  // The index reader walks a NUL-terminated buffer: a NUL ends the file.
  const nul = text.indexOf('\0');
  if (nul >= 0) text = text.slice(0, nul);
  // Unlike the work-tree reader, the index reader strips no UTF-8 BOM.
  const rules: Rule[] = [];
  for (const line of text.split('\n')) {
    const rule = parseAttrLine(line, macroOk);
    if (rule) rules.push(rule);
  }
  return rules;
}

/** One line; null for blank, comment and every kind of rejected line. */
export function parseAttrLine(line: string, macroOk: boolean): Rule | null {
  let cp = skipBlank(line, 0);
  if (cp >= line.length || line[cp] === '#') return null;
  if (line.length >= ATTR_MAX_LINE_LENGTH) return null;

  let name: string;
  let states: string;
  const unquoted = line[cp] === '"' ? unquoteC(line, cp) : null;
  if (unquoted) {
    name = unquoted.value;
    states = line.slice(unquoted.end);
  } else {
    const end = spanNonBlank(line, cp);
    name = line.slice(cp, end);
    states = line.slice(end);
  }

  let macroName: string | null = null;
  if (name.length > MACRO_PREFIX.length && name.startsWith(MACRO_PREFIX)) {
    if (!macroOk) return null;
    const rest = name.slice(MACRO_PREFIX.length);
    const start = skipBlank(rest, 0);
    macroName = rest.slice(start, spanNonBlank(rest, start));
    if (!attrNameValid(macroName)) return null;
  }

  const assigns = parseAttrStates(states);
  if (!assigns) return null;
  if (macroName !== null) return { kind: 'macro', name: macroName, states: assigns };

  const pattern = parsePattern(name);
  // "Negative patterns are ignored in git attributes": the line is dropped.
  if (!pattern) return null;
  return { kind: 'pattern', pattern, states: assigns };
}

/** The whitespace-separated `attr`, `-attr`, `!attr`, `attr=value` list;
 *  null when any entry has an invalid name (the whole line is ignored). */
function parseAttrStates(s: string): AttrAssign[] | null {
  const out: AttrAssign[] = [];
  let cp = skipBlank(s, 0);
  while (cp < s.length) {
    const ep = spanNonBlank(s, cp);
    // strchr() on the rest of the line: an '=' past this token doesn't count.
    let eq = s.indexOf('=', cp);
    if (eq > ep) eq = -1;
    let nameStart = cp;
    const nameEnd = eq >= 0 ? eq : ep;
    let value: AttrValue;
    if (s[cp] === '-' || s[cp] === '!') {
      value = s[cp] === '-' ? false : null; // a value after -x= / !x= is ignored
      nameStart++;
    } else {
      value = eq >= 0 ? s.slice(eq + 1, ep) : true;
    }
    const name = s.slice(nameStart, nameEnd);
    if (!attrNameValid(name)) return null;
    out.push({ name, value });
    cp = skipBlank(s, ep);
  }
  return out;
}

function attrNameValid(name: string): boolean {
  return /^[A-Za-z0-9_.][-A-Za-z0-9_.]*$/.test(name);
}

/** quote.c unquote_c_style(): null when the quoting is malformed, in which
 *  case git takes the pattern literally, quote included. */
function unquoteC(s: string, start: number): { value: string; end: number } | null {
  const escapes: Record<string, string> = {
    a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"',
  };
  let out = '';
  let i = start + 1;
  for (;;) {
    if (i >= s.length) return null;
    const c = s[i++];
    if (c === '"') return { value: out, end: i };
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = s[i++] ?? '';
    if (e in escapes) {
      out += escapes[e];
    } else if (e >= '0' && e <= '3') {
      const d1 = s[i++] ?? '';
      const d2 = s[i++] ?? '';
      if (!isOctal(d1) || !isOctal(d2)) return null;
      out += String.fromCharCode(((e.charCodeAt(0) - 48) << 6) | ((d1.charCodeAt(0) - 48) << 3) | (d2.charCodeAt(0) - 48));
    } else {
      return null;
    }
  }
}

function isOctal(c: string): boolean {
  return c >= '0' && c <= '7';
}

function skipBlank(s: string, i: number): number {
  while (i < s.length && BLANK.includes(s[i])) i++;
  return i;
}

function spanNonBlank(s: string, i: number): number {
  while (i < s.length && !BLANK.includes(s[i])) i++;
  return i;
}

const BUILTIN_RULES: Rule[] = [parseAttrLine('[attr]binary -diff -merge -text', true) as Rule];

// ---------------------------------------------------------------------------
// Pattern matching (dir.c parse_path_pattern(), match_basename(),
// match_pathname(); attr.c path_matches())

/** null for a negative (`!`) pattern, which gitattributes rejects. */
export function parsePattern(raw: string): Pattern | null {
  // The pattern is a C string: an octal \000 in a quoted pattern ends it.
  const nul = raw.indexOf('\0');
  let p = nul >= 0 ? raw.slice(0, nul) : raw;
  if (p.startsWith('!')) return null;
  let mustBeDir = false;
  if (p.endsWith('/')) {
    mustBeDir = true;
    p = p.slice(0, -1);
  }
  const noDir = !p.includes('/');
  // simple_length() runs on the pattern before the trailing slash is cut,
  // then gets clamped; the result is the same as on the cut pattern.
  const noWildcardLen = simpleLength(p);
  const endsWith = p.startsWith('*') && simpleLength(p.slice(1)) === p.length - 1;
  return { text: p, noWildcardLen, noDir, endsWith, mustBeDir };
}

function simpleLength(s: string): number {
  for (let i = 0; i < s.length; i++) if (isGlobSpecial(s.charCodeAt(i))) return i;
  return s.length;
}

/** Does `pattern` from the attributes file in directory `base` match the
 *  file `path` (all byte strings)? */
export function pathMatches(path: string, basenameOffset: number, pattern: Pattern, base: string): boolean {
  const isDir = path.endsWith('/');
  if (pattern.mustBeDir && !isDir) return false;
  const name = isDir ? path.slice(0, -1) : path;
  if (pattern.noDir) return matchBasename(name.slice(basenameOffset), pattern);
  return matchPathname(name, base, pattern);
}

function matchBasename(basename: string, pat: Pattern): boolean {
  const p = pat.text;
  if (pat.noWildcardLen === p.length) return basename === p;
  if (pat.endsWith) return basename.endsWith(p.slice(1));
  return wildmatch(p, basename, false) === WM_MATCH;
}

/** Patterns containing a slash are anchored at the directory holding the
 *  attributes file and matched with FNM_PATHNAME semantics. */
function matchPathname(path: string, base: string, pat: Pattern): boolean {
  let p = pat.text;
  let prefix = pat.noWildcardLen;
  if (p.startsWith('/')) {
    p = p.slice(1);
    prefix--;
  }
  const baselen = base.length;
  if (path.length < baselen + 1 || (baselen > 0 && path[baselen] !== '/') || !path.startsWith(base)) {
    return false;
  }
  let name = baselen > 0 ? path.slice(baselen + 1) : path;
  if (prefix > 0) {
    if (prefix > name.length) return false;
    if (p.slice(0, prefix) !== name.slice(0, prefix)) return false;
    p = p.slice(prefix);
    name = name.slice(prefix);
    if (p.length === 0 && name.length === 0) return true;
  }
  return wildmatch(p, name, true) === WM_MATCH;
}

// wildmatch.c, byte for byte (no WM_CASEFOLD: core.ignorecase is false in
// the go command's bare repository on Linux).
const WM_MATCH = 0;
const WM_NOMATCH = 1;
const WM_ABORT_ALL = -1;
const WM_ABORT_TO_STARSTAR = -2;

const C_SLASH = 0x2f;
const C_STAR = 0x2a;
const C_QUESTION = 0x3f;
const C_BACKSLASH = 0x5c;
const C_LBRACKET = 0x5b;
const C_RBRACKET = 0x5d;
const C_BANG = 0x21;
const C_CARET = 0x5e;
const C_DASH = 0x2d;
const C_COLON = 0x3a;

/** Shell glob match of byte strings; `pathname` is WM_PATHNAME. */
export function wildmatch(pattern: string, text: string, pathname: boolean): number {
  return dowild(pattern, 0, text, 0, pathname);
}

/** The char code at i, or 0 past the end (C's terminating NUL). */
function at(s: string, i: number): number {
  return i < s.length ? s.charCodeAt(i) : 0;
}

function isGlobSpecial(c: number): boolean {
  return c === C_STAR || c === C_QUESTION || c === C_LBRACKET || c === C_BACKSLASH;
}

function dowild(p: string, pstart: number, t: string, tstart: number, pathname: boolean): number {
  let pi = pstart;
  let ti = tstart;
  for (; at(p, pi) !== 0; ti++, pi++) {
    let pch = at(p, pi);
    let tch = at(t, ti);
    if (tch === 0 && pch !== C_STAR) return WM_ABORT_ALL;
    if (pch === C_BACKSLASH) {
      // Literal match with the following character (NUL never matches).
      pch = at(p, ++pi);
      if (tch !== pch) return WM_NOMATCH;
      continue;
    }
    if (pch === C_QUESTION) {
      if (pathname && tch === C_SLASH) return WM_NOMATCH;
      continue;
    }
    if (pch === C_LBRACKET) {
      const r = matchBracket(p, pi, tch, pathname);
      if (r.result !== WM_MATCH) return r.result;
      pi = r.pi;
      continue;
    }
    if (pch !== C_STAR) {
      if (tch !== pch) return WM_NOMATCH;
      continue;
    }
    // '*' or '**'
    let matchSlash: boolean;
    if (at(p, ++pi) === C_STAR) {
      const prevP = pi - 2;
      while (at(p, ++pi) === C_STAR) { /* skip */ }
      if (!pathname) {
        matchSlash = true;
      } else if (
        (prevP < pstart || at(p, prevP) === C_SLASH) &&
        (at(p, pi) === 0 || at(p, pi) === C_SLASH || (at(p, pi) === C_BACKSLASH && at(p, pi + 1) === C_SLASH))
      ) {
        // "foo/**/bar" also matches "foo/bar": try "**/" as matching nothing.
        if (at(p, pi) === C_SLASH && dowild(p, pi + 1, t, ti, pathname) === WM_MATCH) return WM_MATCH;
        matchSlash = true;
      } else {
        matchSlash = false; // "**" not between slashes is a plain "*"
      }
    } else {
      matchSlash = !pathname;
    }
    if (at(p, pi) === 0) {
      // A trailing "**" matches everything, a trailing "*" no slash.
      if (!matchSlash && t.indexOf('/', ti) >= 0) return WM_NOMATCH;
      return WM_MATCH;
    }
    if (!matchSlash && at(p, pi) === C_SLASH) {
      // One asterisk followed by a slash matches the next directory.
      const slash = t.indexOf('/', ti);
      if (slash < 0) return WM_NOMATCH;
      ti = slash; // the slash is consumed by the loop increment
      continue;
    }
    for (;;) {
      if (tch === 0) break;
      const pc = at(p, pi);
      if (!isGlobSpecial(pc)) {
        // Fast-forward to the literal that follows the star.
        while ((tch = at(t, ti)) !== 0 && (matchSlash || tch !== C_SLASH)) {
          if (tch === pc) break;
          ti++;
        }
        if (tch !== pc) return WM_NOMATCH;
      }
      const matched = dowild(p, pi, t, ti, pathname);
      if (matched !== WM_NOMATCH) {
        if (!matchSlash || matched !== WM_ABORT_TO_STARSTAR) return matched;
      } else if (!matchSlash && tch === C_SLASH) {
        return WM_ABORT_TO_STARSTAR;
      }
      tch = at(t, ++ti);
    }
    return WM_ABORT_ALL;
  }
  return ti < t.length ? WM_NOMATCH : WM_MATCH;
}

/** A `[...]` class at p[pi] against text char tch. On a match, `pi` is the
 *  index of the closing bracket. */
function matchBracket(p: string, start: number, tch: number, pathname: boolean): { result: number; pi: number } {
  let pi = start;
  let pch = at(p, ++pi);
  if (pch === C_CARET) pch = C_BANG;
  const negated = pch === C_BANG;
  if (negated) pch = at(p, ++pi);
  let prevCh = 0;
  let matched = false;
  do {
    if (pch === 0) return { result: WM_ABORT_ALL, pi };
    if (pch === C_BACKSLASH) {
      pch = at(p, ++pi);
      if (pch === 0) return { result: WM_ABORT_ALL, pi };
      if (tch === pch) matched = true;
    } else if (pch === C_DASH && prevCh !== 0 && at(p, pi + 1) !== 0 && at(p, pi + 1) !== C_RBRACKET) {
      pch = at(p, ++pi);
      if (pch === C_BACKSLASH) {
        pch = at(p, ++pi);
        if (pch === 0) return { result: WM_ABORT_ALL, pi };
      }
      if (tch <= pch && tch >= prevCh) matched = true;
      pch = 0; // so that prevCh becomes 0: no range right after a range
    } else if (pch === C_LBRACKET && at(p, pi + 1) === C_COLON) {
      const s = pi + 2;
      pi = s;
      while ((pch = at(p, pi)) !== 0 && pch !== C_RBRACKET) pi++;
      if (pch === 0) return { result: WM_ABORT_ALL, pi };
      const len = pi - s - 1;
      if (len < 0 || at(p, pi - 1) !== C_COLON) {
        // No ":]": a literal '[' in the set.
        pi = s - 2;
        pch = C_LBRACKET;
        if (tch === pch) matched = true;
        continue;
      }
      const cls = charClass(p.slice(s, s + len));
      if (!cls) return { result: WM_ABORT_ALL, pi }; // malformed [:class:]
      if (cls(tch)) matched = true;
      pch = 0;
    } else if (tch === pch) {
      matched = true;
    }
  } while (((prevCh = pch), (pch = at(p, ++pi))) !== C_RBRACKET);
  if (matched === negated || (pathname && tch === C_SLASH)) return { result: WM_NOMATCH, pi };
  return { result: WM_MATCH, pi };
}

/** POSIX classes with git's locale-independent ASCII ctype (git-compat-util.h
 *  sane_ctype; note `space` is only HT, LF, CR and SP there). */
function charClass(name: string): ((c: number) => boolean) | null {
  const upper = (c: number) => c >= 0x41 && c <= 0x5a;
  const lower = (c: number) => c >= 0x61 && c <= 0x7a;
  const digit = (c: number) => c >= 0x30 && c <= 0x39;
  const alpha = (c: number) => upper(c) || lower(c);
  const graph = (c: number) => c > 0x20 && c < 0x7f;
  const classes: Record<string, (c: number) => boolean> = {
    alnum: (c) => alpha(c) || digit(c),
    alpha,
    blank: (c) => c === 0x20 || c === 0x09,
    cntrl: (c) => c < 0x20 || c === 0x7f,
    digit,
    graph,
    lower,
    print: (c) => c >= 0x20 && c <= 0x7e,
    punct: (c) => graph(c) && !alpha(c) && !digit(c),
    space: (c) => c === 0x09 || c === 0x0a || c === 0x0d || c === 0x20,
    upper,
    xdigit: (c) => digit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66),
  };
  return Object.hasOwn(classes, name) ? classes[name] : null;
}

// ---------------------------------------------------------------------------
// Attribute values -> conversion decision (convert.c convert_attrs())

/** convert.c enum convert_crlf_action. */
export type CrlfAction =
  | 'binary'
  | 'text-input'
  | 'text-crlf'
  | 'auto-input'
  | 'auto-crlf';

interface ConvAttrs {
  crlfAction: CrlfAction;
  ident: boolean;
  encoding: string | null;
  /** set when git would die() while computing these attributes */
  fatal?: string;
}

type RawCrlf = 'text' | 'binary' | 'input' | 'auto' | 'undefined';

/** git_path_check_crlf(), shared by the `text` and legacy `crlf` attributes
 *  (so `text=input` and `crlf=auto` are honoured too). */
function checkCrlf(v: AttrValue | undefined): RawCrlf {
  if (v === true) return 'text';
  if (v === false) return 'binary';
  if (v === 'input') return 'input';
  if (v === 'auto') return 'auto';
  return 'undefined';
}

function convAttrsFrom(values: Map<string, AttrValue>): ConvAttrs {
  let raw = checkCrlf(values.get('text'));
  if (raw === 'undefined') raw = checkCrlf(values.get('crlf'));
  let action: RawCrlf | CrlfAction = raw === 'input' ? 'text-input' : raw;
  if (action !== 'binary') {
    // eol=lf|crlf (case-sensitive) implies text, or pins text=auto's output.
    const eol = values.get('eol');
    if (action === 'auto' && eol === 'lf') action = 'auto-input';
    else if (action === 'auto' && eol === 'crlf') action = 'auto-crlf';
    else if (eol === 'lf') action = 'text-input';
    else if (eol === 'crlf') action = 'text-crlf';
  }
  // core.autocrlf=input: `text` and `text=auto` without eol write LF, and a
  // path without any text/crlf/eol attribute is auto with LF output.
  let crlfAction: CrlfAction;
  if (action === 'text') crlfAction = 'text-input';
  else if (action === 'undefined' || action === 'auto') crlfAction = 'auto-input';
  else crlfAction = action;

  const ca: ConvAttrs = { crlfAction, ident: values.get('ident') === true, encoding: null };
  const wte = values.get('working-tree-encoding');
  // git_path_check_encoding(): `-working-tree-encoding` is the empty string
  // internally and passes as "no encoding"; a bare set attribute is fatal.
  if (wte === true) ca.fatal = 'true/false are no valid working-tree-encodings';
  else if (typeof wte === 'string' && wte !== '' && !sameEncoding(wte, 'UTF-8')) ca.encoding = wte;
  return ca;
}

function outputsCrlf(action: CrlfAction): boolean {
  return action === 'text-crlf' || action === 'auto-crlf';
}

// ---------------------------------------------------------------------------
// ident (convert.c count_ident(), ident_to_worktree())

const DOLLAR = 0x24;
const LF = 0x0a;
const CR = 0x0d;

/** Is there any `$Id$` or `$Id:...$` (no newline inside) at all? */
function countIdent(buf: Uint8Array): number {
  let cnt = 0;
  let i = 0;
  const n = buf.length;
  while (i < n) {
    if (buf[i++] !== DOLLAR) continue;
    if (n - i < 3) break;
    if (buf[i] !== 0x49 || buf[i + 1] !== 0x64) continue; // "Id"
    const ch = buf[i + 2];
    i += 3;
    if (ch === DOLLAR) cnt++;
    if (ch !== 0x3a) continue; // ':'
    while (i < n) {
      const c = buf[i++];
      if (c === DOLLAR) {
        cnt++;
        break;
      }
      if (c === LF) break;
    }
  }
  return cnt;
}

/**
 * `$Id$` and git-style `$Id: <anything without space inside> $` become
 * `$Id: <blob id> $`. The id is the hash of the content *entering* this step,
 * which in git archive is the original blob, hence `blobOid`. Expansions
 * containing an inner space (foreign VCS ids such as `$Id: x.c 1.2 $`) and
 * ones spanning a newline are left alone.
 */
export function identToWorktree(src: Uint8Array, blobOid: string): Uint8Array {
  if (countIdent(src) === 0) return src;
  const replacement = Buffer.from(`Id: ${blobOid} $`, 'latin1');
  const chunks: Uint8Array[] = [];
  const n = src.length;
  let pos = 0; // start of not yet emitted input
  let i = 0; // scan position
  for (;;) {
    const dollar = src.indexOf(DOLLAR, i);
    if (dollar < 0) break;
    i = dollar + 1; // step 1: emit through the '$'
    const len = n - i;
    if (len < 3 || src[i] !== 0x49 || src[i + 1] !== 0x64) continue;
    let end: number;
    if (src[i + 2] === DOLLAR) {
      end = i + 3;
    } else if (src[i + 2] === 0x3a) {
      const close = src.indexOf(DOLLAR, i + 3);
      if (close < 0) break; // incomplete keyword and no more '$'
      if (src.subarray(i + 3, close).includes(LF)) continue;
      // git: memchr(src + 4, ' ', dollar - src - 4), with a size_t length
      // that wraps for "$Id:$" so the scan then finds nothing before close.
      const spc = close - i - 4 > 0 ? src.subarray(i + 4, close).indexOf(0x20) : -1;
      if (spc >= 0 && i + 4 + spc < close - 1) continue; // foreign ident
      end = close + 1;
    } else {
      continue;
    }
    chunks.push(src.subarray(pos, i), replacement);
    pos = end;
    i = end;
  }
  chunks.push(src.subarray(pos));
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------
// End-of-line conversion (convert.c gather_stats(), crlf_to_worktree())

export interface TextStats {
  nul: number;
  loneCr: number;
  loneLf: number;
  crlf: number;
  printable: number;
  nonPrintable: number;
}

export function gatherStats(buf: Uint8Array): TextStats {
  const s: TextStats = { nul: 0, loneCr: 0, loneLf: 0, crlf: 0, printable: 0, nonPrintable: 0 };
  const n = buf.length;
  for (let i = 0; i < n; i++) {
    const c = buf[i];
    if (c === CR) {
      if (i + 1 < n && buf[i + 1] === LF) {
        s.crlf++;
        i++;
      } else {
        s.loneCr++;
      }
    } else if (c === LF) {
      s.loneLf++;
    } else if (c === 127) {
      s.nonPrintable++;
    } else if (c < 32) {
      // BS, HT, ESC and FF count as printable; NUL is also counted apart.
      if (c === 8 || c === 9 || c === 27 || c === 12) s.printable++;
      else {
        if (c === 0) s.nul++;
        s.nonPrintable++;
      }
    } else {
      s.printable++;
    }
  }
  // A trailing ^Z (DOS EOF) is not held against the file.
  if (n >= 1 && buf[n - 1] === 0x1a) s.nonPrintable--;
  return s;
}

/** convert_is_binary(): lone CR, NUL, or more than 1/128 non-printables. */
export function isBinary(s: TextStats): boolean {
  return s.loneCr > 0 || s.nul > 0 || s.printable >> 7 < s.nonPrintable;
}

/** LF -> CRLF when the effective eol is CRLF (never, under autocrlf=input,
 *  unless an `eol=crlf` attribute asks for it). CRLF -> LF only happens on
 *  check-in, never in archive output. */
export function crlfToWorktree(src: Uint8Array, action: CrlfAction): Uint8Array {
  if (src.length === 0 || !outputsCrlf(action)) return src;
  const s = gatherStats(src);
  if (s.loneLf === 0) return src;
  // text=auto only converts files that look like text and have no CR at all
  // ("the new safer autocrlf handling").
  if (action === 'auto-crlf' && (s.loneCr > 0 || s.crlf > 0 || isBinary(s))) return src;
  const out = new Uint8Array(src.length + s.loneLf);
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === LF && (i === 0 || src[i - 1] !== CR)) out[o++] = CR;
    out[o++] = c;
  }
  return out;
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

function sameEncoding(a: string, b: string): boolean {
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

/**
 * Non-Unicode charsets, encoded with iconv-lite. Its byte mappings agree
 * with glibc's for every code point the two share, but the repertoires
 * differ, so each entry carries (generated by comparing glibc 2.36's iconv
 * and iconv-lite 0.7 over all of U+0000..U+10FFFF, one code point at a time):
 * - `rejects`: code points iconv-lite maps but glibc does not (hex ranges);
 *   with one of these in the file git's conversion fails and the blob is
 *   written unchanged;
 * - `overrides`: glibc's bytes where iconv-lite has no or another mapping
 *   (hex code point : hex bytes).
 * All of these converters are stateless, so a per-code-point table fully
 * describes them. `names` are glibc's module name and aliases.
 */
export interface LegacyCharset {
  names: string[];
  codec: string;
  rejects: string;
  overrides: string;
}

export const LEGACY_CHARSETS: readonly LegacyCharset[] = [
  {
    names: ['SJIS', 'SHIFT-JIS', 'SHIFT_JIS', 'MS_KANJI', 'CSSHIFTJIS'],
    codec: 'shiftjis',
    rejects: '80 2116 2121 2160-2169 2170-2179 2211 221f 2225 222e 22bf 2460-2473 301d 301f 3231-3232 3239 32a4-32a8 3303 330d 3314 3318 3322-3323 3326-3327 332b 3336 333b 3349-334a 334d 3351 3357 337b-337e 338e-338f 339c-339e 33a1 33c4 33cd 4e28 4ee1 4efc 4f00 4f03 4f39 4f56 4f8a 4f92 4f94 4f9a 4fc9 4fcd 4fff 501e 5022 5040 5042 5046 5070 5094 50d8 50f4 514a 5164 519d 51be 51ec 5215 529c 52a6 52af 52c0 52db 5300 5307 5324 5372 5393 53b2 53dd 548a 549c 54a9 54ff 5586 5759 5765 57ac 57c7-57c8 589e 58b2 590b 5953 595b 595d 5963 59a4 59ba 5b56 5bc0 5bd8 5bec 5c1e 5ca6 5cba 5cf5 5d27 5d42 5d53 5d6d 5db8-5db9 5dd0 5f21 5f34 5f45 5f67 5fb7 5fde 605d 6085 608a 60d5 60de 60f2 6111 6120 6130 6137 6198 6213 62a6 63f5 6460 649d 64ce 654e 6600 6609 6615 661e 6624 662e 6631 663b 6657 6659 6665 6673 6699 66a0 66b2 66bf 66fa-66fb 670e 6766 67bb 67c0 6801 6844 6852 68c8 68cf 6968 6998 69e2 6a30 6a46 6a6b 6a73 6a7e 6ae2 6ae4 6bd6 6c3f 6c5c 6c6f 6c86 6cda 6d04 6d6f 6d87 6d96 6dac 6dcf 6df2 6df8 6dfc 6e27 6e39 6e3c 6e5c 6ebf 6f88 6fb5 6ff5 7005 7007 7028 7085 70ab 70bb 7104 710f 7146-7147 715c 71c1 71fe 72b1 72be 7324 7377 73bd 73c9 73d2 73d6 73e3 73f5 7407 7426 7429-742a 742e 7462 7489 749f 7501 752f 756f 7682 769b-769c 769e 76a6 7746 7821 784e 7864 787a 7930 7994 799b 7ad1 7ae7 7aeb 7b9e 7d48 7d5c 7da0 7db7 7dd6 7e52 7e8a 7f47 7fa1 8301 8362 837f 83c7 83f6 8448 84b4 84dc 8553 8559 856b 85b0 8807 88f5 891c 8a12 8a37 8a79 8aa7 8abe 8adf 8af6 8b53 8b7f 8cf0 8cf4 8d12 8d76 8ecf 9067 90de 9115 9127 91d7 91da 91de 91e4-91e5 91ed-91ee 9206 920a 9210 9239-923a 923c 9240 924e 9251 9259 9267 9277-9278 9288 92a7 92d0 92d3 92d5 92d7 92d9 92e0 92e7 92f9 92fb 92ff 9302 931d-931e 9321 9325 9348 9357 9370 93a4 93c6 93de 93f8 9431 9445 9448 9592 969d 96af 9733 973b 9743 974d 974f 9751 9755 9857 9865 9927 999e 9a4e 9ad9 9adc 9b72 9b75 9b8f 9bb1 9bbb 9c00 9d6b 9d70 9e19 9ed1 f929 f9dc fa0e-fa2d ff02 ff07 ff0d ff5e ffe4',
    overrides: 'a2:8191 a3:8192 ac:81ca 2016:8161 2212:817c 301c:8160',
  },
  {
    names: ['EUC-JP', 'EUCJP', 'CSEUCPKDFMTJAPANESE', 'OSF00030010', 'UJIS'],
    codec: 'eucjp',
    rejects: '2121 2160-2169 2170-2179 2211 221f 2225 222e 22bf 2460-2473 301d 301f 3231-3232 3239 32a4-32a8 3303 330d 3314 3318 3322-3323 3326-3327 332b 3336 333b 3349-334a 334d 3351 3357 337b-337e 338e-338f 339c-339e 33a1 33c4 33cd 4efc 50f4 51ec 5307 5324 548a 5759 589e 5bec 5cf5 5d53 5fb7 6085 6120 654e 663b 6665 6801 6a6b 6ae2 6df2 6df8 7028 70bb 7501 7682 769e 7930 7ae7 7da0 7dd6 8362 85b0 8807 8b7f 8cf4 8d76 90de 9115 9592 973b 974d 9751 999e 9ad9 9b72 9ed1 f929 f9dc fa0e-fa2d ff02 ff07 ff0d ffe0-ffe2 ffe4',
    overrides: '80:80 81:81 82:82 83:83 84:84 85:85 86:86 87:87 88:88 89:89 8a:8a 8b:8b 8c:8c 8d:8d 90:90 91:91 92:92 93:93 94:94 95:95 96:96 97:97 98:98 99:99 9a:9a 9b:9b 9c:9c 9d:9d 9e:9e 9f:9f a2:a1f1 a3:a1f2 ac:a2cc 2016:a1c2 2212:a1dd 301c:a1c1',
  },
  {
    names: ['GBK', 'GB13000', 'CP936', 'MS936', 'WINDOWS-936'],
    codec: 'cp936',
    rejects: '',
    overrides: '',
  },
  {
    names: ['GB18030'],
    codec: 'gb18030',
    rejects: 'e78d-e796 e816-e818 e81e e826 e82b-e82c e831-e832 e83b e843 e854-e855 e864',
    overrides: '9fb4:fe59 9fb5:fe61 9fb6:fe66 9fb7:fe67 9fb8:fe6d 9fb9:fe7e 9fba:fe90 9fbb:fea0 e5e5:a3a0 fe10:a6d9 fe11:a6db fe12:a6da fe13:a6dc fe14:a6dd fe15:a6de fe16:a6df fe17:a6ec fe18:a6ed fe19:a6f3 20087:fe51 20089:fe52 200cc:fe53 215d7:fe6c 2298f:fe76 241fe:fe91',
  },
  {
    names: ['UHC', 'MSCP949', 'CP949', 'OSF100203B5'],
    codec: 'cp949',
    rejects: '',
    overrides: '',
  },
  {
    names: ['CP1250', 'MS-EE', 'WINDOWS-1250'],
    codec: 'windows1250',
    rejects: 'fffd',
    overrides: '',
  },
  {
    names: ['CP1251', 'MS-CYRL', 'WINDOWS-1251'],
    codec: 'windows1251',
    rejects: 'fffd',
    overrides: '',
  },
  {
    names: ['CP1252', 'MS-ANSI', 'WINDOWS-1252'],
    codec: 'windows1252',
    rejects: 'fffd',
    overrides: '',
  },
  {
    names: ['CP1253', 'MS-GREEK', 'WINDOWS-1253'],
    codec: 'windows1253',
    rejects: 'fffd',
    overrides: '',
  },
  {
    names: ['CP1254', 'MS-TURK', 'WINDOWS-1254'],
    codec: 'windows1254',
    rejects: 'fffd',
    overrides: '',
  },
  {
    names: ['CP1255', 'MS-HEBR', 'WINDOWS-1255'],
    codec: 'windows1255',
    rejects: '5ba fffd',
    overrides: 'fb1d:e9c4 fb1f:d6c7 fb2a:f9d1 fb2b:f9d2 fb2c:f9ccd1 fb2d:f9ccd2 fb2e:e0c7 fb2f:e0c8 fb30:e0cc fb31:e1cc fb32:e2cc fb33:e3cc fb34:e4cc fb35:e5cc fb36:e6cc fb38:e8cc fb39:e9cc fb3a:eacc fb3b:ebcc fb3c:eccc fb3e:eecc fb40:f0cc fb41:f1cc fb43:f3cc fb44:f4cc fb46:f6cc fb47:f7cc fb48:f8cc fb49:f9cc fb4a:facc fb4b:e5c9 fb4c:e1cf fb4d:ebcf fb4e:f4cf',
  },
  {
    names: ['CP1256', 'MS-ARAB', 'WINDOWS-1256'],
    codec: 'windows1256',
    rejects: '',
    overrides: '',
  },
  {
    names: ['CP1257', 'WINBALTRIM', 'WINDOWS-1257'],
    codec: 'windows1257',
    rejects: 'fffd',
    overrides: '',
  },
  {
    names: ['CP1258', 'WINDOWS-1258'],
    codec: 'windows1258',
    rejects: 'fffd',
    overrides: 'c3:41de cc:49cc d2:4fcc d5:4fde dd:59ec e3:61de ec:69cc f2:6fcc f5:6fde fd:79ec 106:43ec 107:63ec 128:49de 129:69de 139:4cec 13a:6cec 143:4eec 144:6eec 154:52ec 155:72ec 15a:53ec 15b:73ec 168:55de 169:75de 179:5aec 17a:7aec 1d7:dcec 1d8:fcec 1db:dccc 1dc:fccc 1f4:47ec 1f5:67ec 1f8:4ecc 1f9:6ecc 1fa:c5ec 1fb:e5ec 1fc:c6ec 1fd:e6ec 1fe:d8ec 1ff:f8ec 340:cc 341:ec 385:a8ec 1e04:42f2 1e05:62f2 1e08:c7ec 1e09:e7ec 1e0c:44f2 1e0d:64f2 1e24:48f2 1e25:68f2 1e2e:cfec 1e2f:efec 1e30:4bec 1e31:6bec 1e32:4bf2 1e33:6bf2 1e36:4cf2 1e37:6cf2 1e3e:4dec 1e3f:6dec 1e42:4df2 1e43:6df2 1e46:4ef2 1e47:6ef2 1e4c:d3de 1e4d:f3de 1e4e:d6de 1e4f:f6de 1e54:50ec 1e55:70ec 1e5a:52f2 1e5b:72f2 1e62:53f2 1e63:73f2 1e6c:54f2 1e6d:74f2 1e78:dade 1e79:fade 1e7c:56de 1e7d:76de 1e7e:56f2 1e7f:76f2 1e80:57cc 1e81:77cc 1e82:57ec 1e83:77ec 1e88:57f2 1e89:77f2 1e92:5af2 1e93:7af2 1ea0:41f2 1ea1:61f2 1ea2:41d2 1ea3:61d2 1ea4:c2ec 1ea5:e2ec 1ea6:c2cc 1ea7:e2cc 1ea8:c2d2 1ea9:e2d2 1eaa:c2de 1eab:e2de 1eac:c2f2 1ead:e2f2 1eae:c3ec 1eaf:e3ec 1eb0:c3cc 1eb1:e3cc 1eb2:c3d2 1eb3:e3d2 1eb4:c3de 1eb5:e3de 1eb6:c3f2 1eb7:e3f2 1eb8:45f2 1eb9:65f2 1eba:45d2 1ebb:65d2 1ebc:45de 1ebd:65de 1ebe:caec 1ebf:eaec 1ec0:cacc 1ec1:eacc 1ec2:cad2 1ec3:ead2 1ec4:cade 1ec5:eade 1ec6:caf2 1ec7:eaf2 1ec8:49d2 1ec9:69d2 1eca:49f2 1ecb:69f2 1ecc:4ff2 1ecd:6ff2 1ece:4fd2 1ecf:6fd2 1ed0:d4ec 1ed1:f4ec 1ed2:d4cc 1ed3:f4cc 1ed4:d4d2 1ed5:f4d2 1ed6:d4de 1ed7:f4de 1ed8:d4f2 1ed9:f4f2 1eda:d5ec 1edb:f5ec 1edc:d5cc 1edd:f5cc 1ede:d5d2 1edf:f5d2 1ee0:d5de 1ee1:f5de 1ee2:d5f2 1ee3:f5f2 1ee4:55f2 1ee5:75f2 1ee6:55d2 1ee7:75d2 1ee8:ddec 1ee9:fdec 1eea:ddcc 1eeb:fdcc 1eec:ddd2 1eed:fdd2 1eee:ddde 1eef:fdde 1ef0:ddf2 1ef1:fdf2 1ef2:59cc 1ef3:79cc 1ef4:59f2 1ef5:79f2 1ef6:59d2 1ef7:79d2 1ef8:59de 1ef9:79de 1fed:a8cc 1fee:a8ec',
  },
  {
    names: ['ISO-8859-2', 'ISO-IR-101', 'ISO_8859-2:1987', 'ISO_8859-2', 'ISO8859-2', 'ISO88592', 'LATIN2', 'L2', 'CSISOLATIN2', '8859_2', 'OSF00010002', 'IBM912', 'CP912'],
    codec: 'iso88592',
    rejects: '',
    overrides: '',
  },
  {
    names: ['ISO-8859-3', 'ISO-IR-109', 'ISO_8859-3:1988', 'ISO_8859-3', 'ISO8859-3', 'ISO88593', 'LATIN3', 'L3', 'CSISOLATIN3', '8859_3', 'OSF00010003'],
    codec: 'iso88593',
    rejects: 'fffd',
    overrides: '',
  },
  {
    names: ['ISO-8859-4', 'ISO-IR-110', 'ISO_8859-4:1988', 'ISO_8859-4', 'ISO8859-4', 'ISO88594', 'LATIN4', 'L4', 'CSISOLATIN4', '8859_4', 'OSF00010004'],
    codec: 'iso88594',
    rejects: '',
    overrides: '',
  },
  {
    names: ['ISO-8859-5', 'ISO-IR-144', 'ISO_8859-5:1988', 'ISO_8859-5', 'ISO8859-5', 'ISO88595', 'CYRILLIC', 'CSISOLATINCYRILLIC', '8859_5', 'OSF00010005', 'IBM915', 'CP915'],
    codec: 'iso88595',
    rejects: '',
    overrides: '',
  },
  {
    names: ['ISO-8859-6', 'ISO-IR-127', 'ISO_8859-6:1987', 'ISO_8859-6', 'ISO8859-6', 'ISO88596', 'ECMA-114', 'ASMO-708', 'ARABIC', 'CSISOLATINARABIC', '8859_6', 'OSF00010006', 'IBM1089', 'CP1089'],
    codec: 'iso88596',
    rejects: 'fffd',
    overrides: '',
  },
  {
    names: ['ISO-8859-7', 'ISO-IR-126', 'ISO_8859-7:2003', 'ISO_8859-7:1987', 'ISO_8859-7', 'ISO8859-7', 'ISO88597', 'ELOT_928', 'ECMA-118', 'GREEK', 'GREEK8', 'CSISOLATINGREEK', '8859_7', 'OSF00010007', 'IBM813', 'CP813'],
    codec: 'iso88597',
    rejects: 'fffd',
    overrides: '',
  },
  {
    names: ['ISO-8859-8', 'ISO-IR-138', 'ISO_8859-8:1988', 'ISO_8859-8', 'ISO8859-8', 'ISO88598', 'HEBREW', 'CSISOLATINHEBREW', '8859_8', 'OSF00010008', 'IBM916', 'CP916'],
    codec: 'iso88598',
    rejects: 'fffd',
    overrides: '',
  },
  {
    names: ['ISO-8859-9', 'ISO-IR-148', 'ISO_8859-9:1989', 'ISO_8859-9', 'ISO8859-9', 'ISO88599', 'LATIN5', 'L5', 'CSISOLATIN5', '8859_9', 'OSF00010009', 'IBM920', 'CP920', 'TS-5881', 'ECMA-128'],
    codec: 'iso88599',
    rejects: '',
    overrides: '',
  },
  {
    names: ['ISO-8859-10', 'ISO-IR-157', 'ISO_8859-10:1992', 'ISO_8859-10', 'ISO8859-10', 'ISO885910', 'LATIN6', 'L6', 'CSISOLATIN6', 'OSF0001000A'],
    codec: 'iso885910',
    rejects: '',
    overrides: '',
  },
  {
    names: ['ISO-8859-11', 'ISO8859-11', 'ISO885911'],
    codec: 'iso885911',
    rejects: 'fffd',
    overrides: '',
  },
  {
    names: ['ISO-8859-13', 'ISO8859-13', 'ISO885913', 'ISO-IR-179', 'LATIN7', 'L7', 'BALTIC'],
    codec: 'iso885913',
    rejects: '',
    overrides: '',
  },
  {
    names: ['ISO-8859-14', 'ISO8859-14', 'ISO885914', 'ISO-IR-199', 'LATIN8', 'L8', 'ISO_8859-14:1998', 'ISO_8859-14', 'ISO-CELTIC'],
    codec: 'iso885914',
    rejects: '',
    overrides: '',
  },
  {
    names: ['ISO-8859-15', 'ISO8859-15', 'ISO885915', 'ISO-IR-203', 'ISO_8859-15', 'LATIN-9', 'LATIN9', 'ISO_8859-15:1998'],
    codec: 'iso885915',
    rejects: '',
    overrides: '',
  },
  {
    names: ['ISO-8859-16', 'ISO8859-16', 'ISO885916', 'ISO-IR-226', 'LATIN10', 'L10', 'ISO_8859-16:2001', 'ISO_8859-16'],
    codec: 'iso885916',
    rejects: '',
    overrides: '',
  },
  {
    names: ['KOI8-R', 'CSKOI8R', 'KOI8R'],
    codec: 'koi8r',
    rejects: '',
    overrides: '',
  },
  {
    names: ['KOI8-U', 'KOI8U'],
    codec: 'koi8u',
    rejects: '',
    overrides: '',
  },
  {
    names: ['IBM437', 'CP437', '437', 'CSPC8CODEPAGE437', 'OSF100201B5'],
    codec: 'cp437',
    rejects: '',
    overrides: '',
  },
  {
    names: ['IBM850', 'CP850', '850', 'CSPC850MULTILINGUAL', 'OSF10020352'],
    codec: 'cp850',
    rejects: '',
    overrides: '',
  },
  {
    names: ['IBM852', 'CP852', '852', 'CSPCP852', 'OSF10020354'],
    codec: 'cp852',
    rejects: '',
    overrides: '',
  },
  {
    names: ['IBM866', 'CP866', '866', 'CSIBM866'],
    codec: 'cp866',
    rejects: '',
    overrides: '',
  },
  {
    names: ['CP874'],
    codec: 'windows874',
    rejects: 'fffd',
    overrides: '',
  },
  {
    names: ['TIS-620', 'TIS620', 'TIS620-0', 'TIS620.2529-1', 'TIS620.2533-0', 'ISO-IR-166'],
    codec: 'tis620',
    rejects: 'fffd',
    overrides: '',
  },
  {
    names: ['MACINTOSH', 'MAC', 'CSMACINTOSH'],
    codec: 'macintosh',
    rejects: 'a4 2126 2206 fffd',
    overrides: '394:c6 3a9:bd 20ac:db e01e:f0',
  },
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

/**
 * Every charset name glibc's iconv_open() accepts (`iconv -l` of glibc 2.36,
 * Debian 12, upper-cased, "//" suffixes dropped). git leaves the content
 * unchanged for a name outside this list; for a name inside it that is not
 * emulated we refuse rather than guess.
 */
const GLIBC_ICONV_NAMES = new Set(
  `
1026 1046 1047 10646-1:1993 10646-1:1993/UCS4 437 500 500V1 850 851 852 855 856 857 858 860 861 862 863 864
865 866 866NAV 869 874 8859_1 8859_2 8859_3 8859_4 8859_5 8859_6 8859_7 8859_8 8859_9 904 ANSI_X3.110
ANSI_X3.110-1983 ANSI_X3.4 ANSI_X3.4-1968 ANSI_X3.4-1986 ARABIC ARABIC7 ARMSCII-8 ARMSCII8 ASCII ASMO-708
ASMO_449 BALTIC BIG-5 BIG-FIVE BIG5 BIG5-HKSCS BIG5HKSCS BIGFIVE BRF BS_4730 CA CN CN-BIG5 CN-GB CP-AR CP-GR
CP-HU CP037 CP038 CP10007 CP1004 CP1008 CP1025 CP1026 CP1046 CP1047 CP1070 CP1079 CP1081 CP1084 CP1089 CP1097
CP1112 CP1122 CP1123 CP1124 CP1125 CP1129 CP1130 CP1132 CP1133 CP1137 CP1140 CP1141 CP1142 CP1143 CP1144
CP1145 CP1146 CP1147 CP1148 CP1149 CP1153 CP1154 CP1155 CP1156 CP1157 CP1158 CP1160 CP1161 CP1162 CP1163
CP1164 CP1166 CP1167 CP1250 CP1251 CP1252 CP1253 CP1254 CP1255 CP1256 CP1257 CP1258 CP12712 CP1282 CP1361
CP1364 CP1371 CP1388 CP1390 CP1399 CP16804 CP273 CP274 CP275 CP278 CP280 CP281 CP282 CP284 CP285 CP290 CP297
CP367 CP420 CP423 CP424 CP437 CP4517 CP4899 CP4909 CP4971 CP500 CP5347 CP737 CP770 CP771 CP772 CP773 CP774
CP775 CP803 CP813 CP819 CP850 CP851 CP852 CP855 CP856 CP857 CP858 CP860 CP861 CP862 CP863 CP864 CP865 CP866
CP866NAV CP868 CP869 CP870 CP871 CP874 CP875 CP880 CP891 CP901 CP902 CP903 CP9030 CP904 CP905 CP9066 CP912
CP915 CP916 CP918 CP920 CP921 CP922 CP930 CP932 CP933 CP935 CP936 CP937 CP939 CP9448 CP949 CP950 CPIBM861
CSA7-1 CSA7-2 CSASCII CSA_T500 CSA_T500-1983 CSA_Z243.4-1985-1 CSA_Z243.4-1985-2 CSA_Z243.419851
CSA_Z243.419852 CSDECMCS CSEBCDICATDE CSEBCDICATDEA CSEBCDICCAFR CSEBCDICDKNO CSEBCDICDKNOA CSEBCDICES
CSEBCDICESA CSEBCDICESS CSEBCDICFISE CSEBCDICFISEA CSEBCDICFR CSEBCDICIT CSEBCDICPT CSEBCDICUK CSEBCDICUS
CSEUCKR CSEUCPKDFMTJAPANESE CSGB2312 CSHPROMAN8 CSIBM037 CSIBM038 CSIBM1008 CSIBM1025 CSIBM1026 CSIBM1097
CSIBM1112 CSIBM1122 CSIBM1123 CSIBM1124 CSIBM1129 CSIBM1130 CSIBM1132 CSIBM1133 CSIBM1137 CSIBM1140 CSIBM1141
CSIBM1142 CSIBM1143 CSIBM1144 CSIBM1145 CSIBM1146 CSIBM1147 CSIBM1148 CSIBM1149 CSIBM1153 CSIBM1154 CSIBM1155
CSIBM1156 CSIBM1157 CSIBM1158 CSIBM1160 CSIBM1161 CSIBM11621162 CSIBM1163 CSIBM1164 CSIBM1166 CSIBM1167
CSIBM12712 CSIBM1364 CSIBM1371 CSIBM1388 CSIBM1390 CSIBM1399 CSIBM16804 CSIBM273 CSIBM274 CSIBM275 CSIBM277
CSIBM278 CSIBM280 CSIBM281 CSIBM284 CSIBM285 CSIBM290 CSIBM297 CSIBM420 CSIBM423 CSIBM424 CSIBM4517 CSIBM4899
CSIBM4909 CSIBM4971 CSIBM500 CSIBM5347 CSIBM803 CSIBM851 CSIBM855 CSIBM856 CSIBM857 CSIBM860 CSIBM863 CSIBM864
CSIBM865 CSIBM866 CSIBM868 CSIBM869 CSIBM870 CSIBM871 CSIBM880 CSIBM891 CSIBM901 CSIBM902 CSIBM903 CSIBM9030
CSIBM904 CSIBM905 CSIBM9066 CSIBM918 CSIBM921 CSIBM922 CSIBM930 CSIBM932 CSIBM933 CSIBM935 CSIBM937 CSIBM939
CSIBM943 CSIBM9448 CSISO10367BOX CSISO103T618BIT CSISO10SWEDISH CSISO111ECMACYRILLIC CSISO11SWEDISHFORNAMES
CSISO121CANADIAN1 CSISO122CANADIAN2 CSISO139CSN369103 CSISO141JUSIB1002 CSISO143IECP271 CSISO14JISC6220RO
CSISO150 CSISO150GREEKCCITT CSISO151CUBA CSISO153GOST1976874 CSISO15ITALIAN CSISO16PORTUGESE CSISO17SPANISH
CSISO18GREEK7OLD CSISO19LATINGREEK CSISO2022CN CSISO2022JP CSISO2022JP2 CSISO2022KR CSISO2033 CSISO21GERMAN
CSISO25FRENCH CSISO27LATINGREEK1 CSISO49INIS CSISO4UNITEDKINGDOM CSISO50INIS8 CSISO51INISCYRILLIC
CSISO5427CYRILLIC CSISO5427CYRILLIC1981 CSISO5428GREEK CSISO58GB1988 CSISO60DANISHNORWEGIAN CSISO60NORWEGIAN1
CSISO61NORWEGIAN2 CSISO646DANISH CSISO69FRENCH CSISO84PORTUGUESE2 CSISO85SPANISH2 CSISO86HUNGARIAN
CSISO88GREEK7 CSISO89ASMO449 CSISO90 CSISO92JISC62991984B CSISO99NAPLPS CSISOLATIN1 CSISOLATIN2 CSISOLATIN3
CSISOLATIN4 CSISOLATIN5 CSISOLATIN6 CSISOLATINARABIC CSISOLATINCYRILLIC CSISOLATINGREEK CSISOLATINHEBREW
CSKOI8R CSKSC5636 CSMACINTOSH CSNATSDANO CSNATSSEFI CSN_369103 CSPC775BALTIC CSPC850MULTILINGUAL
CSPC858MULTILINGUAL CSPC862LATINHEBREW CSPC8CODEPAGE437 CSPCP852 CSSHIFTJIS CSUCS4 CSUNICODE CSWINDOWS31J CUBA
CWI CWI-2 CYRILLIC DE DEC DEC-MCS DECMCS DIN_66003 DK DS2089 DS_2089 E13B EBCDIC-AT-DE EBCDIC-AT-DE-A
EBCDIC-BE EBCDIC-BR EBCDIC-CA-FR EBCDIC-CP-AR1 EBCDIC-CP-AR2 EBCDIC-CP-BE EBCDIC-CP-CA EBCDIC-CP-CH
EBCDIC-CP-DK EBCDIC-CP-ES EBCDIC-CP-FI EBCDIC-CP-FR EBCDIC-CP-GB EBCDIC-CP-GR EBCDIC-CP-HE EBCDIC-CP-IS
EBCDIC-CP-IT EBCDIC-CP-NL EBCDIC-CP-NO EBCDIC-CP-ROECE EBCDIC-CP-SE EBCDIC-CP-TR EBCDIC-CP-US EBCDIC-CP-WT
EBCDIC-CP-YU EBCDIC-CYRILLIC EBCDIC-DK-NO EBCDIC-DK-NO-A EBCDIC-ES EBCDIC-ES-A EBCDIC-ES-S EBCDIC-FI-SE
EBCDIC-FI-SE-A EBCDIC-FR EBCDIC-GREEK EBCDIC-INT EBCDIC-INT1 EBCDIC-IS-FRISS EBCDIC-IT EBCDIC-JP-E
EBCDIC-JP-KANA EBCDIC-PT EBCDIC-UK EBCDIC-US EBCDICATDE EBCDICATDEA EBCDICCAFR EBCDICDKNO EBCDICDKNOA EBCDICES
EBCDICESA EBCDICESS EBCDICFISE EBCDICFISEA EBCDICFR EBCDICISFRISS EBCDICIT EBCDICPT EBCDICUK EBCDICUS ECMA-114
ECMA-118 ECMA-128 ECMA-CYRILLIC ECMACYRILLIC ELOT_928 ES ES2 EUC-CN EUC-JISX0213 EUC-JP EUC-JP-MS EUC-KR
EUC-TW EUCCN EUCJP EUCJP-MS EUCJP-OPEN EUCJP-WIN EUCKR EUCTW FI FR GB GB13000 GB18030 GB2312 GBK GB_1988-80
GB_198880 GEORGIAN-ACADEMY GEORGIAN-PS GOST_19768 GOST_19768-74 GOST_1976874 GREEK GREEK-CCITT GREEK7
GREEK7-OLD GREEK7OLD GREEK8 GREEKCCITT HEBREW HP-GREEK8 HP-ROMAN8 HP-ROMAN9 HP-THAI8 HP-TURKISH8 HPGREEK8
HPROMAN8 HPROMAN9 HPTHAI8 HPTURKISH8 HU IBM-1008 IBM-1025 IBM-1046 IBM-1047 IBM-1097 IBM-1112 IBM-1122
IBM-1123 IBM-1124 IBM-1129 IBM-1130 IBM-1132 IBM-1133 IBM-1137 IBM-1140 IBM-1141 IBM-1142 IBM-1143 IBM-1144
IBM-1145 IBM-1146 IBM-1147 IBM-1148 IBM-1149 IBM-1153 IBM-1154 IBM-1155 IBM-1156 IBM-1157 IBM-1158 IBM-1160
IBM-1161 IBM-1162 IBM-1163 IBM-1164 IBM-1166 IBM-1167 IBM-12712 IBM-1364 IBM-1371 IBM-1388 IBM-1390 IBM-1399
IBM-16804 IBM-4517 IBM-4899 IBM-4909 IBM-4971 IBM-5347 IBM-803 IBM-856 IBM-901 IBM-902 IBM-9030 IBM-9066
IBM-921 IBM-922 IBM-930 IBM-932 IBM-933 IBM-935 IBM-937 IBM-939 IBM-943 IBM-9448 IBM037 IBM038 IBM1004 IBM1008
IBM1025 IBM1026 IBM1046 IBM1047 IBM1089 IBM1097 IBM1112 IBM1122 IBM1123 IBM1124 IBM1129 IBM1130 IBM1132
IBM1133 IBM1137 IBM1140 IBM1141 IBM1142 IBM1143 IBM1144 IBM1145 IBM1146 IBM1147 IBM1148 IBM1149 IBM1153
IBM1154 IBM1155 IBM1156 IBM1157 IBM1158 IBM1160 IBM1161 IBM1162 IBM1163 IBM1164 IBM1166 IBM1167 IBM12712
IBM1364 IBM1371 IBM1388 IBM1390 IBM1399 IBM16804 IBM256 IBM273 IBM274 IBM275 IBM277 IBM278 IBM280 IBM281
IBM284 IBM285 IBM290 IBM297 IBM367 IBM420 IBM423 IBM424 IBM437 IBM4517 IBM4899 IBM4909 IBM4971 IBM500 IBM5347
IBM775 IBM803 IBM813 IBM819 IBM848 IBM850 IBM851 IBM852 IBM855 IBM856 IBM857 IBM858 IBM860 IBM861 IBM862
IBM863 IBM864 IBM865 IBM866 IBM866NAV IBM868 IBM869 IBM870 IBM871 IBM874 IBM875 IBM880 IBM891 IBM901 IBM902
IBM903 IBM9030 IBM904 IBM905 IBM9066 IBM912 IBM915 IBM916 IBM918 IBM920 IBM921 IBM922 IBM930 IBM932 IBM933
IBM935 IBM937 IBM939 IBM943 IBM9448 IEC_P27-1 IEC_P271 INIS INIS-8 INIS-CYRILLIC INIS8 INISCYRILLIC ISIRI-3342
ISIRI3342 ISO-10646 ISO-10646/UCS2 ISO-10646/UCS4 ISO-10646/UTF-8 ISO-10646/UTF8 ISO-2022-CN ISO-2022-CN-EXT
ISO-2022-JP ISO-2022-JP-2 ISO-2022-JP-3 ISO-2022-KR ISO-8859-1 ISO-8859-10 ISO-8859-11 ISO-8859-13 ISO-8859-14
ISO-8859-15 ISO-8859-16 ISO-8859-2 ISO-8859-3 ISO-8859-4 ISO-8859-5 ISO-8859-6 ISO-8859-7 ISO-8859-8
ISO-8859-9 ISO-8859-9E ISO-CELTIC ISO-IR-10 ISO-IR-100 ISO-IR-101 ISO-IR-103 ISO-IR-109 ISO-IR-11 ISO-IR-110
ISO-IR-111 ISO-IR-121 ISO-IR-122 ISO-IR-126 ISO-IR-127 ISO-IR-138 ISO-IR-139 ISO-IR-14 ISO-IR-141 ISO-IR-143
ISO-IR-144 ISO-IR-148 ISO-IR-15 ISO-IR-150 ISO-IR-151 ISO-IR-153 ISO-IR-155 ISO-IR-156 ISO-IR-157 ISO-IR-16
ISO-IR-166 ISO-IR-17 ISO-IR-179 ISO-IR-18 ISO-IR-19 ISO-IR-193 ISO-IR-197 ISO-IR-199 ISO-IR-203 ISO-IR-209
ISO-IR-21 ISO-IR-226 ISO-IR-25 ISO-IR-27 ISO-IR-37 ISO-IR-4 ISO-IR-49 ISO-IR-50 ISO-IR-51 ISO-IR-54 ISO-IR-55
ISO-IR-57 ISO-IR-6 ISO-IR-60 ISO-IR-61 ISO-IR-69 ISO-IR-8-1 ISO-IR-84 ISO-IR-85 ISO-IR-86 ISO-IR-88 ISO-IR-89
ISO-IR-9-1 ISO-IR-90 ISO-IR-92 ISO-IR-98 ISO-IR-99 ISO/TR_11548-1 ISO11548-1 ISO2022CN ISO2022CNEXT ISO2022JP
ISO2022JP2 ISO2022KR ISO646-CA ISO646-CA2 ISO646-CN ISO646-CU ISO646-DE ISO646-DK ISO646-ES ISO646-ES2
ISO646-FI ISO646-FR ISO646-FR1 ISO646-GB ISO646-HU ISO646-IT ISO646-JP ISO646-JP-OCR-B ISO646-KR ISO646-NO
ISO646-NO2 ISO646-PT ISO646-PT2 ISO646-SE ISO646-SE2 ISO646-US ISO646-YU ISO6937 ISO8859-1 ISO8859-10
ISO8859-11 ISO8859-13 ISO8859-14 ISO8859-15 ISO8859-16 ISO8859-2 ISO8859-3 ISO8859-4 ISO8859-5 ISO8859-6
ISO8859-7 ISO8859-8 ISO8859-9 ISO8859-9E ISO88591 ISO885910 ISO885911 ISO885913 ISO885914 ISO885915 ISO885916
ISO88592 ISO88593 ISO88594 ISO88595 ISO88596 ISO88597 ISO88598 ISO88599 ISO88599E ISO_10367-BOX ISO_10367BOX
ISO_11548-1 ISO_2033 ISO_2033-1983 ISO_5427 ISO_5427-EXT ISO_5427:1981 ISO_5427EXT ISO_5428 ISO_5428:1980
ISO_646.IRV:1991 ISO_6937 ISO_6937-2 ISO_6937-2:1983 ISO_69372 ISO_6937:1992 ISO_8859-1 ISO_8859-10
ISO_8859-10:1992 ISO_8859-14 ISO_8859-14:1998 ISO_8859-15 ISO_8859-15:1998 ISO_8859-16 ISO_8859-16:2001
ISO_8859-1:1987 ISO_8859-2 ISO_8859-2:1987 ISO_8859-3 ISO_8859-3:1988 ISO_8859-4 ISO_8859-4:1988 ISO_8859-5
ISO_8859-5:1988 ISO_8859-6 ISO_8859-6:1987 ISO_8859-7 ISO_8859-7:1987 ISO_8859-7:2003 ISO_8859-8
ISO_8859-8:1988 ISO_8859-9 ISO_8859-9:1989 ISO_8859-9E ISO_9036 IT JIS_C6220-1969-RO JIS_C62201969RO
JIS_C6229-1984-B JIS_C62291984B JOHAB JP JP-OCR-B JS JUS_I.B1.002 KOI-7 KOI-8 KOI8 KOI8-R KOI8-RU KOI8-T
KOI8-U KOI8R KOI8U KSC5636 L1 L10 L2 L3 L4 L5 L6 L7 L8 LATIN-9 LATIN-GREEK LATIN-GREEK-1 LATIN1 LATIN10 LATIN2
LATIN3 LATIN4 LATIN5 LATIN6 LATIN7 LATIN8 LATIN9 LATINGREEK LATINGREEK1 MAC MAC-CENTRALEUROPE MAC-CYRILLIC
MAC-IS MAC-SAMI MAC-UK MACCYRILLIC MACINTOSH MACIS MACUK MACUKRAINIAN MIK MS-ANSI MS-ARAB MS-CYRL MS-EE
MS-GREEK MS-HEBR MS-MAC-CYRILLIC MS-TURK MS932 MS936 MSCP1361 MSCP949 MSMACCYRILLIC MSZ_7795.3 MS_KANJI NAPLPS
NATS-DANO NATS-SEFI NATSDANO NATSSEFI NC_NC00-10 NC_NC00-10:81 NC_NC0010 NF_Z_62-010 NF_Z_62-010_(1973)
NF_Z_62-010_1973 NF_Z_62010 NF_Z_62010_1973 NO NO2 NS_4551-1 NS_4551-2 NS_45511 NS_45512 OS2LATIN1 OSF00010001
OSF00010002 OSF00010003 OSF00010004 OSF00010005 OSF00010006 OSF00010007 OSF00010008 OSF00010009 OSF0001000A
OSF00010020 OSF00010100 OSF00010101 OSF00010102 OSF00010104 OSF00010105 OSF00010106 OSF00030010 OSF0004000A
OSF0005000A OSF05010001 OSF10010001 OSF10010004 OSF10010006 OSF10020025 OSF10020111 OSF10020115 OSF10020116
OSF10020118 OSF1002011C OSF1002011D OSF10020122 OSF10020129 OSF100201A4 OSF100201A8 OSF100201B5 OSF100201F4
OSF10020352 OSF10020354 OSF10020357 OSF10020359 OSF1002035D OSF1002035E OSF1002035F OSF10020360 OSF10020364
OSF10020365 OSF10020366 OSF10020367 OSF1002036B OSF10020370 OSF1002037B OSF10020387 OSF10020388 OSF10020396
OSF100203B5 OSF10020402 OSF10020417 PT PT154 PT2 R8 R9 RK1048 ROMAN8 ROMAN9 RUSCII SE SE2 SEN_850200_B
SEN_850200_C SHIFT-JIS SHIFTJISX0213 SHIFT_JIS SHIFT_JISX0213 SJIS SJIS-OPEN SJIS-WIN SS636127 STRK1048-2002
ST_SEV_358-88 T.61 T.61-8BIT T.618BIT TCVN TCVN-5712 TCVN5712-1 TCVN5712-1:1993 THAI8 TIS-620 TIS620 TIS620-0
TIS620.2529-1 TIS620.2533-0 TS-5881 TSCII TURKISH8 UCS-2 UCS-2BE UCS-2LE UCS-4 UCS-4BE UCS-4LE UCS2 UCS4 UHC
UJIS UK UNICODE UNICODEBIG UNICODELITTLE US US-ASCII UTF-16 UTF-16BE UTF-16LE UTF-32 UTF-32BE UTF-32LE UTF-7
UTF-7-IMAP UTF-8 UTF16 UTF16BE UTF16LE UTF32 UTF32BE UTF32LE UTF7 UTF8 VISCII WCHAR_T WIN-SAMI-2 WINBALTRIM
WINDOWS-1250 WINDOWS-1251 WINDOWS-1252 WINDOWS-1253 WINDOWS-1254 WINDOWS-1255 WINDOWS-1256 WINDOWS-1257
WINDOWS-1258 WINDOWS-31J WINDOWS-874 WINDOWS-936 WINSAMI2 WS2 YU
`
    .trim()
    .split(/\s+/),
);

function glibcKnows(upperName: string): boolean {
  // "X//TRANSLIT", "X//IGNORE": glibc parses the suffixes away.
  const base = upperName.split('//')[0].replace(/\/+$/, '');
  return GLIBC_ICONV_NAMES.has(base);
}

// ---------------------------------------------------------------------------
// byte strings

/** UTF-8 bytes of a JS string, one char per byte. */
function toByteString(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

function bytesToByteString(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
