// One storage time budget per request (storage.gcs.requestBudgetSeconds): the
// GCS client retries each call with back-off (1 s doubling to 8 s, six
// attempts) and a hung attempt lasts up to a minute, so without a bound a
// request on failing storage waits for minutes. With it, the request ends
// with a 503 once its storage calls have used the budget. The storage is
// built from the configuration, with the client's real retry settings,
// against the GCS double injecting faults.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startGcsDouble, type GcsDouble } from './support/gcsDouble.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { RepoBuilder } from './support/repoBuilder.js';

const MODULE = 'github.com/budget/m';
const BUCKET = 'budget';
let tmp: string;
let git: GitHttpServer;
let gcs: GcsDouble;
let proxy: ProxyFixture;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-budget-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  const repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'budget/m');
  await repo.write({ 'go.mod': `module ${MODULE}\n`, 'm.go': 'package m\n' });
  await repo.commit('2020-01-01T00:00:00Z');
  await repo.tag('v1.0.0');
  await repo.publish();
  gcs = await startGcsDouble();
  gcs.createBucket(BUCKET);
  const storage = `storage:\n  gcs:\n    bucket: ${BUCKET}\n    apiEndpoint: "${gcs.url}"\n    anonymous: true\n    requestBudgetSeconds: 2\n`;
  const config = testConfig(path.join(tmp, 'proxy'), { 'github.com': git.url }, ['github.com/budget']).replace(/^storage:\n {2}fs:\n.*\n/, storage);
  // The version is committed while storage is healthy, by a replica that then goes away: the one under
  // test holds nothing in memory (the committing replica keeps the records it wrote).
  const committer = await startProxy(config, { tmpDir: path.join(tmp, 'spool-committer') });
  expect((await fetch(`${committer.url}/${MODULE}/@v/v1.0.0.info`)).status).toBe(200);
  await committer.app.service.idle();
  await committer.close();
  proxy = await startProxy(config, { tmpDir: path.join(tmp, 'spool') });
});

afterEach(() => gcs.setFaults(undefined));

afterAll(async () => {
  await proxy?.close();
  await gcs?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** What a request got, and the storage requests made while it was served. */
async function served(kind: string): Promise<{ status: number; body: string; retryAfter: string | null; storageRequests: Array<{ status: number }> }> {
  const seen = gcs.requests.length;
  const res = await fetch(`${proxy.url}/${MODULE}/@v/v1.0.0.${kind}`);
  const body = await res.text();
  return { status: res.status, body, retryAfter: res.headers.get('retry-after'), storageRequests: gcs.requests.slice(seen) };
}

it('storage that never answers: the request ends with a 503 when its budget is spent, not when the attempt times out', { timeout: 60_000 }, async () => {
  gcs.setFaults({ rate: 1, kinds: ['timeout'] });
  const r = await served('zip');
  expect(r.status).toBe(503);
  // One attempt, still hanging (status 0): the client's own timeout is a minute.
  expect(r.storageRequests.map((q) => q.status)).toEqual([0]);
});

it('storage answering 503: the request ends with a 503 when its budget is spent, not after every retry', { timeout: 60_000 }, async () => {
  gcs.setFaults({ rate: 1, kinds: [503] });
  const logged = proxy.logs.length;
  const r = await served('mod');
  expect(r.status).toBe(503);
  expect(r.body).toBe('storage unavailable, try again\n');
  expect(r.retryAfter).toBe('5');
  // Two seconds hold the first attempt of the first storage call and the retry
  // one to two seconds later; the client alone would make six attempts (over
  // about 25 s) before the request could fail.
  expect(r.storageRequests.length).toBeGreaterThan(0);
  expect(r.storageRequests.length).toBeLessThanOrEqual(3);
  expect(r.storageRequests.every((q) => q.status === 503)).toBe(true);
  // The log says why; the client's body says only what to do.
  expect(proxy.logs.slice(logged).some((l) => l.includes("storage budget of 2 s (read versions/"))).toBe(true);
});

it('healthy storage: a request is served after a request that ran out of budget', async () => {
  const r = await served('zip');
  expect(r.status).toBe(200);
});
