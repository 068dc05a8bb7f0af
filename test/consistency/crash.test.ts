// Crashes: a replica killed with SIGKILL at each point of the commit path
// (before and after every write) leaves storage from which every later request
// serves one consistent copy, equal to what direct mode gives; nothing partial
// is ever served.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from '../support/gitHttpServer.js';
import { GoRunner, type DownloadResult } from '../support/goRunner.js';
import { startProxyProcess } from '../support/proxyProcess.js';
import { checkStorageInvariants, replicaConfig, storageUnderTest, testServiceAccount, zipH1, type Backend, type TestServiceAccount } from '../support/replicas.js';
import { RepoBuilder } from '../support/repoBuilder.js';

const MODULE = 'github.com/crash/m';
const VERSION = 'v1.2.3';
/** Every write of the commit path, in order (the go.mod body only exists for go.mod files over 64 KiB). */
const POINTS = ['before-mod-blob', 'after-mod-blob', 'before-manifest', 'after-manifest', 'before-zip-blob', 'after-zip-blob', 'before-zip-record', 'after-zip-record'];

let tmp: string;
let git: GitHttpServer;
let direct: DownloadResult;
let account: TestServiceAccount;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-crash-'));
  account = testServiceAccount(tmp);
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  const repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'crash/m');
  // A go.mod over 64 KiB, so it is stored as its own body and that write is exercised too.
  await repo.write({ 'go.mod': `module ${MODULE}\n\ngo 1.21\n\n${'// padding padding padding padding\n'.repeat(2200)}`, 'm.go': 'package m\n', 'sub/s.go': 'package sub\n' });
  await repo.commit('2020-01-01T00:00:00Z');
  await repo.tag(VERSION);
  await repo.publish();
  const runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: { 'https://github.com/': `${git.url}/` } });
  direct = await runner.download('direct', `${MODULE}@${VERSION}`);
  expect(direct.Error).toBeUndefined();
});

afterAll(async () => {
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function tryGet(url: string): Promise<{ status: number; body: Buffer } | null> {
  try {
    const res = await fetch(url);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  } catch {
    return null; // the replica died mid-request
  }
}

for (const backend of ['gcs', 'fs'] as Backend[]) {
  describe(`crashes on ${backend} storage`, () => {
    for (const point of POINTS) {
      it(`a replica killed at ${point} leaves storage that serves one consistent copy`, { timeout: 120_000 }, async () => {
        const dir = fs.mkdtempSync(path.join(tmp, `${backend}-${point}-`));
        const sut = await storageUnderTest(backend, dir, account);
        try {
          // A killed replica keeps its lease until it expires; others wait at most 1 s for it here.
          const coordination = 'coordination:\n  leaseMaxWaitSeconds: 1\n';
          const config = replicaConfig(sut, path.join(dir, 'git-crashing'), git.url, ['github.com/crash'], coordination);
          const crashing = await startProxyProcess(config, { ...sut.env, MODPROXY_TEST_CRASH_AT: point });
          const base = `${crashing.url}/${MODULE}/@v/${VERSION}`;
          // .info commits the manifest; the zip is built after it (in the background, or for .zip).
          const servedBefore: Record<string, Buffer> = {};
          for (const kind of ['info', 'mod', 'zip']) {
            const r = await tryGet(`${base}.${kind}`);
            if (r?.status === 200) servedBefore[kind] = r.body;
          }
          expect(await crashing.exited, `the replica reached ${point}`).toBe('SIGKILL');

          // Whatever the crash left is consistent; then a healthy replica serves one copy.
          await checkStorageInvariants(sut.storage);
          const healthy = await startProxyProcess(replicaConfig(sut, path.join(dir, 'git-healthy'), git.url, ['github.com/crash'], coordination), sut.env);
          try {
            const after: Record<string, Buffer> = {};
            for (const kind of ['info', 'mod', 'zip']) {
              const r = await tryGet(`${healthy.url}/${MODULE}/@v/${VERSION}.${kind}`);
              expect(r?.status, `${kind} after the crash at ${point}`).toBe(200);
              after[kind] = r!.body;
              if (servedBefore[kind]) expect(after[kind].equals(servedBefore[kind]), `${kind} served before the crash is what is served after`).toBe(true);
            }
            expect(await zipH1(after.zip)).toBe(direct.Sum);
            const { manifests, zips } = await checkStorageInvariants(sut.storage);
            expect(manifests).toHaveLength(1);
            expect(zips).toHaveLength(1);
            const runner = new GoRunner({ tmp: path.join(dir, 'go'), insteadOf: {} });
            const viaProxy = await runner.download(healthy.url, `${MODULE}@${VERSION}`);
            expect(viaProxy.Sum).toBe(direct.Sum);
            expect(viaProxy.GoModSum).toBe(direct.GoModSum);
          } finally {
            await healthy.stop();
          }
        } finally {
          await sut.close();
        }
      });
    }
  });
}
