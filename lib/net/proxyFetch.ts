// A fetch that honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY (lib/net/envProxy.ts)
// as the go command does; Node 20's fetch ignores them. A request that needs
// no proxy goes to Node's fetch unchanged. One that does is sent with
// node:http(s) — https through a CONNECT tunnel, http to the proxy with the
// absolute URL (lib/net/httpRequest.ts) — and answered as a fetch Response,
// for the subset of fetch the git client uses: method, headers, a Buffer or
// string body, signal, and redirect 'follow' (at most 20; Authorization is
// dropped when a redirect leaves the origin, as fetch does) or 'manual'.
import { Readable } from 'node:stream';
import type tls from 'node:tls';
import { proxyFor } from './envProxy.js';
import { sendRequest } from './httpRequest.js';

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface ProxyFetchOptions {
  /** The environment to read proxy settings from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Extra TLS options for https targets (tests: a CA). */
  tls?: Pick<tls.ConnectionOptions, 'ca'>;
  /** The fetch for requests that need no proxy (default: global fetch). */
  direct?: FetchLike;
}

const MAX_REDIRECTS = 20;
const NULL_BODY = new Set([101, 204, 205, 304]);

function headerRecord(h: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(h).forEach((v, k) => (out[k] = v));
  return out;
}

function bodyBytes(body: RequestInit['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError('proxyFetch: only string, Uint8Array and ArrayBuffer bodies are supported');
}

export function createProxyFetch(opts: ProxyFetchOptions = {}): FetchLike {
  const direct = opts.direct ?? fetch;
  return async (input, init = {}) => {
    const env = opts.env ?? process.env;
    let url = new URL(String(input));
    if (!proxyFor(url, env)) return direct(input, init);
    let method = (init.method ?? 'GET').toUpperCase();
    let headers = headerRecord(init.headers);
    let body = bodyBytes(init.body);
    const signal = init.signal ?? undefined;
    for (let hop = 0; ; hop++) {
      const res = await sendRequest(url, method, headers, body, { tls: opts.tls, signal, proxy: proxyFor(url, env) });
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (init.redirect !== 'manual' && status >= 300 && status < 400 && status !== 304 && location) {
        res.resume();
        if (init.redirect === 'error') throw new TypeError('fetch failed: redirect');
        if (hop + 1 > MAX_REDIRECTS) throw new TypeError('fetch failed: too many redirects');
        const next = new URL(location, url);
        if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new TypeError(`fetch failed: redirect to ${next.protocol}`);
        if (next.origin !== url.origin) delete headers.authorization;
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith('content-')));
        }
        url = next;
        continue;
      }
      const resHeaders = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) resHeaders.append(k, one);
      }
      const nullBody = NULL_BODY.has(status) || method === 'HEAD';
      if (nullBody) res.resume();
      const response = new Response(nullBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage ?? '', headers: resHeaders });
      Object.defineProperty(response, 'url', { value: url.href });
      return response;
    }
  };
}
