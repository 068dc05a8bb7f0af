// The parts of golang.org/x/mod/modfile (x/mod v0.19.0, Go 1.23) and
// cmd/go/internal/gover that a module proxy needs from a dependency's go.mod:
//
//   - modulePath: modfile.ModulePath, the lax line scan that findDir uses;
//   - goModLookup: gover.GoModLookup, the first `go`/`toolchain` value;
//   - autoQuote / mustQuote: how a path is written into a synthesized go.mod;
//   - parseLax: modfile.ParseLax(…, nil), reduced to whether it fails and the
//     module, go and retract values. This needs the full lexer and parser of
//     read.go (tokens, quoted strings, comments, line blocks) and the lax
//     directive rules of rule.go, ported below.
//
// Text model. Go works on the file's bytes, which need not be UTF-8; the
// lexer sees each invalid byte as one rune U+FFFD, but %q in an error message
// prints it as \xHH. So the bytes are decoded into a JS string in which an
// invalid byte b becomes the lone surrogate U+DC00+b (a "surrogate escape":
// decoding valid UTF-8 never yields a lone surrogate, so this is unambiguous).
// The lexer reads an escape as U+FFFD, quoting turns it back into its byte,
// and every string handed out (values, and %s parts of messages) has escapes
// replaced by U+FFFD, which is how Go's bytes read when decoded rune by rune.
import { appendRune, decodeUTF8, goRunes, isPrint, isSpace } from './unicode.js';
import { GoError, canonicalVersion, checkPathMajor, InvalidVersionError, quote, quoteBytes, quoteRune, splitPathVersion } from './module.js';

// ---------------------------------------------------------------------------
// Text helpers with Go's semantics

/** Decodes bytes, turning each invalid byte into its surrogate escape. */
const decodeBytes = (b: Uint8Array): string => decodeUTF8(b, (byte) => String.fromCharCode(0xdc00 + byte));

/** A surrogate escape: a low surrogate not preceded by a high one. */
const ESCAPES = /(?<![\ud800-\udbff])[\udc80-\udcff]/g;
const HAS_ESCAPE = /(?<![\ud800-\udbff])[\udc80-\udcff]/;

