// Request bodies, decided from the headers alone before anything reads a
// byte of them: the GOPROXY protocol is GET and HEAD only, so the one body
// modproxy takes is the small JSON of the token endpoints (POST
// /auth/userpassword, POST /auth/gce), with a declared length of at most
// 64 KiB. Every other request that carries a body is answered 413 and its
// connection closed, so the body is neither buffered nor drained, whoever
// asks and whatever the path. It runs in front of the whole request
// pipeline: our handler, and functions-framework's body parsers (which
// would otherwise read up to 1 GiB of any request before our handler runs).
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.js';
import { announcesBody } from './rawHeaders.js';
import { matchRoute } from './routes.js';

/** The largest body the token endpoints take. */
export const TOKEN_BODY_LIMIT = 64 << 10;

export type BodyVerdict = { ok: true } | { ok: false; status: 411 | 413 | 415; message: string };

const GO_ON: BodyVerdict = { ok: true };

/** Whether a request may go on, from its method, path and body headers. */
export function judgeBody(req: IncomingMessage): BodyVerdict {
  // Most requests name no body at all: decided without building req.headers (rawHeaders.ts).
  if (!announcesBody(req.rawHeaders)) return GO_ON;
  const chunked = req.headers['transfer-encoding'] !== undefined;
  // Node's parser has already refused malformed, conflicting or duplicate lengths (400).
  const length = req.headers['content-length'] === undefined ? 0 : Number(req.headers['content-length']);
  if (!chunked && length === 0) return GO_ON;
  if (matchRoute(req.method ?? 'GET', req.url ?? '/').kind !== 'token') {
    return { ok: false, status: 413, message: 'request body not accepted: only POST /auth/userpassword and POST /auth/gce take one' };
  }
  // A declared length bounds what anyone reads (functions-framework's parser included); a chunked body has none.
  if (chunked) return { ok: false, status: 411, message: 'length required: send the token request with Content-Length' };
  if (length > TOKEN_BODY_LIMIT) return { ok: false, status: 413, message: `request body too large: at most ${TOKEN_BODY_LIMIT} bytes` };
  // A compressed body inflates past its declared length in a parser that decompresses.
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return { ok: false, status: 415, message: 'unsupported content encoding: send the token request uncompressed' };
  }
  return GO_ON;
}

/** The mark guardBodies leaves on a request (a property: cheaper per request than a WeakSet entry). */
const GUARDED = Symbol('modproxy.bodyGuard');

/** Whether a request went through guardBodies (an entry checks that its guard is in place). */
export function passedBodyGuard(req: IncomingMessage): boolean {
  return (req as IncomingMessage & { [GUARDED]?: true })[GUARDED] === true;
}

export interface BodyGuardOptions {
  /**
   * Mark each request that passed (passedBodyGuard): for an entry that cannot
   * be sure the guard is in front (functions/index.ts). Our own server puts it
   * there itself, and its requests keep Node's own object shape.
   */
  mark?: boolean;
}

/**
 * A request listener that answers a request whose body is refused, and hands
 * every other one to `next`. The refusal says `Connection: close`: Node then
 * discards whatever of the body arrives while the answer goes out (nothing is
 * kept) and closes the connection once it has.
 */
export function guardBodies(next: RequestListener, log: Logger, opts: BodyGuardOptions = {}): RequestListener {
  const mark = opts.mark === true;
  return (req: IncomingMessage, res: ServerResponse) => {
    if (mark) (req as IncomingMessage & { [GUARDED]?: true })[GUARDED] = true;
    const verdict = judgeBody(req);
    if (verdict.ok) {
      next(req, res);
      return;
    }
    const body = verdict.message + '\n';
    res.writeHead(verdict.status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      connection: 'close',
    });
    res.end(body);
    log.warn('request', {
      httpRequest: {
        requestMethod: req.method ?? 'GET',
        requestUrl: req.url ?? '/',
        status: verdict.status,
        responseSize: String(Buffer.byteLength(body)),
        userAgent: req.headers['user-agent'],
      },
      reason: verdict.message,
    });
  };
}

/**
 * Puts the guard in front of a server's request listener `next`, for requests
 * and for those that ask `Expect: 100-continue` first (Node would otherwise
 * answer 100 Continue itself and invite a body that is then refused).
 */
export function installBodyGuard(server: Server, next: RequestListener, log: Logger, opts: BodyGuardOptions = {}): void {
  const listener = guardBodies(next, log, opts);
  server.on('request', listener);
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (judgeBody(req).ok) res.writeContinue();
    listener(req, res);
  });
}
