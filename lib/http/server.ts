// modproxy's own HTTP(S) server around the request handler: the body guard
// in front (lib/http/bodyGuard.ts), bounded time for a request to arrive,
// keep-alive, and a graceful close that lets requests in flight finish.
// functions/server.ts is the process entry that uses it.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.js';
import { installBodyGuard } from './bodyGuard.js';
import type { RequestHandler } from './handler.js';
import type { ServerTls } from './tls.js';

/**
 * How long the headers of a request may take to arrive (slow-header clients
 * hold a socket each), and the whole request: with bodies refused, only the
 * token endpoints' 64 KiB can follow the headers. Responses are not bounded
 * here: a cold zip can take minutes to build.
 */
export const HEADERS_TIMEOUT_MS = 20_000;
export const REQUEST_TIMEOUT_MS = 30_000;
/** Idle keep-alive: longer than the 60 s idle timeout of common proxies and load balancers in front, so they close first. */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** The time limits for receiving a request, on any Node HTTP server (functions-framework's too). */
export function boundRequestTime(server: http.Server): void {
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
}

/** How often a closing server closes the connections whose responses have ended. */
const CLOSE_POLL_MS = 50;

export interface ProxyServerOptions {
  handler: RequestHandler;
  log: Logger;
  /** Listen with HTTPS (certificate, key, lowest version); plain HTTP without. */
  tls?: ServerTls;
}

export interface ProxyServer {
  server: http.Server;
  /** Listens on `port` (0: any) on `host` (default: every interface). */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /**
   * Stops accepting connections, lets requests in flight finish (their
   * connections then close), and after `graceMs` cuts whatever is left.
   */
  close(graceMs: number): Promise<void>;
}

export function createProxyServer(opts: ProxyServerOptions): ProxyServer {
  const { handler, log } = opts;
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: opts.tls.minVersion }) : http.createServer();
  boundRequestTime(server);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  let closing = false;
  installBodyGuard(
    server,
    (req, res) => {
      // Once closing, a connection is not kept for another request: it closes after this response.
      if (closing) res.setHeader('connection', 'close');
      handler(req, res)?.catch((err: unknown) => {
        // The handler answers its own failures; this is a last resort.
        log.error(`request failed: ${(err as Error).message}`);
        res.destroy();
      });
    },
    log,
  );
  return {
    server,
    listen: (port, host) =>
      new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        closing = true;
        // Requests in flight are not tracked one by one (that would cost every
        // hit): their keep-alive connections turn idle when their responses
        // end, and are closed then, within CLOSE_POLL_MS.
        const poll = setInterval(() => server.closeIdleConnections(), CLOSE_POLL_MS);
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearInterval(poll);
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
