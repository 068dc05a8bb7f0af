// /index: the versions this deployment committed, in commit order, as
// newline-delimited JSON {Path, Version, Timestamp} (index.golang.org's
// shape), written at commit time so every replica lists the same; behind
// client authentication and the ACL.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGcsDouble, type GcsDouble } from './support/gcsDouble.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { RepoBuilder } from './support/repoBuilder.js';

let tmp: string;
let git: GitHttpServer;
let gcs: GcsDouble;
let authed: ProxyFixture;
let replica: ProxyFixture;
let onGcs: ProxyFixture;

const AUTH = `clientAuth:
  enabled: true
  identities:
    - name: alice
      password: alice-password
    - name: bob
      password: bob-password
  acl:
    - identities: [bob]
      moduleRegexp: '^github\\.com/acme/secret(/|$)'
      access: deny
    - moduleRegexp: '^github\\.com/acme/'
      access: allow
`;
const basic = (who: string) => ({ authorization: `Basic ${Buffer.from(`${who}:${who}-password`).toString('base64')}` });

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-index-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  for (const name of ['public', 'secret']) {
    const r = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), `acme/${name}`);
    await r.write({ 'go.mod': `module github.com/acme/${name}\n`, 'a.go': 'package a\n' });
    await r.commit('2020-01-01T00:00:00Z');
    await r.tag('v1.0.0');
    await r.write({ 'b.go': 'package a\n' });
    await r.commit('2020-02-01T00:00:00Z');
    await r.tag('v1.1.0');
    await r.publish();
  }
  const config = testConfig(path.join(tmp, 'proxy'), { 'github.com': git.url }, ['github.com/acme'], AUTH);
  authed = await startProxy(config);
  replica = await startProxy(config);
  gcs = await startGcsDouble();
  gcs.createBucket('index-bucket');
  const storage = `storage:\n  gcs:\n    bucket: index-bucket\n    apiEndpoint: "${gcs.url}"\n    anonymous: true\n`;
  onGcs = await startProxy(testConfig(path.join(tmp, 'gcsproxy'), { 'github.com': git.url }, ['github.com/acme']).replace(/^storage:\n {2}fs:\n.*\n/, storage), {
    tmpDir: path.join(tmp, 'spool'),
  });
});

afterAll(async () => {
  for (const p of [authed, replica, onGcs]) await p?.close();
  await gcs?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function info(proxy: ProxyFixture, mod: string, version: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${proxy.url}/github.com/acme/${mod}/@v/${version}.info`, { headers });
  expect(r.status).toBe(200);
  await r.text();
}

type Entry = { Path: string; Version: string; Timestamp: string };
async function index(proxy: ProxyFixture, query = '', headers: Record<string, string> = {}): Promise<{ status: number; entries: Entry[]; text: string }> {
  const r = await fetch(`${proxy.url}/index${query}`, { headers });
  const text = await r.text();
  const entries = r.status === 200 ? text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Entry) : [];
  return { status: r.status, entries, text };
}
const names = (es: Entry[]) => es.map((e) => `${e.Path}@${e.Version}`);

it('lists committed versions in commit order, once each, the same on every replica, by ACL', async () => {
  await info(authed, 'public', 'v1.0.0', basic('alice'));
  await info(authed, 'secret', 'v1.0.0', basic('alice'));
  await info(replica, 'public', 'v1.1.0', basic('alice'));
  await info(replica, 'public', 'v1.0.0', basic('alice')); // already committed: no second entry

  expect((await index(authed)).status, 'credentials required').toBe(401);
  const all = await index(authed, '', basic('alice'));
  expect(all.status).toBe(200);
  expect(names(all.entries)).toEqual(['github.com/acme/public@v1.0.0', 'github.com/acme/secret@v1.0.0', 'github.com/acme/public@v1.1.0']);
  for (const e of all.entries) expect(e.Timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  expect([...all.entries.map((e) => e.Timestamp)].sort()).toEqual(all.entries.map((e) => e.Timestamp));
  expect((await index(replica, '', basic('alice'))).entries).toEqual(all.entries);

  expect(names((await index(authed, '', basic('bob'))).entries), 'bob may not read secret').toEqual(['github.com/acme/public@v1.0.0', 'github.com/acme/public@v1.1.0']);

  expect((await index(authed, '?limit=2', basic('alice'))).entries).toEqual(all.entries.slice(0, 2));
  const third = all.entries[2];
  const since = await index(authed, `?since=${encodeURIComponent(third.Timestamp)}`, basic('alice'));
  expect(since.entries.at(-1), 'since is inclusive').toEqual(third);
  expect(since.entries.every((e) => e.Timestamp >= third.Timestamp)).toBe(true);
  expect((await index(authed, '?since=2999-01-01T00:00:00Z', basic('alice'))).entries).toEqual([]);
  expect((await index(authed, '?since=yesterday', basic('alice'))).status).toBe(400);
  expect((await index(authed, '?limit=0', basic('alice'))).status).toBe(400);
});

it('works on GCS storage (the double)', async () => {
  await info(onGcs, 'secret', 'v1.1.0');
  await info(onGcs, 'public', 'v1.0.0');
  const all = await index(onGcs);
  expect(names(all.entries)).toEqual(['github.com/acme/secret@v1.1.0', 'github.com/acme/public@v1.0.0']);
  expect([...gcs.objects('index-bucket').keys()].filter((k) => k.startsWith('index/'))).toHaveLength(2);
});
