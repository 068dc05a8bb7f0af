import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { differential, pick, randomString, reportCounts, rng, XmodOracle } from '../../../test/support/xmodOracle.js';
import { goModLookup } from '../gover.js';
import { ModFileError } from './errors.js';
import { modulePath } from './read.js';
import { autoQuote, mustQuote, parseLax } from './rule.js';

const enc = (s: string) => new TextEncoder().encode(s);

// Hand-written go.mod files: the common shapes, every error the lax parser
// can report, and the comment placements that make up retract rationales.
const corpus: string[] = [
  '',
  'module example.com/m\n',
  'module example.com/m\ngo 1.21\n',
  'module "example.com/m"\n',
  'module `example.com/m`\n',
  'module "example.com/\\x41\\u00e9\\101"\n',
  'module "example.com/m\n',
  'module "example.com/m\\"\n',
  'module example.com/m extra\n',
  'module\n',
  'module example.com/a\nmodule example.com/b\n',
  'module (\n\texample.com/m\n)\n',
  'module (\n\texample.com/a\n\texample.com/b\n)\n',
  'module \'example.com/m\'\n',
  'module example.com/"m"\n',
  'module example.com/m // comment\n',
  'go 1.21\n',
  'go 1.21.0\n',
  'go 1.21rc1\n',
  'go 1.21beta\n',
  'go v1.21.x\n',
  'go 1.21 1.22\n',
  'go\n',
  'go 1\n',
  'go 01.21\n',
  'go 1.21\ngo 1.22\n',
  'go bad\ngo 1.22\n',
  'go "1.21"\n',
  'go (\n\t1.21\n)\n',
  'toolchain go1.21.0\n',
  'toolchain bad bad\n',
  'godebug x=y\n',
  'godebug (\n\tx\n)\n',
  'require example.com/x v1.0.0\n',
  'require example.com/x v1.0\n',
  'require example.com/x v1.0.0+incompatible\n',
  'require example.com/x v2.0.0\n',
  'require example.com/x v2.0.0+incompatible\n',
  'require example.com/x/v2 v1.0.0\n',
  'require example.com/x/v1 v1.0.0\n',
  'require gopkg.in/yaml.v2 v2.4.0\n',
  'require gopkg.in/check.v1 v0.0.0-20161208181325-20d25e280405\n',
  'require gopkg.in/yaml v1.0.0\n',
  'require example.com/x latest\n',
  'require example.com/x\n',
  'require example.com/x v1.0.0 extra\n',
  'require "example.com/x" "v1.0.0"\n',
  'require "example.com/x v1.0.0\n',
  'require example.com/x "v1.0.0\n',
  'require example.com/x \'v1.0.0\'\n',
  'require "" v1.0.0\n',
  'require (\n\texample.com/a v1.0.0\n\texample.com/b v1.0.0 // indirect\n)\n',
  'require (\n\texample.com/a\n\texample.com/b v1\n)\n',
  'require ( example.com/a v1.0.0 )\n',
  'require (\n)\n',
  'require ()\n',
  'require (\n\texample.com/a v1.0.0\n',
  'require (\n\texample.com/a v1.0.0\n) x\n',
  'require (\n\texample.com/a v1.0.0\n) // ok\n',
  'require x (\n\ty\n)\n',
  'exclude example.com/x bad\n',
  'replace example.com/x => bad bad bad\n',
  'replace (\n\tgarbage\n)\n',
  'unknown directive here\n',
  'retract v1.0.0\n',
  'retract v1.0.0 // bad release\n',
  '// bad release\nretract v1.0.0\n',
  '// first\n// second\nretract v1.0.0 // third\n',
  '// detached\n\nretract v1.0.0\n',
  'retract [v1.0.0, v1.1.0]\n',
  'retract [v1.0.0,v1.1.0]\n',
  'retract [ v1.0.0 , v1.1.0 ]\n',
  'retract [v1.0.0, v1.1.0] extra\n',
  'retract [v1.0.0 v1.1.0]\n',
  'retract [v1.0.0,\n',
  'retract [v1.0.0]\n',
  'retract (v1.0.0)\n',
  'retract\n',
  'retract "v1.0.0"\n',
  'retract "v1.0.0\n',
  'retract `v1.0.0`\n',
  'retract not-a-version\n',
  'retract [a, b]\n',
  'retract ["v1.0.0", "v1.1.0"]\n',
  '// block comment\nretract (\n\tv1.0.0\n\t// line comment\n\tv1.1.0\n\n\t// after blank\n\n\tv1.2.0 // suffix\n\t[v1.3.0, v1.4.0] // range\n)\n',
  '// only block\nretract (\n\tv1.0.0\n\tv1.1.0\n)\n',
  'retract ( // on paren\n\tv1.0.0\n) // on close\n',
  'retract v1.0.0 // a // b\n',
  'retract v1.0.0 //\tindented\t\n',
  'retract v1.0.0 //\u00a0nbsp\u00a0\n',
  'retract v1.0.0 // crlf\r\nretract v1.1.0\r\n',
  'module m\r\ngo 1.21\r\n',
  'module m /* c */\n',
  '/* c */\nmodule m\n',
  'module m/*x\n',
  'module m\u00a0\n',
  '\ufeffmodule m\n',
  'module m\v\n',
  'module m\x00\n',
  'module m\u200b\n',
  'module é.com/ü\n',
  'module m😀\n',
  'module (m)\n',
  'module m,n\n',
  'module m[0]\n',
  'module {m}\n',
  ')\n',
  '(\n',
  'module m\n)\n',
  '"unterminated',
  '`unterminated',
  '"a\\',
  'module "a\\\n',
  '`multi\nline`\n',
  'module `a\rb`\n',
  'module "a\rb"\n',
  '\tmodule m\n\t\tgo 1.21\n',
  'require (\n\texample.com/x v2.0.0\n\texample.com/y/v3 v1.0.0\n)\n',
  'go 1.21 // comment\nmodule m // comment\n',
  'module m\nretract v1.0.0\nretract v1.0.0\n',
  'retract ( v1.0.0\n',
  'retract (\n\tv1.0.0 )\n',
];

