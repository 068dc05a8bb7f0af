/**
 * Port of git's wildmatch.c (git 2.39): the shell-glob matcher behind
 * `.gitattributes` patterns, plus the glob-special test it shares with
 * dir.c (git-compat-util.h is_glob_special()).
 *
 * It exists so that attribute patterns select exactly the paths git selects
 * when `git archive` looks up attributes (see attr.ts, which calls it through
 * dir.c's match_basename()/match_pathname()). Patterns and texts are byte
 * strings, one char per byte, as in git's C strings.
 */

// wildmatch.c, byte for byte (no WM_CASEFOLD: core.ignorecase is false in
// the go command's bare repository on Linux).
export const WM_MATCH = 0;
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

export function isGlobSpecial(c: number): boolean {
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
