/**
 * Port of the parts of git's convert.c (git 2.39) that
 * convert_to_working_tree() applies when `git archive` writes a file:
 * deciding from the attributes what to do (convert_attrs(), with
 * core.autocrlf=input and core.eol=lf as the go command runs git), `ident`
 * expansion (count_ident(), ident_to_worktree()) and LF -> CRLF conversion
 * (gather_stats(), convert_is_binary(), crlf_to_worktree()). The third
 * step, working-tree-encoding, lives in encodings.ts.
 *
 * It exists so that modproxy can produce the bytes git archive writes for a
 * blob without running git.
 */

import type { AttrValue } from './attr.js';
import { sameEncoding } from './encodings.js';

// ---------------------------------------------------------------------------
// Attribute values -> conversion decision (convert.c convert_attrs())

/** convert.c enum convert_crlf_action. */
export type CrlfAction =
  | 'binary'
  | 'text-input'
  | 'text-crlf'
  | 'auto-input'
  | 'auto-crlf';

export interface ConvAttrs {
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

export function convAttrsFrom(values: Map<string, AttrValue>): ConvAttrs {
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

export function outputsCrlf(action: CrlfAction): boolean {
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
