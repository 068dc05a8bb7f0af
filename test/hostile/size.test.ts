// Large module content: a 400 MiB file of zeros (a pack of 0.4 MB) must be
// served within the documented memory bound (2 × uncompressed + 200 MiB,
// measured on a separate proxy process); files streamed from the pack must
// hash as in direct mode; a module over x/mod's 500 MiB limit is refused with
// the go command's text.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from '../support/gitHttpServer.js';
import { GoRunner } from '../support/goRunner.js';
import { testConfig } from '../support/proxyFixture.js';
import { startProxyProcess, type ProxyProcess } from '../support/proxyProcess.js';
import { fastImport } from './support.js';

const MiB = 1 << 20;

let tmp: string;
let repos: string;
let git: GitHttpServer;
let proxy: ProxyProcess;
let runner: GoRunner;

/** One commit tagged v1.0.0 with go.mod and `files` (path → size and a byte pattern). */
async function repoWith(name: string, files: Record<string, Buffer | { zeros: number }>): Promise<void> {
  await fastImport(repos, `h/${name}`, (out) => {
    out(`commit refs/heads/main\nauthor A <a@example.com> 1577836800 +0000\ncommitter A <a@example.com> 1577836800 +0000\ndata 1\nc\n`);
    const mod = Buffer.from(`module github.com/h/${name}\n`);
    out(`M 100644 inline go.mod\ndata ${mod.length}\n`);
    out(mod);
    out('\n');
    for (const [p, spec] of Object.entries(files)) {
      if (Buffer.isBuffer(spec)) {
        out(`M 100644 inline ${p}\ndata ${spec.length}\n`);
        out(spec);
      } else {
        out(`M 100644 inline ${p}\ndata ${spec.zeros}\n`);
        const chunk = Buffer.alloc(16 * MiB);
        for (let left = spec.zeros; left > 0; left -= chunk.length) out(left >= chunk.length ? chunk : chunk.subarray(0, left));
      }
      out('\n');
    }
    out('\nreset refs/tags/v1.0.0\nfrom refs/heads/main\n\n');
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-hostile-size-'));
  repos = path.join(tmp, 'repos');
  await repoWith('zeros', { 'zeros.bin': { zeros: 400 * MiB } });
  await repoWith('over', { 'a.bin': { zeros: 300 * MiB }, 'b.bin': { zeros: 300 * MiB } });
  await repoWith('streamed', { 'random.bin': crypto.randomBytes(6 * MiB), 'small.go': Buffer.from('package streamed\n') });
  git = await startGitHttpServer({ projectRoot: repos });
  proxy = await startProxyProcess(testConfig(path.join(tmp, 'proxy'), { 'github.com': `${git.url}/` }, ['github.com/h']));
  runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: { 'https://github.com/': `${git.url}/` } });
}, 300_000);

afterAll(async () => {
  await proxy?.stop();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('large module content', () => {
  it('400 MiB of zeros: served within 2 × size + 200 MiB of peak RSS', { timeout: 600_000 }, async () => {
    const res = await fetch(`${proxy.url}/github.com/h/zeros/@v/v1.0.0.zip`);
    expect(res.status).toBe(200);
    let bytes = 0;
    for await (const chunk of res.body!) bytes += chunk.length;
    expect(bytes).toBeGreaterThan(0);
    expect(proxy.peakRss()).toBeLessThanOrEqual(2 * 400 * MiB + 200 * MiB);
  });

  it('a file streamed from the pack hashes as in direct mode', { timeout: 300_000 }, async () => {
    const [direct, viaProxy] = await Promise.all([runner.download('direct', 'github.com/h/streamed@v1.0.0'), runner.download(proxy.url, 'github.com/h/streamed@v1.0.0')]);
    expect(direct.Error).toBeUndefined();
    expect(viaProxy.Error).toBeUndefined();
    expect(viaProxy.Sum).toBe(direct.Sum);
  });

  it("over x/mod's 500 MiB: refused with the go command's text", { timeout: 600_000 }, async () => {
    const direct = await runner.download('direct', 'github.com/h/over@v1.0.0');
    expect(direct.Error).toContain('module source tree too large (max size is 524288000 bytes)');
    const res = await fetch(`${proxy.url}/github.com/h/over/@v/v1.0.0.zip`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('create zip: module source tree too large (max size is 524288000 bytes)');
  });
});
