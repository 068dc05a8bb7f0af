// The GOPROXY protocol surface over raw HTTP (no client-side URL
// normalization): content types, cache headers, ranges, and that malformed or
// hostile requests get 400/404 — never 500 — without reaching storage or git.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsStorage } from '../lib/storage/fsStorage.js';
import type { ListOptions, ObjectStorage } from '../lib/storage/storage.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { RepoBuilder } from './support/repoBuilder.js';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Sends the path exactly as given (fetch() would normalize %2e%2e and friends). */
function raw(base: string, rawPath: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: rawPath, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Storage that records every key it is asked about. */
class SpyStorage implements ObjectStorage {
  readonly kind = 'spy';
  readonly keys: string[] = [];
  constructor(private readonly inner: ObjectStorage) {}
  createIfAbsent(...a: Parameters<ObjectStorage['createIfAbsent']>) {
    this.keys.push(a[0]);
    return this.inner.createIfAbsent(...a);
  }
  read(key: string) {
    this.keys.push(key);
    return this.inner.read(key);
  }
  openRead(...a: Parameters<ObjectStorage['openRead']>) {
    this.keys.push(a[0]);
    return this.inner.openRead(...a);
  }
  stat(key: string) {
    this.keys.push(key);
    return this.inner.stat(key);
  }
  list(prefix: string, opts?: ListOptions) {
    this.keys.push(prefix);
    return this.inner.list(prefix, opts);
  }
}

let tmp: string;
let git: GitHttpServer;
let proxy: ProxyFixture;
let spy: SpyStorage;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-protocol-'));
  const repos = path.join(tmp, 'repos');
  git = await startGitHttpServer({ projectRoot: repos });
  const r = await RepoBuilder.create(repos, path.join(tmp, 'work'), 'o/p');
  await r.write({ 'go.mod': 'module github.com/o/p\n', 'p.go': 'package p\n', LICENSE: 'x\n' });
  await r.commit('2020-01-01T00:00:00Z');
  await r.tag('v1.0.0');
  await r.git('checkout', '-q', '-b', 'feature/x');
  await r.write({ 'q.go': 'package p\n' });
  await r.commit('2020-02-01T00:00:00Z');
  await r.checkout('main');
  await r.publish();
  spy = new SpyStorage(new FsStorage(path.join(tmp, 'proxy', 'storage')));
  proxy = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': git.url }, ['github.com/o']), { storage: spy });
});

afterAll(async () => {
  await proxy?.close();
  await git?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('hits', () => {
  it('once cached, a hit of .info, .mod or .zip (GET, HEAD, conditional) touches neither storage nor git', async () => {
    const paths = ['/github.com/o/p/@v/v1.0.0.info', '/github.com/o/p/@v/v1.0.0.mod', '/github.com/o/p/@v/v1.0.0.zip'];
    const bodies = new Map<string, Buffer>();
    for (const p of paths) {
      const r = await raw(proxy.url, p);
      expect(r.status).toBe(200);
      bodies.set(p, r.body);
    }
    await proxy.app.service.idle();
    for (const p of paths) await raw(proxy.url, p); // the first read after a commit fills the cache
    const keysBefore = spy.keys.length;
    const gitBefore = git.requests.length;
    for (const p of paths) {
      const r = await raw(proxy.url, p);
      expect([p, r.status]).toEqual([p, 200]);
      expect(r.body).toEqual(bodies.get(p));
      expect((await raw(proxy.url, p, { method: 'HEAD' })).status).toBe(200);
      const nm = await raw(proxy.url, p, { headers: { 'if-none-match': r.headers.etag as string } });
      expect(nm.status).toBe(304);
    }
    expect(spy.keys.slice(keysBefore)).toEqual([]);
    expect(git.requests.length).toBe(gitBefore);
  });
});

describe('successful responses', () => {
  it('GET / answers 200 with a short text', async () => {
    const r = await raw(proxy.url, '/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.body.toString()).toContain('Go module proxy');
  });

  it('list is short-lived text', async () => {
    const r = await raw(proxy.url, '/github.com/o/p/@v/list');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('v1.0.0\n');
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.headers['cache-control']).toBe('public, max-age=60');
  });

  it('canonical .info, .mod and .zip are immutable; a query .info is short-lived', async () => {
    const info = await raw(proxy.url, '/github.com/o/p/@v/v1.0.0.info');
    expect(info.status).toBe(200);
    expect(info.headers['content-type']).toBe('application/json');
    expect(info.headers['cache-control']).toContain('immutable');
    expect(JSON.parse(info.body.toString())).toMatchObject({ Version: 'v1.0.0', Time: '2020-01-01T00:00:00Z' });
    expect(info.body.toString().endsWith('\n')).toBe(false);

    const query = await raw(proxy.url, '/github.com/o/p/@v/main.info');
    expect(query.status).toBe(200);
    expect(query.headers['cache-control']).toBe('public, max-age=60');

    const mod = await raw(proxy.url, '/github.com/o/p/@v/v1.0.0.mod');
    expect(mod.status).toBe(200);
    expect(mod.body.toString()).toBe('module github.com/o/p\n');
    expect(mod.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(mod.headers['cache-control']).toContain('immutable');

    const zip = await raw(proxy.url, '/github.com/o/p/@v/v1.0.0.zip');
    expect(zip.status).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(Number(zip.headers['content-length'])).toBe(zip.body.length);
    expect(zip.body.subarray(0, 4)).toEqual(Buffer.from('PK\x03\x04', 'latin1'));

    const part = await raw(proxy.url, '/github.com/o/p/@v/v1.0.0.zip', { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.body).toEqual(zip.body.subarray(10, 20));
    expect(part.headers['content-range']).toBe(`bytes 10-19/${zip.body.length}`);

    const head = await raw(proxy.url, '/github.com/o/p/@v/v1.0.0.zip', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBe(zip.body.length);
  });

  it('@latest answers the default branch HEAD as JSON', async () => {
    const r = await raw(proxy.url, '/github.com/o/p/@latest');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString()).Version).toBe('v1.0.0');
  });

  it('answers a raw .info request for a branch with a slash (conformance case A14)', async () => {
    const r = await raw(proxy.url, '/github.com/o/p/@v/feature/x.info');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString()).Version).toMatch(/^v1\.0\.1-0\.20200201000000-[0-9a-f]{12}$/);
  });

  it('404s with a one-line text reason for versions that do not exist', async () => {
    const r = await raw(proxy.url, '/github.com/o/p/@v/v9.9.9.info');
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.body.toString()).toBe('not found: github.com/o/p@v9.9.9: invalid version: unknown revision v9.9.9\n');
  });

  it('404s for modules outside the configured prefixes, and for missing repositories', async () => {
    expect((await raw(proxy.url, '/github.com/elsewhere/x/@v/list')).status).toBe(404);
    const missing = await raw(proxy.url, '/github.com/o/nothere/@v/list');
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toContain('not found');
  });

  it('405 for methods other than GET and HEAD', async () => {
    expect((await raw(proxy.url, '/github.com/o/p/@v/list', { method: 'POST' })).status).toBe(405);
  });
});

