// Untrusted git hosts, the transport: a host that drips, streams forever,
// sends a corrupt pack or fails now and then. Every request ends within the
// configured bounds with a 5xx that says which bound (never a 404 the go
// command would take as "does not exist"), the proxy keeps answering other
// requests meanwhile, and concurrent requests for one repository share one
// ref listing. Where the go command itself (direct mode, against the same
// host) has an answer, the proxy's is compared with it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostileGitServer, type Fault, type HostileGitServer, type HostileRequest } from '../support/hostileGitServer.js';
import { GoRunner } from '../support/goRunner.js';
import { corruptPack, fetchResponse } from '../support/packBytes.js';
import { startProxy, testConfig, type ProxyFixture } from '../support/proxyFixture.js';
import { startProxyProcess, type ProxyProcess } from '../support/proxyProcess.js';
import { RepoBuilder } from '../support/repoBuilder.js';

const DEADLINE_SECONDS = 3;
let tmp: string;
let git: HostileGitServer;
let proxy: ProxyFixture;
let runner: GoRunner;
let clock = Date.parse('2026-01-01T00:00:00Z');
const repos = new Map<string, RepoBuilder>();

/** A repository h/<name> with v1.0.0 and v1.1.0 and a commit after them on main. */
async function makeRepo(name: string): Promise<RepoBuilder> {
  const repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), `h/${name}`);
  await repo.write({ 'go.mod': `module github.com/h/${name}\n`, 'a.go': 'package m\n' });
  await repo.commit('2020-01-01T00:00:00Z');
  await repo.tag('v1.0.0');
  await repo.write({ 'b.go': 'package m\n' });
  await repo.commit('2020-02-01T00:00:00Z');
  await repo.tag('v1.1.0');
  await repo.write({ 'c.go': 'package m\n' });
  await repo.commit('2020-03-01T00:00:00Z');
  await repo.publish();
  repos.set(name, repo);
  return repo;
}

/** Faults by repository: each test sets its own. */
const faults = new Map<string, (req: HostileRequest) => Fault | undefined>();

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-hostile-'));
  fs.mkdirSync(path.join(tmp, 'repos'), { recursive: true });
  git = await startHostileGitServer({ projectRoot: path.join(tmp, 'repos') });
  git.fault = (req) => faults.get(/^\/h\/([^/]+)\//.exec(req.url)?.[1] ?? '')?.(req);
  for (const name of ['drip', 'endless', 'corrupt', 'flaky', 'flakydirect', 'flakyfetch', 'down', 'shared']) await makeRepo(name);
  proxy = await startProxy(
    testConfig(path.join(tmp, 'proxy'), { 'github.com': git.url }, ['github.com/h'], `  gitDeadlineSeconds: ${DEADLINE_SECONDS}\n`),
    { now: () => clock },
  );
  runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: { 'https://github.com/': `${git.url}/` } });
});

