// Port of Go 1.23's internal/gover (as wrapped by cmd/go/internal/gover):
// Go toolchain and language versions such as "1.21", "1.21rc1", "1.21.0",
// which are not semver and have no "v" or "go" prefix.
//
// Ordering: 1.21 < 1.21rc1 < 1.21.0 (a language version sorts before its
// prereleases and releases); before 1.21, "1.N" means "1.N.0". Malformed
// versions compare below well-formed ones and equal to each other.
// Numbers are kept as decimal strings, so there is no overflow.
//
// Also goModLookup: cmd/go/internal/gover's GoModLookup, the first `go` or
// `toolchain` value of a go.mod file, read without parsing it.
import { compareDecimal, cutDecimal } from './decimal.js';
import { decodeBytes, outText, trimSpace } from './modfile/text.js';

interface GoVersion {
  major: string;
  minor: string;
  patch: string;
  /** "", "alpha", "beta", "rc" (any lower-case word is accepted) */
  kind: string;
  pre: string;
}

const ZERO: GoVersion = { major: '', minor: '', patch: '', kind: '', pre: '' };

/** compareGoVersions returns -1, 0 or +1 as x is below, equal to or above y (gover.Compare). */
export function compareGoVersions(x: string, y: string): -1 | 0 | 1 {
  const vx = parse(x);
  const vy = parse(y);
  return (
    compareDecimal(vx.major, vy.major) ||
    compareDecimal(vx.minor, vy.minor) ||
    compareDecimal(vx.patch, vy.patch) ||
    // "" < alpha < beta < rc; kinds are lower-case ASCII, so JS order is Go's.
    (vx.kind < vy.kind ? -1 : vx.kind > vy.kind ? 1 : 0) ||
    compareDecimal(vx.pre, vy.pre)
  );
}

/**
 * goLang returns the language version of x (gover.Lang): "1.24.3" → "1.24",
 * "1.21rc1" → "1.21", "1" and "1.0.x" → "1", and "" for malformed x.
 */
export function goLang(x: string): string {
  const v = parse(x);
  if (v.minor === '' || (v.major === '1' && v.minor === '0')) return v.major;
  return `${v.major}.${v.minor}`;
}

/** gover.Parse: major[.minor[.patch]] or major.minor<kind>[pre]; ZERO when malformed. */
function parse(x: string): GoVersion {
  const v: GoVersion = { ...ZERO };
  let t = cutDecimal(x);
  if (!t) return ZERO;
  [v.major, x] = t;
  if (x === '') {
    // "1" means "1.0.0".
    v.minor = '0';
    v.patch = '0';
    return v;
  }
  if (x[0] !== '.') return ZERO;
  t = cutDecimal(x.slice(1));
  if (!t) return ZERO;
  [v.minor, x] = t;
  if (x === '') {
    // Before Go 1.21, "1.N" meant "1.N.0"; from 1.21 on it is the language version.
    if (compareDecimal(v.minor, '21') < 0) v.patch = '0';
    return v;
  }
  if (x[0] === '.') {
    // Patch releases have no prereleases.
    t = cutDecimal(x.slice(1));
    if (!t || t[1] !== '') return ZERO;
    v.patch = t[0];
    return v;
  }
  let i = 0;
  while (i < x.length && (x[i] < '0' || x[i] > '9')) {
    if (x[i] < 'a' || x[i] > 'z') return ZERO;
    i++;
  }
  if (i === 0) return ZERO;
  v.kind = x.slice(0, i);
  x = x.slice(i);
  if (x === '') return v;
  t = cutDecimal(x);
  if (!t || t[1] !== '') return ZERO;
  v.pre = t[0];
  return v;
}
// ---------------------------------------------------------------------------
// go.mod lookups (cmd/go/internal/gover/gomod.go)

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
