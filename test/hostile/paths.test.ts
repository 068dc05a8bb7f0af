// Hostile repository content, through modproxy and in direct mode
// (GOPROXY=direct against the same loopback git server): the go command's
// answer is the judge.
//
// - Trees with paths git refuses (.git/config, .GIT/hooks/x, a file named
//   .git, NTFS spellings of .git): `git archive` fails, so the go command
//   writes nothing to its module cache; modproxy must refuse the zip with
//   the same text, never hand those files to the go command.
// - A tree 10,000 directories deep: the go command fails; modproxy answers
//   404 without recursing on the depth, and remembers the answer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from '../support/gitHttpServer.js';
import { GoRunner } from '../support/goRunner.js';
import { startProxy, testConfig, type ProxyFixture } from '../support/proxyFixture.js';
import { deepTreeRepo, fastImport, normalizeGoError, oneCommit } from './support.js';

let tmp: string;
let repos: string;
let git: GitHttpServer;
let proxy: ProxyFixture;
let runner: GoRunner;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-hostile-paths-'));
  repos = path.join(tmp, 'repos');
  git = await startGitHttpServer({ projectRoot: repos });
  proxy = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': `${git.url}/` }, ['github.com/h']));
  runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: { 'https://github.com/': `${git.url}/` } });
});

afterAll(async () => {
  await proxy?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const dotGitCases: Record<string, { files: Record<string, string>; module?: string; tag?: string }> = {
  gitconfig: { files: { '.git/config': '[core]\n\tfsmonitor = "touch /tmp/pwned"\n', 'p.go': 'package p\n' } },
  uppergit: { files: { '.GIT/hooks/post-checkout': '#!/bin/sh\ntouch /tmp/pwned\n' } },
  gitfile: { files: { 'sub/.git': 'gitdir: /tmp\n' } },
  ntfsspace: { files: { '.git /config': 'x\n' } },
  shortname: { files: { 'GIT~1/config': 'x\n' } },
  // The whole commit tree is checked, not only the module's directory.
  outside: { files: { '.git/config': 'x\n', 'm/go.mod': 'module github.com/h/outside/m\n', 'm/p.go': 'package p\n' }, module: 'github.com/h/outside/m', tag: 'm/v1.0.0' },
};

describe('paths git refuses', () => {
  for (const [name, c] of Object.entries(dotGitCases)) {
    it(`${name}: the zip fails as in direct mode`, { timeout: 120_000 }, async () => {
      const modPath = c.module ?? `github.com/h/${name}`;
      const files = c.module ? c.files : { 'go.mod': `module ${modPath}\n`, ...c.files };
      await fastImport(repos, `h/${name}`, (out) => oneCommit(files, { tag: c.tag ?? 'v1.0.0' }).forEach(out));
      const query = `${modPath}@v1.0.0`;
      const [direct, viaProxy] = await Promise.all([runner.download('direct', query), runner.download(proxy.url, query)]);
      expect(direct.Error, 'direct mode refuses').toContain('invalid path');
      expect(viaProxy.Error, 'modproxy refuses').toBeDefined();
      expect(normalizeGoError(viaProxy.Error!)).toContain(normalizeGoError(direct.Error!));
      expect(viaProxy.Error).toContain('404 Not Found');
    });
  }
});

describe('a tree 10,000 directories deep', () => {
  it('fails as in direct mode, without recursion, and the answer is kept', { timeout: 300_000 }, async () => {
    const modPath = 'github.com/h/deep';
    await deepTreeRepo(repos, 'h/deep', modPath, 10_000);
    const query = `${modPath}@v1.0.0`;
    const [direct, viaProxy] = await Promise.all([runner.download('direct', query), runner.download(proxy.url, query)]);
    expect(direct.Error, 'direct mode fails (git 2.39 overflows its stack, newer git refuses the depth)').toMatch(/archive/);
    expect(viaProxy.Error).toContain('404 Not Found');
    expect(viaProxy.Error).toContain('exceeded maximum allowed tree depth');

    // The answer is the version's zip answer: asked again, it is read from storage, not rebuilt.
    const gitRequests = git.requests.length;
    const again = await fetch(`${proxy.url}/${modPath}/@v/v1.0.0.zip`);
    expect(again.status).toBe(404);
    expect(await again.text()).toContain('exceeded maximum allowed tree depth');
    expect(git.requests.length).toBe(gitRequests);
  });
});
