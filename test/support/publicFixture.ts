// Public modules for the parent-proxy tests: two repositories on a loopback
// git server, downloaded once by the go command in direct mode. The module
// cache's cache/download tree is a GOPROXY tree (the parent); the go.sum
// lines direct mode produced are what a checksum database must vouch for.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from './gitHttpServer.js';
import { GoRunner, type DownloadResult } from './goRunner.js';
import { RepoBuilder } from './repoBuilder.js';

export const PUBLIC_A = 'github.com/pub/a';
export const PUBLIC_B = 'github.com/pub/Big';
export const PUBLIC_VERSIONS: Array<[string, string]> = [
  [PUBLIC_A, 'v1.0.0'],
  [PUBLIC_A, 'v1.1.0'],
  [PUBLIC_B, 'v0.1.0'],
];

export interface PublicFixture {
  git: GitHttpServer;
  runner: GoRunner;
  /** Direct mode's answer per "path@version". */
  direct: Map<string, DownloadResult>;
  /** go.sum lines, two per version. */
  goSum: string;
  /** The module cache's cache/download tree. */
  downloadRoot: string;
}

export async function makePublicFixture(tmp: string): Promise<PublicFixture> {
  const repos = path.join(tmp, 'repos');
  const git = await startGitHttpServer({ projectRoot: repos });
  const a = await RepoBuilder.create(repos, path.join(tmp, 'work'), 'pub/a');
  await a.write({ 'go.mod': `module ${PUBLIC_A}\n\ngo 1.21\n`, 'a.go': 'package a\n', LICENSE: 'MIT\n' });
  await a.commit('2021-01-01T00:00:00Z');
  await a.tag('v1.0.0');
  await a.write({ 'b.go': 'package a\n\nfunc B() {}\n', 'sub/c.go': 'package sub\n' });
  await a.commit('2021-02-01T00:00:00Z');
  await a.tag('v1.1.0');
  await a.publish();
  const b = await RepoBuilder.create(repos, path.join(tmp, 'work'), 'pub/Big');
  await b.write({ 'go.mod': `module ${PUBLIC_B}\n`, 'big.go': 'package big\n\n// ' + 'x'.repeat(200_000) + '\n' });
  await b.commit('2021-03-01T00:00:00Z');
  await b.tag('v0.1.0');
  await b.publish();

  const runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: { 'https://github.com/': `${git.url}/` } });
  const cache = path.join(tmp, 'direct-cache');
  fs.mkdirSync(cache, { recursive: true });
  const r = await runner.run('direct', cache, ['mod', 'download', '-json', ...PUBLIC_VERSIONS.map(([m, v]) => `${m}@${v}`)]);
  expect(r.code, r.stderr).toBe(0);
  const direct = new Map<string, DownloadResult>();
  let goSum = '';
  for (const chunk of r.stdout.split(/\n(?=\{)/)) {
    const d = JSON.parse(chunk) as DownloadResult;
    direct.set(`${d.Path}@${d.Version}`, d);
    goSum += `${d.Path} ${d.Version} ${d.Sum}\n${d.Path} ${d.Version}/go.mod ${d.GoModSum}\n`;
  }
  expect(direct.size).toBe(PUBLIC_VERSIONS.length);
  return { git, runner, direct, goSum, downloadRoot: path.join(cache, 'cache', 'download') };
}

/** Proxy-URL escaping of a module path. */
export const escapedPath = (m: string) => m.replace(/[A-Z]/g, (c) => '!' + c.toLowerCase());