describe('malformed and hostile requests', () => {
  const bad: Array<[string, number[]]> = [
    ['/github.com/o/p/%2e%2e/@v/list', [400]],
    ['/github.com/o/../../../etc/passwd/@v/list', [400]],
    ['/../../etc/passwd', [400, 404]],
    ['/github.com/o/p/@v/..%2f..%2f..%2fetc%2fpasswd.info', [400]],
    ['/github.com/o/p/@v/%2e%2e.info', [400]],
    ['/github.com/o/p/@v/v1.0.0%00.info', [400]],
    ['/github.com/o/p%00/@v/list', [400]],
    ['/github.com/o/!!p/@v/list', [400]],
    ['/github.com/o/!P/@v/list', [400]],
    ['/github.com/O/p/@v/list', [400]],
    ['/github.com/o/p/@v/v1.0.0-!R.info', [400]],
    ['/github.com/o/p/@v/%zz.info', [400]],
    ['/github.com/o/p/@v/v1.0.mod', [404]],
    ['/github.com/o/p/@v/v1.0.0+meta.zip', [404]],
    ['/github.com/o/p/@v/main.zip', [404]],
    ['/github.com/o/p/@v/V1.0.0.mod', [400]],
    ['/github.com/o/p/@v/v1.0.0.txt', [404]],
    ['/github.com/o/p/@v/', [404]],
    ['/github.com//o/p/@v/list', [400]],
    ['/' + 'a'.repeat(5000) + '/@v/list', [400]],
    ['/github.com/o/p/@v/' + 'v'.repeat(3000) + '.info', [400]],
    ['/github.com/o/p\\..\\..\\x/@v/list', [400]],
    ['/%ef%bf%bf/@v/list', [400]],
  ];

  for (const [p, statuses] of bad) {
    it(`${p.length > 80 ? p.slice(0, 60) + '…' : p} → ${statuses.join('/')}`, async () => {
      const before = spy.keys.length;
      const r = await raw(proxy.url, p);
      expect(statuses).toContain(r.status);
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
      // Nothing about a malformed request may reach storage.
      expect(spy.keys.slice(before)).toEqual([]);
    });
  }

  it('every key the proxy ever asked storage for is a safe key inside it', () => {
    expect(spy.keys.length).toBeGreaterThan(0);
    for (const k of spy.keys) {
      expect(k).not.toMatch(/(^|\/)\.\.?(\/|$)|\0|\\/);
      expect(k.startsWith('/')).toBe(false);
    }
  });
});
