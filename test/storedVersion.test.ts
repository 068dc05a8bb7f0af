// Once a version has been served, later requests read it from storage and
// never from git again: moving the tag upstream, or deleting the repository,
// changes nothing that is served, and the git server sees no new requests.
// On local disk and on GCS (the test double, through the real client).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { GoRunner } from './support/goRunner.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { RepoBuilder } from './support/repoBuilder.js';
import { storageUnderTest, type Backend, type StorageUnderTest } from './support/replicas.js';

for (const backend of ['fs', 'gcs'] as Backend[]) {
  describe(`stored versions on ${backend}`, () => {
  let tmp: string;
  let git: GitHttpServer;
  let proxy: ProxyFixture;
  let repo: RepoBuilder;
  let sut: StorageUnderTest;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-stored-'));
    git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
    repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'o/s');
    await repo.write({ 'go.mod': 'module github.com/o/s\n', 'a.go': 'package s\n' });
    await repo.commit('2020-01-01T00:00:00Z');
    await repo.tag('v1.0.0');
    await repo.publish();
    sut = await storageUnderTest(backend, tmp);
    proxy = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': git.url }, ['github.com/o']), { storage: sut.storage });
  });

  afterAll(async () => {
    await proxy?.close();
    await sut?.close();
    await git?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function get(p: string): Promise<{ status: number; body: Buffer }> {
    const r = await fetch(proxy.url + p);
    return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
  }

    it('serves the first copy forever, without touching git', async () => {
      const first = {
        info: await get('/github.com/o/s/@v/v1.0.0.info'),
        mod: await get('/github.com/o/s/@v/v1.0.0.mod'),
        zip: await get('/github.com/o/s/@v/v1.0.0.zip'),
      };
      expect(first.info.status).toBe(200);
      expect(first.zip.status).toBe(200);
      const runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: {} });
      const before = await runner.download(proxy.url, 'github.com/o/s@v1.0.0');
      expect(before.Error).toBeUndefined();

      // Move the tag to a commit with different content and go.mod.
      await repo.write({ 'go.mod': 'module github.com/o/s\n\ngo 1.21\n', 'b.go': 'package s\n' });
      await repo.commit('2020-02-01T00:00:00Z');
      await repo.git('tag', '-f', 'v1.0.0');
      await repo.publish();
      const requestsAfterMove = git.requests.length;
      for (const [kind, want] of Object.entries(first)) {
        const again = await get(`/github.com/o/s/@v/v1.0.0.${kind}`);
        expect(again.status, kind).toBe(200);
        expect(again.body.equals(want.body), `${kind} unchanged after the tag moved`).toBe(true);
      }
      expect(git.requests.length, 'no git traffic for a stored version').toBe(requestsAfterMove);

      // Delete the repository outright.
      fs.rmSync(repo.bare, { recursive: true, force: true });
      for (const [kind, want] of Object.entries(first)) {
        const again = await get(`/github.com/o/s/@v/v1.0.0.${kind}`);
        expect(again.body.equals(want.body), `${kind} unchanged after the repository was deleted`).toBe(true);
      }
      expect(git.requests.length).toBe(requestsAfterMove);
      const after = await runner.download(proxy.url, 'github.com/o/s@v1.0.0');
      expect(after.Error).toBeUndefined();
      expect(after.Sum).toBe(before.Sum);
      expect(after.GoModSum).toBe(before.GoModSum);
    });
  });
}
