// The HTTP entry point: route → authenticate → service → reply, and one
// request log line (Cloud Logging's httpRequest shape). The pieces:
// routes.ts (which endpoint), authenticate.ts (who, and may they),
// proxyPath.ts (the module and version asked for), replies.ts (headers,
// statuses, streaming).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientAuth } from '../auth/clientAuth.js';
import { errorMessage } from '../errors.js';
import { redact, type Logger } from '../log/logger.js';
import type { Outcome, RequestNote } from '../metrics/metrics.js';
import type { Artifact } from '../service/artifact.js';
import type { ModuleService } from '../service/moduleService.js';
import type { SumdbProxy } from '../service/sumdbProxy.js';
import { RequestAuth } from './authenticate.js';
import { parseProxyPath, type ProxyRequest } from './proxyPath.js';
import { hitHeaders } from './rawHeaders.js';
import { JSON_TYPE, TEXT, cacheControl, errorReply, sendBytesNow, sendReply, textReply, type Reply } from './replies.js';
import { HitLines, requestLineJson } from './requestLine.js';
import { matchRoute } from './routes.js';
import type { Foreground } from '../util/foreground.js';

export interface HandlerOptions {
  service: ModuleService;
  /** Checksum database proxying; absent when no database is proxied. */
  sumdb?: SumdbProxy;
  log: Logger;
  /** Whether shared caches may keep responses (false once clients must authenticate). */
  publicCache?: boolean;
  /** When to answer .zip with a redirect to a signed URL (storage permitting). */
  zipRedirect?: { mode: 'auto' | 'always' | 'never'; thresholdBytes: number; urlTtlSeconds: number };
  /** Client authentication and ACLs; absent when clientAuth.enabled is false. */
  clientAuth?: Promise<ClientAuth>;
  /** Which request lines of successful answers (status < 400) are logged (default: all). */
  logHits?: { mode: 'all' | 'sample' | 'none'; sampleRate: number };
  /** Random numbers in [0, 1) for log sampling (tests). */
  random?: () => number;
  /** Operations endpoints (lib/http/ops.ts); each absent one answers 404. */
  ops?: OpsEndpoints;
  /** Called once per request with its route, status, outcome (how it was answered) and latency (metrics). */
  observe?: (route: string, status: number, outcome: Outcome, seconds: number) => void;
  /**
   * Requests being answered, for background work to wait its turn
   * (lib/util/foreground.ts). A hit is answered within one call and never
   * enters; a .zip leaves as soon as it is routed, since it may wait for the
   * background check of that very zip.
   */
  foreground?: Foreground;
}

export interface OpsEndpoints {
  readiness?: () => Promise<Reply>;
  metrics?: () => Promise<Reply>;
  /** `may` says whether the requesting identity may read a module (ACLs). */
  index?: (query: string, may: (modPath: string) => Promise<boolean>) => Promise<Reply>;
}

/** The request asks to be served from storage only (as goproxy honours it). */
function fetchDisabledBy(req: IncomingMessage): boolean {
  return String(req.headers['disable-module-fetch'] ?? '').toLowerCase() === 'true';
}

const ANONYMOUS: { identity?: string; reply?: Reply } = {};

/** What a URL was answered with, once its answer is immutable. */
interface KnownAnswer {
  request: ProxyRequest;
  reply: Reply;
  /** The head of its hits' log lines, by method (HitLines), made on the first hit that is logged. */
  lineHeads: { GET?: Buffer; HEAD?: Buffer };
}

/** What the handler learns about one request as it goes (one object per request, fields set in place). */
interface RequestRecord extends RequestNote {
  identity?: string;
  route?: string;
  /** Ends the request's part in the foreground (HandlerOptions.foreground). */
  leaveForeground?: () => void;
}

/**
 * Answers a request: at once (undefined: a hit answered before returning, no
 * promise made), or by the promise. The promise does not reject: failures are
 * answered.
 */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | undefined;

