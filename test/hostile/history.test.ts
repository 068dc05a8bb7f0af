// A repository with 100,000 commits: `@latest` (whose pseudo-version needs the
// newest tag among the ancestors) and a query by commit hash (looked up among
// every commit of every ref) walk the whole history. While they do, a stored
// .info must still be answered: long loops give the event loop its turns.
//
// The resolution runs in this process, on the real git source (object store,
// repository, CodeRepo) against the loopback git server, next to a real
// modproxy that has a version stored. The store is watched (not replaced):
// the moment the whole history is in, a request for the stored .info is
// sent. From then on the resolution needs no I/O at all (a plain git server
// sends complete snapshots), so the .info can only be answered before the
// resolution ends if the walk itself yields.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeRepo } from '../../lib/source/git/codeRepo.js';
import { RemoteGitRepo } from '../../lib/source/git/gitRepo.js';
import { createGitHttpClient } from '../../lib/source/git/httpClient.js';
import { GitObjectStore, type AdvertisedRef } from '../../lib/source/git/objectStore.js';
import { startGitHttpServer, type GitHttpServer } from '../support/gitHttpServer.js';
import { GoRunner } from '../support/goRunner.js';
import { startProxy, testConfig, type ProxyFixture } from '../support/proxyFixture.js';
import { fastImport, longHistoryRepo, oneCommit } from './support.js';

const COMMITS = 100_000;

let tmp: string;
let repos: string;
let git: GitHttpServer;
let proxy: ProxyFixture;
let runner: GoRunner;
/** The commit in the middle of the history. */
let middle: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-hostile-history-'));
  repos = path.join(tmp, 'repos');
  middle = await longHistoryRepo(repos, 'h/long', 'github.com/h/long', COMMITS, COMMITS / 2);
  await fastImport(repos, 'h/small', (out) => oneCommit({ 'go.mod': 'module github.com/h/small\n' }, { tag: 'v1.0.0' }).forEach(out));
  // A plain git server: every fetch brings complete snapshots, so once the
  // history is in, resolving needs no more network.
  git = await startGitHttpServer({ projectRoot: repos, partialClone: false });
  proxy = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': `${git.url}/` }, ['github.com/h']));
  runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: { 'https://github.com/': `${git.url}/` } });
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** A GET on a connection of its own. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

/** The real object store, telling when a fetch of the whole history has completed. */
class WatchedStore extends GitObjectStore {
  onHistory: (() => void) | undefined;
  override async fetchAll(refs: AdvertisedRef[]): Promise<void> {
    await super.fetchAll(refs);
    const cb = this.onHistory;
    this.onHistory = undefined;
    cb?.();
  }
}

/** Runs `resolve` on a fresh store; once the history is in, asks modproxy for a stored .info. Returns which finished first. */
async function raceStoredInfo(name: string, resolve: (repo: CodeRepo) => Promise<{ version: string }>): Promise<{ order: string[]; version: string }> {
  const store = new WatchedStore(path.join(tmp, `store-${name}`), { url: `${git.url}/h/long`, http: createGitHttpClient() });
  const repo = new CodeRepo(new RemoteGitRepo(store, 'https://github.com/h/long'), 'github.com/h/long', 'github.com/h/long');
  const order: string[] = [];
  let probe: Promise<void> | undefined;
  store.onHistory = () => {
    probe = get(`${proxy.url}/github.com/h/small/@v/v1.0.0.info`).then((r) => {
      expect(r.status).toBe(200);
      order.push('stored .info');
    });
  };
  const { version } = await resolve(repo);
  order.push(name);
  expect(probe, 'the whole history was fetched').toBeDefined();
  await probe;
  return { order, version };
}

describe('a history of 100,000 commits', () => {
  it('a stored .info is answered while @latest and a hash query walk it; both answer as direct mode', { timeout: 600_000 }, async () => {
    expect((await get(`${proxy.url}/github.com/h/small/@v/v1.0.0.info`)).status).toBe(200);

    // @latest: the newest tag below HEAD needs the whole history.
    const latest = await raceStoredInfo('@latest', (repo) => repo.latest());
    expect(latest.order).toEqual(['stored .info', '@latest']);

    // A hash that is no ref tip: looked up among every commit of every ref.
    const short = middle.slice(0, 12);
    const byHash = await raceStoredInfo('hash query', (repo) => repo.stat(short));
    expect(byHash.order).toEqual(['stored .info', 'hash query']);

    // The go command asks @latest only when the version list is empty; what it
    // answers is the default branch's head, converted like any revision.
    const [directLatest, directHash] = await Promise.all([runner.download('direct', 'github.com/h/long@main'), runner.download('direct', `github.com/h/long@${short}`)]);
    expect(directLatest.Error).toBeUndefined();
    expect(directHash.Error).toBeUndefined();
    expect(latest.version).toBe(directLatest.Version);
    expect(byHash.version).toBe(directHash.Version);
  });
});
