// Outbound HTTP(S) requests on node:http(s), answered as Node streams: the
// one-request primitive that lib/net/proxyFetch.ts builds a fetch on, and
// createHttpGet, the GET that the parent-proxy client and the checksum
// database client use. Those two read every byte of every cold version
// (.info, .mod, zips, lookups, tiles); through fetch each body went through
// web streams and undici's fetch machinery, ~10% of modproxy's CPU on a cold
// public version (bench public, process CPU seconds). Proxies from the
// environment are honoured as the go command honours them (envProxy.ts).
import http from 'node:http';
import https from 'node:https';
import type tls from 'node:tls';
import { proxyAuthorization, proxyConnection, proxyFor, tunnel } from './envProxy.js';

export interface SendOptions {
  /** Extra TLS options for https targets (tests: a CA). */
  tls?: Pick<tls.ConnectionOptions, 'ca'>;
  signal?: AbortSignal;
  /** The proxy to go through (envProxy.ts proxyFor), or undefined to connect directly. */
  proxy?: URL;
  /** Connection pools for direct requests (keep-alive); a new connection per request without. */
  agents?: { http: http.Agent; https: https.Agent };
  /** The request may be sent twice (default: only a GET), e.g. a create conditional on the name being free. */
  idempotent?: boolean;
}

/**
 * One request (no redirects followed): the response once its headers have
 * arrived, its body still to be read (or destroyed) by the caller.
 */
export function sendRequest(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, opts: SendOptions = {}): Promise<http.IncomingMessage> {
  const { signal, proxy } = opts;
  return new Promise((resolve, reject) => {
    const send = (options: https.RequestOptions, useTls: boolean, agent: http.Agent | false, retried = false) => {
      const req = (useTls ? https : http).request({ ...options, method, agent, signal }, resolve);
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A pooled connection the server closed while it sat idle fails the
        // next request on it at once; an idempotent request is sent again,
        // once, on a new one (what Node's documentation of reusedSocket
        // advises), rather than waiting out a caller's back-off.
        const stale = err.code === 'ECONNRESET' || err.code === 'EPIPE';
        if (!retried && req.reusedSocket && stale && (opts.idempotent ?? method === 'GET') && !signal?.aborted) send(options, useTls, agent, true);
        else reject(err);
      });
      req.end(body);
    };
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const path = url.pathname + url.search;
    if (url.protocol === 'https:') {
      const tlsOptions = { host: url.hostname, port, path, headers, servername: url.hostname, ...opts.tls };
      if (!proxy) return send(tlsOptions, true, opts.agents?.https ?? false);
      const aborted = signal ?? new AbortController().signal;
      tunnel(proxy, url.hostname, port, aborted, opts.tls).then((socket) => send({ ...tlsOptions, socket } as https.RequestOptions, true, false), reject);
      return;
    }
    if (!proxy) return send({ host: url.hostname, port, path, headers }, false, opts.agents?.http ?? false);
    // An http URL is asked of the proxy itself, by its absolute form.
    const { useTls, options } = proxyConnection(proxy, opts.tls);
    send({ ...options, path: url.href, headers: { ...headers, host: url.host, ...proxyAuthorization(proxy) } }, useTls, false);
  });
}

/**
 * A GET: the response (status, headers, and the body as a Readable the
 * caller reads to its end or destroys). Redirects are the caller's.
 */
export type HttpGet = (url: URL, init?: { headers?: Record<string, string>; signal?: AbortSignal }) => Promise<http.IncomingMessage>;

export interface HttpGetOptions {
  /** The environment to read proxy settings from (default process.env). */
  env?: NodeJS.ProcessEnv;
  tls?: Pick<tls.ConnectionOptions, 'ca'>;
}

/** Idle pooled connections kept per host: the parent, the database and storage are asked a few things at a time. */
const MAX_FREE_SOCKETS = 16;

/** Keep-alive connection pools for direct requests (SendOptions.agents). */
export function keepAliveAgents(tlsOptions?: Pick<tls.ConnectionOptions, 'ca'>): { http: http.Agent; https: https.Agent } {
  return {
    http: new http.Agent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS }),
    https: new https.Agent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS, ...tlsOptions }),
  };
}

/** A GET over pooled keep-alive connections (direct) or the environment's proxy. */
export function createHttpGet(opts: HttpGetOptions = {}): HttpGet {
  const agents = keepAliveAgents(opts.tls);
  return (url, init = {}) => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new TypeError(`unsupported URL scheme ${url.protocol}`));
    return sendRequest(url, 'GET', init.headers ?? {}, undefined, { tls: opts.tls, signal: init.signal, proxy: proxyFor(url, opts.env ?? process.env), agents });
  };
}

/** A response's declared Content-Length; NaN when it has none. */
export function declaredLength(res: http.IncomingMessage): number {
  return res.headers['content-length'] === undefined ? NaN : Number(res.headers['content-length']);
}

/**
 * Ends an answer that will not be read (further): its connection goes with
 * it. Left unread, a body holds its pooled connection, and keeps the process
 * alive, until the request's deadline or the server closes the connection.
 */
export function discard(res: http.IncomingMessage): void {
  if (!res.readableEnded) res.destroy();
}

/** A body longer than the reader's limit: `declared` when its Content-Length said so up front. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  constructor(
    readonly limit: number,
    readonly declared?: number,
  ) {
    super(declared === undefined ? `body larger than ${limit} bytes` : `body of ${declared} bytes, larger than ${limit}`);
  }
}

/**
 * A response's body, at most `limit` bytes: a longer one is refused with
 * BodyTooLargeError (from its Content-Length, or as it arrives), or cut at
 * the limit with `truncate`. The response is done with afterwards, whatever
 * the outcome (discard).
 */
export async function readBody(res: http.IncomingMessage, limit: number, opts: { truncate?: boolean; onChunk?: (bytes: number) => void } = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    const declared = declaredLength(res);
    if (!opts.truncate && declared > limit) throw new BodyTooLargeError(limit, declared);
    for await (const chunk of res as AsyncIterable<Buffer>) {
      opts.onChunk?.(chunk.length);
      n += chunk.length;
      if (n > limit) {
        if (!opts.truncate) throw new BodyTooLargeError(limit);
        chunks.push(chunk.subarray(0, chunk.length - (n - limit)));
        break;
      }
      chunks.push(chunk);
    }
  } finally {
    discard(res);
  }
  return Buffer.concat(chunks);
}
