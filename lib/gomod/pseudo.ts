// Port of golang.org/x/mod/module/pseudo.go (x/mod v0.19.0, Go 1.23).
//
// A pseudo-version names an untagged revision. Its three shapes, for a
// timestamp yyyymmddhhmmss (UTC) and a revision id (12 hex digits of the
// commit hash by convention):
//
//	vX.0.0-yyyymmddhhmmss-abcdef123456            no earlier tag
//	vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef123456      after release vX.Y.Z
//	vX.Y.Z-pre.0.yyyymmddhhmmss-abcdef123456      after prerelease vX.Y.Z-pre
//
// the last two optionally followed by +incompatible.
import { daysIn, utcDate } from './civilTime.js';
import { GoError, InvalidVersionError, quote } from './module.js';
import * as semver from './semver.js';

const pseudoVersionRE =
  /^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

/**
 * pseudoVersion returns the pseudo-version for major ("v1"; "" means "v0"),
 * the most recent earlier tag older ("" or e.g. "v1.2.3", "v1.2.3-pre", with
 * any build suffix carried over), the revision time t and revision id rev.
 */
export function pseudoVersion(major: string, older: string, t: Date, rev: string): string {
  if (major === '') major = 'v0';
  const segment = `${formatPseudoVersionTime(t)}-${rev}`;
  const build = semver.build(older);
  older = semver.canonical(older);
  if (older === '') return `${major}.0.0-${segment}`;
  if (semver.prerelease(older) !== '') return `${older}.0.${segment}${build}`;
  // vMAJOR.MINOR.PATCH → vMAJOR.MINOR.(PATCH+1)-0.
  const i = older.lastIndexOf('.') + 1;
  return `${older.slice(0, i)}${incDecimal(older.slice(i))}-0.${segment}${build}`;
}

/**
 * t.UTC().Format("20060102150405"), the timestamp of a pseudo-version. Go
 * writes the year zero-padded to four digits after any minus sign, and wider
 * years in full.
 */
export function formatPseudoVersionTime(t: Date): string {
  const ms = t.getTime();
  if (Number.isNaN(ms)) throw new RangeError('pseudoVersion: invalid Date');
  const y = t.getUTCFullYear();
  const year = (y < 0 ? '-' : '') + String(Math.abs(y)).padStart(4, '0');
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    year +
    two(t.getUTCMonth() + 1) +
    two(t.getUTCDate()) +
    two(t.getUTCHours()) +
    two(t.getUTCMinutes()) +
    two(t.getUTCSeconds())
  );
}

/** The decimal string plus one ("9" → "10"), without overflow. */
function incDecimal(decimal: string): string {
  const digits = decimal.split('');
  let i = digits.length - 1;
  for (; i >= 0 && digits[i] === '9'; i--) digits[i] = '0';
  if (i >= 0) {
    digits[i] = String.fromCharCode(digits[i].charCodeAt(0) + 1);
  } else {
    // All nines, now all zeros.
    digits[0] = '1';
    digits.push('0');
  }
  return digits.join('');
}

/** The decimal string minus one ("10" → "9"), or "" if it is all zeros. */
function decDecimal(decimal: string): string {
  const digits = decimal.split('');
  let i = digits.length - 1;
  for (; i >= 0 && digits[i] === '0'; i--) digits[i] = '9';
  if (i < 0) return '';
  if (i === 0 && digits[i] === '1' && digits.length > 1) digits.shift();
  else digits[i] = String.fromCharCode(digits[i].charCodeAt(0) - 1);
  return digits.join('');
}

/** isPseudoVersion reports whether v is a pseudo-version (syntactically). */
export function isPseudoVersion(v: string): boolean {
  return v.split('-').length - 1 >= 2 && semver.isValid(v) && pseudoVersionRE.test(v);
}

/**
 * pseudoVersionTime returns the timestamp of the pseudo-version v (UTC).
 * Throws InvalidVersionError (pseudo) for a non-pseudo-version or an
 * impossible date such as month 13 or February 30.
 */
