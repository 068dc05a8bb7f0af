import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  differential,
  pick,
  randomString,
  reportCounts,
  rng,
  stableStringify,
  XmodOracle,
  type OracleError,
} from '../../test/support/xmodOracle.js';
import * as mod from './module.js';
import { GoError, InvalidPathError, InvalidVersionError, ModuleError } from './module.js';

// Paths in the spirit of x/mod's module tests: [path, module ok, file ok].
// The answers are those of x/mod v0.19.0 (Go 1.23): later x/mod releases
// accept '+' in module paths.
const pathTable: [string, boolean, boolean][] = [
  ['x.y/z', true, true],
  ['x.y', true, true],
  ['', false, false],
  ['x.y/\ud800z', false, false],
  ['/x.y/z', false, false],
  ['x./z', false, false],
  ['.x/z', false, true],
  ['-x/z', false, true],
  ['x..y/z', true, true],
  ['x.y/z/../../w', false, false],
  ['x.y//z', false, false],
  ['x.y/z//w', false, false],
  ['x.y/z/', false, false],
  ['x.y/z/v0', false, true],
  ['x.y/z/v1', false, true],
  ['x.y/z/v2', true, true],
  ['x.y/z/v2.0', false, true],
  ['X.y/z', false, true],
  ['!x.y/z', false, true],
  ['_x.y/z', false, true],
  ['x.y+/z', false, true],
  ['x.y/z+', false, true],
  ['x.y/z@', false, true],
  ['x.y/z~', true, true],
  ['x.y/aux.foo', false, false],
  ['x.y/prn', false, false],
  ['x.y/prn2', true, true],
  ['x.y/com1.txt', false, false],
  ['x.y/calm1', true, true],
  ['x.y/nuL.txt', false, false],
  ['x.y/Lpt9', false, false],
  ['x.y/com10', true, true],
  ['x.y/\uff43on', false, true],
  ['x.y/\u212aon.go', false, true],
  ['x.y/foo~1', false, true],
  ['github.com/!123/logrus', false, true],
  ['github.com/user/unicode/испытание', false, true],
  ['x:y', false, false],
  ['.gitignore', false, true],
  ['x☺y', false, false],
  ['x.y/\u0301', false, false],
  ['x.y/README.', false, false],
];

const pieces = [
  ...'abcxyzAZ0129./-_~+!@ :',
  'v', 'v0', 'v1', 'v2', 'v10', 'v02', '.v1', '.v0', '-unstable', 'gopkg.in/', 'github.com/', 'x.y', '..', '//',
  'con', 'COM1', 'lpt9', 'aux', 'Nul', '~1', 'ｃon', 'é', 'ǅ', '中', '😀', '\ud800', '\udc00', '\u0301', '\u200b',
  '\u00a0', '\u0085', '\t', '\n', '"', "'", '`', '\\', '*', '?', '<', '>', '|', ';', '%', '#', '$', '&', '(', ')',
  ',', '=', '[', ']', '^', '{', '}', 'ß', '\u{e0001}', '\u{10ffff}', '\ufffd', '\u212a', '\u2ebf0', '\u{2ebf0}',
];

const hosts = ['github.com', 'golang.org', 'example.com', 'gopkg.in', 'x.y', 'X.y', '-x.y', 'localhost', '127.0.0.1', 'a.b-c', 'a_b.c', ''];
const suffixes = ['', '', '', '/v2', '/v1', '/v0', '/v02', '/v2.0', '.v1', '.v0', '.v2', '.v2-unstable', '/v10', '.v01', '/v', '-unstable'];
const plainElems = ['foo', 'bar', 'v2', 'go-yaml', 'yaml', 'x.v1', 'a~b', 'q_r', 'README.md', '.github', 'Foo', 'ü'];

function randomPath(next: () => number): string {
  if (next() < 0.4) return randomString(next, pieces, 8);
  let p = pick(next, hosts);
  const n = Math.floor(next() * 4);
  for (let i = 0; i < n; i++) p += '/' + (next() < 0.8 ? pick(next, plainElems) : randomString(next, pieces, 3));
  return p + pick(next, suffixes);
}