afterAll(async () => {
  await proxy?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function get(p: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`${proxy.url}/${p}`);
  return { status: r.status, text: await r.text() };
}

const isRefAdvertisement = (r: HostileRequest) => r.method === 'GET' && r.url.includes('/info/refs');
const isFetch = (r: HostileRequest) => r.command === 'fetch';

describe('deadline', () => {
  it('ends a ref advertisement dripped one byte at a time with 504 at the deadline, though bytes keep arriving', async () => {
    faults.set('drip', (r) => (isRefAdvertisement(r) ? { drip: { everyMs: 500 } } : undefined));
    const res = await get('github.com/h/drip/@v/list');
    expect(res.status).toBe(504);
    expect(res.text).toBe(`upstream error: ref advertisement from 127.0.0.1:${git.port} not complete within resolve.gitDeadlineSeconds (${DEADLINE_SECONDS} s)\n`);
    // A fault is not remembered: the next request asks the host again.
    faults.delete('drip');
    expect(await get('github.com/h/drip/@v/list')).toEqual({ status: 200, text: 'v1.0.0\nv1.1.0\n' });
  });

  it('ends a pack that never ends with 504 at the deadline', async () => {
    faults.set('endless', (r) => (isFetch(r) ? { endlessPack: { chunkBytes: 16 << 10, everyMs: 5 } } : undefined));
    const res = await get('github.com/h/endless/@v/v1.0.0.info');
    expect(res.status).toBe(504);
    expect(res.text).toBe(`upstream error: pack from 127.0.0.1:${git.port} not complete within resolve.gitDeadlineSeconds (${DEADLINE_SECONDS} s)\n`);
    faults.delete('endless');
    expect((await get('github.com/h/endless/@v/v1.0.0.info')).status).toBe(200);
  });
});

describe('corrupt pack', () => {
  it('answers a pack with a valid checksum but broken zlib data with 502, not remembered; the go command fails on it too', async () => {
    faults.set('corrupt', (r) => (isFetch(r) ? { body: fetchResponse(corruptPack()), contentType: 'application/x-git-upload-pack-result' } : undefined));
    const fetchesBefore = git.count(/^POST \/h\/corrupt\/git-upload-pack fetch$/);
    const res = await get('github.com/h/corrupt/@v/v1.0.0.info');
    expect(res.status).toBe(502);
    expect(res.text).toMatch(/^upstream error: bad pack from https?:\/\/[^ ]+: corrupt pack: /);
    // Not a "not found" the service remembers: the next request fetches again.
    const again = await get('github.com/h/corrupt/@v/v1.0.0.info');
    expect(again.status).toBe(502);
    expect(git.count(/^POST \/h\/corrupt\/git-upload-pack fetch$/)).toBe(fetchesBefore + 2);

    // The go command, direct and through the proxy, fails on this host too.
    const direct = await runner.download('direct', 'github.com/h/corrupt@v1.0.0');
    expect(direct.Error, 'direct mode').toBeDefined();
    const proxied = await runner.download(proxy.url, 'github.com/h/corrupt@v1.0.0');
    expect(proxied.Error).toContain('502 Bad Gateway');

    faults.delete('corrupt');
    expect((await get('github.com/h/corrupt/@v/v1.0.0.info')).status).toBe(200);
  });
});

describe('retries', () => {
  /** Fails the first `n` requests that match with a 500. */
  const failFirst = (n: number, match: (r: HostileRequest) => boolean) => {
    const state = { failed: 0 };
    const fault = (r: HostileRequest): Fault | undefined => {
      if (!match(r) || state.failed >= n) return undefined;
      state.failed++;
      return { status: 500 };
    };
    return Object.assign(fault, { state });
  };

  it('retries a ref listing and a fetch that fail twice with 500, and succeeds', async () => {
    faults.set('flaky', failFirst(2, isRefAdvertisement));
    const list = await get('github.com/h/flaky/@v/list');
    expect(list).toEqual({ status: 200, text: 'v1.0.0\nv1.1.0\n' });
    expect(git.count(/^GET \/h\/flaky\/info\/refs/)).toBe(3);

    // The go command direct (git) does not retry: the first 500 fails it. Through modproxy the same host works.
    const directFaults = failFirst(2, isRefAdvertisement);
    faults.set('flakydirect', directFaults);
    const direct = await runner.listVersions('direct', 'github.com/h/flakydirect');
    expect(direct.error, 'direct mode').toContain('500');
    const proxied = await runner.listVersions(proxy.url, 'github.com/h/flakydirect');
    expect([proxied.versions, directFaults.state.failed]).toEqual([['v1.0.0', 'v1.1.0'], 2]);

    // A fetch: the first one fails twice, then it and the fetches after it (trees, blobs) succeed.
    const fetchFaults = failFirst(2, isFetch);
    faults.set('flakyfetch', fetchFaults);
    const info = await get('github.com/h/flakyfetch/@v/v1.0.0.info');
    expect(info.status).toBe(200);
    expect(fetchFaults.state.failed).toBe(2);
  });

  it('gives up after three attempts at a host that always fails: 502, as the go command fails direct', async () => {
    faults.set('down', (r) => (isRefAdvertisement(r) ? { status: 500 } : undefined));
    const res = await get('github.com/h/down/@v/list');
    expect(res.status).toBe(502);
    expect(res.text).toBe('upstream error: git host answered HTTP 500\n');
    expect(git.count(/^GET \/h\/down\/info\/refs/)).toBe(3);

    const direct = await runner.listVersions('direct', 'github.com/h/down');
    expect(direct.error, 'direct mode').toContain('500');
    const proxied = await runner.listVersions(proxy.url, 'github.com/h/down');
    expect(proxied.error).toContain('502 Bad Gateway');
  });

  it('never retries a 4xx answer: a repository that does not exist is one request, and not found', async () => {
    const res = await get('github.com/h/missing/@v/list');
    expect(res.status).toBe(404);
    expect(git.count(/^GET \/h\/missing\/info\/refs/)).toBe(1);
  });
});

describe('shared ref listing', () => {
  it('lists refs once for 200 concurrent list, @latest and query requests, and reuses the listing briefly', async () => {
    const repo = repos.get('shared')!;
    const head = await repo.revParse('HEAD');
    const paths = ['@v/list', '@latest', '@v/main.info', '@v/v1.1.0.info', `@v/${head.slice(0, 12)}.info`, '@v/v1.0.0.info', '@v/v1.9.0.info'];
    const lsRefs = () => git.count(/^POST \/h\/shared\/git-upload-pack ls-refs$/);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => get(`github.com/h/shared/${paths[i % paths.length]}`)));
    const statuses = new Map<string, number[]>();
    results.forEach((r, i) => statuses.set(paths[i % paths.length], [...new Set([...(statuses.get(paths[i % paths.length]) ?? []), r.status])]));
    expect(Object.fromEntries(statuses)).toEqual(Object.fromEntries(paths.map((p) => [p, [p === '@v/v1.9.0.info' ? 404 : 200]])));
    const listings = lsRefs();
    expect(listings).toBeGreaterThanOrEqual(1);
    expect(listings, 'ref listings for 200 requests').toBeLessThanOrEqual(3);

    // Within the reuse time, no new listing.
    expect((await get('github.com/h/shared/@v/list')).text).toBe('v1.0.0\nv1.1.0\n');
    expect(lsRefs()).toBe(listings);
    // A tag pushed a moment ago is found: a miss in a reused listing lists afresh.
    await repo.tag('v1.2.0');
    await repo.publish();
    expect((await get('github.com/h/shared/@v/v1.2.0.info')).status).toBe(200);
    expect(lsRefs()).toBe(listings + 1);
    // Past the reuse time, a list lists again.
    clock += 6_000;
    expect((await get('github.com/h/shared/@v/list')).text).toBe('v1.0.0\nv1.1.0\nv1.2.0\n');
    expect(lsRefs()).toBe(listings + 2);
  });
});