export function pseudoVersionTime(v: string): Date {
  const { timestamp } = parsePseudoVersion(v);
  const t = parseTimestamp(timestamp);
  if (!t) throw new InvalidVersionError(v, true, new GoError(`malformed time ${quote(timestamp)}`));
  return t;
}

/**
 * time.Parse("20060102150405", s) for the 14 digits the regexp guarantees:
 * month 1-12, day valid for that month (proleptic Gregorian leap years),
 * hour < 24, minute < 60, second < 60.
 */
function parseTimestamp(s: string): Date | undefined {
  const n = (from: number, to: number) => Number(s.slice(from, to));
  const [year, month, day, hour, min, sec] = [n(0, 4), n(4, 6), n(6, 8), n(8, 10), n(10, 12), n(12, 14)];
  if (month < 1 || month > 12) return undefined;
  if (day < 1 || day > daysIn(month, year)) return undefined;
  if (hour >= 24 || min >= 60 || sec >= 60) return undefined;
  return utcDate(year, month, day, hour, min, sec);
}

/** pseudoVersionRev returns the revision id of the pseudo-version v (throws if v is not one). */
export function pseudoVersionRev(v: string): string {
  return parsePseudoVersion(v).rev;
}

/**
 * pseudoVersionBase returns the canonical version the pseudo-version v is
 * based on ("" for the no-tag form), keeping a +incompatible suffix. Throws
 * InvalidVersionError (pseudo) for a non-pseudo-version, a no-tag form with
 * build metadata, or a "-0." form whose base would need a negative patch.
 */
export function pseudoVersionBase(v: string): string {
  let { base, build } = parsePseudoVersion(v);
  const pre = semver.prerelease(base);
  switch (pre) {
    case '':
      // vX.0.0-yyyymmddhhmmss-abcdef123456 → "". With +incompatible it makes
      // no sense (no parent tag, yet an incompatible parent), so reject it.
      if (build !== '') {
        throw new InvalidVersionError(v, true, new GoError(`lacks base version, but has build metadata ${quote(build)}`));
      }
      return '';
    case '-0': {
      // vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef123456 → vX.Y.Z
      base = base.slice(0, -pre.length);
      const i = base.lastIndexOf('.');
      if (i < 0) throw new Error(`base from parsePseudoVersion missing patch number: ${base}`);
      const patch = decDecimal(base.slice(i + 1));
      if (patch === '') {
        // vX.Y.0-0.… has been seen in the wild but has no sensible base.
        throw new InvalidVersionError(v, true, new GoError(`version before ${base} would have negative patch number`));
      }
      return base.slice(0, i + 1) + patch + build;
    }
    default:
      // vX.Y.Z-pre.0.yyyymmddhhmmss-abcdef123456 → vX.Y.Z-pre
      if (!base.endsWith('.0')) throw new Error(`base from parsePseudoVersion missing ".0" before date: ${base}`);
      return base.slice(0, -'.0'.length) + build;
  }
}

interface PseudoParts {
  base: string;
  timestamp: string;
  rev: string;
  build: string;
}

function parsePseudoVersion(v: string): PseudoParts {
  if (!isPseudoVersion(v)) throw new InvalidVersionError(v, true, new GoError('syntax error'));
  const build = semver.build(v);
  v = v.slice(0, v.length - build.length);
  const j = v.lastIndexOf('-');
  const rev = v.slice(j + 1);
  v = v.slice(0, j);
  const i = v.lastIndexOf('-');
  const dot = v.lastIndexOf('.');
  if (dot > i) return { base: v.slice(0, dot), timestamp: v.slice(dot + 1), rev, build }; // "vX.Y.Z-pre.0" or "vX.Y.(Z+1)-0"
  return { base: v.slice(0, i), timestamp: v.slice(i + 1), rev, build }; // "vX.0.0"
}
