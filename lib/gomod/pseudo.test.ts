import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { differential, pick, randomString, reportCounts, rng, XmodOracle } from '../../test/support/xmodOracle.js';
import { InvalidVersionError } from './module.js';
import { isPseudoVersion, pseudoVersion, pseudoVersionBase, pseudoVersionRev, pseudoVersionTime } from './pseudo.js';

const when = new Date(Date.UTC(2022, 0, 1, 0, 0, 0));

describe('pseudo (unit)', () => {
  it('builds the three forms', () => {
    expect(pseudoVersion('', '', when, '849169902c8a')).toBe('v0.0.0-20220101000000-849169902c8a');
    expect(pseudoVersion('v2', '', when, '849169902c8a')).toBe('v2.0.0-20220101000000-849169902c8a');
    expect(pseudoVersion('v1', 'v1.2.3', when, '849169902c8a')).toBe('v1.2.4-0.20220101000000-849169902c8a');
    expect(pseudoVersion('v1', 'v1.2.9', when, 'abc')).toBe('v1.2.10-0.20220101000000-abc');
    expect(pseudoVersion('v1', 'v1.3.0-rc.1', when, '849169902c8a')).toBe('v1.3.0-rc.1.0.20220101000000-849169902c8a');
    expect(pseudoVersion('', 'v3.0.0+incompatible', when, 'a9f3f920ab20')).toBe('v3.0.1-0.20220101000000-a9f3f920ab20+incompatible');
    // Go's zero time: the year is zero-padded to four digits.
    const yearOne = new Date(0);
    yearOne.setUTCFullYear(1, 0, 1);
    expect(pseudoVersion('v2', '', yearOne, '000000000000')).toBe('v2.0.0-00010101000000-000000000000');
  });

  it('parses them back', () => {
    const v = 'v1.2.4-0.20220101000000-849169902c8a';
    expect(isPseudoVersion(v)).toBe(true);
    expect(pseudoVersionRev(v)).toBe('849169902c8a');
    expect(pseudoVersionTime(v).toISOString()).toBe('2022-01-01T00:00:00.000Z');
    expect(pseudoVersionBase(v)).toBe('v1.2.3');
    expect(pseudoVersionBase('v1.3.0-rc.1.0.20220101000000-849169902c8a')).toBe('v1.3.0-rc.1');
    expect(pseudoVersionBase('v3.0.1-0.20200401000000-a9f3f920ab20+incompatible')).toBe('v3.0.0+incompatible');
    expect(pseudoVersionBase('v0.0.0-20220101000000-849169902c8a')).toBe('');
    expect(pseudoVersionTime('v0.0.0-00000229000000-849169902c8a').getUTCFullYear()).toBe(0);
  });

  it('fails like Go', () => {
    expect(() => pseudoVersionRev('v1.2.3')).toThrow('pseudo-version "v1.2.3" invalid: syntax error');
    expect(() => pseudoVersionTime('v0.0.0-20221301000000-849169902c8a')).toThrow(
      'pseudo-version "v0.0.0-20221301000000-849169902c8a" invalid: malformed time "20221301000000"',
    );
    expect(() => pseudoVersionBase('v1.2.0-0.20220101000000-849169902c8a')).toThrow(
      'would have negative patch number',
    );
    expect(() => pseudoVersionBase('v0.0.0-20220101000000-849169902c8a+incompatible')).toThrow(
      'lacks base version, but has build metadata "+incompatible"',
    );
    try {
      pseudoVersionRev('x');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidVersionError);
      expect((e as InvalidVersionError).pseudo).toBe(true);
    }
  });
});

