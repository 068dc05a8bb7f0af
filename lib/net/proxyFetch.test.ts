// The proxy-aware fetch against real loopback servers: an HTTPS server under
// made-up host names reached only through a CONNECT proxy (HTTPS_PROXY).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectProxy, type ConnectProxy } from '../../test/support/connectProxy.js';
import { makeTestCert } from '../../test/support/tlsCert.js';
import { proxyFor } from './envProxy.js';
import { createProxyFetch } from './proxyFetch.js';

describe('proxy-aware fetch', () => {
  let dir: string;
  let server: https.Server;
  let plain: http.Server;
  let connect: ConnectProxy;
  const seen: Array<{ host?: string; method?: string; url?: string; auth?: string; body: string }> = [];
  let fetchVia: ReturnType<typeof createProxyFetch>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxyfetch-'));
    const cert = makeTestCert(dir, ['git.example.test', 'other.example.test']);
    server = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ host: req.headers.host, method: req.method, url: req.url, auth: req.headers.authorization, body });
        if (req.url === '/moved') return void res.writeHead(302, { location: 'https://other.example.test/there' }).end();
        if (req.url === '/same') return void res.writeHead(307, { location: '/echo' }).end();
        res.writeHead(200, { 'content-type': 'text/plain', 'x-multi': ['a', 'b'] }).end(`${req.method} ${req.url} ${body}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    plain = http.createServer((req, res) => res.end(`direct ${req.url}`));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    connect = await startConnectProxy({ 'git.example.test:443': port, 'other.example.test:443': port });
    fetchVia = createProxyFetch({ env: { HTTPS_PROXY: connect.url, HTTP_PROXY: connect.url }, tls: { ca: cert.cert } });
  });
  afterAll(async () => {
    await connect?.close();
    server?.closeAllConnections();
    plain?.closeAllConnections();
    await Promise.all([server, plain].map((s) => new Promise((r) => s?.close(r))));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reaches an https host only the proxy can reach, with method, headers and body', async () => {
    const res = await fetchVia('https://git.example.test/repo/git-upload-pack', { method: 'POST', headers: { authorization: 'Basic eA==' }, body: Buffer.from('command=ls-refs') });
    expect([res.status, await res.text(), res.headers.get('content-type'), res.url]).toEqual([
      200,
      'POST /repo/git-upload-pack command=ls-refs',
      'text/plain',
      'https://git.example.test/repo/git-upload-pack',
    ]);
    expect(connect.tunnels).toContain('git.example.test:443');
  });

  it('follows redirects, dropping Authorization when one leaves the origin; manual leaves them to the caller', async () => {
    seen.length = 0;
    const res = await fetchVia('https://git.example.test/same', { headers: { authorization: 'Bearer t' } });
    expect(await res.text()).toBe('GET /echo ');
    const moved = await fetchVia('https://git.example.test/moved', { headers: { authorization: 'Bearer t' } });
    expect([moved.url, await moved.text()]).toEqual(['https://other.example.test/there', 'GET /there ']);
    expect(seen.map((s) => [s.host, s.url, s.auth])).toEqual([
      ['git.example.test', '/same', 'Bearer t'],
      ['git.example.test', '/echo', 'Bearer t'],
      ['git.example.test', '/moved', 'Bearer t'],
      ['other.example.test', '/there', undefined],
    ]);
    const manual = await fetchVia('https://git.example.test/moved', { redirect: 'manual' });
    expect([manual.status, manual.headers.get('location')]).toEqual([302, 'https://other.example.test/there']);
  });

  it('goes direct for loopback hosts and NO_PROXY, as the go command does', async () => {
    const port = (plain.address() as AddressInfo).port;
    const before = connect.tunnels.length;
    expect(await (await fetchVia(`http://127.0.0.1:${port}/x`)).text()).toBe('direct /x');
    expect(connect.tunnels.length).toBe(before);
    const env = { HTTPS_PROXY: 'http://proxy.internal:3128', NO_PROXY: '.corp.example,git.example.test' };
    expect(proxyFor(new URL('https://git.example.test/r'), env)).toBeUndefined();
    expect(proxyFor(new URL('https://a.corp.example/r'), env)).toBeUndefined();
    expect(proxyFor(new URL('https://localhost:8443/r'), env)).toBeUndefined();
    expect(proxyFor(new URL('https://gitlab.example.test/r'), env)?.href).toBe('http://proxy.internal:3128/');
    expect(proxyFor(new URL('http://gitlab.example.test/r'), env)).toBeUndefined();
    // Schemes as the go command reads them: none means http://, https:// is TLS to the proxy, socks5 is not supported here.
    expect(proxyFor(new URL('https://gitlab.example.test/r'), { HTTPS_PROXY: 'proxy.internal:3128' })?.href).toBe('http://proxy.internal:3128/');
    expect(proxyFor(new URL('https://gitlab.example.test/r'), { https_proxy: 'https://proxy.internal' })?.href).toBe('https://proxy.internal/');
    expect(() => proxyFor(new URL('https://gitlab.example.test/r'), { HTTPS_PROXY: 'socks5://proxy.internal:1080' })).toThrow('HTTPS_PROXY scheme socks5: is not supported (only http:// and https://)');
  });

  it('an aborted request fails', async () => {
    await expect(fetchVia('https://git.example.test/echo', { signal: AbortSignal.abort() })).rejects.toThrow();
  });
});
