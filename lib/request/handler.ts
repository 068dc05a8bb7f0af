// The HTTP entry point: request → protocol → service → response.
//
// Status policy (spec §1.3): 200 on success; 404 + one text/plain reason for
// anything the go command would fail on; 400 for malformed requests; 5xx only
// for our own or upstream faults (which stop a comma-separated GOPROXY list).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { BadRequestError, NotFoundError, StorageError, UpstreamAuthError, UpstreamError, errorMessage } from '../errors.js';
import { InvalidVersionError, ModuleError } from '../gomod/module.js';
import type { Logger } from '../log/logger.js';
import { parseProxyPath, type ProxyRequest } from '../protocol/request.js';
import { GoError } from '../resolve/errors.js';
import type { ModuleService } from '../service/moduleService.js';

export interface HandlerOptions {
  service: ModuleService;
  log: Logger;
  /** Whether shared caches may keep responses (false once clients must authenticate). */
  publicCache?: boolean;
  /** When to answer .zip with a redirect to a signed URL (storage permitting). */
  zipRedirect?: { mode: 'auto' | 'always' | 'never'; thresholdBytes: number; urlTtlSeconds: number };
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const TEXT = 'text/plain; charset=utf-8';

interface Reply {
  status: number;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Streams a stored object instead of a body. */
  object?: { key: string; size: number; etag: string };
}

function cacheControl(kind: 'immutable' | 'short' | 'error' | 'none', publicCache: boolean): string {
  const scope = publicCache ? 'public' : 'private';
  switch (kind) {
    case 'immutable':
      return `${scope}, max-age=31536000, immutable`;
    case 'short':
      return `${scope}, max-age=60`;
    case 'error':
      return `${scope}, max-age=60`;
    case 'none':
      return 'no-store';
  }
}

/** Maps an error to status and body; never reveals internals for 500s. */
export function errorReply(err: unknown, publicCache: boolean): Reply & { logAs: 'INFO' | 'WARNING' | 'ERROR' } {
  const text = (status: number, body: string, cache: 'error' | 'none', logAs: 'INFO' | 'WARNING' | 'ERROR') => ({
    status,
    headers: { 'content-type': TEXT, 'cache-control': cacheControl(cache, publicCache) },
    body: sanitizeLine(body) + '\n',
    logAs,
  });
  if (err instanceof BadRequestError) return text(400, `bad request: ${err.message}`, 'error', 'INFO');
  if (err instanceof NotFoundError) return text(err.status, `not found: ${err.message}`, 'error', 'INFO');
  if (err instanceof ModuleError || err instanceof InvalidVersionError || err instanceof GoError) return text(404, `not found: ${err.message}`, 'error', 'INFO');
  if (err instanceof UpstreamAuthError) return text(404, `not found: ${err.message}`, 'error', 'WARNING');
  if (err instanceof UpstreamError) return text(err.status, `upstream error: ${err.message}`, 'none', 'ERROR');
  if (err instanceof StorageError) return text(503, 'storage unavailable, try again', 'none', 'ERROR');
  return text(500, 'internal server error', 'none', 'ERROR');
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

export function createHandler(opts: HandlerOptions): RequestHandler {
  const publicCache = opts.publicCache ?? true;
  const { service, log } = opts;

  async function route(req: IncomingMessage): Promise<Reply> {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      return { status: 405, headers: { 'content-type': TEXT, allow: 'GET, HEAD' }, body: 'method not allowed\n' };
    }
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    if (rawPath === '/' || rawPath === '') {
      return {
        status: 200,
        headers: { 'content-type': TEXT, 'cache-control': 'no-store' },
        body: 'modproxy: a Go module proxy. Use this URL as GOPROXY.\n',
      };
    }
    if (rawPath === '/healthz') return { status: 200, headers: { 'content-type': TEXT, 'cache-control': 'no-store' }, body: 'ok\n' };
    if (rawPath.startsWith('/sumdb/')) {
      // Not a checksum database proxy (yet): the go command then contacts the database directly.
      return { status: 404, headers: { 'content-type': TEXT, 'cache-control': cacheControl('error', publicCache) }, body: 'not found: checksum database proxying is not enabled\n' };
    }
    const pr = parseProxyPath(rawPath);
    return serve(pr);
  }

  async function serve(pr: ProxyRequest): Promise<Reply> {
    switch (pr.kind) {
      case 'list': {
        const body = await service.list(pr.modPath);
        return { status: 200, headers: { 'content-type': TEXT, 'cache-control': cacheControl('short', publicCache) }, body };
      }
      case 'latest': {
        const a = await service.latest(pr.modPath);
        return { status: 200, headers: { 'content-type': 'application/json', 'cache-control': cacheControl('short', publicCache) }, body: a.body };
      }
      case 'info': {
        const a = await service.info(pr.modPath, pr.version);
        return {
          status: 200,
          headers: { 'content-type': 'application/json', 'cache-control': cacheControl(a.immutable ? 'immutable' : 'short', publicCache) },
          body: a.body,
        };
      }
      case 'mod': {
        const body = await service.mod(pr.modPath, pr.version);
        return { status: 200, headers: { 'content-type': TEXT, 'cache-control': cacheControl('immutable', publicCache) }, body };
      }
      case 'zip': {
        const z = await service.zip(pr.modPath, pr.version);
        const storage = service.storage;
        const redirect = opts.zipRedirect;
        if (storage.signedReadUrl && redirect && (redirect.mode === 'always' || (redirect.mode === 'auto' && z.size >= redirect.thresholdBytes))) {
          // The go command follows redirects (and drops our credentials on the way,
          // the signed URL carries its own); function responses are capped at 32 MB.
          const location = await storage.signedReadUrl(z.key, redirect.urlTtlSeconds);
          return { status: 302, headers: { location, 'content-type': TEXT, 'cache-control': 'no-store' }, body: '' };
        }
        return {
          status: 200,
          headers: { 'content-type': 'application/zip', 'cache-control': cacheControl('immutable', publicCache) },
          object: { key: z.key, size: z.size, etag: `"sha256-${z.sha256}"` },
        };
      }
    }
  }

  return async (req, res) => {
    const started = process.hrtime.bigint();
    let reply: Reply & { logAs?: 'INFO' | 'WARNING' | 'ERROR' };
    let failure: unknown;
    try {
      reply = await route(req);
    } catch (err) {
      failure = err;
      reply = errorReply(err, publicCache);
    }
    let size = 0;
    try {
      size = await send(req, res, reply);
    } catch (err) {
      failure ??= err;
      if (!res.headersSent) {
        reply = errorReply(err, publicCache);
        size = await send(req, res, reply);
      } else {
        res.destroy(err as Error);
      }
    }
    const latency = Number(process.hrtime.bigint() - started) / 1e9;
    const severity = reply.status >= 500 ? 'ERROR' : (reply.logAs ?? 'INFO');
    log.log(severity, failure && reply.status >= 500 ? `request failed: ${errorMessage(failure)}` : 'request', {
      httpRequest: {
        requestMethod: req.method ?? 'GET',
        requestUrl: req.url ?? '/',
        status: reply.status,
        responseSize: String(size),
        userAgent: req.headers['user-agent'],
        latency: `${latency.toFixed(3)}s`,
      },
      ...(failure && reply.status < 500 ? { reason: errorMessage(failure) } : {}),
    });
  };

  /** Writes a reply; returns the body size. Zips stream from storage, with single-range support. */
  async function send(req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<number> {
    const head = req.method === 'HEAD';
    if (reply.object) {
      const { key, size, etag } = reply.object;
      const range = parseRange(req.headers.range, size, req.headers['if-range'], etag);
      if (range === 'unsatisfiable') {
        res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-type': TEXT });
        res.end();
        return 0;
      }
      const opened = head ? null : await service.storage.openRead(key, range ?? undefined);
      if (!head && !opened) throw new Error(`storage lost ${key}`);
      const headers: Record<string, string> = { ...reply.headers, etag, 'accept-ranges': 'bytes' };
      let length = size;
      let status = reply.status;
      if (range) {
        status = 206;
        length = range.end - range.start + 1;
        headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
      }
      headers['content-length'] = String(length);
      res.writeHead(status, headers);
      if (head || !opened) {
        res.end();
        return 0;
      }
      await pipeline(opened.stream, res);
      return length;
    }
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : Buffer.from(reply.body ?? new Uint8Array());
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(body.length) });
    res.end(head ? undefined : body);
    return body.length;
  }
}

function parseRange(
  header: string | undefined,
  size: number,
  ifRange: string | string[] | undefined,
  etag: string,
): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  if (typeof ifRange === 'string' && ifRange !== etag) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    if (m[2] === '') return null;
    const n = Number(m[2]);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}
