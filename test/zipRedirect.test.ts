// Large zips on serverless: .zip answered with a redirect to a short-lived
// V4 signed URL of the stored object, which the go command follows.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { GoRunner } from './support/goRunner.js';
import { startProxy, testConfig } from './support/proxyFixture.js';
import { storageUnderTest, zipH1, type StorageUnderTest } from './support/replicas.js';
import { RepoBuilder } from './support/repoBuilder.js';

const MODULE = 'github.com/redir/m';
let tmp: string;
let git: GitHttpServer;
let sut: StorageUnderTest;
let directSum: string | undefined;

/** GET without following redirects. */
function getRaw(url: string): Promise<{ status: number; location?: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-redirect-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  const repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'redir/m');
  await repo.write({ 'go.mod': `module ${MODULE}\n`, 'm.go': 'package m\n', 'data.txt': 'x'.repeat(200_000) });
  await repo.commit('2020-01-01T00:00:00Z');
  await repo.tag('v1.0.0');
  await repo.publish();
  sut = await storageUnderTest('gcs', tmp);
  const runner = new GoRunner({ tmp: path.join(tmp, 'go-direct'), insteadOf: { 'https://github.com/': `${git.url}/` } });
  directSum = (await runner.download('direct', `${MODULE}@v1.0.0`)).Sum;
});

afterAll(async () => {
  await sut?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function proxyWith(mode: string, thresholdBytes: number, dir: string) {
  return startProxy(testConfig(path.join(tmp, dir), { 'github.com': git.url }, ['github.com/redir'], `zipRedirect:\n  mode: ${mode}\n  thresholdBytes: ${thresholdBytes}\n  urlTtlSeconds: 120\n`), {
    storage: sut.storage,
  });
}

describe('.zip redirects to signed URLs', () => {
  it('redirects, the signed URL serves the zip, and the go command follows it', async () => {
    const proxy = await proxyWith('always', 0, 'always');
    try {
      const r = await getRaw(`${proxy.url}/${MODULE}/@v/v1.0.0.zip`);
      expect(r.status).toBe(302);
      expect(r.location).toMatch(new RegExp(`^${sut.gcs!.url}/modproxy-[0-9a-f]+/blobs/sha256/.*X-Goog-Algorithm=GOOG4-RSA-SHA256`));
      const viaSigned = await getRaw(r.location!);
      expect(viaSigned.status).toBe(200);
      expect(await zipH1(viaSigned.body)).toBe(directSum);
      // A tampered signature is refused by storage.
      const tampered = r.location!.replace(/X-Goog-Signature=([0-9a-f])/, (_m, c: string) => `X-Goog-Signature=${c === '0' ? '1' : '0'}`);
      expect((await getRaw(tampered)).status).toBeGreaterThanOrEqual(400);

      const runner = new GoRunner({ tmp: path.join(tmp, 'go-proxy'), insteadOf: {} });
      const viaProxy = await runner.download(proxy.url, `${MODULE}@v1.0.0`);
      expect(viaProxy.Error).toBeUndefined();
      expect(viaProxy.Sum).toBe(directSum);
      expect(sut.gcs!.requests.some((q) => q.method === 'GET' && q.path.includes('/blobs/sha256/') && !q.path.includes('/storage/v1/'))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('streams below the threshold in auto mode, redirects above it, and never redirects in never mode', async () => {
    const small = await proxyWith('auto', 10 << 20, 'auto-small');
    const large = await proxyWith('auto', 1000, 'auto-large');
    const never = await proxyWith('never', 0, 'never');
    try {
      expect((await getRaw(`${small.url}/${MODULE}/@v/v1.0.0.zip`)).status).toBe(200);
      expect((await getRaw(`${large.url}/${MODULE}/@v/v1.0.0.zip`)).status).toBe(302);
      const streamed = await getRaw(`${never.url}/${MODULE}/@v/v1.0.0.zip`);
      expect(streamed.status).toBe(200);
      expect(await zipH1(streamed.body)).toBe(directSum);
    } finally {
      await Promise.all([small.close(), large.close(), never.close()]);
    }
  });
});
