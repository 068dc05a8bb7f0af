import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { rawExchange } from '../../test/support/rawHttp.js';
import { createLogger } from '../log/logger.js';
import { passedBodyGuard } from './bodyGuard.js';
import { guardNextHttpServer } from './guardNextServer.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function listen(server: http.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

it("puts the body guard, then the hits, in front of the next server's app (functions-framework's express)", async () => {
  const appSaw: Array<{ url: string; guarded: boolean }> = [];
  const app: http.RequestListener = (req, res) => {
    appSaw.push({ url: req.url!, guarded: passedBodyGuard(req) });
    res.end('from the app');
  };
  const firstSaw: string[] = [];
  guardNextHttpServer(createLogger({ write: () => {} }), (req, res) => {
    firstSaw.push(req.url!);
    if (req.url !== '/hit') return false;
    res.end('answered first');
    return true;
  });
  const port = await listen(http.createServer(app));
  const base = `http://127.0.0.1:${port}`;
  expect(await (await fetch(`${base}/hit`)).text()).toBe('answered first');
  expect(await (await fetch(`${base}/other`)).text()).toBe('from the app');
  // A body is refused before either sees the request.
  const body = await rawExchange(port, 'GET /hit HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n');
  expect(body.status).toBe(413);
  expect(firstSaw).toEqual(['/hit', '/other']);
  expect(appSaw).toEqual([{ url: '/other', guarded: true }]);

  // Only the next server: the one after is Node's own again.
  const plainSaw: boolean[] = [];
  const plainPort = await listen(http.createServer((req, res) => (plainSaw.push(passedBodyGuard(req)), res.end('plain'))));
  expect(await (await fetch(`http://127.0.0.1:${plainPort}/hit`)).text()).toBe('plain');
  expect(plainSaw).toEqual([false]);
});
