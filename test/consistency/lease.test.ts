// No duplicate upstream work: with leases (default on GCS storage), cold
// replicas asked for the same version at once fetch it from git once. And no
// waiting for nothing: a replica whose build fails lets go of its lease, so
// the replicas waiting for it build the version themselves at once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseName, leaseObjectsPrefix, manifestKey } from '../../lib/records/layout.js';
import { StorageError } from '../../lib/errors.js';
import type { ObjectStorage } from '../../lib/storage/storage.js';
import { startGitHttpServer, type GitHttpServer } from '../support/gitHttpServer.js';
import { startProxy, testConfig, type ProxyFixture } from '../support/proxyFixture.js';
import { startProxyProcess, type ProxyProcess } from '../support/proxyProcess.js';
import { replicaConfig, storageUnderTest, type StorageUnderTest } from '../support/replicas.js';
import { RepoBuilder } from '../support/repoBuilder.js';

const MODULE = 'github.com/lease/m';
let tmp: string;
let git: GitHttpServer;
let sut: StorageUnderTest;
let replicas: ProxyProcess[] = [];

async function publishModule(name: string, files: Record<string, string>): Promise<void> {
  const repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), name);
  await repo.write(files);
  await repo.commit('2020-01-01T00:00:00Z');
  await repo.tag('v1.0.0');
  await repo.publish();
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-lease-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  const files: Record<string, string> = { 'go.mod': `module ${MODULE}\n` };
  for (let i = 0; i < 300; i++) files[`p${i % 10}/f${i}.go`] = `package p // ${'x'.repeat(i)}\n`;
  await publishModule('lease/m', files);
  sut = await storageUnderTest('gcs', tmp);
  replicas = await Promise.all(Array.from({ length: 4 }, (_, i) => startProxyProcess(replicaConfig(sut, path.join(tmp, `git-${i}`), git.url, ['github.com/lease']), sut.env)));
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await sut?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

it('four cold replicas fetch the version from git once', { timeout: 120_000 }, async () => {
  const before = git.commands.length;
  const responses = await Promise.all(
    replicas.flatMap((r) => ['zip', 'zip', 'mod'].map(async (kind) => (await fetch(`${r.url}/${MODULE}/@v/v1.0.0.${kind}`)).status)),
  );
  expect(responses.every((s) => s === 200)).toBe(true);
  const fetches = git.commands.slice(before).filter((c) => c === 'fetch');
  // One replica's fetches only: the tagged commit's snapshot without blobs, the
  // go.mod blob (read to locate the module), then the module's blobs for the
  // zip. Without the lease each of the four replicas would make its own three;
  // without the manifest builder's early claim on the zip lease, a replica that
  // waited for the manifest could win the zip lease and fetch again.
  expect(fetches).toHaveLength(3);
  const leases = await sut.storage.list('leases/');
  expect(leases.length).toBeGreaterThanOrEqual(2); // one for the manifest, one for the zip
});

/** A promise with its resolve function. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The shared storage as one replica sees it, telling the test when that replica reads a lease object. */
function watchingLeaseReads(storage: ObjectStorage, onLeaseRead: (key: string) => void): ObjectStorage {
  return {
    kind: storage.kind,
    createIfAbsent: (key, body, opts) => storage.createIfAbsent(key, body, opts),
    read: async (key) => {
      const data = await storage.read(key);
      if (key.startsWith('leases/')) onLeaseRead(key);
      return data;
    },
    openRead: (key, range) => storage.openRead(key, range),
    stat: (key) => storage.stat(key),
    list: (prefix, opts) => storage.list(prefix, opts),
  };
}

/** The records of a lease's series, oldest first, as "holder" / "holder released" with holders numbered in order of appearance. */
async function leaseSeries(storage: ObjectStorage, name: string): Promise<string[]> {
  const owners: string[] = [];
  const out: string[] = [];
  for (const key of await storage.list(leaseObjectsPrefix(name))) {
    const body = JSON.parse(Buffer.from((await storage.read(key))!).toString('utf8')) as { owner: string; released?: boolean };
    if (!owners.includes(body.owner)) owners.push(body.owner);
    out.push(`replica ${owners.indexOf(body.owner) + 1}${body.released ? ' released' : ''}`);
  }
  return out;
}

