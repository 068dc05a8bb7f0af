// parseRevInfoJson and parseGoTime against the newest go command's own
// encoding/json and time (json.Unmarshal into a copy of modfetch.RevInfo, in
// the xmod oracle built with that toolchain).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newerGoTool } from '../../test/support/goTool.js';
import { pick, rng, stableStringify, XmodOracle } from '../../test/support/xmodOracle.js';
import { parseRevInfoJson } from './revInfoJson.js';

let oracle: XmodOracle;
beforeAll(async () => {
  oracle = await XmodOracle.start(newerGoTool());
}, 240_000);
afterAll(async () => {
  await oracle?.close();
});

type Seen = 'error' | { Version: unknown; UnixMilli: number; Time: string | null; Origin: Record<string, string> | null };

const nonEmpty = (o: Record<string, string | undefined>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== '' && v !== undefined)) as Record<string, string>;

function ours(body: string): Seen {
  try {
    const info = parseRevInfoJson(body);
    return { Version: info.Version, UnixMilli: info.Time.date.getTime(), Time: info.Time.text ?? null, Origin: info.Origin ? nonEmpty(info.Origin) : null };
  } catch {
    return 'error';
  }
}

async function mismatches(bodies: string[]): Promise<{ body: string; go: Seen; ours: Seen }[]> {
  const resps = await oracle.callMany<Exclude<Seen, 'error'>>(bodies.map((b) => ['modfetch.RevInfo', b]));
  const bad: { body: string; go: Seen; ours: Seen }[] = [];
  resps.forEach((r, i) => {
    const go: Seen = r.err ? 'error' : (r.r as Exclude<Seen, 'error'>);
    const mine = ours(bodies[i]);
    if (stableStringify(go) !== stableStringify(mine) && bad.length < 10) bad.push({ body: bodies[i], go, ours: mine });
  });
  return bad;
}

// Each part of a time: values Go takes, then values it may refuse.
const TIME_PARTS: [string[], string[]][] = [
  [['2020', '0000', '9999', '1900', '2000', '2100', '0004', '2024'], ['20x0', '202', '+202']],
  [['-'], ['/']],
  [['01', '02', '12'], ['00', '13', '1']],
  [['-'], ['']],
  [['01', '28', '29', '30', '31'], ['00', '32', '1']],
  [['T'], ['t', ' ']],
  [['00', '23', '0', '9'], ['24', '99', '123']],
  [[':00', ':59'], [':60', ':5']],
  [[':00', ':59'], [':60', '']],
  [['', '.1', ',5', '.123456789', '.1234567891', '.000', '.9999999999', '.0001'], ['.', '..1', '.x']],
  [['Z', '+00:00', '-00:00', '+01:00', '+23:59', '+23:60', '+24:00', '-12:30', '+00:60', '\\u005a'], ['z', '+24:01', '+25:00', '+0100', '+01:0', '', 'ZZ']],
];

function randomTime(next: () => number): string {
  return TIME_PARTS.map(([good, bad]) => pick(next, next() < 0.07 ? bad : good)).join('');
}

describe('parseRevInfoJson', () => {
  it('reads times as Go’s time.Time UnmarshalJSON and writes them as its MarshalJSON', async () => {
    const next = rng(11);
    const bodies = [
      '{"Version":"v1.0.0","Time":"2020-02-30T00:00:00Z"}',
      '{"Version":"v1.0.0","Time":"2020-01-01T24:00:00Z"}',
      '{"Version":"v1.0.0","Time":"2020-01-01T01:00:00.5+01:00"}',
      '{"Version":"v1.0.0","Time":"0001-01-01T00:00:00Z"}',
      '{"Version":"v1.0.0"}',
    ];
    for (let i = 0; i < 6000; i++) bodies.push(`{"Version":"v1.0.0","Time":"${randomTime(next)}"}`);
    expect(await mismatches(bodies)).toEqual([]);
    // Both kinds occur, so neither side can pass by always failing.
    const seen = bodies.map(ours);
    expect(seen.filter((s) => s === 'error').length).toBeGreaterThan(1000);
    expect(seen.filter((s) => s !== 'error').length).toBeGreaterThan(500);
  }, 60_000);

  it('applies members as encoding/json does: in order, case-insensitive names, null, wrong types, Origin', async () => {
    const next = rng(12);
    const keys = ['Version', 'version', 'VERSION', 'Ver\u017fion', 'VER\u017fION', 'ver_sion', 'Versi\u00f3n', 'Time', 'time', 'TIME', 'T\u0131me', 'T\u0130ME', 'Origin', 'origin', 'ORIGIN', 'Name', 'Short', 'Tags', 'V\\u0065rsion'];
    const originKeys = ['VCS', 'vcs', 'URL', 'url', 'Url', 'Subdir', 'hash', 'HASH', 'TagPrefix', 'TAGSUM', 'Ref', 're\u017f', 'RepoSum', 'Other', 'TagSum'];
    const scalar = () =>
      pick(next, ['"v1.0.0"', '"v2.0.0-pre"', '"v1.\\u0030.0"', 'null', '1', 'true', '[]', '{}', '"git"', `"${randomTime(next)}"`, '"2020-01-01T00:00:00Z"']);
    const origin = () => {
      const n = Math.floor(next() * 4);
      const members = Array.from({ length: n }, () => `"${pick(next, originKeys)}": ${pick(next, ['"git"', '"https://x"', 'null', '2', '""', '{}'])}`);
      return `{${members.join(',')}}`;
    };
    const bodies = ['null', '[]', '"x"', '{}', '{"Version":"v1.0.0"} x', '{"Version":"v1.0.0",}', ' {\n"Version" : "v1.0.0" }\n'];
    for (let i = 0; i < 6000; i++) {
      const n = Math.floor(next() * 5);
      const members: string[] = [];
      for (let k = 0; k < n; k++) {
        const key = pick(next, keys);
        const value = /^o|^O/.test(key) && next() < 0.7 ? origin() : scalar();
        members.push(`"${key}":${value}`);
      }
      bodies.push(`{${members.join(next() < 0.2 ? ' ,\n ' : ',')}}`);
    }
    expect(await mismatches(bodies)).toEqual([]);
    const seen = bodies.map(ours);
    expect(seen.filter((s) => s === 'error').length).toBeGreaterThan(500);
    expect(seen.filter((s) => s !== 'error' && s.Origin !== null).length).toBeGreaterThan(200);
    expect(seen.filter((s) => s !== 'error' && s.Version === 'v1.0.0').length).toBeGreaterThan(200);
  }, 60_000);
});