describe('modfile (unit)', () => {
  it('reads the module path laxly', () => {
    expect(modulePath(enc('// comment\nmodule  example.com/m // c\n'))).toBe('example.com/m');
    expect(modulePath(enc('module "example.com/m"\n'))).toBe('example.com/m');
    expect(modulePath(enc('module "example.com/m\n'))).toBe('');
    expect(modulePath(enc('modulex y\nmodule\nmodule z\n'))).toBe('z');
    expect(modulePath(enc('go 1.21\n'))).toBe('');
  });

  it('looks up go and toolchain lines', () => {
    expect(goModLookup(enc('module m\n\ngo 1.21 // c\ntoolchain go1.22.0\n'), 'go')).toBe('1.21');
    expect(goModLookup(enc('module m\ntoolchain go1.22.0\n'), 'toolchain')).toBe('go1.22.0');
    expect(goModLookup(enc('gopher 1\n'), 'go')).toBe('');
  });

  it('quotes only when it must', () => {
    expect(autoQuote('example.com/m')).toBe('example.com/m');
    expect(autoQuote('example.com/m v2')).toBe('"example.com/m v2"');
    expect(autoQuote('')).toBe('""');
    expect(autoQuote('(')).toBe('(');
    expect(autoQuote('a(')).toBe('"a("');
    expect(autoQuote('a//b')).toBe('"a//b"');
    expect(mustQuote('a\u00a0b')).toBe(true);
  });

  it('parses retractions with rationales', () => {
    const f = parseLax(enc(corpus.find((s) => s.startsWith('// block comment')) as string));
    expect(f.retract).toEqual([
      { low: 'v1.0.0', high: 'v1.0.0', rationale: 'block comment' },
      { low: 'v1.1.0', high: 'v1.1.0', rationale: 'line comment' },
      { low: 'v1.2.0', high: 'v1.2.0', rationale: 'after blank\nsuffix' },
      { low: 'v1.3.0', high: 'v1.4.0', rationale: 'range' },
    ]);
    expect(parseLax(enc('module m\ngo 1.21beta\n'))).toEqual({ module: 'm', go: '1.21', retract: [] });
  });

  it('fails like Go', () => {
    expect(() => parseLax(enc('module a\nmodule b\n'))).toThrow('go.mod:2: repeated module statement');
    expect(() => parseLax(enc('require (\n\tx/v2 v1.0.0\n)\n'))).toThrow(
      'go.mod:2:2: require x/v2: version "v1.0.0" invalid: should be v2, not v1',
    );
    expect(() => parseLax(enc('module m\u00a0\n'))).toThrow(ModFileError);
  });
});

