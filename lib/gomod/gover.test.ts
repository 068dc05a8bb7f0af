import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { differential, pick, randomString, reportCounts, rng, XmodOracle } from '../../test/support/xmodOracle.js';
import { compareGoVersions, goLang } from './gover.js';

// In the spirit of Go's gover tests, in increasing order (ties adjacent).
const ordered = ['', 'x', '1', '1.0', '1.0.0', '1.1', '1.2', '1.19', '1.20', '1.21', '1.21rc1', '1.21rc2', '1.21.0', '1.21.1', '1.22alpha1', '1.22beta1', '1.22rc1', '1.22.0', '1.99999999999999999', '2'];

const edge = ['1.21.0rc1', '1.21rc', '1.21x1', '1.21RC1', '01.21', '1.021', '1.21.01', 'go1.21', '1..21', '1.21.', '1.21.3.4', '1e3', '1.21-bigcorp', ' 1.21', '1.21rc01', '1.ü'];

describe('gover (unit)', () => {
  it('orders versions', () => {
    expect(compareGoVersions('1.21', '1.21rc1')).toBe(-1);
    expect(compareGoVersions('1.21rc1', '1.21.0')).toBe(-1);
    expect(compareGoVersions('1.20', '1.20.0')).toBe(0); // before 1.21 "1.N" is "1.N.0"
    expect(compareGoVersions('1.19', '1.2')).toBe(1);
    expect(compareGoVersions('x', 'y')).toBe(0);
  });

  it('finds the language version', () => {
    expect(goLang('1.24.3')).toBe('1.24');
    expect(goLang('1.21rc1')).toBe('1.21');
    expect(goLang('1.0.5')).toBe('1');
    expect(goLang('bad')).toBe('');
    expect(goLang('go1.21')).toBe('');
  });
});

describe('gover (differential)', () => {
  let oracle: XmodOracle;
  beforeAll(async () => {
    oracle = await XmodOracle.start();
  });
  afterAll(async () => {
    await oracle?.close();
    reportCounts('gover.test.ts');
  });

  function randomGoVersion(next: () => number): string {
    if (next() < 0.6) {
      const num = () => pick(next, ['0', '1', '2', '9', '19', '20', '21', '22', '24', '100', '01']);
      let v = pick(next, ['1', '1', '1', '2', '0', '10']);
      if (next() < 0.9) v += '.' + num();
      const r = next();
      if (r < 0.4) v += '.' + num();
      else if (r < 0.7) v += pick(next, ['rc', 'beta', 'alpha', 'x', 'RC', '']) + pick(next, ['', '1', '2', '10', '01']);
      return v;
    }
    return randomString(next, [...'0123456789.', 'rc', 'beta', 'a', '-', 'go', ' '], 7);
  }

  const next = rng(1);
  const singles = [...ordered, ...edge, ...Array.from({ length: 4000 }, () => randomGoVersion(next))];

  it('gover.Compare', async () => {
    const pairs: [string, string][] = [];
    const pool = [...ordered, ...edge];
    for (const x of pool) for (const y of pool) pairs.push([x, y]);
    for (let i = 0; i < 4000; i++) pairs.push([pick(next, singles), pick(next, singles)]);
    expect(await differential(oracle, 'gover.Compare', pairs, compareGoVersions)).toEqual([]);
  });

  it('gover.Lang', async () => {
    const cases = singles.map((v): [string] => [v]);
    expect(await differential(oracle, 'gover.Lang', cases, goLang)).toEqual([]);
    // goLang answers "" exactly for malformed versions: enough must be well-formed.
    expect(cases.filter(([v]) => goLang(v) !== '').length).toBeGreaterThan(1500);
  });
});
