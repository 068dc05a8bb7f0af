// Replies: what a request gets back, and the one table from error kinds to
// statuses (docs/go-rules/protocol.md#status-codes): 200 on success; 404/410
// with one text/plain reason for anything the go command would fail on; 400
// for malformed requests; 5xx only for our own or upstream faults, which stop
// a comma-separated GOPROXY list.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { ProxyError, UpstreamAuthError, UpstreamError, type ErrorKind, type Severity } from '../errors.js';
import type { Artifact } from '../service/artifact.js';
import { parseRange } from './ranges.js';

export const TEXT = 'text/plain; charset=utf-8';
export const JSON_TYPE = 'application/json';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Streamed (with single-range support) instead of a body. */
  artifact?: Artifact;
  /** Log severity when not decided by the status. */
  logAs?: Severity;
}

export type CacheKind = 'immutable' | 'short' | 'error' | 'none';

export function cacheControl(kind: CacheKind, publicCache: boolean): string {
  const scope = publicCache ? 'public' : 'private';
  switch (kind) {
    case 'immutable':
      return `${scope}, max-age=31536000, immutable`;
    case 'short':
    case 'error':
      return `${scope}, max-age=60`;
    case 'none':
      return 'no-store';
  }
}

/** A one-line text reply that no cache keeps. */
export function textReply(status: number, body: string, extra: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': TEXT, 'cache-control': 'no-store', ...extra }, body: body + '\n' };
}

/** How each kind of failure is answered. Faults are not cached, so a retry asks again. */
const KIND_REPLY: Record<ErrorKind, { status: number; prefix: string; cache: CacheKind }> = {
  'bad-request': { status: 400, prefix: 'bad request: ', cache: 'error' },
  'not-found': { status: 404, prefix: 'not found: ', cache: 'error' },
  gone: { status: 410, prefix: 'not found: ', cache: 'error' },
  forbidden: { status: 403, prefix: 'forbidden: ', cache: 'error' },
  upstream: { status: 502, prefix: 'upstream error: ', cache: 'none' },
  unavailable: { status: 503, prefix: '', cache: 'none' },
};

/** What a 503 asks clients to wait before they try again. */
const RETRY_AFTER_SECONDS = 5;

/** Maps a failure to its reply; never reveals internals (500) or storage details (503). */
export function errorReply(err: unknown, publicCache: boolean): Reply {
  const text = (status: number, body: string, cache: CacheKind, logAs: Severity): Reply => ({
    status,
    headers: {
      'content-type': TEXT,
      'cache-control': cacheControl(cache, publicCache),
      // Storage that is unavailable is worth asking again shortly (clients and load balancers read this).
      ...(status === 503 && { 'retry-after': String(RETRY_AFTER_SECONDS) }),
    },
    body: sanitizeLine(body) + '\n',
    logAs,
  });
  if (!(err instanceof ProxyError)) return text(500, 'internal server error', 'none', 'ERROR');
  const r = KIND_REPLY[err.kind];
  // An upstream fault says which 5xx it is (bad gateway, unavailable, timeout).
  const status = err instanceof UpstreamError ? err.status : r.status;
  // A refused credential of ours says so: the user cannot fix it, the operator must.
  const prefix = err instanceof UpstreamAuthError ? 'proxy configuration error: ' : r.prefix;
  const body = err.kind === 'unavailable' ? 'storage unavailable, try again' : prefix + err.message;
  return text(status, body, r.cache, err.severity);
}

/**
 * The go command shows a text body only if it is valid UTF-8 without control
 * characters other than newlines and tabs; keep at most 8 lines.
 */
function sanitizeLine(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ')
    .split('\n')
    .slice(0, 8)
    .join('\n');
}

/** Writes a reply; returns the body size. Artifacts stream, with single-range support and their digest as ETag. */
export async function sendReply(req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<number> {
  const head = req.method === 'HEAD';
  if (reply.artifact) {
    const a = reply.artifact;
    const etag = `"sha256-${a.sha256}"`;
    const range = parseRange(req.headers.range, a.size, req.headers['if-range'], etag);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'content-range': `bytes */${a.size}`, 'content-type': TEXT });
      res.end();
      return 0;
    }
    const stream = head ? null : await a.open(range ?? undefined);
    const headers: Record<string, string> = { ...reply.headers, etag, 'accept-ranges': 'bytes' };
    let length = a.size;
    let status = reply.status;
    if (range) {
      status = 206;
      length = range.end - range.start + 1;
      headers['content-range'] = `bytes ${range.start}-${range.end}/${a.size}`;
    }
    headers['content-length'] = String(length);
    res.writeHead(status, headers);
    if (!stream) {
      res.end();
      return 0;
    }
    await pipeline(stream, res);
    return length;
  }
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : Buffer.from(reply.body ?? new Uint8Array());
  res.writeHead(reply.status, { ...reply.headers, 'content-length': String(body.length) });
  res.end(head ? undefined : body);
  return body.length;
}