describe('memory', () => {
  let proc: ProxyProcess | undefined;
  afterAll(async () => {
    await proc?.stop();
  });

  it('refuses an endless pack at the default cap with 502, with bounded memory, answering other requests meanwhile', { timeout: 300_000 }, async () => {
    await makeRepo('flood');
    proc = await startProxyProcess(testConfig(path.join(tmp, 'proc'), { 'github.com': git.url }, ['github.com/h'], `  gitDeadlineSeconds: 240\n`));
    // A stored version to ask for meanwhile (its zip too: nothing of it is still being fetched).
    for (const kind of ['info', 'mod', 'zip']) expect((await fetch(`${proc.url}/github.com/h/flood/@v/v1.0.0.${kind}`)).status).toBe(200);
    faults.set('flood', (r) => (isFetch(r) ? { endlessPack: {} } : undefined));

    const LIMIT = 400 << 20;
    let done = false;
    const flood = fetch(`${proc.url}/github.com/h/flood/@v/v1.1.0.info`).then(async (r) => ({ status: r.status, text: await r.text() }));
    void flood.finally(() => (done = true));
    // Stop early (rather than exhaust the machine) if memory grows past the bound.
    const watchdog = new Promise<never>((_, reject) => {
      const t = setInterval(() => {
        if (done) clearInterval(t);
        else if (proc!.peakRss() > LIMIT) {
          clearInterval(t);
          reject(new Error(`proxy RSS ${proc!.peakRss()} bytes while receiving an endless pack`));
        }
      }, 100);
    });
    const control = (async () => {
      const statuses: number[] = [];
      do {
        const r = await fetch(`${proc!.url}/github.com/h/flood/@v/v1.0.0.info`, { signal: AbortSignal.timeout(60_000) });
        await r.arrayBuffer();
        statuses.push(r.status);
      } while (!done);
      return statuses;
    })();
    // Awaited below; if the watchdog ends the test first, its failure is not a second one.
    control.catch(() => {});
    const res = await Promise.race([flood, watchdog]);
    expect(res.status).toBe(502);
    expect(res.text).toBe(`upstream error: pack from 127.0.0.1:${git.port} exceeds resolve.gitMaxPackBytes (268435456 bytes)\n`);
    const statuses = await control;
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(proc.peakRss()).toBeLessThan(LIMIT);
    // Nothing of the refused pack is left on disk.
    const leftovers = fs.readdirSync(path.join(tmp, 'proc', 'git'), { recursive: true }).filter((f) => String(f).includes('.tmp-'));
    expect(leftovers).toEqual([]);
  });
});
