// /metrics (Prometheus text), read from real modproxy processes on both
// storage backends: requests by route, status and outcome (memory, storage,
// build, parent), git and parent bytes, checksum database lookups, fetches and
// /sumdb/ answers, lease waits, the memory cache; auth on /metrics; the Cloud
// Trace id in request log lines.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseName, leaseObjectKey } from '../lib/records/layout.js';
import { startFileProxyServer, type FileProxyServer } from './support/fileProxyServer.js';
import { publicModulesConfig, startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { startProxyProcess, type ProxyProcess } from './support/proxyProcess.js';
import { makePublicFixture, PUBLIC_A, PUBLIC_VERSIONS, type PublicFixture } from './support/publicFixture.js';
import { replicaConfig, storageUnderTest, type Backend, type StorageUnderTest } from './support/replicas.js';
import { RepoBuilder } from './support/repoBuilder.js';
import { SumdbServer } from './support/sumdbServer.js';

const MODULE = 'github.com/met/m';
const DB = 'sumdb.test';
let tmp: string;
let fx: PublicFixture;
let parent: FileProxyServer;
let db: SumdbServer;
let proxy: ProxyFixture;
let authed: ProxyFixture;
const savedProject = process.env.GOOGLE_CLOUD_PROJECT;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-metrics-'));
  fx = await makePublicFixture(tmp);
  parent = await startFileProxyServer(fx.downloadRoot);
  db = await SumdbServer.start({ name: DB });
  await db.bulk('example.com/other', 0, 300);
  const lines = fx.goSum.trim().split('\n');
  for (let i = 0; i < lines.length; i += 2) await db.add([lines[i], lines[i + 1]]);
  // A private module on the same git server (github.com/met is served from git, github.com/pub through the parent).
  const repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'met/m');
  await repo.write({ 'go.mod': `module ${MODULE}\n`, 'a.go': 'package m\n' });
  await repo.commit('2020-01-01T00:00:00Z');
  await repo.tag('v1.0.0');
  await repo.write({ 'b.go': 'package m\n\nfunc B() {}\n' });
  await repo.commit('2020-02-01T00:00:00Z');
  await repo.tag('v1.2.0');
  await repo.publish();
  proxy = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': fx.git.url }, ['github.com/met']));
  authed = await startProxy(
    testConfig(path.join(tmp, 'authed'), { 'github.com': fx.git.url }, ['github.com/met'], 'clientAuth:\n  enabled: true\n  identities:\n    - name: ops\n      password: ops-password\n  acl:\n    - access: allow\n'),
  );
}, 300_000);

