// Port of golang.org/x/mod/modfile rule.go (x/mod v0.19.0, Go 1.23), the
// parts a module proxy needs from a dependency's go.mod:
//
//   - autoQuote / mustQuote: how a path is written into a synthesized go.mod;
//   - parseLax: modfile.ParseLax(…, nil), reduced to whether it fails and the
//     module, go and retract values. This needs the full lexer and parser of
//     read.go (tokens, quoted strings, comments, line blocks; see read.ts) and
//     the lax directive rules of rule.go, ported here.
import { goRunes, isPrint } from '../unicode.js';
import { GoError, canonicalVersion, checkPathMajor, InvalidVersionError, quote, splitPathVersion } from '../module.js';
import { ModFileError, formatError, type ModFileProblem } from './errors.js';
import { Parser, SyntaxFailure, type Line, type LineBlock } from './read.js';
import { decodeBytes, outText, quoteText, trimSpace, unquote } from './text.js';

// ---------------------------------------------------------------------------
// MustQuote, AutoQuote

/**
 * mustQuote reports whether s must be quoted to be a single go.mod token:
 * it is empty, has a space, a quote, a non-printing rune, "//" or "/*", or is
 * longer than one character and contains ( ) [ ] { } or a comma.
 */
export function mustQuote(s: string): boolean {
  for (const r of goRunes(s)) {
    switch (r) {
      case 0x20:
      case 0x22:
      case 0x27:
      case 0x60:
        return true;
      case 0x28:
      case 0x29:
      case 0x5b:
      case 0x5d:
      case 0x7b:
      case 0x7d:
      case 0x2c:
        if (s.length > 1) return true;
        break;
      default:
        if (!isPrint(r)) return true;
    }
  }
  return s === '' || s.includes('//') || s.includes('/*');
}

/** autoQuote returns s, or Go's strconv.Quote(s) if mustQuote(s). */
export function autoQuote(s: string): string {
  return mustQuote(s) ? quote(s) : s;
}

// ---------------------------------------------------------------------------
// ParseLax (rule.go)

export interface Retraction {
  /** The bounds exactly as written (unquoted); lax mode does not require semver. */
  low: string;
  high: string;
  /** The directive's comments, "//" and surrounding spaces removed, joined by "\n". */
  rationale: string;
}

export interface LaxModFile {
  module?: string;
  go?: string;
  retract: Retraction[];
}

