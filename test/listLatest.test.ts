// list and @latest: versions from the source merged with committed ones (a
// served version stays listed after its tag is deleted), never
// pseudo-versions; when the source is unreachable, answers from storage; and
// "not found" answers are remembered only briefly.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { RepoBuilder } from './support/repoBuilder.js';

const MODULE = 'github.com/ll/m';
let tmp: string;
let git: GitHttpServer;
let proxy: ProxyFixture;
let repo: RepoBuilder;
let clock = Date.parse('2026-01-01T00:00:00Z');

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-list-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'll/m');
  await repo.write({ 'go.mod': `module ${MODULE}\n`, 'a.go': 'package m\n' });
  await repo.commit('2020-01-01T00:00:00Z');
  await repo.tag('v1.0.0');
  await repo.write({ 'b.go': 'package m\n' });
  await repo.commit('2020-02-01T00:00:00Z');
  await repo.tag('v1.1.0');
  await repo.write({ 'c.go': 'package m\n' });
  await repo.commit('2020-03-01T00:00:00Z');
  await repo.publish();
  proxy = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': git.url }, ['github.com/ll'], 'coordination:\n  negativeCacheSeconds: 30\n'), { now: () => clock });
});

afterAll(async () => {
  await proxy?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const get = async (p: string) => {
  const r = await fetch(`${proxy.url}/${MODULE}/${p}`);
  return { status: r.status, text: await r.text() };
};

it('keeps a served version listed after its tag is deleted, and never lists pseudo-versions', async () => {
  expect((await get('@v/v1.0.0.info')).status).toBe(200);
  const pseudo = JSON.parse((await get('@v/main.info')).text) as { Version: string };
  expect(pseudo.Version).toMatch(/^v1\.1\.1-0\.20200301000000-/);
  await repo.git('--git-dir', repo.bare, 'tag', '-d', 'v1.0.0');
  expect((await get('@v/list')).text).toBe('v1.0.0\nv1.1.0\n');
});

it('answers list and @latest from storage when the source is unreachable', async () => {
  expect((await get('@v/v1.1.0.info')).status).toBe(200);
  const port = git.port;
  await git.close();
  // Past the time a ref listing is reused for: the source is asked, and is unreachable.
  clock += 6_000;
  try {
    const list = await get('@v/list');
    expect(list.status).toBe(200);
    expect(list.text).toBe('v1.0.0\nv1.1.0\n');
    const latest = await get('@latest');
    expect(latest.status).toBe(200);
    expect(JSON.parse(latest.text).Version).toBe('v1.1.0');
    // A version never served cannot come from storage: a clean upstream error.
    expect((await get('@v/v1.9.9.info')).status).toBe(502);
  } finally {
    git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos'), port });
  }
});

it('remembers "not found" only briefly', async () => {
  const first = await get('@v/v2.0.0.info');
  expect(first.status).toBe(404);
  expect(first.text).toContain('unknown revision v2.0.0');
  await repo.git('--git-dir', repo.bare, 'tag', 'v2.0.0', 'HEAD');
  clock += 29_000;
  expect(await get('@v/v2.0.0.info'), 'still the cached answer').toEqual(first);
  clock += 1_000;
  // v2 needs a /v2 path: the go command's answer, now from the source.
  const later = await get('@v/v2.0.0.info');
  expect(later.status).toBe(404);
  expect(later.text).toContain('module contains a go.mod file, so module path must match major version');
  await repo.git('--git-dir', repo.bare, 'tag', 'v1.2.0', 'HEAD');
  expect((await get('@v/v1.2.0.info')).status).toBe(200);
});