/** Random go.mod text from directive-shaped lines with plenty of noise. */
function randomGoMod(next: () => number): string {
  const verbs = ['module', 'go', 'require', 'retract', 'toolchain', 'exclude', 'replace', 'godebug', 'foo', 'module', 'require', 'retract'];
  const args = [
    'example.com/m', 'example.com/m/v2', 'gopkg.in/x.v1', 'x/v0', '"example.com/q"', '"bad', '`raw`', "'s'", 'v1.0.0', 'v2.0.0',
    'v2.0.0+incompatible', 'v1.2', 'v1.0.0-pre', 'latest', '1.21', '1.21.0', '1.21rc1', 'v1.21.x', '01.2', '[', ']', ',', '(', ')',
    '{', '}', '=>', '../dir', 'x=y', '"v1.0.0"', '"\\x41"', '"\\q"', '😀', 'é', '\ufffd',
  ];
  const spaces = [' ', ' ', '\t', '  ', ' \r'];
  const junk = ['//c', '// note', '/*', '\u00a0', '\v', '"', '`', '\\', '\u200b', '\x00'];
  const lines: string[] = [];
  const n = Math.floor(next() * 8);
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const r = next();
    let line: string;
    if (r < 0.1) line = '';
    else if (r < 0.2) line = '//' + randomString(next, [' ', 'x', 'Deprecated:', '\t', 'é'], 4);
    else if (r < 0.27 && depth > 0) {
      line = ')';
      depth--;
    } else {
      const parts = depth > 0 ? [] : [pick(next, verbs)];
      const k = Math.floor(next() * 4);
      for (let j = 0; j < k; j++) parts.push(pick(next, args));
      if (depth === 0 && next() < 0.15) {
        parts.push('(');
        depth++;
      }
      line = parts.join(pick(next, spaces));
      if (depth > 0 && parts[0] !== '(' && !line.endsWith('(')) line = '\t' + line;
    }
    if (next() < 0.15) line += ' // ' + randomString(next, ['why', ' ', 'x'], 3);
    if (next() < 0.05) {
      const at = Math.floor(next() * (line.length + 1));
      line = line.slice(0, at) + pick(next, junk) + line.slice(at);
    }
    lines.push(line);
  }
  if (depth > 0 && next() < 0.8) lines.push(')');
  return lines.join(next() < 0.9 ? '\n' : '\r\n') + (next() < 0.8 ? '\n' : '');
}

/** go.mod text that is mostly retractions, with comments in every position. */
function randomRetractMod(next: () => number): string {
  const versions = ['v1.0.0', 'v1.1.0', 'v2.0.0+incompatible', '"v1.2.0"', 'v1.3', 'bad', '"bad', '`v1`', '[', ']', ','];
  const comment = () => '//' + randomString(next, [' ', 'reason', '\t', 'Deprecated:', ' x '], 4);
  const interval = () =>
    next() < 0.5 ? pick(next, versions) : ['[', pick(next, versions), next() < 0.9 ? ',' : '', pick(next, versions), next() < 0.9 ? ']' : ''].join(pick(next, ['', ' ']));
  const out: string[] = [next() < 0.8 ? 'module example.com/m' : ''];
  const n = 1 + Math.floor(next() * 6);
  for (let i = 0; i < n; i++) {
    if (next() < 0.3) out.push(comment());
    if (next() < 0.2) out.push('');
    if (next() < 0.6) {
      out.push(`retract ${interval()}${next() < 0.4 ? ' ' + comment() : ''}`);
    } else {
      out.push(`retract (${next() < 0.3 ? ' ' + comment() : ''}`);
      const k = Math.floor(next() * 5);
      for (let j = 0; j < k; j++) {
        if (next() < 0.3) out.push('\t' + comment());
        if (next() < 0.2) out.push('');
        out.push(`\t${interval()}${next() < 0.4 ? ' ' + comment() : ''}`);
      }
      if (next() < 0.2) out.push('\t' + comment());
      out.push(`)${next() < 0.2 ? ' ' + comment() : ''}`);
    }
  }
  return out.join('\n') + '\n';
}