/** Pseudo-versions of every form, well- and ill-formed. */
function pseudoCases(seed: number, n: number): string[] {
  const next = rng(seed);
  const ts = (): string => {
    if (next() < 0.6) {
      const d = new Date(Math.floor(next() * 253402300799999));
      return d.toISOString().replace(/[-T:]|\.\d+Z$/g, '');
    }
    const two = () => pick(next, ['00', '01', '02', '12', '13', '23', '24', '28', '29', '30', '31', '59', '60', '99']);
    return pick(next, ['0000', '0001', '1900', '2000', '2020', '2021', '2024', '2100', '9999']) + two() + two() + two() + two() + two();
  };
  const rev = () => (next() < 0.7 ? '849169902c8a' : pick(next, ['abcdef123456', '000000000000', 'ABCDEF', 'a', '', 'abc-def', 'abc.def', 'g1']));
  const build = () => (next() < 0.6 ? '' : pick(next, ['+incompatible', '+meta', '+a.b', '+', '+a..b']));
  const num = () => (next() < 0.9 ? pick(next, ['0', '1', '2', '9', '10', '99']) : '01');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let v: string;
    switch (Math.floor(next() * 4)) {
      case 0:
        v = `v${num()}.0.0-${ts()}-${rev()}${build()}`;
        break;
      case 1:
        v = `v${num()}.${num()}.${num()}-0.${ts()}-${rev()}${build()}`;
        break;
      case 2:
        v = `v${num()}.${num()}.${num()}-${pick(next, ['pre', 'rc.1', 'a.b', '0', '0.0', 'x-y', 'pre.0'])}.0.${ts()}-${rev()}${build()}`;
        break;
      default:
        v = `v${num()}.${num()}.${num()}-${randomString(next, ['0', '.', '-', 'a', '1'], 4)}${ts()}-${rev()}${build()}`;
    }
    if (next() < 0.15) {
      // Corrupt one character.
      const k = Math.floor(next() * v.length);
      v = v.slice(0, k) + pick(next, ['', '.', '-', 'x', '0', '+']) + v.slice(k + 1);
    }
    out.push(v);
  }
  return out;
}

describe('pseudo (differential)', () => {
  let oracle: XmodOracle;
  beforeAll(async () => {
    oracle = await XmodOracle.start();
  });
  afterAll(async () => {
    await oracle?.close();
    reportCounts('pseudo.test.ts');
  });

  const versions = [
    ...pseudoCases(1, 6000),
    'v1.2.3',
    'v0.0.0-00010101000000-000000000000',
    'v1.0.0-00010101000000-000000000000',
    'v2.0.0-00010101000000-000000000000',
    'v0.0.0-20200229000000-abcdef123456',
    'v0.0.0-20210229000000-abcdef123456',
    'v0.0.0-19000229000000-abcdef123456',
    'v0.0.0-20000229000000-abcdef123456',
    'v0.0.0-20200431000000-abcdef123456',
    'v0.0.0-20201231235959-abcdef123456',
    'v0.0.0-20201231240000-abcdef123456',
    'v1.2.4-0.20220101000000-849169902c8a+incompatible',
    'v1.0.0-0.20220101000000-849169902c8a',
    'v1.2.3-pre.0.20220101000000-849169902c8a+incompatible',
  ].map((v): [string] => [v]);

  it('generates enough real pseudo-versions to mean something', () => {
    expect(versions.filter(([v]) => isPseudoVersion(v)).length).toBeGreaterThan(2000);
  });

  it.each([
    ['module.IsPseudoVersion', isPseudoVersion],
    ['module.PseudoVersionRev', pseudoVersionRev],
    ['module.PseudoVersionBase', pseudoVersionBase],
    ['module.PseudoVersionTime', (v: string) => pseudoVersionTime(v).getTime()],
  ] as const)('%s', async (op, f) => {
    expect(await differential(oracle, op, versions, f)).toEqual([]);
  });

  it('module.PseudoVersion', async () => {
    const next = rng(2);
    const majors = ['', 'v0', 'v1', 'v2', 'v10', 'x', 'v1.0'];
    const olders = [
      '', 'v1.2.3', 'v1.2.9', 'v1.9.99', 'v0.0.0', 'v1', 'v1.2', 'v1.2.3-pre', 'v1.2.3-pre+meta', 'v1.2.3+incompatible',
      'v3.0.0+incompatible', 'v1.2.3-rc.1+incompatible', 'bad', 'v1.2.999999999999999999999', 'v2.0.0-0.20200101000000-abc',
    ];
    const revs = ['849169902c8a', 'abc', '', '000000000000'];
    const cases: [string, string, number, number, string][] = [];
    for (let i = 0; i < 4000; i++) {
      let ms: number;
      const r = next();
      if (r < 0.8) ms = Math.floor(next() * 253402300799999) - 62135596800000; // years 1..9999
      else if (r < 0.9) ms = -62135596800000 - Math.floor(next() * 1e14); // before year 1
      else ms = 253402300800000 + Math.floor(next() * 1e14); // after 9999
      const sec = Math.floor(ms / 1000);
      cases.push([pick(next, majors), pick(next, olders), sec, (ms - sec * 1000) * 1e6, pick(next, revs)]);
    }
    expect(
      await differential(oracle, 'module.PseudoVersion', cases, (major, older, sec, nsec, rev) =>
        pseudoVersion(major, older, new Date(sec * 1000 + nsec / 1e6), rev),
      ),
    ).toEqual([]);
  });
});