/** The request handler, and its two halves for entries that wrap the slow one (app.ts: the storage budget). */
export interface ProxyHandler extends RequestHandler {
  /** Answers a hit held in memory before returning (true), or does nothing (false). */
  answerNow(req: IncomingMessage, res: ServerResponse): boolean;
  /** Answers any request the whole way (route, authenticate, service, reply). */
  answerLater(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export function createHandler(opts: HandlerOptions): ProxyHandler {
  const publicCache = opts.publicCache ?? true;
  const { service, log } = opts;
  const auth = new RequestAuth({ clientAuth: opts.clientAuth, servesModule: (m) => service.serves(m) });

  async function route(req: IncomingMessage, who: RequestRecord): Promise<Reply> {
    const r = matchRoute(req.method ?? 'GET', req.url ?? '/');
    who.route = r.kind;
    switch (r.kind) {
      case 'token':
        return auth.tokenEndpoint(req, r.endpoint);
      case 'method-not-allowed':
        return { status: 405, headers: { 'content-type': TEXT, allow: 'GET, HEAD' }, body: 'method not allowed\n' };
      case 'health':
        return textReply(200, 'ok');
      case 'ready':
        return opts.ops?.readiness ? opts.ops.readiness() : textReply(404, 'not found');
    }
    // Without client auth there is nothing to wait for (the hit path takes no extra turn).
    const authn = opts.clientAuth ? await auth.authenticate(req, r.kind === 'sumdb' && (await auth.anonymousSumdb())) : ANONYMOUS;
    if (authn.reply) return authn.reply;
    who.identity = authn.identity;
    switch (r.kind) {
      case 'root':
        return textReply(200, 'modproxy: a Go module proxy. Use this URL as GOPROXY.');
      case 'metrics':
        return opts.ops?.metrics ? opts.ops.metrics() : textReply(404, 'not found');
      case 'index':
        return opts.ops?.index
          ? opts.ops.index(r.query, async (m) => (await auth.authorize(authn.identity, m)) === undefined)
          : textReply(404, 'not found');
      case 'sumdb':
        // Checksum database tiles mix every module's hashes: authentication
        // (unless anonymousSumdb), but no per-module ACL decision. Without a
        // proxied database, the go command contacts the database directly.
        if (!opts.sumdb) {
          return { status: 404, headers: { 'content-type': TEXT, 'cache-control': cacheControl('error', publicCache) }, body: 'not found: checksum database proxying is not enabled\n' };
        }
        return small(await opts.sumdb.serve(r.rawPath.slice('/sumdb/'.length)), TEXT);
      case 'proxy': {
        // A URL answered before with an immutable artifact is answered the
        // same way again: no parsing, no record lookups (service.answers).
        const known = service.answers.get<KnownAnswer>(r.rawPath);
        const pr = known?.request ?? parseProxyPath(r.rawPath);
        who.route = pr.kind;
        if (pr.kind === 'zip') who.leaveForeground?.();
        // The ACL sees the decoded, validated module path: no escaping trick reaches it.
        const denied = opts.clientAuth ? await auth.authorize(authn.identity, pr.modPath) : undefined;
        if (denied) return denied;
        if (known) {
          // Kept answers hold their body, or stream it from storage (large zips).
          who.outcome = known.reply.artifact?.bytes ? 'memory' : 'storage';
          return known.reply;
        }
        const reply = await serve(pr, fetchDisabledBy(req), who);
        if (reply.status === 200 && reply.artifact?.immutable) service.answers.set(r.rawPath, { request: pr, reply, lineHeads: {} } satisfies KnownAnswer, reply.artifact);
        return reply;
      }
    }
  }

  // Replies of immutable artifacts are made once per artifact (the service
  // hands out the same cached artifact on every hit), so their headers are
  // built once too (replies.ts).
  const replies = new WeakMap<Artifact, Reply>();
  const small = async (a: Artifact, contentType: string): Promise<Reply> => {
    let r = a.immutable ? replies.get(a) : undefined;
    if (!r) {
      r = { status: 200, headers: { 'content-type': contentType, 'cache-control': cacheControl(a.immutable ? 'immutable' : 'short', publicCache) }, artifact: a };
      if (a.immutable) replies.set(a, r);
    }
    return r;
  };

  async function serve(pr: ProxyRequest, noFetch: boolean, note: RequestNote): Promise<Reply> {
    switch (pr.kind) {
      case 'list':
        return small(await service.list(pr.modPath, noFetch, note), TEXT);
      case 'latest':
        return small(await service.latest(pr.modPath, noFetch, note), JSON_TYPE);
      case 'info':
        return small(await service.info(pr.modPath, pr.version, noFetch, note), JSON_TYPE);
      case 'mod':
        return small(await service.mod(pr.modPath, pr.version, noFetch, note), TEXT);
      case 'zip': {
        const z = await service.zip(pr.modPath, pr.version, noFetch, note);
        const redirect = opts.zipRedirect;
        if (z.signedUrl && redirect && (redirect.mode === 'always' || (redirect.mode === 'auto' && z.size >= redirect.thresholdBytes))) {
          // The go command follows redirects (and drops our credentials on the way,
          // the signed URL carries its own); function responses are capped at 32 MB.
          const location = await z.signedUrl(redirect.urlTtlSeconds);
          return { status: 302, headers: { location, 'content-type': TEXT, 'cache-control': 'no-store' }, body: '' };
        }
        return small(z, 'application/zip');
      }
    }
  }

  const hits = opts.logHits ?? { mode: 'all', sampleRate: 1 };
  const random = opts.random ?? Math.random;
  /** Whether the request line of a successful answer is written (logging.hits). */
  const logHit = (): boolean => hits.mode === 'all' || (hits.mode === 'sample' && random() < hits.sampleRate);

  const hitLines = new HitLines(redact);

  /**
   * The hit path without a single await: a GET or HEAD, without client auth,
   * conditions, ranges or body, of a URL whose immutable answer holds its
   * body in memory. Its headers are read from the raw list (rawHeaders.ts).
   * Anything else takes the whole way below, to the same answer.
   */
  const answerNow = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (opts.clientAuth || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    const started = performance.now();
    const known = service.answers.get<KnownAnswer>(req.url ?? '');
    if (!known?.reply.artifact?.bytes) return false;
    const headers = hitHeaders(req.rawHeaders);
    if (!headers) return false;
    const size = sendBytesNow(req, res, known.reply);
    const seconds = (performance.now() - started) / 1e3;
    opts.observe?.(known.request.kind, known.reply.status, 'memory', seconds);
    if (logHit()) {
      const method = req.method as 'GET' | 'HEAD';
      const head = (known.lineHeads[method] ??= hitLines.headOf(method, req.url!, known.reply.status, size));
      log.logEncoded('INFO', 'request', hitLines.members(head, seconds, headers));
    }
    return true;
  };

  const answerLater = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    let reply: Reply;
    let failure: unknown;
    const who: RequestRecord = { identity: undefined, route: undefined, outcome: undefined, leaveForeground: opts.foreground?.enter() };
    try {
      reply = await route(req, who);
    } catch (err) {
      failure = err;
      reply = errorReply(err, publicCache);
      // What one client could not have without a fetch, another may get: no cache keeps it.
      if (fetchDisabledBy(req)) reply.headers['cache-control'] = 'no-store';
    }
    let size = 0;
    try {
      size = await sendReply(req, res, reply);
    } catch (err) {
      failure ??= err;
      if (!res.headersSent) {
        reply = errorReply(err, publicCache);
        size = await sendReply(req, res, reply);
      } else {
        res.destroy(err as Error);
      }
    } finally {
      who.leaveForeground?.();
    }
    finish(req, reply, who, size, started, failure);
  };

  // A hit is answered within the call: no async function, no promise.
  const handler = ((req, res) => (answerNow(req, res) ? undefined : answerLater(req, res))) as ProxyHandler;
  handler.answerNow = answerNow;
  handler.answerLater = answerLater;
  return handler;

  /** Counts the request and writes its log line (unless logging.hits leaves it out). */
  function finish(req: IncomingMessage, reply: Reply, who: RequestRecord, size: number, started: number, failure: unknown): void {
    const latency = (performance.now() - started) / 1e3;
    // Every request is counted, also those whose line logging.hits leaves out.
    opts.observe?.(who.route ?? 'unknown', reply.status, who.outcome ?? 'none', latency);
    if (reply.status < 400 && failure === undefined && reply.logAs === undefined && !logHit()) return;
    const severity = reply.status >= 500 ? 'ERROR' : (reply.logAs ?? 'INFO');
    log.logJson(
      severity,
      failure && reply.status >= 500 ? `request failed: ${errorMessage(failure)}` : 'request',
      requestLineJson(req, { status: reply.status, size, seconds: latency, identity: who.identity, reason: failure && reply.status < 500 ? errorMessage(failure) : undefined }),
    );
  }
}
