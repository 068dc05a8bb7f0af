// A git host that misbehaves on demand, for tests of what modproxy does with
// untrusted upstreams: in front of a real smart-HTTP server (git
// http-backend, gitHttpServer.ts), it passes requests through, or answers
// them itself with a fault: a status, a response that never ends, the real
// answer dripped one byte at a time, a canned body (a corrupt pack), or a
// reset connection. Bound to 127.0.0.1 only.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGitHttpServer, type GitHttpServer, type GitHttpServerOptions } from './gitHttpServer.js';
import { endlessPackPackets } from './packBytes.js';

export interface HostileRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  /** The protocol v2 command of an upload-pack POST ("ls-refs", "fetch"). */
  command?: string;
}

export type Fault =
  /** Answer with this status and a short body. */
  | { status: number }
  /** A 200 fetch response whose pack never ends; `chunkBytes` per packet, `everyMs` between packets (0: as fast as read). */
  | { endlessPack: { chunkBytes?: number; everyMs?: number } }
  /** The real answer, one byte every `everyMs`. */
  | { drip: { everyMs: number } }
  /** A canned 200 answer. */
  | { body: Buffer; contentType: string }
  /** Close the connection without an answer. */
  | { reset: true };

export interface HostileGitServer {
  url: string;
  port: number;
  /** Requests seen, as "METHOD /path?query" (command appended for upload-pack POSTs: "POST /r/git-upload-pack fetch"). */
  requests: string[];
  /** Decides each request's fault (undefined: pass it through). Settable at any time. */
  fault: (req: HostileRequest) => Fault | undefined;
  /** How many requests matching `pattern` were seen. */
  count(pattern: RegExp): number;
  close(): Promise<void>;
}

export async function startHostileGitServer(opts: GitHttpServerOptions): Promise<HostileGitServer> {
  const backend: GitHttpServer = await startGitHttpServer(opts);
  const requests: string[] = [];
  const open = new Set<http.ServerResponse>();
  const self: HostileGitServer = {
    url: '',
    port: 0,
    requests,
    fault: () => undefined,
    count: (pattern) => requests.filter((r) => pattern.test(r)).length,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.close();
    },
  };

  const server = http.createServer((req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const command = req.method === 'POST' ? /command=([a-z-]+)/.exec(body.subarray(0, 64).toString('latin1'))?.[1] : undefined;
    const seen: HostileRequest = { method: req.method ?? 'GET', url: req.url ?? '/', command };
    requests.push(`${seen.method} ${seen.url}${command ? ` ${command}` : ''}`);
    const fault = self.fault(seen);
    if (!fault) return pipeThrough(req, body, res);
    if ('reset' in fault) {
      req.socket.destroy();
      return;
    }
    if ('status' in fault) {
      res.writeHead(fault.status, { 'content-type': 'text/plain' });
      res.end(`hostile: ${fault.status}\n`);
      return;
    }
    if ('body' in fault) {
      res.writeHead(200, { 'content-type': fault.contentType, 'cache-control': 'no-cache' });
      res.end(fault.body);
      return;
    }
    if ('endlessPack' in fault) {
      const { head, packet } = endlessPackPackets(fault.endlessPack.chunkBytes);
      res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-result', 'cache-control': 'no-cache' });
      res.write(head);
      while (!res.destroyed && !res.writableEnded) {
        if (!res.write(packet)) await drainOrClose(res);
        if (fault.endlessPack.everyMs) await new Promise((r) => setTimeout(r, fault.endlessPack.everyMs));
      }
      return;
    }
    // drip: the real answer, slowly.
    const real = await forward(req, body);
    res.writeHead(real.status, real.headers);
    for (let i = 0; i < real.body.length && !res.destroyed; i++) {
      res.write(real.body.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, fault.drip.everyMs));
    }
    res.end();
  }

  /** The backend's answer, whole. */
  async function forward(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.OutgoingHttpHeaders; body: Buffer }> {
    const r = await backendRequest(req, body);
    const chunks: Buffer[] = [];
    for await (const c of r) chunks.push(c as Buffer);
    return { status: r.statusCode ?? 502, headers: passHeaders(r), body: Buffer.concat(chunks) };
  }

  async function pipeThrough(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const r = await backendRequest(req, body);
    res.writeHead(r.statusCode ?? 502, passHeaders(r));
    r.pipe(res);
    await once(r, 'end');
  }

  function backendRequest(req: http.IncomingMessage, body: Buffer): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: `127.0.0.1:${backend.port}`, 'content-length': String(body.length) };
      delete headers['transfer-encoding'];
      const out = http.request({ host: '127.0.0.1', port: backend.port, method: req.method, path: req.url, headers }, resolve);
      out.on('error', reject);
      out.end(body);
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self.port = (server.address() as AddressInfo).port;
  self.url = `http://127.0.0.1:${self.port}`;
  return self;
}

/** Waits until `res` can take more, or is gone. */
function drainOrClose(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function passHeaders(r: http.IncomingMessage): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(r.headers)) if (k !== 'transfer-encoding' && k !== 'connection' && v !== undefined) headers[k] = v;
  return headers;
}
