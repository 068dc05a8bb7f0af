import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { differential, pick, randomString, reportCounts, rng, XmodOracle } from '../../test/support/xmodOracle.js';
import * as semver from './semver.js';

// Inputs in the spirit of x/mod's semver tests, ordered by precedence where
// valid (equal canonical forms adjacent).
const table = [
  'bad',
  'v1-alpha.beta.gamma',
  'v1-pre',
  'v1+meta',
  'v1-pre+meta',
  'v1.2-pre',
  'v1.2+meta',
  'v1.2-pre+meta',
  'v1.0.0-alpha',
  'v1.0.0-alpha.1',
  'v1.0.0-alpha.beta',
  'v1.0.0-beta',
  'v1.0.0-beta.2',
  'v1.0.0-beta.11',
  'v1.0.0-rc.1',
  'v1',
  'v1.0',
  'v1.0.0',
  'v1.2',
  'v1.2.0',
  'v1.2.3-456',
  'v1.2.3-456.789',
  'v1.2.3-456-789',
  'v1.2.3-456a',
  'v1.2.3-pre',
  'v1.2.3-pre+meta',
  'v1.2.3-pre.1',
  'v1.2.3-zzz',
  'v1.2.3',
  'v1.2.3+meta',
  'v1.2.3+meta-pre',
  'v1.2.3+meta-pre.sha.256a',
];

const edge = [
  '',
  'v',
  'v0',
  'v01',
  'v1.01',
  'v1.0.01',
  'v1.0.0-01',
  'v1.0.0-0',
  'v1.0.0-0a',
  'v1.0.0-a..b',
  'v1.0.0-',
  'v1.0.0+',
  'v1.0.0+a..b',
  'v1.0.0+01',
  'v1.0.0-a+b+c',
  'v1.0.0+incompatible',
  'v2.0.0+incompatible',
  'v1.2.3.4',
  'V1.2.3',
  '1.2.3',
  'v1.2.3 ',
  'v1.2.3-ß',
  'v99999999999999999999.0.0',
  'v1.19',
  'v1.2',
  'v1.10.0-rc.10',
  'v1.10.0-rc.9',
  'v0.0.0-20200101000000-abcdef123456',
  'v1.2.4-0.20200101000000-abcdef123456',
  'v1.0.0-\ud800',
  'v1.0.0-😀',
];

const alphabet = [...'v0123456789.-+', 'v', 'v', '.', '.', '0', '1', 'a', 'Z', 'rc', 'beta', '00', 'incompatible', ' ', 'é'];

/** Versions assembled from parts, mostly valid, sometimes with a bad part. */
function structuredVersion(next: () => number): string {
  const num = () => pick(next, ['0', '1', '2', '9', '10', '19', '01', '00', '123456789012345678901']);
  const ident = () => pick(next, ['alpha', 'beta', 'rc', '0', '1', '2', '11', '01', 'x-y', '-', 'A', 'zz9', '']);
  let v = 'v' + num();
  if (next() < 0.8) v += '.' + num();
  if (next() < 0.7) v += '.' + num();
  if (next() < 0.5) v += '-' + Array.from({ length: 1 + Math.floor(next() * 3) }, ident).join('.');
  if (next() < 0.3) v += '+' + Array.from({ length: 1 + Math.floor(next() * 2) }, ident).join('.');
  return v;
}

function randomVersions(seed: number, n: number): string[] {
  const next = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      out.push(structuredVersion(next));
      continue;
    }
    // Half start with a plausible prefix so that many are valid.
    const prefix = next() < 0.5 ? pick(next, ['v1.2.3', 'v0.0.0', 'v2', 'v1.2', 'v10.0.1', 'v1.0.0-']) : '';
    out.push(prefix + randomString(next, alphabet, 8));
  }
  return out;
}

describe('semver (unit)', () => {
  it('canonicalizes', () => {
    expect(semver.canonical('v1')).toBe('v1.0.0');
    expect(semver.canonical('v1.2')).toBe('v1.2.0');
    expect(semver.canonical('v1.2.3-pre+meta')).toBe('v1.2.3-pre');
    expect(semver.canonical('v1.2-pre')).toBe('');
    expect(semver.major('v2.1.0')).toBe('v2');
    expect(semver.prerelease('v1.2.3-pre+meta')).toBe('-pre');
    expect(semver.build('v1.2.3-pre+meta')).toBe('+meta');
  });

  it('orders the table', () => {
    const canon = table.map(semver.canonical);
    for (let i = 0; i < table.length; i++) {
      for (let j = 0; j < table.length; j++) {
        const want = canon[i] === canon[j] ? 0 : i < j ? -1 : 1;
        expect(semver.compare(table[i], table[j]), `${table[i]} vs ${table[j]}`).toBe(want);
      }
    }
    expect(semver.compare('v1.19', 'v1.2')).toBe(1);
    const shuffled = [...table].reverse();
    expect(semver.sort(shuffled)).toBe(shuffled);
    for (let i = 1; i < shuffled.length; i++) expect(semver.compare(shuffled[i - 1], shuffled[i])).toBeLessThanOrEqual(0);
  });
});

describe('semver (differential)', () => {
  let oracle: XmodOracle;
  beforeAll(async () => {
    oracle = await XmodOracle.start();
  });
  afterAll(async () => {
    await oracle?.close();
    reportCounts('semver.test.ts');
  });

  const singles = [...table, ...edge, ...randomVersions(1, 4000)].map((v) => [v] as [string]);

  it.each([
    ['semver.IsValid', semver.isValid],
    ['semver.Canonical', semver.canonical],
    ['semver.Major', semver.major],
    ['semver.Prerelease', semver.prerelease],
    ['semver.Build', semver.build],
  ] as const)('%s', async (op, f) => {
    expect(await differential(oracle, op, singles, f)).toEqual([]);
  });

  it('semver.Compare', async () => {
    const pool = [...table, ...edge];
    const pairs: [string, string][] = [];
    for (const v of pool) for (const w of pool) pairs.push([v, w]);
    const next = rng(2);
    const rand = randomVersions(3, 3000);
    for (let i = 0; i < 3000; i++) pairs.push([rand[i], next() < 0.5 ? pick(next, rand) : pick(next, pool)]);
    expect(await differential(oracle, 'semver.Compare', pairs, semver.compare)).toEqual([]);
  });

  it('semver.Sort', async () => {
    const next = rng(4);
    const lists: [string[]][] = [];
    const pool = [...table, ...edge, ...randomVersions(5, 500), 'x\ue000', 'x😀', 'x\ud800'];
    for (let i = 0; i < 300; i++) {
      const n = Math.floor(next() * 30);
      lists.push([Array.from({ length: n }, () => pick(next, pool))]);
    }
    lists.push([[...pool]]);
    expect(await differential(oracle, 'semver.Sort', lists, (l) => semver.sort([...l]))).toEqual([]);
  });
});
