/**
 * Port of git's attr.c (git 2.39) as `git archive` uses it: reading the
 * `.gitattributes` blobs of the archived commit (read_attr_from_index(),
 * parse_attr_line(), with quote.c unquote_c_style() for quoted patterns),
 * macros (`[attr]name`, the builtin `binary`), the attribute stack and its
 * precedence (prepare_attr_stack(), collect_some_attrs(), fill_one()), and
 * the pattern side of dir.c that attr.c relies on (parse_path_pattern(),
 * match_basename(), match_pathname(); attr.c path_matches()).
 *
 * It exists to answer "which attributes does git see for this path?" for
 * the conversions in convert.ts; archive.ts ties the two together.
 *
 * Paths and patterns are handled as byte strings ("binary" strings, one
 * char per byte), exactly like git's C strings: a pattern character class
 * such as `[é]` therefore matches single bytes, not a code point.
 */

import { WM_MATCH, isGlobSpecial, wildmatch } from './wildmatch.js';

export interface GitattributesFile {
  /** '' for the repo root, else 'a/b' without trailing slash. */
  dir: string;
  content: Uint8Array;
}

/**
 * The attributes of one archived commit, looked up as attr.c does in
 * GIT_ATTR_INDEX mode: one frame per `.gitattributes` blob, macros from the
 * root file and the builtin frame, and precedence from the deepest frame and
 * the last line down.
 */
export class AttrStack {
  private readonly frames = new Map<string, Rule[]>();
  private readonly macros = new Map<string, AttrAssign[]>();
  private readonly stackCache = new Map<string, StackNode | null>();

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

  /**
   * Frames for the directory of `path`, deepest first (attr.c
   * prepare_attr_stack()), as a list shared with the parent directory's: a
   * directory costs one lookup on top of its parent's, however deep the tree.
   */
  private stackFor(dir: string): StackNode | null {
    const pending: string[] = [];
    let d = dir;
    let node: StackNode | null | undefined;
    for (;;) {
      node = this.stackCache.get(d);
      if (node !== undefined) break;
      pending.push(d);
      if (d === '') {
        node = null;
        break;
      }
      const slash = d.lastIndexOf('/');
      d = slash < 0 ? '' : d.slice(0, slash);
    }
    for (let k = pending.length - 1; k >= 0; k--) {
      const origin = pending[k];
      const rules = this.frames.get(origin);
      if (rules && rules.length > 0) node = { frame: { origin, rules }, next: node };
      this.stackCache.set(origin, node);
    }
    return node;
  }

  /** attr.c collect_some_attrs()/fill(): walk from the highest-precedence
   *  rule down, the first assignment of an attribute wins. */
  collect(bpath: string): Map<string, AttrValue> {
    // A trailing slash marks a directory; the last separator before it splits
    // dirname from basename.
    let lastSlash = -1;
    for (let i = 0; i < bpath.length; i++) {
      if (bpath[i] === '/' && i + 1 < bpath.length) lastSlash = i;
    }
    const dir = lastSlash < 0 ? '' : bpath.slice(0, lastSlash);
    const basenameOffset = lastSlash + 1;
    const values = new Map<string, AttrValue>();
    const stack: Frame[] = [];
    for (let n = this.stackFor(dir); n; n = n.next) stack.push(n.frame);
    stack.push({ origin: '', rules: BUILTIN_RULES });
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

interface StackNode {
  frame: Frame;
  next: StackNode | null;
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

// ---------------------------------------------------------------------------
// byte strings

/** UTF-8 bytes of a JS string, one char per byte. */
export function toByteString(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

function bytesToByteString(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
