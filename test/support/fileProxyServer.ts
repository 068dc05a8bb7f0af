// A GOPROXY served from a directory tree (a module cache's cache/download is
// one), on 127.0.0.1, for tests of the parent-proxy source. It records every
// request, can answer a path with other bytes (a tampered copy), and makes up
// @v/list from the .info files present when the tree has none.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface FileProxyServer {
  url: string;
  /** Request paths seen, in order. */
  requests: string[];
  /** Bodies answered instead of the tree's file, by request path. */
  overrides: Map<string, Buffer>;
  close(): Promise<void>;
}

/** `authorize`: an HTTP status (401/403) refusing a request, or undefined to serve it (a private GOPROXY). */
export async function startFileProxyServer(root: string, opts: { authorize?: (req: http.IncomingMessage) => number | undefined } = {}): Promise<FileProxyServer> {
  const requests: string[] = [];
  const overrides = new Map<string, Buffer>();
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(p);
    const refused = opts.authorize?.(req);
    if (refused) return void res.writeHead(refused, refused === 401 ? { 'www-authenticate': 'Basic realm="goproxy"' } : {}).end(`${refused}\n`);
    const override = overrides.get(p);
    if (override) return void res.writeHead(200, { 'content-length': override.length }).end(override);
    const file = path.join(root, p);
    if (!file.startsWith(root + path.sep) || p.includes('..')) return void res.writeHead(400).end('bad path');
    if (p.endsWith('/@v/list') && !fs.existsSync(file)) {
      const dir = path.dirname(file);
      if (!fs.existsSync(dir)) return void res.writeHead(404).end(`not found: ${p}`);
      const versions = fs.readdirSync(dir).filter((f) => f.endsWith('.info')).map((f) => f.slice(0, -'.info'.length));
      return void res.writeHead(200).end(versions.map((v) => v + '\n').join(''));
    }
    fs.readFile(file, (err, data) => {
      if (err) return void res.writeHead(404).end(`not found: ${p}`);
      res.writeHead(200, { 'content-length': data.length }).end(data);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    overrides,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
