// A double of Cloud Run's front end for a service deployed with
// --no-allow-unauthenticated: HTTPS on 127.0.0.1 in front of a modproxy
// listening on plain HTTP, as the container does. Before a request reaches the
// container it must carry a Google-signed ID token whose audience is the
// service URL, from an account with roles/run.invoker:
//
// * the token comes from X-Serverless-Authorization when that header is
//   present, else from Authorization (both "Bearer <token>");
// * no token: 403; a bad one (signature, expiry, audience): 401; an account
//   that is not an invoker: 403 (Cloud Run's own HTML error pages);
// * the request goes on with Authorization untouched, and with the signature
//   removed from X-Serverless-Authorization, so the container can read the
//   caller's claims but not replay the token.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface CloudRunGate {
  /** The service URL (also the ID token audience it accepts). */
  url: string;
  /** Each request: method, path, the header the token came from, the answer's status. */
  seen: Array<{ method: string; path: string; tokenFrom: 'x-serverless-authorization' | 'authorization' | null; status: number }>;
  close(): Promise<void>;
}

export interface CloudRunGateOptions {
  /** The container: http://127.0.0.1:<port>. */
  upstream: string;
  tls: { key: string; cert: string };
  /** Verifies a Google ID token for an audience and returns its claims (throws when it is not valid). */
  verify: (token: string, audience: string) => Promise<Record<string, unknown>>;
  /** Emails with roles/run.invoker. */
  invokers: string[];
}

const page = (status: number, title: string) =>
  `<html><head><meta http-equiv="content-type" content="text/html;charset=utf-8">\n<title>${status} ${title}</title>\n</head>\n<body text=#000000 bgcolor=#ffffff>\n<h1>Error: ${title}</h1>\n<h2>Your client does not have permission to get URL from this server.</h2>\n<h2></h2>\n</body></html>\n`;

export async function startCloudRunGate(opts: CloudRunGateOptions): Promise<CloudRunGate> {
  const seen: CloudRunGate['seen'] = [];
  let url = '';
  const server = https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, (req, res) => {
    void (async () => {
      const serverless = req.headers['x-serverless-authorization'];
      const tokenFrom = typeof serverless === 'string' ? 'x-serverless-authorization' : typeof req.headers.authorization === 'string' ? 'authorization' : null;
      const record = (status: number) => seen.push({ method: req.method ?? 'GET', path: req.url ?? '/', tokenFrom, status });
      const refuse = (status: number, title: string) => {
        record(status);
        res.writeHead(status, { 'content-type': 'text/html; charset=UTF-8' });
        res.end(page(status, title));
      };
      const header = tokenFrom ? String(req.headers[tokenFrom]) : '';
      const m = /^Bearer (\S+)$/.exec(header);
      if (!tokenFrom) return refuse(403, 'Forbidden');
      if (!m) return refuse(401, 'Unauthorized');
      let claims: Record<string, unknown>;
      try {
        claims = await opts.verify(m[1], url);
      } catch {
        try {
          claims = await opts.verify(m[1], `${url}/`);
        } catch {
          return refuse(401, 'Unauthorized');
        }
      }
      if (!opts.invokers.includes(String(claims.email))) return refuse(403, 'Forbidden');
      const headers = { ...req.headers };
      if (tokenFrom === 'x-serverless-authorization') headers['x-serverless-authorization'] = `Bearer ${m[1].split('.').slice(0, 2).join('.')}.`;
      const up = new URL(opts.upstream);
      const forward = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: { ...headers, host: up.host } }, (upRes) => {
        record(upRes.statusCode ?? 502);
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      forward.on('error', () => {
        if (!res.headersSent) refuse(502, 'Bad Gateway');
        else res.destroy();
      });
      req.pipe(forward);
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
