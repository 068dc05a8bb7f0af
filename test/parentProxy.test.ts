// Public modules through a parent proxy, end to end with the real go command.
//
// Direct mode (the go command against the fixture git server) fills a module
// cache; its cache/download tree is a GOPROXY tree, served over loopback as
// the parent. modproxy, with that parent and a GoSumVerifier holding the
// go.sum lines direct mode produced, must serve the same modules with the
// same hashes; refuse tampered copies without storing any of them; and never
// send a private path to the parent.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkModuleZipFile } from '../lib/archive/zipReader.js';
import { readManifest, readZipRecord, sha256Hex } from '../lib/records/manifest.js';
import { GoSumVerifier } from '../lib/source/proxy/verifier.js';
import { FsStorage } from '../lib/storage/fsStorage.js';
import { startFileProxyServer, type FileProxyServer } from './support/fileProxyServer.js';
import type { GitHttpServer } from './support/gitHttpServer.js';
import type { DownloadResult, GoRunner } from './support/goRunner.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { escapedPath as escaped, makePublicFixture, PUBLIC_A, PUBLIC_VERSIONS } from './support/publicFixture.js';

const A = PUBLIC_A;
const VERSIONS = PUBLIC_VERSIONS;
let tmp: string;
let git: GitHttpServer;
let parent: FileProxyServer;
let proxy: ProxyFixture;
let runner: GoRunner;
let downloadRoot: string;
let direct: Map<string, DownloadResult>;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-parent-e2e-'));
  const fx = await makePublicFixture(tmp);
  ({ git, runner, direct, downloadRoot } = fx);
  parent = await startFileProxyServer(downloadRoot);
  proxy = await startProxy(
    testConfig(path.join(tmp, 'proxy'), { 'github.com': git.url }, ['github.com/priv'], `parentProxy:\n  url: "${parent.url}"\n  timeoutSeconds: 20\n`),
    { verifier: new GoSumVerifier(fx.goSum), tmpDir: path.join(tmp, 'proxy-tmp') },
  );
}, 240_000);

