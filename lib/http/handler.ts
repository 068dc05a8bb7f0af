// The HTTP entry point: request → protocol → service → response.
//
// Status policy (spec §1.3): 200 on success; 404 + one text/plain reason for
// anything the go command would fail on; 400 for malformed requests; 5xx only
// for our own or upstream faults (which stop a comma-separated GOPROXY list).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { BadRequestError, NotFoundError, StorageError, UpstreamAuthError, UpstreamError, errorMessage } from '../errors.js';
import { InvalidVersionError, ModuleError } from '../gomod/module.js';
import type { ClientAuth } from '../auth/clientAuth.js';
import type { Logger } from '../log/logger.js';
import { parseProxyPath, type ProxyRequest } from './proxyPath.js';
import { GoError } from '../gomod/moduleErrors.js';
import type { ModuleService } from '../service/moduleService.js';

export interface HandlerOptions {
  service: ModuleService;
  log: Logger;
  /** Whether shared caches may keep responses (false once clients must authenticate). */
  publicCache?: boolean;
  /** When to answer .zip with a redirect to a signed URL (storage permitting). */
  zipRedirect?: { mode: 'auto' | 'always' | 'never'; thresholdBytes: number; urlTtlSeconds: number };
  /** Client authentication and ACLs; absent when clientAuth.enabled is false. */
  clientAuth?: Promise<ClientAuth>;
  /**
   * Whether this proxy serves a module at all (a privateModules prefix matches).
   * A module it does not serve gets 404 rather than an ACL's 403, so that the
   * go command moves on to the next GOPROXY entry for public modules.
   */
  servesModule?: (modPath: string) => boolean;
}

/** The JSON body of a POST: parsed already by functions-framework (express), or read here (max 64 KiB). */
async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (parsed !== undefined && !Buffer.isBuffer(parsed) && typeof parsed === 'object') return parsed;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 << 10) throw new BadRequestError('request body too large');
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequestError('request body is not JSON');
  }
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

  const text = (status: number, body: string, extra: Record<string, string> = {}): Reply => ({
    status,
    headers: { 'content-type': TEXT, 'cache-control': 'no-store', ...extra },
    body: body + '\n',
  });

  /** Token endpoints of the seed project: POST /auth/userpassword, POST /auth/gce. */
  async function tokenEndpoint(req: IncomingMessage, rawPath: string): Promise<Reply> {
    const auth = await opts.clientAuth;
    if (!auth) return text(404, 'not found: client authentication is not enabled');
    const r = rawPath === '/auth/userpassword' ? await auth.issueForPassword(req, await jsonBody(req)) : await auth.issueForGce(req);
    return { status: r.status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(r.body) };
  }

  /**
   * Who is asking, when clients must authenticate; a reply when they may not
   * go on (401 without or with wrong credentials, 429 when throttled).
   */
  async function authenticate(req: IncomingMessage, anonymousOk: boolean): Promise<{ identity?: string; reply?: Reply }> {
    const auth = await opts.clientAuth;
    if (!auth) return {};
    const outcome = await auth.authenticate(req);
    const challenge = { 'www-authenticate': `Basic realm="${auth.realm}", Bearer realm="${auth.realm}"` };
    switch (outcome.kind) {
      case 'identity':
        return { identity: outcome.identity };
      case 'none':
        return anonymousOk ? {} : { reply: text(401, 'unauthorized: credentials required (see the README: .netrc or GOAUTH)', challenge) };
      case 'invalid':
        return { reply: text(401, 'unauthorized: invalid credentials', challenge) };
      case 'throttled':
        return { reply: text(429, 'too many failed authentication attempts', { 'retry-after': String(outcome.retryAfterSeconds) }) };
    }
  }

  /** The ACL's decision for an identity and a module (undefined: no module named). */
  async function authorize(identity: string | undefined, modPath: string | undefined): Promise<Reply | undefined> {
    const auth = await opts.clientAuth;
    if (!auth || identity === undefined) return undefined;
    if (auth.allows(identity, modPath)) return undefined;
    // Hiding existence: denied and unserved modules get the same answer.
    if (auth.denyStatus === 404) return text(404, `not found: ${modPath ?? 'this resource'}`);
    if (modPath !== undefined && opts.servesModule && !opts.servesModule(modPath)) {
      return text(404, `not found: module ${modPath} is not served by this proxy (no privateModules pathPrefix matches)`);
    }
    return text(403, modPath ? `forbidden: ${identity} may not read module ${modPath}` : `forbidden: ${identity} may not use this endpoint`);
  }

  async function route(req: IncomingMessage, who: { identity?: string }): Promise<Reply> {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    if (method === 'POST' && (rawPath === '/auth/userpassword' || rawPath === '/auth/gce')) return tokenEndpoint(req, rawPath);
    if (method !== 'GET' && method !== 'HEAD') {
      return { status: 405, headers: { 'content-type': TEXT, allow: 'GET, HEAD' }, body: 'method not allowed\n' };
    }
    // Health checks never need credentials and say nothing about modules.
    if (rawPath === '/healthz') return { status: 200, headers: { 'content-type': TEXT, 'cache-control': 'no-store' }, body: 'ok\n' };
    const isSumdb = rawPath.startsWith('/sumdb/');
    const authn = await authenticate(req, isSumdb && (await opts.clientAuth)?.anonymousSumdb === true);
    if (authn.reply) return authn.reply;
    who.identity = authn.identity;
    if (rawPath === '/' || rawPath === '') {
      return {
        status: 200,
        headers: { 'content-type': TEXT, 'cache-control': 'no-store' },
        body: 'modproxy: a Go module proxy. Use this URL as GOPROXY.\n',
      };
    }
    if (isSumdb) {
      // Checksum database tiles mix every module's hashes: authentication
      // (unless anonymousSumdb), but no per-module ACL decision.
      // Not a checksum database proxy (yet): the go command then contacts the database directly.
      return { status: 404, headers: { 'content-type': TEXT, 'cache-control': cacheControl('error', publicCache) }, body: 'not found: checksum database proxying is not enabled\n' };
    }
    const pr = parseProxyPath(rawPath);
    // The ACL sees the decoded, validated module path: no escaping trick reaches it.
    const denied = await authorize(authn.identity, pr.modPath);
    if (denied) return denied;
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
    const who: { identity?: string } = {};
    try {
      reply = await route(req, who);
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
      ...(who.identity ? { identity: who.identity } : {}),
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
