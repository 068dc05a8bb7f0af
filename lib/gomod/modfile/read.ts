// Port of golang.org/x/mod/modfile read.go (x/mod v0.19.0, Go 1.23):
//
//   - the lexer and parser of go.mod files (tokens, quoted strings, comments,
//     line blocks, and the assignment of comments to the lines they annotate);
//   - modulePath: modfile.ModulePath, the lax line scan that findDir uses.
//
// The parser exists for parseLax (rule.ts), which must fail exactly where Go
// fails and needs comments to read retraction rationales.
import { isPrint, isSpace } from '../unicode.js';
import { quoteRune } from '../module.js';
import { FILENAME, formatError, type ModFileProblem } from './errors.js';
import { decodeBytes, outText, runeAt, trimSpace, unquote } from './text.js';

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

// ---------------------------------------------------------------------------
// Syntax tree (read.go), reduced to what comment assignment needs

export interface Position {
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

export interface Line {
  kind: 'line';
  com: Comments;
  start: Position;
  token: string[];
  end: Position;
}

export interface LineBlock {
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
export class SyntaxFailure {
  constructor(readonly problem: ModFileProblem) {}
}

/** The lexer and parser of read.go. */
export class Parser {
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
