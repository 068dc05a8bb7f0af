// modproxy-admin ls and verify on fs storage: verify re-reads every body and
// catches one altered behind the proxy's back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runAdmin } from '../lib/cli/modproxyAdmin.js';
import { FsStorage } from '../lib/storage/fsStorage.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { RepoBuilder } from './support/repoBuilder.js';

const MODULE = 'github.com/adm/m';
let tmp: string;
let git: GitHttpServer;
let proxy: ProxyFixture;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-admin-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  const repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'adm/m');
  await repo.write({ 'go.mod': `module ${MODULE}\n`, 'a.go': 'package m\n' });
  await repo.commit('2020-01-01T00:00:00Z');
  await repo.tag('v1.0.0');
  await repo.write({ 'b.go': 'package m\n' });
  await repo.commit('2020-02-01T00:00:00Z');
  await repo.tag('v1.1.0');
  await repo.publish();
  proxy = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': git.url }, ['github.com/adm']));
  for (const v of ['v1.0.0', 'v1.1.0']) {
    const r = await fetch(`${proxy.url}/${MODULE}/@v/${v}.zip`);
    expect(r.status).toBe(200);
    await r.arrayBuffer();
  }
  await proxy.app.service.idle();
});

afterAll(async () => {
  await proxy?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function admin(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin(args, new FsStorage(path.join(tmp, 'proxy', 'storage')), { out: (l) => out.push(l), err: (l) => err.push(l), tmpDir: tmp });
  return { code, out, err };
}

it('lists committed versions', async () => {
  expect(await admin('ls')).toEqual({ code: 0, out: [`${MODULE} v1.0.0`, `${MODULE} v1.1.0`], err: [] });
  expect((await admin('ls', 'github.com/other')).out).toEqual([]);
  expect((await admin('nonsense')).code).toBe(2);
});

it('verifies every body against its record, and fails on one altered behind its back', async () => {
  const ok = await admin('verify');
  expect(ok.code).toBe(0);
  expect(ok.out).toEqual(['verified 2 versions: all bodies match their records']);
  const record = JSON.parse(fs.readFileSync(path.join(tmp, 'proxy', 'storage', 'versions', 'github.com', 'adm', 'm', '@v', 'v1.1.0', 'zip.json'), 'utf8')) as { zip: { blob: string } };
  const blob = path.join(tmp, 'proxy', 'storage', ...record.zip.blob.split('/'));
  const bytes = fs.readFileSync(blob);
  bytes[bytes.length - 30] ^= 0xff; // a flipped byte in the zip's end record
  fs.chmodSync(blob, 0o644);
  fs.writeFileSync(blob, bytes);
  const bad = await admin('verify');
  expect(bad.code).toBe(1);
  expect(bad.err.length).toBeGreaterThan(0);
  expect(bad.err.every((l) => l.startsWith(`MISMATCH ${MODULE}@v1.1.0: zip`))).toBe(true);
  expect(bad.err.some((l) => l.includes('sha256'))).toBe(true);
});
