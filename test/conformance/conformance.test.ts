// The conformance suite: for every case, the real go command runs twice —
// direct mode against the fixture git server (through git insteadOf rewrites
// of https://github.com/ and https://git.example.com/) and through modproxy —
// and Version, Sum, GoModSum, `go list -m -versions` and failures must agree.
// Cases of the discovery world (private hosts found by ?go-get=1, with
// credentials) run against their own servers and modproxy process.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from '../support/gitHttpServer.js';
import { GoRunner, type DownloadResult } from '../support/goRunner.js';
import { goTool, newerGoTool } from '../support/goTool.js';
import { startProxy, testConfig, type ProxyFixture } from '../support/proxyFixture.js';
import { RepoBuilder } from '../support/repoBuilder.js';
import { zipH1 } from '../support/zipHash.js';
import { Limiter } from '../../lib/util/limiter.js';
import { cases, type CaseContext, type CaseValues, type ConformanceCase, type Expectation } from './cases.js';
import { SECRETS, startDiscoveryWorld, type DiscoveryWorld } from './discoveryWorld.js';

const pexec = promisify(execFile);

let tmp: string;
let git: GitHttpServer;
let proxy: ProxyFixture;
/** A second proxy in front of a git server without partial-clone support (complete snapshots only). */
let plainGit: GitHttpServer;
let plainProxy: ProxyFixture;
/** Cases also run through the plain-git proxy, covering the non-partial-clone fetch path. */
const PLAIN_SUBSET = new Set(['A05', 'A08', 'A11', 'B17', 'B22', 'B23', 'B27', 'C33-38', 'D42', 'D43', 'E48', 'E52', 'X02', 'X05']);
let runner: GoRunner;
/** The newest go command, when it is another version than `runner`'s: every case's queries, and its lists after them, are compared with it too. */
let newerRunner: GoRunner | undefined;
const reposRoot = () => path.join(tmp, 'repos');
const workRoot = () => path.join(tmp, 'work');
// Two cores: keep a handful of go commands in flight.
const goSlots = new Limiter(Math.max(4, os.cpus().length * 2));

/** Totals reported at the end. */
const tally = { queries: 0, lists: 0, agreedSuccess: 0, agreedFailure: 0, documentedDifferences: 0, expectations: 0 };

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-conformance-'));
  fs.mkdirSync(reposRoot(), { recursive: true });
  git = await startGitHttpServer({ projectRoot: reposRoot() });
  proxy = await startProxy(
    testConfig(path.join(tmp, 'proxy'), { 'github.com': `${git.url}/`, 'git.example.com': `${git.url}/qual` }, ['github.com/c', 'git.example.com']),
  );
  plainGit = await startGitHttpServer({ projectRoot: reposRoot(), partialClone: false });
  plainProxy = await startProxy(testConfig(path.join(tmp, 'plain-proxy'), { 'github.com': `${plainGit.url}/`, 'git.example.com': `${plainGit.url}/qual` }, ['github.com/c', 'git.example.com']));
  const insteadOf = { 'https://github.com/': `${git.url}/`, 'https://git.example.com/': `${git.url}/qual/` };
  runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf });
  const newer = newerGoTool();
  if (newer.version !== goTool().version) newerRunner = new GoRunner({ tmp: path.join(tmp, 'go-newer'), insteadOf, go: newer });
});

/** Started by the first case that asks for it. */
let world: Promise<DiscoveryWorld> | undefined;

afterAll(async () => {
  const w = await world?.catch(() => undefined);
  if (w) {
    const logs = w.proxy.output();
    await w.close();
    for (const secret of Object.values(SECRETS)) expect(logs, 'no secret in modproxy logs').not.toContain(secret);
  }
  await proxy?.close();
  await git?.close();
  await plainProxy?.close();
  await plainGit?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`conformance: ${JSON.stringify(tally)}`);
});

const ctx: CaseContext = {
  repo: (name, opts) => RepoBuilder.create(reposRoot(), workRoot(), `c/${name}`, opts),
  qualifiedRepo: (name) => RepoBuilder.create(reposRoot(), workRoot(), `qual/${name}`),
  async emptyRepo(name) {
    const bare = path.join(reposRoot(), 'c', name);
    fs.mkdirSync(path.dirname(bare), { recursive: true });
    await pexec('git', ['init', '-q', '--bare', bare]);
  },
  discovery: () => (world ??= startDiscoveryWorld(path.join(tmp, 'discovery'))),
};

/**
 * Where a case runs: the go runners (the suite's go, then the newest when it
 * differs; only the newest for a case that needs it), modproxy URLs, and the
 * environment of each mode.
 */
