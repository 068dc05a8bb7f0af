// The one HTTPS GET that import-path discovery makes, with the bounds an
// untrusted host needs: a total deadline, a cap on the body (the go command
// reads only the <head>), at most 10 redirects and never from https to http,
// as the go command's web client allows. Headers from `headersFor` are asked
// for each hop's URL, so credentials go only where they are configured and
// never follow a redirect to another host.
//
// HTTPS_PROXY / https_proxy and NO_PROXY / no_proxy are honoured as the go
// command honours them (lib/net/envProxy.ts: a CONNECT tunnel through an
// http:// proxy), so that modproxy reaches discovery pages through the same
// egress as the go command.
import https from 'node:https';
import net from 'node:net';
import type tls from 'node:tls';
import { proxyFor, tunnel } from '../../net/envProxy.js';

export interface PageResponse {
  /** The final URL (after redirects). */
  url: string;
  status: number;
  statusText: string;
  body: string;
  /** Whether the (final) request carried configured credentials. */
  authenticated: boolean;
}

export interface HttpsGetOptions {
  timeoutMs: number;
  maxBodyBytes: number;
  /** Headers for a request to this URL (credentials for its host), if any. */
  headersFor?: (url: URL) => Promise<Record<string, string> | undefined>;
  /** Extra TLS options (tests: a CA). */
  tls?: Pick<tls.ConnectionOptions, 'ca' | 'minVersion'>;
  /** The environment to read proxy settings from. */
  env?: NodeJS.ProcessEnv;
}

export type HttpsGet = (url: URL) => Promise<PageResponse>;

export class RedirectError extends Error {}

const MAX_REDIRECTS = 10;

function getOnce(url: URL, headers: Record<string, string>, opts: HttpsGetOptions, signal: AbortSignal): Promise<Omit<PageResponse, 'authenticated'> & { location?: string }> {
  return new Promise((resolve, reject) => {
    const port = Number(url.port || 443);
    const proxy = proxyFor(url, opts.env ?? process.env);
    const start = (socket?: net.Socket) => {
      const req = https.request(
        {
          host: url.hostname,
          port,
          path: url.pathname + url.search,
          method: 'GET',
          headers: { ...headers, 'user-agent': 'modproxy', accept: 'text/html' },
          servername: net.isIP(url.hostname) ? undefined : url.hostname,
          // tls.connect over the tunnel (https.Agent passes `socket` through to it).
          ...(socket ? { socket } : {}),
          agent: false,
          ...opts.tls,
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const status = res.statusCode ?? 0;
          const location = res.headers.location;
          if (status >= 300 && status < 400 && location) {
            res.destroy();
            resolve({ url: url.href, status, statusText: res.statusMessage ?? '', body: '', location });
            return;
          }
          res.on('data', (c: Buffer) => {
            if (size >= opts.maxBodyBytes) return;
            chunks.push(c.subarray(0, opts.maxBodyBytes - size));
            size += Math.min(c.length, opts.maxBodyBytes - size);
            if (size >= opts.maxBodyBytes) {
              res.destroy();
              finish();
            }
          });
          let done = false;
          const finish = () => {
            if (done) return;
            done = true;
            resolve({ url: url.href, status, statusText: res.statusMessage ?? '', body: Buffer.concat(chunks).toString('utf8') });
          };
          res.on('end', finish);
          res.on('error', (e) => (done ? undefined : reject(e)));
          // A connection cut mid-body (or by the deadline) must not leave the caller waiting.
          res.on('close', () => (done ? undefined : reject(signal.reason ?? new Error('connection closed before the end of the page'))));
        },
      );
      req.on('error', reject);
      req.end();
    };
    if (proxy) tunnel(proxy, url.hostname, port, signal, opts.tls).then(start, reject);
    else start();
  });
}

/** A bounded HTTPS GET following redirects the go command's way. */
export function createHttpsGet(opts: HttpsGetOptions): HttpsGet {
  return async (first: URL) => {
    const signal = AbortSignal.timeout(opts.timeoutMs);
    let url = first;
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'https:') throw new RedirectError(`redirected from secure URL ${first.href} to insecure URL ${url.href}`);
      const headers = (await opts.headersFor?.(url)) ?? {};
      const res = await getOnce(url, headers, opts, signal);
      if (res.location === undefined) return { url: res.url, status: res.status, statusText: res.statusText, body: res.body, authenticated: 'authorization' in headers };
      if (hop + 1 >= MAX_REDIRECTS) throw new RedirectError('stopped after 10 redirects');
      url = new URL(res.location, url);
    }
  };
}
