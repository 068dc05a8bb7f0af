// Random parent answers, judged by the go command: for each case a parent
// serves a generated list, @latest and .info bodies for a module (with its
// real .mod and .zip), and `go mod download -json` of m@latest and of a
// query (v1, v1.0, <v1.1.0, ...) and `go list -m -versions m` run against
// that parent directly and through modproxy (a fresh one, on its own
// storage, for each command, so nothing of an earlier command is
// remembered). The versions, hashes, the .info the go command writes into its
// module cache, and whether each command failed, must agree.
//
// DIFF_CASES and DIFF_SEED run more or other cases (DIFF_DEBUG=1 prints each).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GoSumVerifier } from '../lib/source/proxy/verifier.js';
import { startFileProxyServer, type FileProxyServer } from './support/fileProxyServer.js';
import type { GitHttpServer } from './support/gitHttpServer.js';
import { GoRunner } from './support/goRunner.js';
import { newerGoTool } from './support/goTool.js';
import { prng } from './support/prng.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { escapedPath as escaped, makePublicFixture, PUBLIC_A as A, PUBLIC_B as B } from './support/publicFixture.js';
import { pick } from './support/xmodOracle.js';

const CASES = Number(process.env.DIFF_CASES ?? 60);
let tmp: string;
let git: GitHttpServer;
let parent: FileProxyServer;
let runner: GoRunner;
let verifier: GoSumVerifier;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-parent-diff-'));
  const fx = await makePublicFixture(tmp);
  git = fx.git;
  // The newest go command is the reference (its encoding/json is json/v2 underneath).
  runner = new GoRunner({ tmp: path.join(tmp, 'go-new'), insteadOf: { 'https://github.com/': `${git.url}/` }, go: newerGoTool() });
  verifier = new GoSumVerifier(fx.goSum);
  parent = await startFileProxyServer(fx.downloadRoot);
}, 240_000);

