// The git work directory is local state that replicas on one host may share.
//
// - A replica starting on it must not delete another replica's temporary
//   files (a fetch in flight); only a crash's leftovers, long untouched.
// - A local I/O fault is a fault of the replica (5xx, not remembered), never
//   "not found" remembered for the negative-cache time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from '../support/gitHttpServer.js';
import { startProxy, testConfig } from '../support/proxyFixture.js';
import { startProxyProcess, type ProxyProcess } from '../support/proxyProcess.js';
import { fastImport, oneCommit } from './support.js';

let tmp: string;
let repos: string;
let git: GitHttpServer;
const processes: ProxyProcess[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-hostile-workdir-'));
  repos = path.join(tmp, 'repos');
  await fastImport(repos, 'h/r', (out) => {
    oneCommit({ 'go.mod': 'module github.com/h/r\n' }, { tag: 'v1.0.0', time: 1577836800 }).forEach(out);
    oneCommit({ 'go.mod': 'module github.com/h/r\n', 'p.go': 'package r\n' }, { tag: 'v1.1.0', time: 1577923200 }).forEach(out);
  });
  git = await startGitHttpServer({ projectRoot: repos });
});

afterAll(async () => {
  for (const p of processes) await p.stop();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The only object store under a git work directory. */
function storeDir(workDir: string): string {
  const stores = fs.readdirSync(workDir);
  expect(stores).toHaveLength(1);
  return path.join(workDir, stores[0]);
}

describe('replicas sharing a git work directory', () => {
  it("a replica starting does not delete another replica's temporary files; a crash's old leftovers go", { timeout: 120_000 }, async () => {
    const workDir = path.join(tmp, 'shared-git');
    const config = (name: string) => testConfig(path.join(tmp, name), { 'github.com': `${git.url}/` }, ['github.com/h'], `  gitWorkDir: "${workDir}"`).replace(/\n {2}gitWorkDir: "[^"]*"\n/, '\n');
    const a = await startProxyProcess(config('a'));
    processes.push(a);
    expect((await fetch(`${a.url}/github.com/h/r/@v/v1.0.0.info`)).status).toBe(200);

    // Replica A is (as far as anyone can tell) in the middle of a fetch; a crashed replica left files long ago.
    const packDir = path.join(storeDir(workDir), 'objects', 'pack');
    const inFlight = path.join(packDir, `.tmp-${a.child.pid}-in-flight.pack`);
    const leftover = path.join(packDir, '.tmp-999999-crashed.pack');
    fs.writeFileSync(inFlight, 'PACK in progress');
    fs.writeFileSync(leftover, 'PACK from a crash');
    const longAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    fs.utimesSync(leftover, longAgo, longAgo);

    // Replica B starts on the same directory and opens the same store.
    const b = await startProxyProcess(config('b'));
    processes.push(b);
    expect((await fetch(`${b.url}/github.com/h/r/@v/v1.1.0.info`)).status).toBe(200);
    expect(fs.existsSync(inFlight), "replica A's file in flight").toBe(true);
    expect(fs.existsSync(leftover), "a crash's leftover").toBe(false);
  });
});

describe('local I/O faults', () => {
  it('are 5xx and not remembered: once the disk is fine again, the version is served', { timeout: 120_000 }, async () => {
    // Learn the store's directory name from a first proxy, then break it for a second one.
    const probeDir = path.join(tmp, 'probe');
    const probe = await startProxy(testConfig(probeDir, { 'github.com': `${git.url}/` }, ['github.com/h']));
    expect((await fetch(`${probe.url}/github.com/h/r/@v/v1.0.0.info`)).status).toBe(200);
    await probe.close();
    const storeName = path.basename(storeDir(path.join(probeDir, 'git')));

    const dir = path.join(tmp, 'faulty');
    const proxy = await startProxy(testConfig(dir, { 'github.com': `${git.url}/` }, ['github.com/h']));
    try {
      // A file where the store's pack directory must be: every write and read of the store fails.
      const objects = path.join(dir, 'git', storeName, 'objects');
      fs.mkdirSync(objects, { recursive: true });
      fs.writeFileSync(path.join(objects, 'pack'), 'in the way');

      const faulty = await fetch(`${proxy.url}/github.com/h/r/@v/v1.0.0.info`);
      expect(faulty.status).toBeGreaterThanOrEqual(500);
      expect(faulty.headers.get('cache-control')).toBe('no-store');
      await faulty.text();

      fs.rmSync(path.join(objects, 'pack'));
      const again = await fetch(`${proxy.url}/github.com/h/r/@v/v1.0.0.info`);
      expect(again.status, await again.text()).toBe(200);
    } finally {
      await proxy.close();
    }
  });
});
