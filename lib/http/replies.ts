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

/** Whether an If-None-Match header names `etag` (or is `*`); weak validators compare equal (RFC 9110 13.1.2). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch === etag) return true;
  for (const raw of ifNoneMatch.split(',')) {
    const t = raw.trim();
    if (t === '*' || t === etag || (t.startsWith('W/') && t.slice(2) === etag)) return true;
  }
  return false;
}

/**
 * The headers of a whole-body 200 (and of its 304) for an artifact reply,
 * built once per reply object: replies of immutable artifacts are made once
 * and reused (handler.ts), so a hit builds no headers.
 */
interface PreparedHeaders {
  etag: string;
  full: Record<string, string>;
  /**
   * `full` as the flat name, value list writeHead also takes: Node walks an
   * object's keys with for…in and a hasOwnProperty call each, an array by
   * index.
   */
  fullList: string[];
  notModified: Record<string, string>;
}
const prepared = new WeakMap<Reply, PreparedHeaders>();

function prepare(reply: Reply, a: Artifact): PreparedHeaders {
  let p = prepared.get(reply);
  if (!p) {
    const etag = `"sha256-${a.sha256}"`;
    const full = { ...reply.headers, etag, 'accept-ranges': 'bytes', 'content-length': String(a.size) };
    // A 304 carries what a 200 would have for caches to update (RFC 9110 15.4.5), not the body's headers.
    const notModified: Record<string, string> = { etag };
    if (reply.headers['cache-control']) notModified['cache-control'] = reply.headers['cache-control'];
    p = { etag, full, fullList: Object.entries(full).flat(), notModified };
    prepared.set(reply, p);
  }
  return p;
}

/**
 * Writes the whole answer of an artifact held in memory, at once (a HEAD gets
 * its headers); returns the body size written.
 */
export function sendBytesNow(req: IncomingMessage, res: ServerResponse, reply: Reply): number {
  const a = reply.artifact!;
  const p = prepare(reply, a);
  res.writeHead(reply.status, p.fullList);
  if (req.method === 'HEAD') {
    res.end();
    return 0;
  }
  res.end(a.bytes);
  return a.size;
}

/**
 * Writes a reply; returns the body size. Artifacts carry their digest as
 * ETag, answer a matching If-None-Match with 304, support a single range, and
 * are written in one piece when in memory.
 */
export async function sendReply(req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<number> {
  const head = req.method === 'HEAD';
  if (reply.artifact) {
    const a = reply.artifact;
    const p = prepare(reply, a);
    if (reply.status === 200 && etagMatches(req.headers['if-none-match'], p.etag)) {
      res.writeHead(304, p.notModified);
      res.end();
      return 0;
    }
    const range = req.headers.range === undefined ? null : parseRange(req.headers.range, a.size, req.headers['if-range'], p.etag);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'content-range': `bytes */${a.size}`, 'content-type': TEXT });
      res.end();
      return 0;
    }
    if (!range) {
      if (head) {
        res.writeHead(reply.status, p.fullList);
        res.end();
        return 0;
      }
      if (a.bytes) return sendBytesNow(req, res, reply);
      // Opened before the headers go out, so that a storage fault is still answered with a status.
      const stream = await a.open();
      res.writeHead(reply.status, p.fullList);
      await pipeline(stream, res);
      return a.size;
    }
    const length = range.end - range.start + 1;
    const headers: Record<string, string> = { ...p.full, 'content-length': String(length), 'content-range': `bytes ${range.start}-${range.end}/${a.size}` };
    const stream = head ? null : await a.open(range);
    res.writeHead(206, headers);
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