function paths(seed: number, n: number): [string][] {
  const next = rng(seed);
  const out: [string][] = pathTable.map(([p]) => [p]);
  for (let i = 0; i < n; i++) out.push([randomPath(next)]);
  return out;
}

const versionPool = [
  'v0.0.0', 'v1.0.0', 'v2.0.0', 'v2.1.5', 'v3.0.0', 'v17.0.0+incompatible', 'v2.0.0+incompatible', 'v1.0.0+meta',
  'v0.0.0-20160102150405-abcdef123456', 'v1.2.4-0.20200101000000-abcdef123456', 'v1', 'v2', 'v1.2', '1.0.0', 'v0.8.0',
  'bad', '', 'v1.0.0-rc.1', 'v10.0.0', 'master', 'feature/x', 'v1.0.0!', 'V1.0.0', 'v1.0.0-RC1', 'CON', 'a.', '...',
  'v1.0.0 beta', 'Ä', 'v1.0.0-\ud800',
];
const pathMajors = ['', '/v2', '/v3', '/v10', '.v0', '.v1', '.v2', '.v1-unstable', '.v2-unstable', '/v1', '/v0', 'v2', 'x', '/', '.', '/v', '.v', '/vX', '/v2.0', '-unstable', '.v1-unstable-unstable'];

describe('module (unit)', () => {
  it('checks paths like the Go test table', () => {
    const ok = (f: (s: string) => void, p: string) => {
      try {
        f(p);
        return true;
      } catch {
        return false;
      }
    };
    const got = pathTable.map(([p]) => [p, ok(mod.checkPath, p), ok(mod.checkFilePath, p)]);
    expect(got).toEqual(pathTable);
  });

  it('produces Go error texts and types', () => {
    expect(() => mod.checkFilePath('a:b.go')).toThrow('malformed file path "a:b.go": invalid char \':\'');
    expect(() => mod.checkFilePath('x/aux.go')).toThrow('malformed file path "x/aux.go": "aux" disallowed as path element component on Windows');
    expect(() => mod.checkFilePath('a\tb')).toThrow(`malformed file path "a\\tb": invalid char '\\t'`);
    expect(() => mod.escapeVersion('feature/x')).toThrow('version "feature/x" invalid: disallowed version string');
    expect(() => mod.unescapePath('github.com/!Foo')).toThrow('invalid escaped module path "github.com/!Foo"');
    try {
      mod.check('example.com/m/v2', 'v1.0.0');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ModuleError);
      const me = e as ModuleError;
      expect(me.message).toBe('example.com/m/v2@v1.0.0: invalid version: should be v2, not v1');
      expect(me.path).toBe('example.com/m/v2');
      expect(me.version).toBe('');
      expect(me.err).toBeInstanceOf(InvalidVersionError);
    }
    const pseudo = new ModuleError('m.x/y', '', new InvalidVersionError('v1.0.0-x', true, new GoError('boom')));
    expect(pseudo.message).toBe('m.x/y@v1.0.0-x: invalid pseudo-version: boom');
    expect(new ModuleError('m.x/y', 'v1.0.0', new GoError('boom')).message).toBe('m.x/y@v1.0.0: boom');
    expect(new ModuleError('m.x/y', '', new GoError('boom')).message).toBe('module m.x/y: boom');
  });

  it('splits and escapes', () => {
    expect(mod.splitPathVersion('x.y/z/v2')).toEqual({ prefix: 'x.y/z', pathMajor: '/v2', ok: true });
    expect(mod.splitPathVersion('gopkg.in/yaml.v2')).toEqual({ prefix: 'gopkg.in/yaml', pathMajor: '.v2', ok: true });
    expect(mod.escapePath('github.com/GoogleCloudPlatform/omega')).toBe('github.com/!google!cloud!platform/omega');
    expect(mod.unescapePath('github.com/!google!cloud!platform/omega')).toBe('github.com/GoogleCloudPlatform/omega');
    expect(mod.escapeVersion('v1.0.0-RC1')).toBe('v1.0.0-!r!c1');
    expect(mod.pathMajorPrefix('.v1-unstable')).toBe('v1');
  });
});

