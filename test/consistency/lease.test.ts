// No duplicate upstream work: with leases (default on GCS storage), cold
// replicas asked for the same version at once fetch it from git once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from '../support/gitHttpServer.js';
import { startProxyProcess, type ProxyProcess } from '../support/proxyProcess.js';
import { replicaConfig, storageUnderTest, type StorageUnderTest } from '../support/replicas.js';
import { RepoBuilder } from '../support/repoBuilder.js';

const MODULE = 'github.com/lease/m';
let tmp: string;
let git: GitHttpServer;
let sut: StorageUnderTest;
let replicas: ProxyProcess[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-lease-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  const repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'lease/m');
  const files: Record<string, string> = { 'go.mod': `module ${MODULE}\n` };
  for (let i = 0; i < 300; i++) files[`p${i % 10}/f${i}.go`] = `package p // ${'x'.repeat(i)}\n`;
  await repo.write(files);
  await repo.commit('2020-01-01T00:00:00Z');
  await repo.tag('v1.0.0');
  await repo.publish();
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
