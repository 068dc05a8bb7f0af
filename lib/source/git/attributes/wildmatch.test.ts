import { describe, expect, it } from 'vitest';
import { wildmatch } from './wildmatch.js';

describe('wildmatch', () => {
  // A selection of git's t/t3070-wildmatch.sh cases: [pattern, text, match
  // without FNM_PATHNAME, match with FNM_PATHNAME].
  const cases: Array<[string, string, boolean, boolean]> = [
    ['foo', 'foo', true, true],
    ['foo', 'bar', false, false],
    ['???', 'foo', true, true],
    ['*f', 'foo', false, false],
    ['*', 'foo/bar', true, false],
    ['**', 'foo/bar', true, true],
    // Without FNM_PATHNAME '**' is just '*', so the slashes must both match.
    ['foo/**/bar', 'foo/bar', false, true],
    ['foo/**/bar', 'foo/a/b/bar', true, true],
    ['foo/*/bar', 'foo/a/b/bar', true, false],
    ['**/foo', 'foo', false, true],
    ['**/foo', 'x/y/foo', true, true],
    ['foo**bar', 'foo/x/bar', true, false],
    ['*/foo', 'a/foo', true, true],
    ['[ab]c', 'bc', true, true],
    ['[!ab]c', 'bc', false, false],
    ['[^ab]c', 'cc', true, true],
    ['[a-c]x', 'bx', true, true],
    ['[]]', ']', true, true],
    ['[]-]', '-', true, true],
    ['[[:alpha:]]', 'q', true, true],
    ['[[:digit:][:upper:]]', 'Q', true, true],
    ['[[:space:]]', '\v', false, false],
    ['[[:nope:]]', 'a', false, false],
    ['[a/]x', '/x', true, false],
    ['\\*', '*', true, true],
    ['\\*', 'x', false, false],
    ['a?c', 'a/c', true, false],
    ['*.TXT', 'a.txt', false, false],
    ['[', '[', false, false],
  ];
  it.each(cases)('%j vs %j', (p, t, plain, pathname) => {
    expect(wildmatch(p, t, false) === 0).toBe(plain);
    expect(wildmatch(p, t, true) === 0).toBe(pathname);
  });
});