describe('modfile (differential)', () => {
  let oracle: XmodOracle;
  beforeAll(async () => {
    oracle = await XmodOracle.start();
  });
  afterAll(async () => {
    await oracle?.close();
    reportCounts('modfile.test.ts');
  });

  const next = rng(1);
  const files: [Uint8Array][] = corpus.map((s) => [enc(s)]);
  for (let i = 0; i < 5000; i++) files.push([enc(randomGoMod(next))]);
  for (let i = 0; i < 2000; i++) files.push([enc(randomRetractMod(next))]);
  // Bytes that are not UTF-8 (and a real U+FFFD) at random places: in
  // identifiers, strings, versions and comments they read as U+FFFD, but
  // quoted in error messages they print as \xHH.
  const oddBytes = [[0x80], [0xbf], [0xc0], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf0, 0x9f], [0xff], [0xef, 0xbf, 0xbd]];
  for (let i = 0; i < 2000; i++) {
    const base = pick(next, files)[0];
    const bytes = Array.from(base);
    const k = 1 + Math.floor(next() * 3);
    for (let j = 0; j < k; j++) bytes.splice(Math.floor(next() * (bytes.length + 1)), 0, ...pick(next, oddBytes));
    files.push([Uint8Array.from(bytes)]);
  }
  files.push(
    [Uint8Array.from([...enc('module m'), 0xff, ...enc('\n')])],
    [Uint8Array.from([...enc('module "m'), 0xed, 0xa0, 0x80, ...enc('"\n')])],
    [Uint8Array.from([...enc('retract v1.0.0 // '), 0xc3, ...enc('\n')])],
    [Uint8Array.from([...enc('module m\ngo 1.21'), 0xe2, 0x82, ...enc('\n')])],
    [Uint8Array.from([...enc('require m '), 0xff, ...enc('v1\nrequire "\\xff" "v1.0.0'), 0x80, ...enc('"\n')])],
    [enc('module "\\xff\\xe2\\x82\\xac"\nrequire x "\\xff"\n')],
  );

  it('generates enough successful parses and rationales to mean something', () => {
    let ok = 0;
    let rationales = 0;
    for (const [b] of files) {
      try {
        rationales += parseLax(b).retract.filter((r) => r.rationale !== '').length;
        ok++;
      } catch {
        // counted by the differential test
      }
    }
    expect(ok).toBeGreaterThan(3000);
    expect(rationales).toBeGreaterThan(1000);
  });

  it('modfile.ParseLax', async () => {
    expect(await differential(oracle, 'modfile.ParseLax', files, parseLax, { bytesAs: 'go' })).toEqual([]);
  });

  it('modfile.ModulePath', async () => {
    expect(await differential(oracle, 'modfile.ModulePath', files, modulePath, { bytesAs: 'go' })).toEqual([]);
  });

  it('gover.GoModLookup', async () => {
    const cases: [Uint8Array, string][] = [];
    for (const [b] of files) cases.push([b, 'go'], [b, next() < 0.5 ? 'toolchain' : 'module']);
    cases.push([enc('go\t1.21'), 'go'], [enc('  go 1.21  '), 'go'], [enc('go1.21'), 'go'], [enc('\u0085go 1.21\u0085\n'), 'go']);
    expect(await differential(oracle, 'gover.GoModLookup', cases, goModLookup, { bytesAs: 'go' })).toEqual([]);
  });

  it('modfile.AutoQuote', async () => {
    const pieces = [...'abc/.-_~ ()[]{},"\'`', '//', '/*', 'é', '\u00a0', '\u200b', '\t', '\n', '😀', '\ud800', '\x7f', '\ufffd'];
    const cases: [string][] = [[''], ['('], ['a('], ['example.com/m']];
    for (let i = 0; i < 4000; i++) cases.push([randomString(next, pieces, 6)]);
    expect(await differential(oracle, 'modfile.AutoQuote', cases, autoQuote)).toEqual([]);
  });
});
