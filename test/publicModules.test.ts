// Public modules verified against a real checksum database: x/mod's own sumdb
// server (test/support/sumdbServer.ts) holding the go.sum lines direct mode
// produced, a parent proxy serving the go command's cache/download tree, and
// modproxy configured with parentProxy and publicModules.sumDatabase only: the
// verifier is the production one (SumdbClient, tree heads in our storage).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readZipRecord } from '../lib/records/manifest.js';
import { parseSumdbTreeKey, sumdbTreesPrefix } from '../lib/records/layout.js';
import { FsStorage } from '../lib/storage/fsStorage.js';
import { startFileProxyServer, type FileProxyServer } from './support/fileProxyServer.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { makePublicFixture, PUBLIC_A, PUBLIC_VERSIONS, type PublicFixture } from './support/publicFixture.js';
import { SumdbServer } from './support/sumdbServer.js';

const DB = 'sumdb.test';
let tmp: string;
let fx: PublicFixture;
let parent: FileProxyServer;
let db: SumdbServer;
const proxies: ProxyFixture[] = [];

/** A modproxy on the shared storage, verifying against the database at dbUrl. */
async function modproxy(dbUrl: string, vkey: string): Promise<ProxyFixture> {
  const extra = [
    'parentProxy:',
    `  url: "${parent.url}"`,
    '  timeoutSeconds: 20',
    'publicModules:',
    '  sumDatabase:',
    `    name: ${DB}`,
    `    url: "${dbUrl}"`,
    `    publicKey: "${vkey}"`,
    'sumDatabaseProxy:',
    '  sumDatabases:',
    `    - name: ${DB}`,
    `      url: "${dbUrl}"`,
    `      publicKey: "${vkey}"`,
  ].join('\n');
  const p = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': fx.git.url }, ['github.com/priv'], extra), { tmpDir: path.join(tmp, 'proxy-tmp') });
  proxies.push(p);
  return p;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-public-'));
  fx = await makePublicFixture(tmp);
  parent = await startFileProxyServer(fx.downloadRoot);
  db = await SumdbServer.start({ name: DB });
  // Other modules first, so the records of ours sit inside a larger tree.
  await db.bulk('example.com/other', 0, 300);
  const lines = fx.goSum.trim().split('\n');
  for (let i = 0; i < lines.length; i += 2) await db.add([lines[i], lines[i + 1]]);
  await db.bulk('example.com/later', 0, 50);
}, 300_000);

