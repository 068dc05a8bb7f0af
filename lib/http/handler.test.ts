// The HTTP layer over the real service, in-memory storage and an in-memory
// source, through a real node:http server on loopback: routes, statuses by
// error kind, headers, ranges, HEAD and zip redirects.
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError, ForbiddenError, NotFoundError, StorageError, UpstreamAuthError, UpstreamError } from '../errors.js';
import { GoError } from '../gomod/module.js';
import { ClientAuth } from '../auth/clientAuth.js';
import { configSchema } from '../config/schema.js';
import type { SecretLoader } from '../config/secrets.js';
import { createLogger } from '../log/logger.js';
import { ModuleService } from '../service/moduleService.js';
import { MemoryStorage } from '../storage/memoryStorage.js';
import { MemorySources } from '../../test/support/memorySource.js';
import { Foreground } from '../util/foreground.js';
import { createHandler, type HandlerOptions } from './handler.js';
import { parseRange } from './ranges.js';
import { errorReply } from './replies.js';
import { matchRoute } from './routes.js';

const nullLogger = createLogger({ write: () => {} });
const M = 'example.com/m';

/** Storage that can sign URLs, as GCS can. */
class SigningStorage extends MemoryStorage {
  async signedReadUrl(key: string, ttlSeconds: number): Promise<string> {
    return `https://signed.example/${key}?ttl=${ttlSeconds}`;
  }
}