describe('module (differential)', () => {
  let oracle: XmodOracle;
  beforeAll(async () => {
    oracle = await XmodOracle.start();
  });
  afterAll(async () => {
    await oracle?.close();
    reportCounts('module.test.ts');
  });

  const allPaths = paths(1, 5000);

  it.each([
    ['module.CheckPath', mod.checkPath],
    ['module.CheckFilePath', mod.checkFilePath],
    ['module.SplitPathVersion', mod.splitPathVersion],
    ['module.EscapePath', mod.escapePath],
  ] as const)('%s', async (op, f) => {
    expect(await differential(oracle, op, allPaths, f)).toEqual([]);
  });

  it('accepts enough of the random paths to mean something', () => {
    const ok = allPaths.filter(([p]) => {
      try {
        mod.checkPath(p);
        return true;
      } catch {
        return false;
      }
    });
    expect(ok.length).toBeGreaterThan(800);
  });

  it('module.UnescapePath', async () => {
    const next = rng(2);
    const cases: [string][] = [
      ['github.com/GoogleCloudPlatform/omega'],
      ['github.com/!google!cloud!platform!/omega'],
      ['github.com/!0google!cloud!platform/omega'],
      ['github.com/!_google!cloud!platform/omega'],
      ['github.com/!!google!cloud!platform/omega'],
      [''],
    ];
    for (const [p] of allPaths) {
      let esc = p.replace(/[A-Z]/g, (c) => '!' + c.toLowerCase());
      if (next() < 0.3) esc = randomString(next, [...pieces, '!a', '!z', '!', '!A'], 6) + esc;
      cases.push([esc]);
    }
    expect(await differential(oracle, 'module.UnescapePath', cases, mod.unescapePath)).toEqual([]);
  });

  it('module.EscapeVersion and module.UnescapeVersion', async () => {
    const next = rng(3);
    const cases: [string][] = versionPool.map((v) => [v]);
    for (let i = 0; i < 4000; i++) {
      cases.push([next() < 0.5 ? pick(next, versionPool) + randomString(next, pieces, 3) : randomString(next, pieces, 6)]);
    }
    expect(await differential(oracle, 'module.EscapeVersion', cases, mod.escapeVersion)).toEqual([]);
    const escaped = cases.map(([v]): [string] => [next() < 0.7 ? v.replace(/[A-Z]/g, (c) => '!' + c.toLowerCase()) : v]);
    expect(await differential(oracle, 'module.UnescapeVersion', escaped, mod.unescapeVersion)).toEqual([]);
  });

  function versionCases(seed: number, n: number): string[] {
    const next = rng(seed);
    const out = [...versionPool];
    for (let i = 0; i < n; i++) {
      out.push(
        next() < 0.7
          ? `v${pick(next, ['0', '1', '2', '3', '10'])}.${pick(next, ['0', '1'])}.${pick(next, ['0', '5'])}${pick(next, ['', '', '-pre', '+incompatible', '-0.20200101000000-abcdef123456', '+meta'])}`
          : randomString(next, ['v', '0', '1', '2', '.', '-', '+', 'incompatible', 'v0.0.0-'], 6),
      );
    }
    return out;
  }

  it('module.CheckPathMajor, module.MatchPathMajor, module.CanonicalVersion', async () => {
    const next = rng(4);
    const versions = versionCases(5, 1500);
    const pairs: [string, string][] = [];
    for (const v of versions) for (let k = 0; k < 3; k++) pairs.push([v, pick(next, pathMajors)]);
    expect(await differential(oracle, 'module.CheckPathMajor', pairs, mod.checkPathMajor)).toEqual([]);
    expect(await differential(oracle, 'module.MatchPathMajor', pairs, mod.matchPathMajor)).toEqual([]);
    expect(await differential(oracle, 'module.CanonicalVersion', versions.map((v): [string] => [v]), mod.canonicalVersion)).toEqual([]);
  });

  it('module.PathMajorPrefix (Go panics where we throw)', async () => {
    const next = rng(6);
    const cases: [string][] = pathMajors.map((p) => [p]);
    for (let i = 0; i < 2000; i++) {
      cases.push([pick(next, ['/', '.', '', '/v', '.v']) + randomString(next, ['v', '0', '1', '2', '9', '-unstable', '.', 'x', '+'], 4)]);
    }
    expect(await differential(oracle, 'module.PathMajorPrefix', cases, mod.pathMajorPrefix, { isPanic: () => true })).toEqual([]);
  });

  it('module.Check', async () => {
    const next = rng(7);
    const cases: [string, string][] = [
      ['rsc.io/quote', '0.1.0'],
      ['rsc io/quote', 'v1.0.0'],
      ['github.com/go-yaml/yaml', 'v2.0.0'],
      ['github.com/go-yaml/yaml/v2', 'v2.1.5'],
      ['gopkg.in/yaml.v0', 'v1.0.0'],
      ['gopkg.in/check.v1', 'v0.0.0-20160102150405-abcdef123456'],
      ['gopkg.in/check.v1', 'v0.0.0'],
      ['rsc.io/quote', 'v17.0.0+incompatible'],
    ];
    const versions = versionCases(8, 500);
    for (let i = 0; i < 4000; i++) cases.push([pick(next, allPaths)[0], pick(next, versions)]);
    expect(await differential(oracle, 'module.Check', cases, mod.check)).toEqual([]);
  });

  /** Our error as the oracle describes Go's: %T plus the structured fields. */
  function errorShape(e: unknown): OracleError {
    if (e instanceof ModuleError) return { msg: e.message, type: '*module.ModuleError', path: e.path, version: e.version, err: errorShape(e.err) };
    if (e instanceof InvalidVersionError) return { msg: e.message, type: '*module.InvalidVersionError', version: e.version, pseudo: e.pseudo, err: errorShape(e.err) };
    if (e instanceof InvalidPathError) return { msg: e.message, type: '*module.InvalidPathError', kind: e.pathKind, path: e.path, err: errorShape(e.err) };
    if (e instanceof GoError) return { msg: e.message, type: '*errors.errorString' };
    throw e;
  }

  it('error types and fields match Go', async () => {
    const next = rng(9);
    const versions = versionCases(10, 200);
    const calls: { op: string; args: string[]; f: () => unknown }[] = [];
    for (let i = 0; i < 1500; i++) {
      const p = pick(next, allPaths)[0];
      const v = pick(next, versions);
      const pm = pick(next, pathMajors);
      calls.push(
        { op: 'module.Check', args: [p, v], f: () => mod.check(p, v) },
        { op: 'module.CheckFilePath', args: [p], f: () => mod.checkFilePath(p) },
        { op: 'module.CheckPathMajor', args: [v, pm], f: () => mod.checkPathMajor(v, pm) },
        { op: 'module.EscapeVersion', args: [v], f: () => mod.escapeVersion(v) },
        { op: 'module.UnescapePath', args: [p], f: () => mod.unescapePath(p) },
      );
    }
    const resps = await oracle.callMany(calls.map((c) => [c.op, ...c.args]));
    const bad: unknown[] = [];
    calls.forEach((c, i) => {
      let ours: OracleError | undefined;
      try {
        c.f();
      } catch (e) {
        ours = errorShape(e);
      }
      if (stableStringify(ours) !== stableStringify(resps[i].err)) bad.push({ ...c, go: resps[i].err, ours });
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('quote and quoteRune (Go %q)', async () => {
    const next = rng(11);
    const strs: [string][] = [];
    for (let i = 0; i < 5000; i++) {
      strs.push([randomString(next, [...pieces, '\u0000', '\u0007', '\u007f', '\u0080', '\u009f', '\u00ad', '\ufeff', '\u{1f600}', '\u{e0000}', '\u{10fffe}'], 8)]);
    }
    expect(await differential(oracle, 'strconv.Quote', strs, mod.quote)).toEqual([]);
    // isPrint, which decides quoting, is checked on every code point in
    // fold.test.ts; here Latin-1, a spread of the rest and invalid runes.
    const runes: [number][] = [];
    for (let r = 0; r < 0x100; r++) runes.push([r]);
    for (let r = 0x100; r < 0x110000; r += 37) runes.push([r]);
    runes.push([-1], [0x110000], [0x7fffffff]);
    expect(await differential(oracle, 'strconv.QuoteRune', runes, mod.quoteRune)).toEqual([]);
  });
});