describe('a replica whose build fails lets go of its lease', () => {
  // Leases that never expire and a wait that never ends within the test:
  // the waiting replica can only proceed because the failed holder let go.
  const COORDINATION = 'coordination:\n  leases: true\n  leaseTtlSeconds: 600\n  leaseMaxWaitSeconds: 600\n';
  let failing: GitHttpServer;
  let gate: ((req: { url?: string }) => Promise<number | undefined>) | undefined;
  const proxies: ProxyFixture[] = [];

  beforeAll(async () => {
    // Replica 1's git host: the same repositories, with failures the test decides.
    failing = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos'), authorize: (req) => gate?.(req) });
  });

  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await failing?.close();
  });

  /** Replica 1 on the failing git host, replica 2 on the good one, both on the shared storage; replica 2 reports its lease reads. */
  async function twoReplicas(name: string, onLeaseRead: (key: string) => void, storageOfA = sut.storage): Promise<[ProxyFixture, ProxyFixture]> {
    const a = await startProxy(testConfig(path.join(tmp, `${name}-1`), { 'github.com': failing.url }, ['github.com/lease'], COORDINATION), { storage: storageOfA });
    const b = await startProxy(testConfig(path.join(tmp, `${name}-2`), { 'github.com': git.url }, ['github.com/lease'], COORDINATION), {
      storage: watchingLeaseReads(sut.storage, onLeaseRead),
    });
    proxies.push(a, b);
    return [a, b];
  }

  it('when building the version fails, a replica waiting for the same version builds it at once', { timeout: 60_000 }, async () => {
    const mod = 'github.com/lease/failed-manifest';
    await publishModule('lease/failed-manifest', { 'go.mod': `module ${mod}\n`, 'm.go': 'package m\n' });
    const holding = deferred();
    const fail = deferred();
    gate = async () => {
      holding.resolve();
      await fail.promise;
      return 500;
    };
    const lease = leaseName(mod, 'v1.0.0', 'manifest');
    const waiting = deferred();
    const [a, b] = await twoReplicas('manifest', (key) => key.startsWith(leaseObjectsPrefix(lease)) && waiting.resolve());

    // Replica 1 takes the build lease, then asks git, which holds its answer.
    const fromA = fetch(`${a.url}/${mod}/@v/v1.0.0.mod`);
    await holding.promise;
    // Replica 2 finds the lease held and waits for replica 1's result.
    const fromB = fetch(`${b.url}/${mod}/@v/v1.0.0.mod`);
    await waiting.promise;
    fail.resolve(); // git answers replica 1 with a 500

    const resA = await fromA;
    expect(resA.status).toBe(502);
    const resB = await fromB;
    expect(resB.status).toBe(200);
    expect(await resB.text()).toBe(`module ${mod}\n`);
    expect(await leaseSeries(sut.storage, lease)).toEqual(['replica 1', 'replica 1 released', 'replica 2']);
  });

  it('when the zip build that follows a committed version fails, a replica waiting for the zip builds it at once', { timeout: 60_000 }, async () => {
    const mod = 'github.com/lease/failed-zip';
    await publishModule('lease/failed-zip', { 'go.mod': `module ${mod}\n`, 'z.go': 'package z\n' });
    const building = deferred();
    const fail = deferred();
    // Git answers replica 1 until the version is committed; the zip build's fetch that follows fails.
    gate = async () => {
      if ((await sut.storage.stat(manifestKey(mod, 'v1.0.0'))) === null) return undefined;
      building.resolve();
      await fail.promise;
      return 500;
    };
    const lease = leaseName(mod, 'v1.0.0', 'zip');
    const waiting = deferred();
    const [a, b] = await twoReplicas('zip', (key) => key.startsWith(leaseObjectsPrefix(lease)) && waiting.resolve());

    // Replica 1 commits the version, having claimed the zip lease first, and builds the zip in the background.
    const resA = await fetch(`${a.url}/${mod}/@v/v1.0.0.info`);
    expect(resA.status).toBe(200);
    await building.promise;
    // Replica 2 is asked for the zip: the version is committed, the zip lease held, so it waits.
    const fromB = fetch(`${b.url}/${mod}/@v/v1.0.0.zip`);
    await waiting.promise;
    fail.resolve();
    await a.app.service.idle();

    const resB = await fromB;
    expect(resB.status).toBe(200);
    expect((await resB.arrayBuffer()).byteLength).toBeGreaterThan(0);
    // Replica 1's claim with the manifest (still fresh when its build starts, so not renewed), its release.
    expect(await leaseSeries(sut.storage, lease)).toEqual(['replica 1', 'replica 1 released', 'replica 2']);
  });

  it('when committing the version fails, the zip lease claimed with it is let go', { timeout: 60_000 }, async () => {
    const mod = 'github.com/lease/failed-commit';
    await publishModule('lease/failed-commit', { 'go.mod': `module ${mod}\n`, 'c.go': 'package c\n' });
    gate = undefined;
    // Replica 1's storage refuses the version's record: its commit fails after the zip lease was claimed.
    const refusing: ObjectStorage = {
      ...watchingLeaseReads(sut.storage, () => {}),
      createIfAbsent: async (key, body, opts) => {
        if (key === manifestKey(mod, 'v1.0.0')) throw new StorageError('injected: storage refused the write');
        return sut.storage.createIfAbsent(key, body, opts);
      },
    };
    const [a, b] = await twoReplicas('commit', () => {}, refusing);
    const resA = await fetch(`${a.url}/${mod}/@v/v1.0.0.info`);
    expect(resA.status).toBe(503);
    // Replica 2 commits the version, then builds the zip: it must not wait for a build replica 1 never starts.
    const resB = await fetch(`${b.url}/${mod}/@v/v1.0.0.zip`);
    expect(resB.status).toBe(200);
    // Replica 2 claims the zip lease with its commit; its build starts while the claim is fresh, so nothing is renewed.
    expect(await leaseSeries(sut.storage, leaseName(mod, 'v1.0.0', 'zip'))).toEqual(['replica 1', 'replica 1 released', 'replica 2']);
  });
});