afterAll(async () => {
  for (const p of proxies) await p.close();
  await parent?.close();
  await db?.close();
  await fx?.git.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

it('verifies every public version against the checksum database, and the go command verifies through modproxy', async () => {
  const proxy = await modproxy(db.url, db.vkey);
  for (const [m, v] of PUBLIC_VERSIONS) {
    // GOSUMDB names the database with no URL: the go command can reach it only through modproxy's /sumdb/.
    const got = await fx.runner.download(proxy.url, `${m}@${v}`, { env: { GOSUMDB: db.vkey } });
    expect(got.Error, `${m}@${v}`).toBeUndefined();
    expect(got.Sum).toBe(fx.direct.get(`${m}@${v}`)!.Sum);
    expect(got.GoModSum).toBe(fx.direct.get(`${m}@${v}`)!.GoModSum);
  }
  await proxy.app.service.idle();
  const storage = new FsStorage(path.join(tmp, 'proxy', 'storage'));
  expect((await readZipRecord(storage, PUBLIC_A, 'v1.0.0'))?.source).toEqual({ kind: 'proxy', modH1: fx.direct.get(`${PUBLIC_A}@v1.0.0`)!.GoModSum, zipH1: fx.direct.get(`${PUBLIC_A}@v1.0.0`)!.Sum });
  // The verified tree head is kept in storage, for every replica and restart.
  const heads = (await storage.list(sumdbTreesPrefix(DB))).map(parseSumdbTreeKey);
  expect(heads.length).toBeGreaterThan(0);
  // What the go command verified with was kept: lookups and tiles.
  const kept = await storage.list(`sumdb/${DB}/`);
  expect(kept.filter((k) => k.includes('/lookup/'))).toHaveLength(PUBLIC_VERSIONS.length);
  expect(kept.some((k) => k.includes('/tile/'))).toBe(true);
  expect((await fetch(`${proxy.url}/sumdb/${DB}/supported`)).status).toBe(200);
  expect((await fetch(`${proxy.url}/sumdb/other.example/supported`)).status).toBe(404);

  // The database grows: modproxy follows it with a consistency proof and moves its stored head on.
  const before = heads.reduce((a, b) => (a! > b! ? a : b))!;
  await db.bulk('example.com/grow', 0, 300);
  const grown = await fetch(`${proxy.url}/sumdb/${DB}/lookup/example.com/grow/m299@v1.0.0`);
  expect(grown.status).toBe(200);
  const after = (await storage.list(sumdbTreesPrefix(DB))).map(parseSumdbTreeKey).reduce((a, b) => (a! > b! ? a : b))!;
  expect(after).toBeGreaterThan(before);
  const latest = await fetch(`${proxy.url}/sumdb/${DB}/latest`);
  expect([latest.status, (await latest.text()).split('\n')[1]]).toEqual([200, String(after)]);
}, 240_000);

it('refuses a version the database has no record of, and stores nothing of it', async () => {
  const proxy = await modproxy(db.url, db.vkey);
  parent.overrides.set('/example.com/unvouched/@v/v1.0.0.info', Buffer.from('{"Version":"v1.0.0","Time":"2022-01-01T00:00:00Z"}'));
  parent.overrides.set('/example.com/unvouched/@v/v1.0.0.mod', Buffer.from('module example.com/unvouched\n'));
  try {
    const r = await fetch(`${proxy.url}/example.com/unvouched/@v/v1.0.0.mod`);
    expect(r.status).toBe(502);
    expect(await r.text()).toMatch(/no record of it/);
    const storage = new FsStorage(path.join(tmp, 'proxy', 'storage'));
    expect(await storage.list('versions/example.com/unvouched/')).toEqual([]);
  } finally {
    parent.overrides.clear();
  }
});

it('serves everything it verified with the database and the parent gone, after a restart on the same storage', async () => {
  await db.close();
  await parent.close();
  for (const p of proxies.splice(0)) await p.close();
  fs.mkdirSync(path.join(tmp, 'empty-parent'), { recursive: true });
  parent = await startFileProxyServer(path.join(tmp, 'empty-parent'));
  const proxy = await modproxy('http://127.0.0.1:9', db.vkey);
  for (const [m, v] of PUBLIC_VERSIONS) {
    // A fresh client still verifies, through what modproxy kept of the database.
    const got = await fx.runner.download(proxy.url, `${m}@${v}`, { env: { GOSUMDB: db.vkey } });
    expect(got.Error, `${m}@${v}`).toBeUndefined();
    expect(got.Sum).toBe(fx.direct.get(`${m}@${v}`)!.Sum);
  }
}, 240_000);

it('refuses to follow a forked database (same key, other history) past the tree it verified', async () => {
  const fork = await SumdbServer.start({ skey: db.skey });
  try {
    // Same key, a different history: other records first, then ours, then more.
    await fork.bulk('example.com/fork', 0, 400);
    const lines = fx.goSum.trim().split('\n');
    for (let i = 0; i < lines.length; i += 2) await fork.add([lines[i], lines[i + 1]]);
    await fork.add([`example.com/newmod v1.0.0 h1:${'A'.repeat(43)}=`, `example.com/newmod v1.0.0/go.mod h1:${'B'.repeat(43)}=`]);
    fs.mkdirSync(path.join(tmp, 'new-parent', 'example.com', 'newmod', '@v'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'new-parent', 'example.com', 'newmod', '@v', 'v1.0.0.info'), '{"Version":"v1.0.0","Time":"2022-01-01T00:00:00Z"}');
    fs.writeFileSync(path.join(tmp, 'new-parent', 'example.com', 'newmod', '@v', 'v1.0.0.mod'), 'module example.com/newmod\n');
    await parent.close();
    parent = await startFileProxyServer(path.join(tmp, 'new-parent'));
    const proxy = await modproxy(fork.url, fork.vkey);
    const r = await fetch(`${proxy.url}/example.com/newmod/@v/v1.0.0.mod`);
    expect(r.status).toBeGreaterThanOrEqual(500);
    expect(await r.text()).toMatch(/does not contain|fork|consisten/i);
    const storage = new FsStorage(path.join(tmp, 'proxy', 'storage'));
    expect(await storage.list('versions/example.com/newmod/')).toEqual([]);
  } finally {
    await fork.close();
  }
}, 240_000);