const goVersionRE = /^([1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?([a-z]+[0-9]+)?$/;
const laxGoVersionRE = /^v?(([1-9][0-9]*)\.(0|[1-9][0-9]*))([^0-9][^\n]*)$/u;

/**
 * parseLax is modfile.ParseLax("go.mod", data, nil) as the go command applies
 * it to dependencies' go.mod files. It throws ModFileError exactly when Go
 * returns an error (syntax errors; bad go, module or require directives) and
 * otherwise returns the module path, go version and retractions in file order.
 * Other directives are ignored, as are retract directives it cannot parse.
 */
export function parseLax(data: Uint8Array): LaxModFile {
  const p = new Parser(decodeBytes(data));
  try {
    p.readToken();
    p.parseFile();
  } catch (e) {
    if (e instanceof SyntaxFailure) throw new ModFileError([e.problem]);
    throw e;
  }
  p.assignComments();

  const f: LaxModFile = { retract: [] };
  const state = { module: false, go: false };
  const errs: ModFileProblem[] = [];
  for (const x of p.stmts) {
    if (x.kind === 'line') {
      addDirective(f, state, errs, undefined, x, x.token[0], x.token.slice(1));
    } else if (x.kind === 'block') {
      // Lax mode skips unknown and multi-token block headers silently.
      if (x.token.length > 1) continue;
      if (!['module', 'godebug', 'require', 'exclude', 'replace', 'retract'].includes(x.token[0])) continue;
      for (const l of x.line) addDirective(f, state, errs, x, l, x.token[0], l.token);
    }
  }
  if (errs.length > 0) throw new ModFileError(errs);
  return f;
}

/** (*File).add in lax mode: only go, module, retract and require matter for dependencies. */
function addDirective(
  f: LaxModFile,
  state: { module: boolean; go: boolean },
  errs: ModFileProblem[],
  block: LineBlock | undefined,
  line: Line,
  verb: string,
  args: string[],
): void {
  const errorf = (msg: string): void => {
    errs.push(formatError(line.start, '', '', msg));
  };
  switch (verb) {
    case 'go': {
      if (state.go) return errorf('repeated go statement');
      if (args.length !== 1) return errorf('go directive expects exactly one argument');
      let v = args[0];
      if (!goVersionRE.test(v)) {
        // Lax mode accepts e.g. "1.21beta" or "v1.21.x" as their "1.21".
        const m = laxGoVersionRE.exec(v);
        if (!m) return errorf(`invalid go version '${v}': must match format 1.23.0`);
        v = m[1];
      }
      state.go = true;
      f.go = outText(v);
      return;
    }
    case 'module': {
      if (state.module) return errorf('repeated module statement');
      state.module = true;
      if (args.length !== 1) return errorf('usage: module module/path');
      const s = parseString(args[0]);
      if (s instanceof Error) return errorf(`invalid quoted string: ${s.message}`);
      f.module = outText(s);
      return;
    }
    case 'require': {
      if (args.length !== 2) return errorf(`usage: ${verb} module/path v1.2.3`);
      const s = parseString(args[0]);
      if (s instanceof Error) return errorf(`invalid quoted string: ${s.message}`);
      const v = parseVersion(verb, s, args[1]);
      if (typeof v !== 'string') {
        errs.push(formatError(line.start, '', '', v.message));
        return;
      }
      const split = splitPathVersion(s);
      if (!split.ok) return errorf('invalid module path');
      try {
        checkPathMajor(v, split.pathMajor);
      } catch (e) {
        if (!(e instanceof InvalidVersionError)) throw e;
        errs.push(formatError(line.start, verb, s, e.message));
      }
      return;
    }
    case 'retract': {
      const rationale = directiveComment(block, line);
      const vi = parseVersionInterval(args);
      // Lax mode ignores unparsable intervals (and any tokens after one), so
      // that future syntax does not break older go commands.
      if (vi) f.retract.push({ low: outText(vi.low), high: outText(vi.high), rationale: outText(rationale) });
      return;
    }
    default:
      // Unknown directives and main-module-only ones (exclude, replace,
      // toolchain, godebug, ...) are ignored for dependencies.
      return;
  }
}

/**
 * parseString: a token unquoted if it starts with a double quote; other
 * quote characters are reserved and rejected. Returns an Error on failure.
 */
function parseString(s: string): string | Error {
  if (s.startsWith('"')) {
    const t = unquote(s);
    return t === undefined ? new GoError('invalid syntax') : t;
  }
  if (/["'`]/.test(s)) return new GoError('unquoted string cannot contain quote');
  return s;
}

/**
 * parseVersion with a nil fixer: the unquoted token must be a semantic
 * version, which is returned in canonical form; otherwise an Error whose
 * message is the modfile.Error text ("<verb> <path>: version ... invalid: ...").
 */
function parseVersion(verb: string, path: string, s: string): string | Error {
  const t = parseString(s);
  const directive = path !== '' ? `${verb} ${path}: ` : `${verb}: `;
  // module.InvalidVersionError's text, quoting the version's original bytes.
  if (t instanceof Error) return new GoError(`${directive}version ${quoteText(s)} invalid: ${t.message}`);
  const cv = canonicalVersion(t);
  if (cv === '') return new GoError(`${directive}version ${quoteText(t)} invalid: must be of the form v1.2.3`);
  return cv;
}

/**
 * parseVersionInterval for retract with the "don't fix" fixer lax mode uses:
 * "v" or "[lo, hi]" with each bound merely unquoted. undefined on error.
 */
function parseVersionInterval(toks: string[]): { low: string; high: string } | undefined {
  if (toks.length === 0 || toks[0] === '(') return undefined;
  if (toks[0] !== '[') {
    const v = parseString(toks[0]);
    return v instanceof Error ? undefined : { low: v, high: v };
  }
  if (toks.length < 2) return undefined;
  const low = parseString(toks[1]);
  if (low instanceof Error) return undefined;
  if (toks.length < 3 || toks[2] !== ',') return undefined;
  if (toks.length < 4) return undefined;
  const high = parseString(toks[3]);
  if (high instanceof Error) return undefined;
  if (toks.length < 5 || toks[4] !== ']') return undefined;
  return { low, high };
}

/**
 * parseDirectiveComment: the text of the comments before and after a line,
 * or of its block's comments if the line has none; one line per comment.
 */
function directiveComment(block: LineBlock | undefined, line: Line): string {
  let com = line.com;
  if (block && com.before.length === 0 && com.suffix.length === 0) com = block.com;
  const lines: string[] = [];
  for (const c of [...com.before, ...com.suffix]) {
    if (!c.token.startsWith('//')) continue; // blank-line marker
    lines.push(trimSpace(c.token.slice(2)));
  }
  return lines.join('\n');
}

/** A require directive: module path and canonical version. */
export interface Requirement {
  path: string;
  version: string;
}

/**
 * The require directives of a go.mod, in file order (for `modproxy-admin
 * prefetch`). The file is first checked as parseLax checks it, so a go.mod
 * the go command would reject throws ModFileError here too.
 */
export function parseRequires(data: Uint8Array): Requirement[] {
  parseLax(data);
  const p = new Parser(decodeBytes(data));
  p.readToken();
  p.parseFile();
  const out: Requirement[] = [];
  const add = (args: string[]) => {
    const s = parseString(args[0] ?? '');
    const v = parseVersion('require', typeof s === 'string' ? s : '', args[1] ?? '');
    if (typeof s === 'string' && typeof v === 'string') out.push({ path: outText(s), version: v });
  };
  for (const x of p.stmts) {
    if (x.kind === 'line' && x.token[0] === 'require') add(x.token.slice(1));
    else if (x.kind === 'block' && x.token.length === 1 && x.token[0] === 'require') for (const l of x.line) add(l.token);
  }
  return out;
}
