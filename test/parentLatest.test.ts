// @latest of a public module whose parent has no @latest endpoint (a plain
// GOPROXY file tree, such as a module cache's cache/download served as is)
// and whose list holds no tagged version: the go command reading that parent
// takes the newest pseudo-version (or timestamped line) of the list, and so
// must modproxy, or `go get m@latest` works direct and fails through it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GoSumVerifier } from '../lib/source/proxy/verifier.js';
import { startFileProxyServer, type FileProxyServer } from './support/fileProxyServer.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { GoRunner, type DownloadResult } from './support/goRunner.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { RepoBuilder } from './support/repoBuilder.js';

const C = 'github.com/pub/untagged';
let tmp: string;
let git: GitHttpServer;
let parent: FileProxyServer;
let proxy: ProxyFixture;
let runner: GoRunner;
let pseudo: string[]; // in commit order
let verifier: GoSumVerifier;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-parent-latest-'));
  const repos = path.join(tmp, 'repos');
  git = await startGitHttpServer({ projectRoot: repos });
  const c = await RepoBuilder.create(repos, path.join(tmp, 'work'), 'pub/untagged');
  const commits: string[] = [];
  await c.write({ 'go.mod': `module ${C}\n`, 'c.go': 'package c\n' });
  commits.push(await c.commit('2021-01-01T00:00:00Z'));
  await c.write({ 'd.go': 'package c\n\nfunc D() {}\n' });
  commits.push(await c.commit('2021-06-01T00:00:00Z'));
  await c.write({ 'e.go': 'package c\n\nfunc E() {}\n' });
  commits.push(await c.commit('2021-03-01T00:00:00Z', { authorDate: '2021-03-01T00:00:00Z' }));
  await c.publish();

  // Direct mode fills a module cache with all three pseudo-versions; its
  // cache/download tree (list included) is the parent.
  runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: { 'https://github.com/': `${git.url}/` } });
  const cache = path.join(tmp, 'direct-cache');
  fs.mkdirSync(cache, { recursive: true });
  const r = await runner.run('direct', cache, ['mod', 'download', '-json', ...commits.map((h) => `${C}@${h.slice(0, 12)}`)]);
  expect(r.code, r.stderr).toBe(0);
  let goSum = '';
  pseudo = [];
  for (const chunk of r.stdout.split(/\n(?=\{)/)) {
    const d = JSON.parse(chunk) as DownloadResult;
    pseudo.push(d.Version!);
    goSum += `${d.Path} ${d.Version} ${d.Sum}\n${d.Path} ${d.Version}/go.mod ${d.GoModSum}\n`;
  }
  parent = await startFileProxyServer(path.join(cache, 'cache', 'download'));
  verifier = new GoSumVerifier(goSum);
  proxy = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': git.url }, ['github.com/priv'], `parentProxy:\n  url: "${parent.url}"\n`), {
    verifier,
    tmpDir: path.join(tmp, 'proxy-tmp'),
  });
}, 240_000);

afterAll(async () => {
  await proxy?.close();
  await parent?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

it('the parent is a bare file tree: no @latest, a list of pseudo-versions only', async () => {
  expect((await fetch(`${parent.url}/${C}/@latest`)).status).toBe(404);
  const list = await (await fetch(`${parent.url}/${C}/@v/list`)).text();
  expect(list.trim().split('\n').sort()).toEqual([...pseudo].sort());
});

it('resolves @latest to the newest pseudo-version by its time, as the go command does against the parent', async () => {
  const direct = await runner.download(parent.url, `${C}@latest`);
  expect(direct.Error).toBeUndefined();
  // The second commit is the newest (the third was committed later but dated earlier).
  expect(direct.Version).toBe(pseudo[1]);
  const proxied = await runner.download(proxy.url, `${C}@latest`);
  expect(proxied.Error).toBeUndefined();
  expect(proxied.Version).toBe(direct.Version);
  expect(proxied.Sum).toBe(direct.Sum);
}, 120_000);

it('prefers a timestamp the list line gives, as the go command does', async () => {
  // The parent's list names the oldest pseudo-version with the newest time of all.
  parent.overrides.set(`/${C}/@v/list`, Buffer.from(`${pseudo[1]}\n${pseudo[0]} 2030-01-01T00:00:00Z\n${pseudo[2]}\n`));
  try {
    const direct = await runner.download(parent.url, `${C}@latest`);
    expect(direct.Version).toBe(pseudo[0]);
    // A fresh modproxy on its own storage, so that no version it committed above is in its list.
    const fresh = await startProxy(testConfig(path.join(tmp, 'proxy2'), { 'github.com': git.url }, ['github.com/priv'], `parentProxy:\n  url: "${parent.url}"\n`), {
      verifier,
      tmpDir: path.join(tmp, 'proxy2-tmp'),
    });
    try {
      const proxied = await runner.download(fresh.url, `${C}@latest`);
      expect(proxied.Error).toBeUndefined();
      expect(proxied.Version).toBe(direct.Version);
    } finally {
      await fresh.close();
    }
  } finally {
    parent.overrides.clear();
  }
}, 120_000);
