// Faults: the GCS double answers a fraction of calls with 429, 503 or never.
// Every request still succeeds or fails cleanly with a 5xx, and nothing
// inconsistent is stored: once the faults stop, every version is served in
// one copy that agrees with anything served during the faults.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultClientOptions, GcsStorage } from '../../lib/storage/gcsStorage.js';
import { startGcsDouble, type GcsDouble } from '../support/gcsDouble.js';
import { startGitHttpServer, type GitHttpServer } from '../support/gitHttpServer.js';
import { GoRunner } from '../support/goRunner.js';
import { startProxy, testConfig, type ProxyFixture } from '../support/proxyFixture.js';
import { checkStorageInvariants, zipH1 } from '../support/replicas.js';
import { RepoBuilder } from '../support/repoBuilder.js';

const MODULE = 'github.com/faults/m';
const VERSIONS = Array.from({ length: 8 }, (_, i) => `v1.${i}.0`);
let tmp: string;
let git: GitHttpServer;
let gcs: GcsDouble;
let storage: GcsStorage;
let proxy: ProxyFixture;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-faults-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  const repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'faults/m');
  for (const [i, v] of VERSIONS.entries()) {
    await repo.write({ 'go.mod': `module ${MODULE}\n`, [`f${i}.go`]: `package m // ${i}\n` });
    await repo.commit(1577836800 + i * 86400);
    await repo.tag(v);
  }
  await repo.publish();
  gcs = await startGcsDouble();
  gcs.createBucket('faults');
  const base = defaultClientOptions();
  // Short timeouts and retry delays, so hung requests fail over quickly in the test.
  const client = new Storage({ ...base, apiEndpoint: gcs.url, projectId: 'test', timeout: 800, retryOptions: { ...base.retryOptions, maxRetryDelay: 1, totalTimeout: 20, maxRetries: 3 } });
  storage = new GcsStorage({ bucket: 'faults', storage: client });
  proxy = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': git.url }, ['github.com/faults']), { storage });
});

afterAll(async () => {
  await proxy?.close();
  await gcs?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

it('succeeds or fails cleanly under storage faults, and stores nothing inconsistent', { timeout: 600_000 }, async () => {
  gcs.setFaults({ rate: 0.25, kinds: [429, 503, 'timeout'], seed: 7 });
  const served = new Map<string, Set<string>>();
  const statuses: Record<number, number> = {};
  for (const v of VERSIONS) {
    for (let attempt = 0; attempt < 2; attempt++) {
      for (const kind of ['info', 'mod', 'zip']) {
        const res = await fetch(`${proxy.url}/${MODULE}/@v/${v}.${kind}`);
        const body = Buffer.from(await res.arrayBuffer());
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        expect([200, 503], `${v}.${kind}: ${res.status} ${body.toString().slice(0, 200)}`).toContain(res.status);
        if (res.status === 200) {
          const key = `${v}.${kind}`;
          if (!served.has(key)) served.set(key, new Set());
          served.get(key)!.add(body.toString('base64'));
        }
      }
    }
  }
  // Every injected fault counts: 429, 503, and calls never answered (status 0, ended by the client's timeout).
  const faulted = gcs.requests.filter((r) => r.status === 429 || r.status === 503 || r.status === 0).length;
  gcs.setFaults(undefined);
  await proxy.app.service.idle();

  // Without faults: everything is served, in one copy, equal to anything served before.
  const runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: {} });
  for (const v of VERSIONS) {
    for (const kind of ['info', 'mod', 'zip']) {
      const res = await fetch(`${proxy.url}/${MODULE}/@v/${v}.${kind}`);
      expect(res.status).toBe(200);
      const body = Buffer.from(await res.arrayBuffer()).toString('base64');
      const earlier = served.get(`${v}.${kind}`);
      if (earlier) expect([...earlier], `${v}.${kind} served during faults`).toEqual([body]);
    }
    const r = await runner.download(proxy.url, `${MODULE}@${v}`);
    expect(r.Error).toBeUndefined();
    const zip = Buffer.from(await (await fetch(`${proxy.url}/${MODULE}/@v/${v}.zip`)).arrayBuffer());
    expect(r.Sum).toBe(await zipH1(zip));
  }
  const { manifests, zips } = await checkStorageInvariants(storage);
  expect(manifests).toHaveLength(VERSIONS.length);
  expect(zips).toHaveLength(VERSIONS.length);
  console.log(`faults: ${faulted} GCS calls faulted; proxy statuses during faults ${JSON.stringify(statuses)}`);
  expect(faulted).toBeGreaterThan(10);
});

it('answers 503 when storage keeps failing after the client retries', { timeout: 60_000 }, async () => {
  // A replica that has not read the version yet (the one above holds it in memory, and a hit never asks storage).
  const fresh = await startProxy(testConfig(path.join(tmp, 'fresh'), { 'github.com': git.url }, ['github.com/faults']), { storage });
  gcs.setFaults({ rate: 1, kinds: [503], match: /manifest\.json/ });
  try {
    const res = await fetch(`${fresh.url}/${MODULE}/@v/${VERSIONS[0]}.info`);
    expect(res.status).toBe(503);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('storage unavailable, try again\n');
    // The replica that holds it keeps answering from memory.
    expect((await fetch(`${proxy.url}/${MODULE}/@v/${VERSIONS[0]}.info`)).status).toBe(200);
  } finally {
    gcs.setFaults(undefined);
    await fresh.close();
  }
});
