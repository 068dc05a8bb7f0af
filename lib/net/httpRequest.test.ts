// The GET the parent-proxy and checksum database clients use, against real
// loopback servers: pooled keep-alive connections, bodies as Node streams,
// and HTTPS_PROXY honoured (an HTTPS server under a made-up name that only a
// CONNECT proxy reaches).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectProxy, type ConnectProxy } from '../../test/support/connectProxy.js';
import { makeTestCert } from '../../test/support/tlsCert.js';
import { createHttpGet, readBody } from './httpRequest.js';

async function text(res: http.IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of res as AsyncIterable<Buffer>) s += c.toString();
  return s;
}

describe('createHttpGet', () => {
  let dir: string;
  let tlsServer: https.Server;
  let plain: http.Server;
  let connect: ConnectProxy;
  let ca: string;
  const connections: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'httpget-'));
    const cert = makeTestCert(dir, ['db.example.test']);
    ca = cert.cert;
    tlsServer = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => res.end(`tls ${req.url} ${req.headers['user-agent']}`));
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    plain = http.createServer((req, res) => res.end(`plain ${req.url}`));
    plain.on('connection', (s) => connections.push(`${s.remotePort}`));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    connect = await startConnectProxy({ 'db.example.test:443': (tlsServer.address() as AddressInfo).port });
  });
  afterAll(async () => {
    await connect?.close();
    tlsServer?.closeAllConnections();
    plain?.closeAllConnections();
    await Promise.all([tlsServer, plain].map((s) => new Promise((r) => s?.close(r))));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers with the response as a stream, and sends GETs one after another over one pooled connection', async () => {
    const get = createHttpGet({ env: {} });
    const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
    connections.length = 0;
    for (const p of ['/a', '/b', '/c']) {
      const res = await get(new URL(url + p));
      expect([res.statusCode, await text(res)]).toEqual([200, `plain ${p}`]);
    }
    expect(connections).toHaveLength(1);
  });

  it('reaches an https host only the proxy can reach (HTTPS_PROXY), with the headers given', async () => {
    const get = createHttpGet({ env: { HTTPS_PROXY: connect.url }, tls: { ca } });
    const res = await get(new URL('https://db.example.test/latest'), { headers: { 'user-agent': 'modproxy' } });
    expect([res.statusCode, await text(res)]).toEqual([200, 'tls /latest modproxy']);
    expect(connect.tunnels).toContain('db.example.test:443');
  });

  it('goes through an https:// proxy (TLS to the proxy, checked like any server), for https and http URLs', async () => {
    const cert = makeTestCert(path.join(dir, 'proxy-cert'));
    const plainPort = (plain.address() as AddressInfo).port;
    const tlsProxy = await startConnectProxy({ 'db.example.test:443': (tlsServer.address() as AddressInfo).port, 'plain.example.test:80': plainPort }, { tls: cert });
    try {
      // The proxy's certificate and the host's are both trusted here; the host's name is checked inside the tunnel.
      const get = createHttpGet({ env: { HTTPS_PROXY: tlsProxy.url, HTTP_PROXY: tlsProxy.url }, tls: { ca: [ca, cert.cert] } });
      const res = await get(new URL('https://db.example.test/tiles'), { headers: { 'user-agent': 'modproxy' } });
      expect([res.statusCode, await text(res)]).toEqual([200, 'tls /tiles modproxy']);
      expect(tlsProxy.tunnels).toEqual(['db.example.test:443']);
      const viaRelay = await get(new URL('http://plain.example.test/list'));
      expect([viaRelay.statusCode, await text(viaRelay)]).toEqual([200, 'plain /list']);
      expect(tlsProxy.relayed).toEqual(['http://plain.example.test/list']);
      // A proxy whose certificate is not trusted is not used.
      const untrusting = createHttpGet({ env: { HTTPS_PROXY: tlsProxy.url }, tls: { ca } });
      await expect(untrusting(new URL('https://db.example.test/tiles'))).rejects.toThrow(/self.signed|certificate/i);
      expect(tlsProxy.tunnels).toHaveLength(1);
    } finally {
      await tlsProxy.close();
    }
  });

  it('asks an http:// proxy for an http URL in absolute form, with the proxy credentials from its URL', async () => {
    const plainPort = (plain.address() as AddressInfo).port;
    const seen: Array<string | undefined> = [];
    const relay = await startConnectProxy({ 'plain.example.test:80': plainPort });
    const auth = http.createServer((req, res) => {
      seen.push(req.headers['proxy-authorization']);
      res.end(`relay ${req.url}`);
    });
    await new Promise<void>((r) => auth.listen(0, '127.0.0.1', r));
    try {
      const get = createHttpGet({ env: { HTTP_PROXY: relay.url } });
      const res = await get(new URL('http://plain.example.test/a?b=1'));
      expect([res.statusCode, await text(res)]).toEqual([200, 'plain /a?b=1']);
      expect(relay.relayed).toEqual(['http://plain.example.test/a?b=1']);
      const withUser = createHttpGet({ env: { HTTP_PROXY: `http://u%40x:p%3Aw@127.0.0.1:${(auth.address() as AddressInfo).port}` } });
      expect(await text(await withUser(new URL('http://plain.example.test/z')))).toBe('relay http://plain.example.test/z');
      expect(seen).toEqual([`Basic ${Buffer.from('u@x:p:w').toString('base64')}`]);
    } finally {
      await relay.close();
      auth.closeAllConnections();
      await new Promise((r) => auth.close(r));
    }
  });

  it('fails an aborted request, and refuses schemes other than http and https', async () => {
    const get = createHttpGet({ env: {} });
    const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/x`;
    await expect(get(new URL(url), { signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
    await expect(get(new URL('file:///etc/passwd'))).rejects.toThrow(/unsupported URL scheme/);
  });

  it('sends a GET again, once, on a new connection when the pooled one it took was closed by the server', async () => {
    // A server that takes a kept-alive connection's second request as its cue to drop the connection.
    let conns = 0;
    const sockets: net.Socket[] = [];
    const server = net.createServer((sock) => {
      sockets.push(sock);
      const n = ++conns;
      let requests = 0;
      sock.on('data', (d) => {
        for (const _ of d.toString('latin1').matchAll(/\r\n\r\n/g)) {
          requests++;
          if (n === 1 && requests === 2) return void sock.destroy();
          sock.write(`HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: keep-alive\r\n\r\nok ${n}`);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const get = createHttpGet({ env: {} });
      const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(await text(await get(url))).toBe('ok 1');
      expect(await text(await get(url))).toBe('ok 2');
      expect(conns).toBe(2);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('reads a body within its limit: refuses a longer one (declared or streamed), or cuts it when asked', async () => {
    const big = http.createServer((req, res) => {
      if (req.url === '/declared') return void res.writeHead(200, { 'content-length': '10' }).end('0123456789');
      res.writeHead(200);
      res.write('01234');
      res.end('56789');
    });
    await new Promise<void>((r) => big.listen(0, '127.0.0.1', r));
    try {
      const get = createHttpGet({ env: {} });
      const url = (p: string) => new URL(`http://127.0.0.1:${(big.address() as AddressInfo).port}${p}`);
      await expect(readBody(await get(url('/declared')), 4)).rejects.toMatchObject({ name: 'BodyTooLargeError', declared: 10 });
      await expect(readBody(await get(url('/streamed')), 4)).rejects.toMatchObject({ name: 'BodyTooLargeError', declared: undefined });
      expect((await readBody(await get(url('/streamed')), 4, { truncate: true })).toString()).toBe('0123');
      expect((await readBody(await get(url('/declared')), 10)).toString()).toBe('0123456789');
    } finally {
      big.closeAllConnections();
      await new Promise((r) => big.close(r));
    }
  });
});