afterAll(async () => {
  if (savedProject === undefined) delete process.env.GOOGLE_CLOUD_PROJECT;
  else process.env.GOOGLE_CLOUD_PROJECT = savedProject;
  await proxy?.close();
  await authed?.close();
  await parent?.close();
  await db?.close();
  await fx?.git.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The value of the sample line of `name` with every one of `labels` (a,b,c), or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const want = labels === '' ? [] : labels.split(',');
  const line = text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && want.every((kv) => l.includes(kv)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function scrape(url: string): Promise<string> {
  const r = await fetch(`${url}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
  return r.text();
}

async function get(url: string, p: string): Promise<number> {
  const r = await fetch(`${url}/${p}`);
  await r.arrayBuffer();
  return r.status;
}

describe.each<Backend>(['fs', 'gcs'])('on %s storage', (backend) => {
  let sut: StorageUnderTest;
  let a: ProxyProcess;
  let b: ProxyProcess;

  /** A replica with the parent proxy, the checksum database (verifier and /sumdb/ proxy) and leases on. */
  const config = (name: string, extra: string) =>
    replicaConfig(
      sut,
      path.join(tmp, backend, `git-${name}`),
      fx.git.url,
      ['github.com/met'],
      [
        ...publicModulesConfig(parent.url, { name: DB, url: db.url, vkey: db.vkey }),
        'coordination:',
        '  leases: true',
        '  leaseMaxWaitSeconds: 1',
        extra,
      ].join('\n'),
    );

  beforeAll(async () => {
    sut = await storageUnderTest(backend, path.join(tmp, backend));
    a = await startProxyProcess(config('a', ''), sut.env);
    // Replica b shares the storage; its memory cache holds about one version's records, and no zip.
    b = await startProxyProcess(config('b', 'cache:\n  memoryBytes: 1500\n  maxZipBytes: 0'), sut.env);
  }, 60_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await sut?.close();
  });

  it('counts a build, a storage hit, then memory hits, git bytes and the memory cache', { timeout: 60_000 }, async () => {
    // .info: built, then answered from memory (a URL answered with an immutable artifact keeps its answer).
    expect(await get(a.url, `${MODULE}/@v/v1.0.0.info`)).toBe(200);
    expect(await get(a.url, `${MODULE}/@v/v1.0.0.info`)).toBe(200);
    // .mod: the record the build committed is kept in memory, and its go.mod is inline: memory both times.
    expect(await get(a.url, `${MODULE}/@v/v1.0.0.mod`)).toBe(200);
    expect(await get(a.url, `${MODULE}/@v/v1.0.0.mod`)).toBe(200);
    expect(await get(a.url, `${MODULE}/@v/list`)).toBe(200);
    expect(await get(a.url, `${MODULE}/@v/v1.9.9.info`)).toBe(404);
    // A small zip: the build keeps what it committed in memory, so no request reads it back from storage (the
    // first may still join the build).
    expect(await get(a.url, `${MODULE}/@v/v1.0.0.zip`)).toBe(200);
    expect(await get(a.url, `${MODULE}/@v/v1.0.0.zip`)).toBe(200);
    const text = await scrape(a.url);
    expect(sample(text, 'modproxy_http_requests_total', 'route="info",status="200",outcome="build"')).toBe(1);
    expect(sample(text, 'modproxy_http_requests_total', 'route="info",status="200",outcome="memory"')).toBe(1);
    expect(sample(text, 'modproxy_http_requests_total', 'route="mod",status="200",outcome="storage"')).toBeUndefined();
    expect(sample(text, 'modproxy_http_requests_total', 'route="mod",status="200",outcome="memory"')).toBe(2);
    expect(sample(text, 'modproxy_http_requests_total', 'route="list",status="200",outcome="source"')).toBe(1);
    const zipMemory = sample(text, 'modproxy_http_requests_total', 'route="zip",status="200",outcome="memory"') ?? 0;
    expect(zipMemory + (sample(text, 'modproxy_http_requests_total', 'route="zip",status="200",outcome="build"') ?? 0)).toBe(2);
    expect(zipMemory).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'modproxy_http_requests_total', 'route="zip",status="200",outcome="storage"')).toBeUndefined();
    expect(sample(text, 'modproxy_http_requests_total', 'route="info",status="404",outcome="source"')).toBe(1);
    expect(sample(text, 'modproxy_http_request_duration_seconds_count', 'route="info",outcome="memory"')).toBe(1);
    expect(sample(text, 'modproxy_builds_total', 'step="manifest",result="ok"')).toBe(1);
    expect(sample(text, 'modproxy_build_duration_seconds_count', 'step="manifest"')).toBe(1);
    expect(sample(text, 'modproxy_git_fetched_bytes_total')).toBeGreaterThan(0);
    expect(sample(text, 'modproxy_parent_fetched_bytes_total')).toBe(0);
    expect(sample(text, 'modproxy_memory_cache_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'modproxy_memory_cache_entries')).toBeGreaterThan(0);
    expect(sample(text, 'modproxy_memory_cache_limit_bytes')).toBe(64 << 20);
    expect(sample(text, 'modproxy_storage_operations_total', 'op="createIfAbsent",result="ok"')).toBeGreaterThan(0);
    expect(sample(text, 'modproxy_storage_operation_duration_seconds_count', 'op="read"')).toBeGreaterThan(0);
  });

  it("counts a wait for another replica's lease, and the build after it", { timeout: 60_000 }, async () => {
    // Another replica holds the manifest lease of v1.2.0 and never commits: a waits leaseMaxWaitSeconds, then builds.
    const key = leaseObjectKey(leaseName(MODULE, 'v1.2.0', 'manifest'), 1);
    await sut.storage.createIfAbsent(key, Buffer.from(JSON.stringify({ owner: 'another-replica', expiresAt: Date.now() + 600_000 })));
    const before = await scrape(a.url);
    expect(sample(before, 'modproxy_lease_waits_total')).toBeUndefined();
    expect(await get(a.url, `${MODULE}/@v/v1.2.0.info`)).toBe(200);
    const text = await scrape(a.url);
    expect(sample(text, 'modproxy_lease_waits_total', 'step="manifest",result="timeout"')).toBe(1);
    expect(sample(text, 'modproxy_lease_wait_duration_seconds_count', 'step="manifest"')).toBe(1);
    expect(sample(text, 'modproxy_lease_wait_duration_seconds_sum', 'step="manifest"')).toBeGreaterThan(0);
    expect(sample(text, 'modproxy_http_requests_total', 'route="info",status="200",outcome="build"')).toBe(2);
  });

  it('counts parent fetches, parent bytes and checksum database lookups, fetches and /sumdb/ answers', { timeout: 60_000 }, async () => {
    const [, v] = PUBLIC_VERSIONS[0];
    expect(await get(a.url, `${PUBLIC_A}/@v/${v}.info`)).toBe(200);
    let text = await scrape(a.url);
    expect(sample(text, 'modproxy_http_requests_total', 'route="info",status="200",outcome="parent"')).toBe(1);
    expect(sample(text, 'modproxy_parent_fetched_bytes_total')).toBeGreaterThan(0);
    expect(sample(text, 'modproxy_sumdb_lookups_total', `database="${DB}",result="verified"`)).toBe(1);
    expect(sample(text, 'modproxy_sumdb_fetches_total', `database="${DB}",kind="lookup",result="ok"`)).toBe(1);
    expect(sample(text, 'modproxy_sumdb_fetches_total', `database="${DB}",kind="tile",result="ok"`)).toBeGreaterThan(0);

    // A lookup nobody verified yet: from the database; asked again, from memory (storage holds the same).
    const lookup = `sumdb/${DB}/lookup/${PUBLIC_A}@v1.1.0`;
    expect(await get(a.url, lookup)).toBe(200);
    expect(await get(a.url, lookup)).toBe(200);
    expect(await get(a.url, `sumdb/${DB}/tile/8/0/000`)).toBe(200);
    expect(await get(a.url, `sumdb/${DB}/tile/8/0/000`)).toBe(200);
    expect(await get(a.url, `sumdb/${DB}/latest`)).toBe(200);
    expect(await get(a.url, `sumdb/${DB}/latest`)).toBe(200);
    expect(await get(a.url, `sumdb/${DB}/lookup/example.com/none@v1.0.0`)).toBe(404);
    text = await scrape(a.url);
    expect(sample(text, 'modproxy_sumdb_lookups_total', `database="${DB}",result="verified"`)).toBe(2);
    expect(sample(text, 'modproxy_sumdb_lookups_total', `database="${DB}",result="not_found"`)).toBe(1);
    expect(sample(text, 'modproxy_sumdb_fetches_total', `database="${DB}",kind="lookup",result="not_found"`)).toBe(1);
    expect(sample(text, 'modproxy_sumdb_fetches_total', `database="${DB}",kind="latest",result="ok"`)).toBe(1);
    for (const kind of ['lookup', 'tile']) {
      expect(sample(text, 'modproxy_sumdb_proxy_answers_total', `database="${DB}",kind="${kind}",source="upstream"`), kind).toBe(1);
      expect(sample(text, 'modproxy_sumdb_proxy_answers_total', `database="${DB}",kind="${kind}",source="memory"`), kind).toBe(1);
    }
    expect(sample(text, 'modproxy_sumdb_proxy_answers_total', `database="${DB}",kind="latest",source="upstream"`)).toBe(1);
    expect(sample(text, 'modproxy_sumdb_proxy_answers_total', `database="${DB}",kind="latest",source="memory"`)).toBe(1);
    expect(sample(text, 'modproxy_http_requests_total', 'route="sumdb",status="200",outcome="none"')).toBe(6);
  });

  it('counts storage hits on another replica, and evictions from its small memory cache', { timeout: 60_000 }, async () => {
    for (const p of [`${MODULE}/@v/v1.0.0.info`, `${MODULE}/@v/v1.2.0.info`, `${PUBLIC_A}/@v/${PUBLIC_VERSIONS[0][1]}.info`]) expect(await get(b.url, p), p).toBe(200);
    expect(await get(b.url, `sumdb/${DB}/lookup/${PUBLIC_A}@v1.1.0`)).toBe(200);
    // Zips stream from storage, the second time too (only the answer's handle is kept).
    expect(await get(b.url, `${MODULE}/@v/v1.0.0.zip`)).toBe(200);
    expect(await get(b.url, `${MODULE}/@v/v1.0.0.zip`)).toBe(200);
    // A streamed answer is counted once the server has seen its last write complete, which can be
    // after the client has read the last byte: wait for the count rather than race it.
    await expect.poll(async () => sample(await scrape(b.url), 'modproxy_http_requests_total', 'route="zip",status="200",outcome="storage"'), { timeout: 5000 }).toBe(2);
    const text = await scrape(b.url);
    expect(sample(text, 'modproxy_http_requests_total', 'route="info",status="200",outcome="storage"')).toBe(3);
    expect(sample(text, 'modproxy_http_requests_total', 'route="zip",status="200",outcome="storage"')).toBe(2);
    expect(sample(text, 'modproxy_builds_total')).toBeUndefined();
    expect(sample(text, 'modproxy_git_fetched_bytes_total')).toBe(0);
    expect(sample(text, 'modproxy_memory_cache_limit_bytes')).toBe(1500);
    expect(sample(text, 'modproxy_memory_cache_bytes')).toBeLessThanOrEqual(1500);
    expect(sample(text, 'modproxy_memory_cache_evictions_total')).toBeGreaterThan(0);
    // Kept in storage by replica a (the previous test).
    expect(sample(text, 'modproxy_sumdb_proxy_answers_total', `database="${DB}",kind="lookup",source="storage"`)).toBe(1);
  });
});

it('requires credentials for /metrics when clientAuth is on; /healthz and /readyz need none', async () => {
  expect((await fetch(`${authed.url}/metrics`)).status).toBe(401);
  const ok = await fetch(`${authed.url}/metrics`, { headers: { authorization: `Basic ${Buffer.from('ops:ops-password').toString('base64')}` } });
  expect(ok.status).toBe(200);
  expect(await ok.text()).toContain('modproxy_http_requests_total');
  expect((await fetch(`${authed.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${authed.url}/readyz`)).status).toBe(200);
});

it('puts the Cloud Trace id of traceparent or X-Cloud-Trace-Context in request log lines', async () => {
  process.env.GOOGLE_CLOUD_PROJECT = 'my-project';
  const id1 = '4bf92f3577b34da6a3ce929d0e0e4736';
  const id2 = '105445aa7843bc8bf206b12000100000';
  await (await fetch(`${proxy.url}/healthz`, { headers: { traceparent: `00-${id1}-00f067aa0ba902b7-01` } })).text();
  await (await fetch(`${proxy.url}/healthz`, { headers: { 'x-cloud-trace-context': `${id2}/1;o=1` } })).text();
  await (await fetch(`${proxy.url}/healthz`)).text();
  const lines = proxy.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'request').slice(-3);
  expect(lines.map((l) => l['logging.googleapis.com/trace'])).toEqual([`projects/my-project/traces/${id1}`, `projects/my-project/traces/${id2}`, undefined]);
});