afterAll(async () => {
  await proxy?.close();
  await parent?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const storage = () => new FsStorage(path.join(tmp, 'proxy', 'storage'));
const get = async (p: string) => {
  const r = await fetch(`${proxy.url}/${p}`);
  return { status: r.status, text: await r.text() };
};

it('checks the go command’s own zips and hashes them to the go.sum h1', async () => {
  for (const [m, v] of VERSIONS) {
    const zip = path.join(downloadRoot, escaped(m), '@v', `${v}.zip`);
    const checked = await checkModuleZipFile(zip, m, v);
    expect(checked.h1).toBe(direct.get(`${m}@${v}`)!.Sum);
  }
});

it('refuses a tampered parent (zip and go.mod) with a reason and stores none of it', async () => {
  const [m, v] = VERSIONS[0];
  const zipPath = `/${escaped(m)}/@v/${v}.zip`;
  const good = fs.readFileSync(path.join(downloadRoot, zipPath));
  const z = await JSZip.loadAsync(good, { createFolders: false });
  z.file(`${m}@${v}/a.go`, 'package a\n\nfunc init() { panic("owned") }\n', { createFolders: false });
  const tampered = await z.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
  parent.overrides.set(zipPath, tampered);
  const [m2, v2] = VERSIONS[1];
  parent.overrides.set(`/${escaped(m2)}/@v/${v2}.mod`, Buffer.from(`module ${m2}\n\nrequire evil.example/x v1.0.0\n`));
  try {

  const zipAnswer = await get(`${escaped(m)}/@v/${v}.zip`);
  expect(zipAnswer.status).toBeGreaterThanOrEqual(500);
  expect(zipAnswer.text).toMatch(/checksum mismatch/);
  const modAnswer = await get(`${escaped(m2)}/@v/${v2}.mod`);
  expect(modAnswer.status).toBeGreaterThanOrEqual(500);
  expect(modAnswer.text).toMatch(/checksum mismatch/);
  const infoAnswer = await get(`${escaped(m2)}/@v/${v2}.info`);
  expect(infoAnswer.status).toBeGreaterThanOrEqual(500);

  await proxy.app.service.idle();
  const s = storage();
  expect(await readZipRecord(s, m, v)).toBeNull();
  expect(await readManifest(s, m2, v2)).toBeNull();
  const blobs = (await s.list('blobs/')).map((k) => k.slice(k.lastIndexOf('/') + 1));
  expect(blobs).not.toContain(sha256Hex(tampered));
  } finally {
    parent.overrides.clear();
  }
});

it('reads the parent’s list with the go command’s idea of space', async () => {
  // Go splits list lines with strings.Fields: U+0085 separates, U+FEFF does
  // not (JS's \s has it the other way round).
  parent.overrides.set(`/${escaped(A)}/@v/list`, Buffer.from('\ufeffv1.1.0\nv1.0.0\u0085from-a-hostile-parent\n'));
  try {
    const direct = await runner.listVersions(parent.url, A);
    expect(direct.versions).toEqual(['v1.0.0']);
    expect(await runner.listVersions(proxy.url, A)).toEqual(direct);
  } finally {
    parent.overrides.clear();
  }
}, 120_000);

it('lists what the go command lists reading the parent: non-canonical and other-major versions too', async () => {
  for (const body of ['v1.0\nv1.0.0\nv1.1.0\n', 'v1.0.0\nv1.1.0\nv1.1.0+build\nv1.1.0-rc.1\n', 'v1.0.0\nv1.1.0\nv2.0.0\n']) {
    parent.overrides.set(`/${escaped(A)}/@v/list`, Buffer.from(body));
    const direct = await runner.listVersions(parent.url, A);
    const proxied = await runner.listVersions(proxy.url, A);
    // Errors name the proxy that was asked; that either fails is what must agree.
    expect({ body, versions: proxied.versions, failed: proxied.error !== undefined }).toEqual({ body, versions: direct.versions, failed: direct.error !== undefined });
  }
  parent.overrides.clear();
}, 120_000);

it('refuses an .info whose time the go command refuses (February 30th), and stores nothing of it', async () => {
  const [m, v] = VERSIONS[2];
  parent.overrides.set(`/${escaped(m)}/@v/${v}.info`, Buffer.from(`{"Version":"${v}","Time":"2020-02-30T00:00:00Z"}`));
  try {
    const direct = await runner.download(parent.url, `${m}@${v}`);
    expect(direct.Error).toMatch(/day out of range/);
    const proxied = await runner.download(proxy.url, `${m}@${v}`);
    expect(proxied.Error).toMatch(/invalid .info JSON: parsing time .*day out of range/);
    await proxy.app.service.idle();
    expect(await readManifest(storage(), m, v)).toBeNull();
  } finally {
    parent.overrides.clear();
  }
}, 120_000);

it('serves public modules from the parent with the hashes direct mode got', async () => {
  for (const [m, v] of VERSIONS) {
    const want = direct.get(`${m}@${v}`)!;
    const got = await runner.download(proxy.url, `${m}@${v}`);
    expect(got.Error).toBeUndefined();
    expect(got.Sum).toBe(want.Sum);
    expect(got.GoModSum).toBe(want.GoModSum);
    const info = JSON.parse((await get(`${escaped(m)}/@v/${v}.info`)).text) as { Version: string; Time: string };
    const directInfo = JSON.parse(fs.readFileSync(want.Info!, 'utf8')) as { Version: string; Time: string };
    expect(info.Version).toBe(directInfo.Version);
    expect(info.Time).toBe(directInfo.Time);
    expect((await get(`${escaped(m)}/@v/${v}.mod`)).text).toBe(fs.readFileSync(want.GoMod!, 'utf8'));
  }
  const listed = await runner.listVersions(proxy.url, A);
  expect(listed.versions).toEqual(['v1.0.0', 'v1.1.0']);
  const latest = await runner.download(proxy.url, `${A}@latest`);
  expect(latest.Version).toBe('v1.1.0');
  // What was stored is a schema-2 record with a proxy pin.
  const record = await readZipRecord(storage(), A, 'v1.0.0');
  expect(record?.schema).toBe(2);
  expect(record?.source).toEqual({ kind: 'proxy', modH1: direct.get(`${A}@v1.0.0`)!.GoModSum, zipH1: direct.get(`${A}@v1.0.0`)!.Sum });
}, 240_000);

it('never sends a private path to the parent', async () => {
  const before = parent.requests.length;
  const r = await get('github.com/priv/nope/@v/list');
  expect(r.status).toBe(404);
  expect((await get('github.com/priv/nope/@v/v1.0.0.info')).status).toBe(404);
  expect(parent.requests.slice(before)).toEqual([]);
  expect(parent.requests.some((p) => p.includes('priv'))).toBe(false);
  expect(parent.requests.length).toBeGreaterThan(0);
});