async function serve(opts: Partial<HandlerOptions> & { storage?: MemoryStorage } = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-http-'));
  const sources = new MemorySources({
    [M]: {
      versions: {
        'v1.0.0': { time: '2021-01-01T00:00:00Z', mod: `module ${M}\n`, files: { 'go.mod': `module ${M}\n`, 'a.go': 'package m\n' } },
        'v1.1.0': { time: '2021-02-01T00:00:00Z', mod: `module ${M}\n`, files: { zipError: 'no good' } },
      },
    },
  });
  const service = new ModuleService({ storage: opts.storage ?? new MemoryStorage(), sources, log: nullLogger, tmpDir: tmp });
  const handler = createHandler({ service, log: nullLogger, ...opts });
  const server = http.createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    sources,
    async close() {
      await service.idle();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

describe('HTTP layer', () => {
  let s: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    s = await serve();
  });
  afterAll(async () => {
    await s.close();
  });

  const get = (p: string, init?: RequestInit) => fetch(s.url + p, { redirect: 'manual', ...init });

  it('answers health, root, other methods and checksum database paths', async () => {
    expect(await (await get('/healthz')).text()).toBe('ok\n');
    expect((await get('/')).status).toBe(200);
    const post = await get('/x', { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    expect((await get('/sumdb/sum.golang.org/supported')).status).toBe(404);
  });

  it('serves each endpoint with its content type and cache lifetime', async () => {
    const list = await get(`/${M}/@v/list`);
    expect([list.status, list.headers.get('content-type'), list.headers.get('cache-control'), await list.text()]).toEqual([
      200,
      'text/plain; charset=utf-8',
      'public, max-age=60',
      'v1.0.0\nv1.1.0\n',
    ]);
    const info = await get(`/${M}/@v/v1.0.0.info`);
    expect([info.headers.get('content-type'), info.headers.get('cache-control')]).toEqual(['application/json', 'public, max-age=31536000, immutable']);
    const latest = await get(`/${M}/@latest`);
    expect([latest.headers.get('cache-control'), JSON.parse(await latest.text()).Version]).toEqual(['public, max-age=60', 'v1.1.0']);
    expect(await (await get(`/${M}/@v/v1.0.0.mod`)).text()).toBe(`module ${M}\n`);
    const zip = await get(`/${M}/@v/v1.0.0.zip`);
    expect([zip.status, zip.headers.get('content-type'), zip.headers.get('accept-ranges')]).toEqual([200, 'application/zip', 'bytes']);
    expect(zip.headers.get('etag')).toMatch(/^"sha256-[0-9a-f]{64}"$/);
  });

  it('serves ranges of a zip, honours If-Range, and refuses unsatisfiable ranges', async () => {
    const whole = Buffer.from(await (await get(`/${M}/@v/v1.0.0.zip`)).arrayBuffer());
    const etag = (await get(`/${M}/@v/v1.0.0.zip`, { method: 'HEAD' })).headers.get('etag')!;
    const part = await get(`/${M}/@v/v1.0.0.zip`, { headers: { range: 'bytes=4-11' } });
    expect([part.status, part.headers.get('content-range')]).toEqual([206, `bytes 4-11/${whole.length}`]);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(whole.subarray(4, 12));
    expect((await get(`/${M}/@v/v1.0.0.zip`, { headers: { range: 'bytes=4-11', 'if-range': etag } })).status).toBe(206);
    expect((await get(`/${M}/@v/v1.0.0.zip`, { headers: { range: 'bytes=4-11', 'if-range': '"other"' } })).status).toBe(200);
    expect((await get(`/${M}/@v/v1.0.0.zip`, { headers: { range: `bytes=${whole.length}-` } })).status).toBe(416);
  });

  it('answers HEAD with headers and no body', async () => {
    const r = await get(`/${M}/@v/v1.0.0.mod`, { method: 'HEAD' });
    expect([r.status, r.headers.get('content-length'), await r.text()]).toEqual([200, String(`module ${M}\n`.length), '']);
  });

  it('maps failures to statuses: not found, malformed, unserved, no zip, upstream down', async () => {
    const nf = await get(`/${M}/@v/v9.0.0.info`);
    expect([nf.status, await nf.text()]).toEqual([404, `not found: ${M}@v9.0.0: invalid version: unknown revision v9.0.0\n`]);
    expect((await get(`/${M}/@v/%zz.info`)).status).toBe(400);
    expect((await get('/example.com/other/@v/list')).status).toBe(404);
    const noZip = await get(`/${M}/@v/v1.1.0.zip`);
    expect([noZip.status, await noZip.text()]).toEqual([404, `not found: ${M}@v1.1.0: create zip: no good\n`]);
    s.sources.down = true;
    try {
      const down = await get(`/${M}/@v/main.info`);
      expect([down.status, down.headers.get('cache-control')]).toEqual([502, 'no-store']);
    } finally {
      s.sources.down = false;
    }
  });
});

describe('zip redirects', () => {
  it('sends large zips to a signed URL when storage can sign one', async () => {
    const s = await serve({ storage: new SigningStorage(), zipRedirect: { mode: 'auto', thresholdBytes: 1, urlTtlSeconds: 300 } });
    try {
      const r = await fetch(`${s.url}/${M}/@v/v1.0.0.zip`, { redirect: 'manual' });
      expect([r.status, r.headers.get('location')]).toEqual([302, expect.stringMatching(/^https:\/\/signed\.example\/blobs\/sha256\/.*\?ttl=300$/)]);
    } finally {
      await s.close();
    }
  });

  it('streams zips when storage cannot sign', async () => {
    const s = await serve({ zipRedirect: { mode: 'always', thresholdBytes: 1, urlTtlSeconds: 300 } });
    try {
      expect((await fetch(`${s.url}/${M}/@v/v1.0.0.zip`, { redirect: 'manual' })).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe('errorReply', () => {
  it.each([
    [new BadRequestError('x'), 400, 'bad request: x\n', 'INFO'],
    [new NotFoundError('x'), 404, 'not found: x\n', 'INFO'],
    [new NotFoundError('x', true), 410, 'not found: x\n', 'INFO'],
    [new GoError('x'), 404, 'not found: x\n', 'INFO'],
    [new ForbiddenError('x'), 403, 'forbidden: x\n', 'INFO'],
    // Our credentials refused: the proxy's fault, a 5xx that stops a GOPROXY list (never a 404 that falls through).
    [new UpstreamAuthError('x'), 502, 'proxy configuration error: x\n', 'ERROR'],
    [new UpstreamError('x', 504), 504, 'upstream error: x\n', 'ERROR'],
    [new StorageError('bucket b'), 503, 'storage unavailable, try again\n', 'ERROR'],
    [new Error('secret detail'), 500, 'internal server error\n', 'ERROR'],
  ])('%s', (err, status, body, logAs) => {
    const r = errorReply(err, true);
    expect([r.status, r.body, r.logAs]).toEqual([status, body, logAs]);
  });

  it('asks a client to come back shortly when storage is unavailable, and only then', () => {
    expect(errorReply(new StorageError('bucket b'), true).headers['retry-after']).toBe('5');
    expect(errorReply(new UpstreamError('x', 502), true).headers['retry-after']).toBeUndefined();
  });

  it('never lets a cache keep a credential fault', () => {
    expect(errorReply(new UpstreamAuthError('x'), true).headers['cache-control']).toBe('no-store');
  });

  it('keeps a reason to 8 printable lines', () => {
    const r = errorReply(new NotFoundError('a\u0001b\n'.repeat(20)), false);
    expect((r.body as string).split('\n')).toHaveLength(9);
    expect(r.body).not.toMatch(/\u0001/);
    expect(r.headers['cache-control']).toBe('private, max-age=60');
  });
});

describe('routes and ranges', () => {
  it('matches routes by method and path', () => {
    expect(matchRoute('POST', '/auth/userpassword')).toEqual({ kind: 'token', endpoint: 'userpassword' });
    expect(matchRoute('GET', '/auth/userpassword')).toEqual({ kind: 'proxy', rawPath: '/auth/userpassword' });
    expect(matchRoute('DELETE', '/x')).toEqual({ kind: 'method-not-allowed' });
    expect(matchRoute('HEAD', '/healthz?x=1')).toEqual({ kind: 'health' });
    expect(matchRoute('GET', '/sumdb/a/latest')).toEqual({ kind: 'sumdb', rawPath: '/sumdb/a/latest' });
  });

  it('parses single ranges', () => {
    expect(parseRange('bytes=0-9', 100, undefined, 'e')).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=-10', 100, undefined, 'e')).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=90-', 100, undefined, 'e')).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=0-1,3-4', 100, undefined, 'e')).toBeNull();
    expect(parseRange('bytes=100-', 100, undefined, 'e')).toBe('unsatisfiable');
    expect(parseRange('bytes=0-9', 100, 'other', 'e')).toBeNull();
  });
});

describe('conditional requests and HEAD', () => {
  let s: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    s = await serve();
  });
  afterAll(async () => {
    await s.close();
  });

  it('answers If-None-Match with the ETag by 304 (no body), and HEAD with the headers of GET', async () => {
    const base = `${s.url}/example.com/m/@v/v1.0.0`;
    for (const ext of ['info', 'mod', 'zip', 'list'] as const) {
      const p = ext === 'list' ? `${s.url}/example.com/m/@v/list` : `${base}.${ext}`;
      const full = await fetch(p);
      const body = Buffer.from(await full.arrayBuffer());
      expect(full.status).toBe(200);
      const etag = full.headers.get('etag')!;
      expect(etag).toMatch(/^"sha256-[0-9a-f]{64}"$/);
      for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const nm = await fetch(p, { headers: { 'if-none-match': inm } });
        expect([ext, inm, nm.status, (await nm.arrayBuffer()).byteLength]).toEqual([ext, inm, 304, 0]);
        expect(nm.headers.get('etag')).toBe(etag);
        expect(nm.headers.get('cache-control')).toBe(full.headers.get('cache-control'));
      }
      const other = await fetch(p, { headers: { 'if-none-match': '"sha256-0"' } });
      expect(other.status).toBe(200);
      expect(Buffer.from(await other.arrayBuffer())).toEqual(body);
      const head = await fetch(p, { method: 'HEAD' });
      expect(head.status).toBe(200);
      for (const h of ['etag', 'content-length', 'content-type', 'cache-control']) expect([ext, h, head.headers.get(h)]).toEqual([ext, h, full.headers.get(h)]);
      expect(Number(head.headers.get('content-length'))).toBe(body.length);
      expect((await head.arrayBuffer()).byteLength).toBe(0);
    }
  });
});

describe('logging.hits', () => {
  const run = async (logHits: HandlerOptions['logHits'], random?: () => number) => {
    const lines: string[] = [];
    const s = await serve({ log: createLogger({ write: (l) => lines.push(l) }), logHits, random });
    try {
      for (let i = 0; i < 4; i++) expect((await fetch(`${s.url}/example.com/m/@v/v1.0.0.mod`)).status).toBe(200);
      expect((await fetch(`${s.url}/example.com/m/@v/v9.0.0.mod`)).status).toBe(404);
    } finally {
      await s.close();
    }
    const requests = lines.map((l) => JSON.parse(l) as { message: string; httpRequest?: { status: number } }).filter((l) => l.httpRequest);
    return requests.map((r) => r.httpRequest!.status);
  };

  it('logs every request by default, only failures with none, and a sample of hits with sample', async () => {
    expect(await run(undefined)).toEqual([200, 200, 200, 200, 404]);
    expect(await run({ mode: 'none', sampleRate: 1 })).toEqual([404]);
    let n = 0;
    const alternate = () => (n++ % 2 === 0 ? 0.1 : 0.9);
    expect(await run({ mode: 'sample', sampleRate: 0.5 }, alternate)).toEqual([200, 200, 404]);
  });
});

describe('answers remembered for the hit path', () => {
  it('still pass the ACL: a URL answered for one identity is not answered for one the ACL denies', async () => {
    const cfg = configSchema.parse({
      clientAuth: {
        enabled: true,
        identities: [{ name: 'alice', password: 'alice-password' }, { name: 'mallory', password: 'mallory-password' }],
        acl: [{ identities: ['alice'], access: 'allow' }],
      },
    }).clientAuth;
    const clientAuth = ClientAuth.create(cfg, { secrets: {} as SecretLoader, log: nullLogger, env: {} });
    const s = await serve({ clientAuth, publicCache: false });
    const as = (user: string) => ({ headers: { authorization: `Basic ${Buffer.from(`${user}:${user}-password`).toString('base64')}` } });
    try {
      for (const ext of ['mod', 'info', 'zip']) {
        const p = `${s.url}/${M}/@v/v1.0.0.${ext}`;
        for (let i = 0; i < 2; i++) expect((await fetch(p, as('alice'))).status).toBe(200);
        expect([ext, (await fetch(p, as('mallory'))).status]).toEqual([ext, 403]);
        expect([ext, (await fetch(p)).status]).toEqual([ext, 401]);
      }
    } finally {
      await s.close();
    }
  });

  it('are answered within the call, without a promise, once held in memory (and the rest through one)', async () => {
    const service = new ModuleService({ storage: new MemoryStorage(), sources: new MemorySources({ [M]: { versions: { 'v1.0.0': { time: '2021-01-01T00:00:00Z', mod: `module ${M}\n`, files: { 'go.mod': `module ${M}\n` } } } } }), log: nullLogger, tmpDir: os.tmpdir() });
    const handler = createHandler({ service, log: nullLogger });
    const returned: Array<'promise' | 'none'> = [];
    const server = http.createServer((req, res) => {
      returned.push(handler(req, res) ? 'promise' : 'none');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const p = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${M}/@v/v1.0.0.mod`;
    try {
      const bodies = [];
      for (let i = 0; i < 3; i++) bodies.push(await (await fetch(p)).text());
      expect(bodies).toEqual([`module ${M}\n`, `module ${M}\n`, `module ${M}\n`]);
      // A conditional request of the same URL takes the whole way (304 there).
      expect((await fetch(p, { headers: { 'if-none-match': '*' } })).status).toBe(304);
      expect(returned).toEqual(['promise', 'none', 'none', 'promise']);
    } finally {
      await service.idle();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('are answered without building req.headers, and a header the full path treats differently, in any case, still takes it', async () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    const service = new ModuleService({ storage: new MemoryStorage(), sources: new MemorySources({ [M]: { versions: { 'v1.0.0': { time: '2021-01-01T00:00:00Z', mod: `module ${M}\n`, files: { 'go.mod': `module ${M}\n` } } } } }), log: nullLogger, tmpDir: os.tmpdir() });
    const handler = createHandler({ service, log });
    const seen: Array<{ answer: 'promise' | 'none'; headersBuilt: boolean }> = [];
    const server = http.createServer((req, res) => {
      // Notes any read of req.headers (Node builds the object on the first), during the call or after it.
      const record = { answer: 'none' as 'promise' | 'none', headersBuilt: false };
      const own = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Object.getPrototypeOf(req)), 'headers') ?? Object.getOwnPropertyDescriptor(Object.getPrototypeOf(req), 'headers');
      Object.defineProperty(req, 'headers', { configurable: true, get: () => ((record.headersBuilt = true), own!.get!.call(req)), set: (v) => own!.set!.call(req, v) });
      if (handler(req, res)) record.answer = 'promise';
      seen.push(record);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    /** One request over its own connection, headers exactly as given; the status line and headers back. */
    const raw = (headers: string) =>
      new Promise<string>((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1', () => sock.write(`GET /${M}/@v/v1.0.0.mod HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`));
        let got = '';
        sock.on('data', (d) => (got += d.toString('latin1')));
        sock.on('end', () => resolve(got));
        sock.on('error', reject);
      });
    try {
      expect(await raw('')).toMatch(/^HTTP\/1\.1 200 /);
      const hit = await raw('USER-AGENT: Go-http-client/1.1\r\nTraceParent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n');
      expect(hit).toMatch(/^HTTP\/1\.1 200 /);
      expect(hit).toContain(`\r\n\r\nmodule ${M}\n`);
      expect(await raw('RANGE: bytes=0-3\r\n')).toMatch(/^HTTP\/1\.1 206 [^]*content-range: bytes 0-3\//i);
      expect(await raw('If-None-Match: *\r\n')).toMatch(/^HTTP\/1\.1 304 /);
      expect(seen).toEqual([
        { answer: 'promise', headersBuilt: true },
        { answer: 'none', headersBuilt: false },
        { answer: 'promise', headersBuilt: true },
        { answer: 'promise', headersBuilt: true },
      ]);
      // The hit's log line has what the raw headers said.
      const hitLine = JSON.parse(lines.filter((l) => l.includes('"httpRequest"'))[1]) as { httpRequest: { userAgent?: string } };
      expect(hitLine.httpRequest.userAgent).toBe('Go-http-client/1.1');
      // A hit's line is made of pieces redacted once (HitLines): a credential in the user agent is still masked.
      expect(await raw('User-Agent: ci-bot ghp_abcdefghijklmnopqrstuvwxyz\r\n')).toMatch(/^HTTP\/1\.1 200 /);
      expect(seen.at(-1)).toEqual({ answer: 'none', headersBuilt: false });
      const masked = lines.filter((l) => l.includes('"httpRequest"')).at(-1)!;
      expect(masked).not.toContain('ghp_abcdef');
      expect((JSON.parse(masked) as { httpRequest: { userAgent?: string } }).httpRequest.userAgent).toBe('ci-bot [REDACTED]');
    } finally {
      await service.idle();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('are the same bytes and headers as the first answer, and a HEAD or a range of one is still a HEAD or a range', async () => {
    const s = await serve();
    try {
      const p = `${s.url}/${M}/@v/v1.0.0.zip`;
      const first = await fetch(p);
      const body = Buffer.from(await first.arrayBuffer());
      const again = await fetch(p);
      expect(Buffer.from(await again.arrayBuffer())).toEqual(body);
      for (const h of ['etag', 'content-type', 'cache-control', 'content-length']) expect(again.headers.get(h)).toBe(first.headers.get(h));
      const head = await fetch(p, { method: 'HEAD' });
      expect([head.status, (await head.arrayBuffer()).byteLength]).toEqual([200, 0]);
      const part = await fetch(p, { headers: { range: 'bytes=0-3' } });
      expect([part.status, Buffer.from(await part.arrayBuffer())]).toEqual([206, body.subarray(0, 4)]);
    } finally {
      await s.close();
    }
  });
});

describe('the foreground (requests that background work waits for)', () => {
  it('holds a request while it is answered, lets a .zip go once routed, and never holds a hit', async () => {
    const foreground = new Foreground();
    let entered = 0;
    const enter = foreground.enter.bind(foreground);
    foreground.enter = () => (entered++, enter());
    const s = await serve({ foreground });
    try {
      const seen: string[] = [];
      s.sources.onAsk = (call) => seen.push(`${call.split(' ')[0]}: ${foreground.size}`);
      // A cold .zip: the version is resolved and its zip built while the request waits, outside the foreground.
      expect((await fetch(`${s.url}/${M}/@v/v1.0.0.zip`)).status).toBe(200);
      expect(seen).toEqual(['query: 0', 'download: 0', 'zip: 0']);
      seen.length = 0;
      // A cold .info: the source is asked while the request is in the foreground.
      s.sources.modules[M]!.versions['v1.2.0'] = { time: '2021-03-01T00:00:00Z', mod: `module ${M}\n`, files: { 'go.mod': `module ${M}\n` } };
      expect((await fetch(`${s.url}/${M}/@v/v1.2.0.info`)).status).toBe(200);
      expect(seen.slice(0, 2)).toEqual(['query: 1', 'download: 1']);
      expect(entered).toBe(2);
      // The same .info again: a hit, answered within the call.
      expect((await fetch(`${s.url}/${M}/@v/v1.2.0.info`)).status).toBe(200);
      expect(entered).toBe(2);
      // A failure leaves it too.
      expect((await fetch(`${s.url}/${M}/@v/v9.9.9.info`)).status).toBe(404);
      expect(entered).toBe(3);
      expect(foreground.size).toBe(0);
    } finally {
      await s.close();
    }
  });
});