async function placeOf(c: ConformanceCase) {
  if (c.world === 'discovery') {
    const w = await ctx.discovery();
    const runners = c.toolchain === 'newer' ? [w.newerRunner] : newerRunner ? [w.runner, w.newerRunner] : [w.runner];
    return { runners, proxies: [w.proxy.url], directEnv: w.directEnv, proxyEnv: w.proxyEnv };
  }
  const runners = newerRunner ? [runner, newerRunner] : [runner];
  return { runners, proxies: (PLAIN_SUBSET.has(c.id) ? [proxy, plainProxy] : [proxy]).map((p) => p.url), directEnv: undefined, proxyEnv: undefined };
}

/** Text of an error without run-specific details (temp dirs, ports). */
function normalize(s: string): string {
  return s
    .replaceAll(tmp, '<tmp>')
    // which of two matching refs the go command names depends on Go map order
    .replace(/ambiguous revision [0-9a-f]{40}/g, 'ambiguous revision <hash>')
    .replace(/127\.0\.0\.1:\d+/g, '<host>')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The direct-mode error text a proxy error must contain. The go client frames
 * a failure by where it came from: "<query>: <detail>" in direct mode, and
 * "module <path>: reading <url>: <status> server response: <detail>" (or
 * "<query>: reading <url>: …") when a proxy request failed; then the detail is
 * what must agree.
 */
function expectedText(q: string, directError: string, proxyError: string): string {
  const d = normalize(directError);
  const framed = [`module ${q.split('@')[0]}: reading `, `${q}: reading `].some((f) => proxyError.startsWith(f));
  return framed && d.startsWith(`${q}: `) && !normalize(proxyError).includes(d) ? d.slice(q.length + 2) : d;
}

function checkExpectation(what: string, e: Expectation, actual: DownloadResult | { versions?: string[]; error?: string }) {
  tally.expectations++;
  if ('version' in e) {
    expect((actual as DownloadResult).Error, `${what}: spec expects success`).toBeUndefined();
    expect((actual as DownloadResult).Version, `${what}: spec version`).toBe(e.version);
  } else if ('versions' in e) {
    expect((actual as { versions?: string[] }).versions, `${what}: spec version list`).toEqual(e.versions);
  } else {
    const err = (actual as DownloadResult).Error ?? (actual as { error?: string }).error;
    expect(err, `${what}: spec expects an error`).toBeDefined();
    if (typeof e.error === 'string') expect(err).toContain(e.error);
    else expect(err).toMatch(e.error);
  }
}

/** Independent h1 of a version: git archive (as the go command runs it) plus the expected file set. */
async function archiveHash(bare: string, modPath: string, version: string, rev: string, dir: string, files: string[]): Promise<string> {
  const work = fs.mkdtempSync(path.join(tmp, 'archive-'));
  try {
    await pexec('git', ['clone', '-q', '--bare', bare, path.join(work, 'r.git')]);
    fs.mkdirSync(path.join(work, 'r.git', 'info'), { recursive: true });
    fs.appendFileSync(path.join(work, 'r.git', 'info', 'attributes'), '\n* -export-subst -export-ignore\n');
    const args = ['--git-dir', path.join(work, 'r.git'), '-c', 'core.autocrlf=input', '-c', 'core.eol=lf', 'archive', '--format=zip', '--prefix=prefix/', rev];
    if (dir) args.push('--', dir);
    const { stdout } = await pexec('git', args, { encoding: 'buffer', maxBuffer: 1 << 30 });
    const zip = await JSZip.loadAsync(stdout);
    const lines: Buffer[] = [];
    const names = files.map((f) => `${modPath}@${version}/${f}`).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const rel = name.slice(`${modPath}@${version}/`.length);
      const entry = zip.file(`prefix/${dir ? dir + '/' : ''}${rel}`);
      if (!entry) throw new Error(`git archive has no ${rel}`);
      const data = await entry.async('nodebuffer');
      lines.push(Buffer.from(`${crypto.createHash('sha256').update(data).digest('hex')}  ${name}\n`));
    }
    return 'h1:' + crypto.createHash('sha256').update(Buffer.concat(lines)).digest('base64');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** For cases a go1.23 toolchain cannot create directly: the file set the x/mod rules give, checked via git archive. */
const independentZips: Record<string, { repo: string; rev: string; dir: string; files: string[] }> = {
  'github.com/c/d45@v1.0.0': { repo: 'c/d45', rev: 'v1.0.0', dir: '', files: ['go.mod', 'p.go'] },
  // go >= 1.24: vendor/modules.txt and vendor/example.com/... omitted; sub/vendor/file.txt kept; sub/vendor/x/x.go omitted.
  'github.com/c/e47@v1.0.0': { repo: 'c/e47', rev: 'v1.0.0', dir: '', files: ['go.mod', 'p.go', 'sub/vendor/file.txt'] },
};

async function runCase(c: ConformanceCase) {
  const values: CaseValues = (await c.setup(ctx)) ?? {};
  const { runners, proxies, directEnv, proxyEnv } = await placeOf(c);
  const runner = runners[0];
  const expectations = c.expect?.(values) ?? {};
  const queries = c.queries(values);
  // Lists first: once modproxy has served a version it keeps listing it (one
  // whose tag is later deleted, for one), so lists are compared before
  // anything is served; and again after, with the newest go command.
  const compareLists = (r: GoRunner, afterServing: boolean) =>
    Promise.all(
      (c.lists ?? []).flatMap((m) =>
        [false, true].map(async (retracted) => {
          const [direct, viaProxy] = await Promise.all([
            goSlots.run(() => r.listVersions('direct', m, retracted, directEnv)),
            goSlots.run(() => r.listVersions(proxies[0], m, retracted, proxyEnv)),
          ]);
          return { m, retracted, direct, viaProxy, afterServing };
        }),
      ),
    );
  const lists = await compareLists(runner, false);

  // Queries with each toolchain in turn: modproxy answers the second as it has
  // committed for the first, and must still agree with direct mode.
  const results: { q: string; direct: DownloadResult; viaProxy: DownloadResult }[] = [];
  for (const r of runners) {
    for (const rows of await Promise.all(
      queries.map(async (q) => {
        const [direct, ...viaProxies] = await Promise.all([
          goSlots.run(() => r.download('direct', q, { env: directEnv })),
          ...proxies.map((p) => goSlots.run(() => r.download(p, q, { env: proxyEnv }))),
        ]);
        return viaProxies.map((viaProxy) => ({ q, direct, viaProxy }));
      }),
    )) {
      results.push(...rows);
    }
  }
  for (const { q, direct, viaProxy } of results) {
    tally.queries++;
    const e = expectations[q];
    if (e) checkExpectation(`${c.id} direct ${q}`, e, direct);
    // A toolchain new enough to take what go1.23 refuses is compared as for any other query.
    const diff = c.differs?.[q]?.proxy === 'serves-where-direct-toolchain-refuses' && direct.Error === undefined ? undefined : c.differs?.[q];
    if (diff) {
      tally.documentedDifferences++;
      if (diff.proxy === 'client-rejects') {
        expect(direct.Error, `${q}: direct`).toBeUndefined();
        expect(viaProxy.Error, `${q}: the go client refuses before asking the proxy`).toMatch(/disallowed version string/);
      } else {
        // This go refuses such modules in both modes, after download; so fetch
        // what modproxy serves over HTTP and hash it independently.
        expect(direct.Error, `${q}: direct mode refuses with this toolchain`).toMatch(/requires go >= /);
        expect(viaProxy.Error, `${q}: the client refuses the module it downloaded`).toMatch(/requires go >= /);
        const ind = independentZips[q];
        const [modPath, version] = q.split('@');
        const want = await archiveHash(path.join(reposRoot(), ind.repo), modPath, version, ind.rev, ind.dir, ind.files);
        const served = await fetch(`${proxies[0]}/${modPath}/@v/${version}.zip`);
        expect(served.status, `${q}: modproxy serves the zip`).toBe(200);
        expect(await zipH1(Buffer.from(await served.arrayBuffer())), `${q}: h1 of git archive with the x/mod file rules`).toBe(want);
      }
      continue;
    }
    if (direct.Error !== undefined) {
      tally.agreedFailure++;
      expect(viaProxy.Error, `${q}: direct failed with ${JSON.stringify(direct.Error)}, proxy must fail too`).toBeDefined();
      expect(normalize(viaProxy.Error!), `${q}: proxy error must carry direct mode's text`).toContain(expectedText(q, direct.Error, viaProxy.Error!));
    } else {
      tally.agreedSuccess++;
      expect(viaProxy.Error, `${q}: direct succeeded, proxy failed`).toBeUndefined();
      expect(viaProxy.Version, `${q}: Version`).toBe(direct.Version);
      expect(viaProxy.Sum, `${q}: Sum`).toBe(direct.Sum);
      expect(viaProxy.GoModSum, `${q}: GoModSum`).toBe(direct.GoModSum);
    }
  }
  lists.push(...(await compareLists(runners[runners.length - 1], true)));
  for (const { m, retracted, direct, viaProxy, afterServing } of lists) {
    tally.lists++;
    const e = !retracted && !afterServing ? expectations[m] : undefined;
    if (e) checkExpectation(`${c.id} direct list ${m}`, e, direct);
    const what = `go list -m -versions${retracted ? ' -retracted' : ''} ${m}${afterServing ? ' (after the downloads)' : ''}`;
    if (direct.error !== undefined) {
      expect(viaProxy.error, `${what}: direct failed (${direct.error}), proxy must fail`).toBeDefined();
    } else {
      expect(viaProxy.error, `${what}: proxy failed`).toBeUndefined();
      expect(viaProxy.versions, what).toEqual(direct.versions);
    }
  }
  await c.after?.(ctx, values);
}

describe('conformance with the go command (direct mode vs modproxy)', () => {
  for (const c of cases) {
    it.concurrent(`${c.id}: ${c.title}`, { timeout: c.heavy ? 600_000 : 240_000 }, async () => {
      await runCase(c);
    });
  }
});