/** The rune Go decodes at s[i] and its width in UTF-16 units (an escape reads as U+FFFD). */
function runeAt(s: string, i: number): [rune: number, width: number] {
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
function quoteText(s: string): string {
  return quoteBytes(toBytes(s));
}

/** Decoded text as handed out: invalid bytes read as U+FFFD. */
function outText(s: string): string {
  return s.replace(ESCAPES, '\ufffd');
}

/**
 * strings.TrimSpace: trims Go's unicode.IsSpace runes (not JS's trim set).
 * Every such rune is in the BMP and not a surrogate, so code units will do.
 */
function trimSpace(s: string): string {
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
function unquote(s: string): string | undefined {
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

// ---------------------------------------------------------------------------
// ModulePath, GoModLookup, AutoQuote

/**
 * modulePath is modfile.ModulePath: the path on the first line that, with
 * any // comment removed and spaces trimmed, is "module" followed by space
 * and something. A quoted path is unquoted. Returns "" if there is no such
 * line or its quoted path is malformed. Tolerates any other problem.
 */
export function modulePath(data: Uint8Array): string {
  let mod = decodeBytes(data);
  while (mod.length > 0) {
    let line = mod;
    mod = '';
    const nl = line.indexOf('\n');
    if (nl >= 0) {
      mod = line.slice(nl + 1);
      line = line.slice(0, nl);
    }
    const slash = line.indexOf('//');
    if (slash >= 0) line = line.slice(0, slash);
    line = trimSpace(line);
    if (!line.startsWith('module')) continue;
    line = line.slice('module'.length);
    const n = line.length;
    line = trimSpace(line);
    if (line.length === n || line.length === 0) continue; // "modulex" or a bare "module"
    if (line[0] === '"' || line[0] === '`') return outText(unquote(line) ?? '');
    return outText(line);
  }
  return '';
}

/**
 * goModLookup is cmd/go's gover.GoModLookup: the value of the first line
 * (after trimming spaces) that starts with key followed by a space or tab,
 * with any // comment removed and spaces trimmed; "" if none. It does not
 * parse the file, so it works on go.mod files that fail to parse.
 */
export function goModLookup(data: Uint8Array, key: string): string {
  let rest = decodeBytes(data);
  while (rest.length > 0) {
    let line = rest;
    rest = '';
    const nl = line.indexOf('\n');
    if (nl >= 0) {
      rest = line.slice(nl + 1);
      line = line.slice(0, nl);
    }
    line = trimSpace(line);
    if (!line.startsWith(key)) continue;
    let s = line.slice(key.length);
    if (s.length === 0 || (s[0] !== ' ' && s[0] !== '\t')) continue;
    const comment = s.indexOf('//');
    if (comment >= 0) s = s.slice(0, comment);
    return outText(trimSpace(s));
  }
  return '';
}

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
// Errors

/** A modfile.Error: a problem at a position, printed as Go prints it. */
export interface ModFileProblem {
  line: number;
  lineRune: number;
  message: string;
}

/** modfile.ErrorList: the errors of a failed parse, one per line in message. */
export class ModFileError extends Error {
  override name = 'ModFileError';
  constructor(readonly problems: ModFileProblem[]) {
    super(problems.map((p) => p.message).join('\n'));
  }
}

/** The file name used in messages, as in ParseLax("go.mod", data, nil). */
const FILENAME = 'go.mod';

/** modfile.Error.Error() */
function formatError(pos: Position, verb: string, modPath: string, err: string): ModFileProblem {
  let prefix = `${FILENAME}: `;
  // The column is left out when it is 1, as it is for all but scanner errors.
  if (pos.lineRune > 1) prefix = `${FILENAME}:${pos.line}:${pos.lineRune}: `;
  else if (pos.line > 0) prefix = `${FILENAME}:${pos.line}: `;
  let directive = '';
  if (modPath !== '') directive = `${verb} ${modPath}: `;
  else if (verb !== '') directive = `${verb}: `;
  return { line: pos.line, lineRune: pos.lineRune, message: outText(prefix + directive + err) };
}

// ---------------------------------------------------------------------------
// Syntax tree (read.go), reduced to what comment assignment needs

interface Position {
  line: number;
  lineRune: number;
  /** Offset into the decoded text: ordered like Go's byte offset, which is all it is used for. */
  byte: number;
}

interface Comment {
  start: Position;
  /** The comment including "//", without the trailing newline; "" marks a blank line in a block. */
  token: string;
  suffix: boolean;
}

interface Comments {
  before: Comment[];
  suffix: Comment[];
}

interface Line {
  kind: 'line';
  com: Comments;
  start: Position;
  token: string[];
  end: Position;
}

interface LineBlock {
  kind: 'block';
  com: Comments;
  start: Position;
  lparen: Paren;
  token: string[];
  line: Line[];
  rparen: Paren;
}

interface Paren {
  kind: 'paren';
  com: Comments;
  pos: Position;
}

interface CommentBlock {
  kind: 'comments';
  com: Comments;
  start: Position;
}

type Stmt = Line | LineBlock | CommentBlock;
type Expr = Stmt | Paren;

function newComments(): Comments {
  return { before: [], suffix: [] };
}

/** The position just past a one-rune token such as ")". */
function after(p: Position): Position {
  return { line: p.line, lineRune: p.lineRune + 1, byte: p.byte + 1 };
}

function span(x: Expr): [Position, Position] {
  switch (x.kind) {
    case 'line':
      return [x.start, x.end];
    case 'block':
      return [x.start, after(x.rparen.pos)];
    case 'paren':
      return [x.pos, after(x.pos)];
    case 'comments':
      return [x.start, x.start];
  }
}

// Token kinds: negative for classes, else the code of a punctuation rune.
const EOF = -1;
const EOLCOMMENT = -2;
const IDENT = -3;
const STRING = -4;
const COMMENT = -5;

interface Token {
  kind: number;
  pos: Position;
  endPos: Position;
  text: string;
}

function isComment(kind: number): boolean {
  return kind === COMMENT || kind === EOLCOMMENT;
}

function isEOL(kind: number): boolean {
  return kind === EOF || kind === EOLCOMMENT || kind === 0x0a;
}

/** Identifier runes: printable, not space, and not one of  ( ) [ ] { } , */
function isIdent(c: number): boolean {
  switch (c) {
    case 0x20:
    case 0x28:
    case 0x29:
    case 0x5b:
    case 0x5d:
    case 0x7b:
    case 0x7d:
    case 0x2c:
      return false;
    default:
      return !isSpace(c) && isPrint(c);
  }
}

/** Thrown by Parser.error; Go panics and recovers the same way. */
class SyntaxFailure {
  constructor(readonly problem: ModFileProblem) {}
}

/** The lexer and parser of read.go. */
class Parser {
  private i = 0; // offset of the remaining input
  private pos: Position = { line: 1, lineRune: 1, byte: 0 };
  private tokenStart = 0;
  private token: Token = { kind: EOF, pos: this.pos, endPos: this.pos, text: '' };
  private readonly comments: Comment[] = [];
  readonly stmts: Stmt[] = [];

  constructor(private readonly src: string) {}

  private error(msg: string): never {
    throw new SyntaxFailure(formatError(this.pos, '', '', msg));
  }

  private eof(): boolean {
    return this.i >= this.src.length;
  }

  private peekRune(): number {
    return this.eof() ? 0 : runeAt(this.src, this.i)[0];
  }

  private peekPrefix(prefix: string): boolean {
    return this.src.startsWith(prefix, this.i);
  }

  private readRune(): number {
    if (this.eof()) this.error('internal lexer error: readRune at EOF');
    const [r, width] = runeAt(this.src, this.i);
    this.i += width;
    this.pos =
      r === 0x0a
        ? { line: this.pos.line + 1, lineRune: 1, byte: this.i }
        : { line: this.pos.line, lineRune: this.pos.lineRune + 1, byte: this.i };
    return r;
  }

  private startToken(): void {
    this.tokenStart = this.i;
    this.token = { kind: EOF, pos: this.pos, endPos: this.pos, text: '' };
  }

  /** Ends the token; comment tokens lose one trailing LF or CRLF. */
  private endToken(kind: number): void {
    let text = this.src.slice(this.tokenStart, this.i);
    if (isComment(kind)) {
      if (text.endsWith('\r\n')) text = text.slice(0, -2);
      else if (text.endsWith('\n')) text = text.slice(0, -1);
    }
    this.token = { kind, pos: this.token.pos, endPos: this.pos, text };
  }

  peek(): number {
    return this.token.kind;
  }

  lex(): Token {
    const tok = this.token;
    this.readToken();
    return tok;
  }

  readToken(): void {
    // Skip spaces, hand over comments.
    while (!this.eof()) {
      const c = this.peekRune();
      if (c === 0x20 || c === 0x09 || c === 0x0d) {
        this.readRune();
        continue;
      }
      if (this.peekPrefix('//')) {
        this.startToken();
        // A comment is a suffix comment unless only spaces precede it on its line.
        const lineStart = this.i === 0 ? 0 : this.src.lastIndexOf('\n', this.i - 1) + 1;
        const suffix = trimSpace(this.src.slice(lineStart, this.i)).length > 0;
        this.readRune();
        this.readRune();
        while (!this.eof() && this.readRune() !== 0x0a) {
          // consume the comment and its newline
        }
        if (!suffix) {
          // Whole-line comments go straight to the parser.
          this.endToken(COMMENT);
          return;
        }
        this.endToken(EOLCOMMENT);
        this.comments.push({ start: this.token.pos, token: this.token.text, suffix });
        return;
      }
      if (this.peekPrefix('/*')) this.error('mod files must use // comments (not /* */ comments)');
      break;
    }

    this.startToken();
    if (this.eof()) {
      this.endToken(EOF);
      return;
    }

    const c = this.peekRune();
    switch (c) {
      case 0x0a: // \n ( ) [ ] { } ,
      case 0x28:
      case 0x29:
      case 0x5b:
      case 0x5d:
      case 0x7b:
      case 0x7d:
      case 0x2c:
        this.readRune();
        this.endToken(c);
        return;
      case 0x22: // " and ` strings
      case 0x60: {
        this.readRune();
        for (;;) {
          if (this.eof()) {
            this.pos = this.token.pos;
            this.error('unexpected EOF in string');
          }
          if (this.peekRune() === 0x0a) this.error('unexpected newline in string');
          const d = this.readRune();
          if (d === c) break;
          if (d === 0x5c && c !== 0x60) {
            if (this.eof()) {
              this.pos = this.token.pos;
              this.error('unexpected EOF in string');
            }
            this.readRune();
          }
        }
        this.endToken(STRING);
        return;
      }
    }

    if (!isIdent(c)) this.error(`unexpected input character ${quoteRune(c)}`);
    while (isIdent(this.peekRune())) {
      if (this.peekPrefix('//')) break;
      if (this.peekPrefix('/*')) this.error('mod files must use // comments (not /* */ comments)');
      this.readRune();
    }
    this.endToken(IDENT);
  }

  parseFile(): void {
    let cb: CommentBlock | undefined;
    for (;;) {
      switch (this.peek()) {
        case 0x0a:
          this.lex();
          if (cb) {
            this.stmts.push(cb);
            cb = undefined;
          }
          break;
        case COMMENT: {
          const tok = this.lex();
          cb ??= { kind: 'comments', com: newComments(), start: tok.pos };
          cb.com.before.push({ start: tok.pos, token: tok.text, suffix: false });
          break;
        }
        case EOF:
          if (cb) this.stmts.push(cb);
          return;
        default:
          this.parseStmt();
          if (cb) {
            // Comments directly above a statement belong to it.
            this.stmts[this.stmts.length - 1].com.before = cb.com.before;
            cb = undefined;
          }
      }
    }
  }

  private parseStmt(): void {
    const first = this.lex();
    const start = first.pos;
    let end = first.endPos;
    const tokens = [first.text];
    for (;;) {
      const tok = this.lex();
      if (isEOL(tok.kind)) {
        this.stmts.push({ kind: 'line', com: newComments(), start, token: tokens, end });
        return;
      }
      if (tok.kind === 0x28) {
        const next = this.peek();
        if (isEOL(next)) {
          // "verb (" ends the line: a block.
          this.stmts.push(this.parseLineBlock(start, tokens, tok));
          return;
        }
        if (next === 0x29) {
          const rparen = this.lex();
          if (isEOL(this.peek())) {
            // "verb ( )": an empty block.
            this.lex();
            this.stmts.push({
              kind: 'block',
              com: newComments(),
              start,
              token: tokens,
              lparen: { kind: 'paren', com: newComments(), pos: tok.pos },
              line: [],
              rparen: { kind: 'paren', com: newComments(), pos: rparen.pos },
            });
            return;
          }
          // "( )" in the middle of a line is just two tokens.
          tokens.push(tok.text, rparen.text);
        } else {
          tokens.push(tok.text);
        }
        continue;
      }
      tokens.push(tok.text);
      end = tok.endPos;
    }
  }

  private parseLineBlock(start: Position, token: string[], lparen: Token): LineBlock {
    const x: LineBlock = {
      kind: 'block',
      com: newComments(),
      start,
      token,
      lparen: { kind: 'paren', com: newComments(), pos: lparen.pos },
      line: [],
      rparen: { kind: 'paren', com: newComments(), pos: lparen.pos },
    };
    let comments: Comment[] = [];
    for (;;) {
      switch (this.peek()) {
        case EOLCOMMENT:
          this.lex(); // attached later by assignComments
          break;
        case 0x0a:
          // A blank line: keep an empty comment to mark it (at most one in a row).
          this.lex();
          if ((comments.length === 0 && x.line.length > 0) || (comments.length > 0 && comments[comments.length - 1].token !== '')) {
            comments.push({ start: { line: 0, lineRune: 0, byte: 0 }, token: '', suffix: false });
          }
          break;
        case COMMENT: {
          const tok = this.lex();
          comments.push({ start: tok.pos, token: tok.text, suffix: false });
          break;
        }
        case EOF:
          return this.error(`syntax error (unterminated block started at ${FILENAME}:${x.start.line}:${x.start.lineRune})`);
        case 0x29: {
          const rparen = this.lex();
          x.rparen = { kind: 'paren', com: { before: comments, suffix: [] }, pos: rparen.pos };
          if (!isEOL(this.peek())) this.error('syntax error (expected newline after closing paren)');
          this.lex();
          return x;
        }
        default: {
          const l = this.parseLine();
          x.line.push(l);
          l.com.before = comments;
          comments = [];
        }
      }
    }
  }

  private parseLine(): Line {
    const first = this.lex();
    if (isEOL(first.kind)) this.error('internal parse error: parseLine at end of line');
    const start = first.pos;
    let end = first.endPos;
    const tokens = [first.text];
    for (;;) {
      const tok = this.lex();
      if (isEOL(tok.kind)) return { kind: 'line', com: newComments(), start, token: tokens, end };
      tokens.push(tok.text);
      end = tok.endPos;
    }
  }

  /**
   * Attaches end-of-line comments to the syntax just before them (read.go's
   * assignComments). Its other half, attaching whole-line comments to the
   * syntax after them, never has anything to do: the lexer hands whole-line
   * comments to the parser instead of queueing them, so only suffix comments
   * are ever queued.
   */
  assignComments(): void {
    const post: Expr[] = [];
    for (const stmt of this.stmts) {
      if (stmt.kind === 'block') post.push(stmt.lparen, ...stmt.line, stmt.rparen);
      post.push(stmt);
    }
    const suffix = this.comments.slice();
    for (let i = post.length - 1; i >= 0; i--) {
      const x = post[i];
      const [start, end] = span(x);
      // Nothing that spans lines gets a suffix comment: in "x ( y \n z ) // c"
      // the comment belongs to z, not to the block.
      if (start.line !== end.line) continue;
      while (suffix.length > 0 && end.byte <= suffix[suffix.length - 1].start.byte) {
        x.com.suffix.push(suffix.pop() as Comment);
      }
    }
    // They were taken in reverse.
    for (const x of post) x.com.suffix.reverse();
  }
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
