// Unsigned decimal numbers kept as strings, so that versions with huge
// numbers never overflow: what semver's and gover's parsers read and compare.

/**
 * A leading decimal number without an unnecessary leading zero ("0" is fine,
 * "01" is not), and the rest of s; undefined if s does not start with one.
 */
export function cutDecimal(s: string): [n: string, rest: string] | undefined {
  let i = 0;
  while (i < s.length && s[i] >= '0' && s[i] <= '9') i++;
  if (i === 0 || (s[0] === '0' && i !== 1)) return undefined;
  return [s.slice(0, i), s.slice(i)];
}

/** Compares decimal strings without leading zeros: -1, 0 or +1. "" sorts first. */
export function compareDecimal(x: string, y: string): -1 | 0 | 1 {
  if (x === y) return 0;
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : 1;
}