afterAll(async () => {
  await parent?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** A .info body for version v, in one of the forms a parent may use that the go command accepts or refuses. */
function infoBody(next: () => number, v: string): string {
  const version = pick(next, ['"Version"', '"version"', '"VERSION"']);
  const time = pick(next, [
    '"2021-01-01T00:00:00Z"',
    '"2021-01-01T01:00:00+01:00"',
    '"2021-01-01T00:00:00.123456789Z"',
    '"2021-01-01T00:00:00.5-07:30"',
    '"2021-02-29T00:00:00Z"',
    '"2021-01-01T24:00:00Z"',
    '"2021-01-01T1:00:00Z"',
    '"2021-01-01T00:00:00,25Z"',
    'null',
    '"yesterday"',
  ]);
  const members = [`${version}:"${v}"`];
  if (next() < 0.85) members.push(`${pick(next, ['"Time"', '"time"'])}:${time}`);
  if (next() < 0.4) {
    const origin = pick(next, [
      '{"VCS":"git","URL":"https://example.com/a","Hash":"0123456789abcdef0123456789abcdef01234567","Ref":"refs/tags/' + v + '","TagSum":"t1:x","RepoSum":"r1:y"}',
      '{}',
      '{"vcs":"git"}',
      'null',
      '"not an object"',
    ]);
    members.push(`"Origin":${origin}`);
  }
  if (next() < 0.2) members.push('"Extra":[1,2,{"x":null}]');
  return `{${members.join(',')}}`;
}

const PSEUDO = 'v0.0.0-20200101000000-abcdefabcdef';

/**
 * The modules a case is about: the versions the parent really has (their
 * .mod and .zip, and go.sum lines for them), and versions it may name
 * without having them. B's path has capitals, so its URLs are escaped.
 */
const MODULES = [
  { path: A, real: ['v1.0.0', 'v1.1.0'], named: ['v1.0', 'v1.1.0+meta', 'v1.2.0-rc.1', 'v2.0.0', 'v1.2.0', PSEUDO], queries: ['v1', 'v1.0', 'v1.1', '<v1.1.0', '>=v1.0.0', 'v1.1.0', 'v0'] },
  { path: B, real: ['v0.1.0'], named: ['v0.1', 'v0.2.0-pre', 'v1.0.0', PSEUDO], queries: ['v0', 'v0.1', '<v0.2.0', 'v0.1.0', 'v1'] },
];
type Module = (typeof MODULES)[number];

function listBody(next: () => number, m: Module): string {
  const entries = [...m.real, ...m.real, ...m.named, 'junk'];
  const lines: string[] = [];
  const n = 1 + Math.floor(next() * 4);
  for (let i = 0; i < n; i++) {
    let line = pick(next, entries);
    if (next() < 0.2) line += pick(next, [' 2021-06-01T00:00:00Z', '\t2020-01-01T00:00:00Z', ' extra']);
    if (next() < 0.1) line = pick(next, ['\ufeff', '\u00a0', '\u0085', ' ']) + line;
    lines.push(line);
  }
  return lines.join('\n') + (next() < 0.8 ? '\n' : '');
}

interface Download {
  failed: boolean;
  version?: string;
  sum?: string;
  goModSum?: string;
  info?: string;
}

interface Seen {
  versions: string[] | 'failed';
  latest: Download;
  query: Download;
}

/**
 * What the go command makes of a GOPROXY: its version list, m@latest and
 * m@query, with the .info each wrote to its cache. Each command gets its own
 * GOPROXY from `proxyFor` (for modproxy, a fresh one): modproxy lists what it
 * has committed besides the parent's list, by design, so a version one command
 * made it commit would show in the next command's list and not in the parent's.
 */
async function look(proxyFor: () => Promise<string>, m: Module, query: string): Promise<Seen> {
  const listed = await runner.listVersions(await proxyFor(), m.path);
  return {
    versions: listed.versions ?? 'failed',
    latest: await download(await proxyFor(), m, 'latest'),
    query: await download(await proxyFor(), m, query),
  };
}

async function download(goproxy: string, m: Module, query: string): Promise<Download> {
  const infos = new Map<string, string>();
  const d = await runner.download(goproxy, `${m.path}@${query}`, {
    keepCache: async (cache) => {
      const dir = path.join(cache, 'cache', 'download', escaped(m.path), '@v');
      for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) if (f.endsWith('.info')) infos.set(f.slice(0, -5), fs.readFileSync(path.join(dir, f), 'utf8'));
    },
  });
  // A failure is compared as such: how far the go command got before it (whether it had written an .info
  // for a version whose go.mod then failed) depends on where the error arose, the parent's or modproxy's.
  return d.Error !== undefined ? { failed: true } : { failed: false, version: d.Version, sum: d.Sum, goModSum: d.GoModSum, info: infos.get(d.Version!) };
}

it(`agrees with the go command reading the parent, over ${CASES} generated parents`, async () => {
  const next = prng(Number(process.env.DIFF_SEED ?? 2026_12_03));
  const disagreements: unknown[] = [];
  let succeeded = 0;
  for (let c = 0; c < CASES; c++) {
    parent.overrides.clear();
    const m = pick(next, MODULES);
    const query = pick(next, m.queries);
    const base = `/${escaped(m.path)}/@v/`;
    parent.overrides.set(`${base}list`, Buffer.from(listBody(next, m)));
    // @latest (half the parents have none), naming a real version (most often), or one the parent does not have.
    if (next() < 0.5) parent.overrides.set(`/${escaped(m.path)}/@latest`, Buffer.from(infoBody(next, pick(next, next() < 0.6 ? m.real : m.named))));
    // Each real version's .info, now and then naming another version.
    for (const v of m.real) {
      if (next() < 0.6) parent.overrides.set(`${base}${v}.info`, Buffer.from(infoBody(next, next() < 0.85 ? v : pick(next, [...m.real, ...m.named]))));
    }
    // A non-canonical query the parent may answer itself, with a real version.
    if (!/^[<>]/.test(query) && next() < 0.5) parent.overrides.set(`${base}${query}.info`, Buffer.from(infoBody(next, pick(next, m.real))));
    const proxies: ProxyFixture[] = [];
    const freshProxy = async () => {
      const dir = path.join(tmp, `proxy-${c}-${proxies.length}`);
      const config = testConfig(dir, { 'github.com': git.url }, ['github.com/priv'], `parentProxy:\n  url: "${parent.url}"\n`);
      proxies.push(await startProxy(config, { verifier, tmpDir: `${dir}-tmp` }));
      return proxies[proxies.length - 1].url;
    };
    try {
      const seen = { direct: await look(async () => parent.url, m, query), modproxy: await look(freshProxy, m, query) };
      if (process.env.DIFF_DEBUG) console.log(JSON.stringify({ ...seen, module: m.path, query, overrides: Object.fromEntries([...parent.overrides].map(([k, v]) => [k, v.toString()])) }));
      if (JSON.stringify(seen.direct) !== JSON.stringify(seen.modproxy)) {
        disagreements.push({ case: c, module: m.path, query, overrides: Object.fromEntries([...parent.overrides].map(([k, v]) => [k, v.toString()])), ...seen });
      }
      if (!seen.direct.latest.failed) succeeded++;
    } finally {
      for (const p of proxies) await p.close();
    }
  }
  parent.overrides.clear();
  expect(disagreements).toEqual([]);
  expect(succeeded).toBeGreaterThan(3);
}, 600_000);

