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
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { GoRunner, type DownloadResult } from './support/goRunner.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { RepoBuilder } from './support/repoBuilder.js';

const A = 'github.com/pub/a';
const B = 'github.com/pub/Big';
const VERSIONS: Array<[string, string]> = [
  [A, 'v1.0.0'],
  [A, 'v1.1.0'],
  [B, 'v0.1.0'],
];
let tmp: string;
let git: GitHttpServer;
let parent: FileProxyServer;
let proxy: ProxyFixture;
let runner: GoRunner;
let downloadRoot: string;
const direct = new Map<string, DownloadResult>();
let goSum = '';

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-parent-e2e-'));
  const repos = path.join(tmp, 'repos');
  git = await startGitHttpServer({ projectRoot: repos });
  const a = await RepoBuilder.create(repos, path.join(tmp, 'work'), 'pub/a');
  await a.write({ 'go.mod': `module ${A}\n\ngo 1.21\n`, 'a.go': 'package a\n', 'LICENSE': 'MIT\n' });
  await a.commit('2021-01-01T00:00:00Z');
  await a.tag('v1.0.0');
  await a.write({ 'b.go': 'package a\n\nfunc B() {}\n', 'sub/c.go': 'package sub\n' });
  await a.commit('2021-02-01T00:00:00Z');
  await a.tag('v1.1.0');
  await a.publish();
  const b = await RepoBuilder.create(repos, path.join(tmp, 'work'), 'pub/Big');
  await b.write({ 'go.mod': `module ${B}\n`, 'big.go': 'package big\n\n// ' + 'x'.repeat(200_000) + '\n' });
  await b.commit('2021-03-01T00:00:00Z');
  await b.tag('v0.1.0');
  await b.publish();

  // Direct mode fills one module cache: its cache/download tree is the parent.
  runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: { 'https://github.com/': `${git.url}/` } });
  const cache = path.join(tmp, 'direct-cache');
  fs.mkdirSync(cache, { recursive: true });
  const r = await runner.run('direct', cache, ['mod', 'download', '-json', ...VERSIONS.map(([m, v]) => `${m}@${v}`)]);
  expect(r.code, r.stderr).toBe(0);
  for (const chunk of r.stdout.split(/\n(?=\{)/)) {
    const d = JSON.parse(chunk) as DownloadResult;
    direct.set(`${d.Path}@${d.Version}`, d);
    goSum += `${d.Path} ${d.Version} ${d.Sum}\n${d.Path} ${d.Version}/go.mod ${d.GoModSum}\n`;
  }
  expect(direct.size).toBe(VERSIONS.length);
  downloadRoot = path.join(cache, 'cache', 'download');
  parent = await startFileProxyServer(downloadRoot);
  proxy = await startProxy(
    testConfig(path.join(tmp, 'proxy'), { 'github.com': git.url }, ['github.com/priv'], `parentProxy:\n  url: "${parent.url}"\n  timeoutSeconds: 20\n`),
    { verifier: new GoSumVerifier(goSum), tmpDir: path.join(tmp, 'proxy-tmp') },
  );
}, 240_000);

afterAll(async () => {
  await proxy?.close();
  await parent?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const storage = () => new FsStorage(path.join(tmp, 'proxy', 'storage'));
const escaped = (m: string) => m.replace(/[A-Z]/g, (c) => '!' + c.toLowerCase());
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
