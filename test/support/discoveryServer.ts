// An HTTPS server answering `?go-get=1` the way code hosts do, for made-up
// host names reached through test/support/connectProxy.ts: each page is a
// function of (host, path, Authorization header), so a test can play GitLab
// (which shows private subgroup paths only to authenticated requests), a
// vanity domain, or a broken host. Every request is recorded.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface DiscoveryRequest {
  host: string;
  path: string;
  authorization?: string;
}

/** An answer: a status and an HTML body, or a redirect. */
export type PageAnswer = { status?: number; html?: string; location?: string };
export type PageHandler = (req: DiscoveryRequest) => PageAnswer | undefined;

export interface DiscoveryServer {
  port: number;
  requests: DiscoveryRequest[];
  close(): Promise<void>;
}

/** An HTML page with these go-import entries ("prefix vcs root" each). */
export function goImportPage(...entries: string[]): string {
  return `<!DOCTYPE html><html><head>${entries.map((e) => `<meta name="go-import" content="${e}">`).join('')}</head><body>go get</body></html>`;
}

/**
 * `backend`: requests without `go-get=1` are forwarded over plain HTTP to this
 * port (a git smart-HTTP server), or to the port it gives for the request's
 * path (a git server, a GOPROXY tree), so that one HTTPS host serves all.
 */
export async function startDiscoveryServer(
  tls: { key: string; cert: string },
  handler: PageHandler,
  backend?: number | ((path: string) => number | undefined),
): Promise<DiscoveryServer> {
  const requests: DiscoveryRequest[] = [];
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const url = new URL(req.url ?? '/', `https://${req.headers.host ?? 'x'}`);
    const backendPort = typeof backend === 'function' ? backend(url.pathname) : backend;
    if (backendPort !== undefined && !url.searchParams.has('go-get')) {
      const up = http.request({ host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers: req.headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
      return;
    }
    const r: DiscoveryRequest = { host: url.hostname, path: url.pathname + url.search, authorization: req.headers.authorization };
    requests.push(r);
    const a = handler(r);
    if (!a) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    if (a.location) {
      res.writeHead(a.status ?? 302, { location: a.location });
      res.end();
      return;
    }
    const status = a.status ?? 200;
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/html; charset=utf-8' };
    if (status === 401) headers['www-authenticate'] = 'Basic realm="discovery"';
    res.writeHead(status, headers);
    res.end(a.html ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
