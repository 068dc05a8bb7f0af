// The HTTP client isomorphic-git and packFetch.ts use to talk smart HTTP to git hosts.
//
// We supply our own (on Node's fetch) rather than isomorphic-git/http/node so
// that every request is bounded (an idle timeout, a total deadline, a cap on
// the bytes of a response), so failed reads are retried, so tests can count and
// inspect requests, and so credentials are attached as headers on the first
// request (isomorphic-git's onAuth costs an extra 401 round trip).
//
// A git host is untrusted input: a server may answer forever, drip one byte at
// a time, cut an answer short, or fail now and then. Every request gives up after `deadlineMs`
// (resolve.gitDeadlineSeconds: 504) or once its response exceeds
// `maxResponseBytes` (resolve.gitMaxPackBytes: 502), whatever the server does.
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { UpstreamError } from '../../errors.js';
import type { FetchLike } from '../../net/proxyFetch.js';

export interface GitHttpClientOptions {
  /** Abort a request when no bytes arrive for this long. */
  idleTimeoutMs?: number;
  /** Total time for one request: every attempt, the waits between them, and reading the whole response. */
  deadlineMs?: number;
  /** Most bytes one response body may have (a pack is one response). */
  maxResponseBytes?: number;
  /** Attempts for a request that failed with a 5xx or a broken connection (smart HTTP reads are idempotent). */
  attempts?: number;
  /** Base of the exponential backoff between attempts (each wait is jittered). */
  retryDelayMs?: number;
  /** The fetch to use (app: lib/net/proxyFetch.ts, which honours HTTPS_PROXY; tests: a stand-in). */
  fetch?: FetchLike;
  /** Injected randomness for the jitter, for tests. */
  random?: () => number;
  /** Called for each request with method and URL (never headers: they may hold tokens). */
  onRequest?: (method: string, url: string) => void;
  /** Called with the size of each response body chunk received (metrics: bytes fetched from git hosts). */
  onBytes?: (bytes: number) => void;
}

export const DEFAULT_DEADLINE_MS = 120_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 256 << 20;

/**
 * Whether a fetch failed because the connection failed before any answer: a
 * kept-alive connection that the server closed just as it was reused, a
 * server restarting. Smart HTTP reads (ref listing, upload-pack) change
 * nothing, so they can be sent again.
 */
function isConnectionFailure(err: unknown): boolean {
  const code = (err as { cause?: { code?: unknown } })?.cause?.code ?? (err as { code?: unknown })?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'ECONNREFUSED';
}

/** Statuses worth another attempt: the host's own transient failures. 4xx are answers, never retried. */
function isRetryableStatus(status: number): boolean {
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}

/** What a response is, for messages: the v2 command of an upload-pack POST, or the ref advertisement. */
function describe(method: string, body: Buffer | undefined): string {
  if (method === 'POST' && body && body.includes('command=fetch')) return 'pack';
  if (method === 'POST' && body && body.includes('command=ls-refs')) return 'ref listing';
  return method === 'GET' ? 'ref advertisement' : 'response';
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'git host';
  }
}

export function createGitHttpClient(opts: GitHttpClientOptions = {}): HttpClient {
  const idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const attempts = Math.max(1, opts.attempts ?? 3);
  const retryDelayMs = opts.retryDelayMs ?? 250;
  const random = opts.random ?? Math.random;
  const doFetch = opts.fetch ?? fetch;
  return {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const method = req.method ?? 'GET';
      const host = hostOf(req.url);
      let body: Buffer | undefined;
      if (req.body) {
        const chunks: Uint8Array[] = [];
        for await (const chunk of req.body) chunks.push(chunk);
        body = Buffer.concat(chunks);
      }
      const what = describe(method, body);
      const started = performance.now();
      const controller = new AbortController();
      // The deadline is fixed at the start and never pushed back: a server that
      // drips one byte at a time resets the idle timer, not this one.
      const deadlineError = new UpstreamError(
        `${what} from ${host} not complete within resolve.gitDeadlineSeconds (${deadlineMs / 1000} s)`,
        504,
      );
      const deadline = setTimeout(() => controller.abort(deadlineError), deadlineMs);
      deadline.unref();
      const idleError = () => new Error(`git HTTP request idle for ${idleTimeoutMs} ms`);
      let idle: NodeJS.Timeout | undefined;
      const bump = () => {
        clearTimeout(idle);
        idle = setTimeout(() => controller.abort(idleError()), idleTimeoutMs);
        idle.unref();
      };
      const stop = () => {
        clearTimeout(idle);
        clearTimeout(deadline);
      };
      /** The error to report: the deadline's when it fired (fetch reports an abort in many shapes). */
      const failure = (err: unknown): unknown => (controller.signal.aborted && controller.signal.reason === deadlineError ? deadlineError : err);
      /** Waits before the next attempt, or returns false when the deadline leaves no time for it. */
      const backoff = async (attempt: number): Promise<boolean> => {
        if (attempt + 1 >= attempts) return false;
        const ceiling = retryDelayMs * 2 ** attempt;
        const wait = ceiling / 2 + (random() * ceiling) / 2;
        if (performance.now() - started + wait >= deadlineMs) return false;
        clearTimeout(idle);
        await new Promise((r) => setTimeout(r, wait));
        return !controller.signal.aborted;
      };

      let res: Response;
      for (let attempt = 0; ; attempt++) {
        opts.onRequest?.(method, req.url);
        bump();
        try {
          res = await doFetch(req.url, {
            method,
            headers: req.headers,
            body,
            signal: controller.signal,
            redirect: 'follow',
          });
        } catch (err) {
          if (isConnectionFailure(err) && !controller.signal.aborted && (await backoff(attempt))) continue;
          stop();
          throw failure(err);
        }
        if (isRetryableStatus(res.status) && attempt + 1 < attempts) {
          await res.body?.cancel().catch(() => {});
          if (await backoff(attempt)) continue;
          stop();
          if (controller.signal.aborted) throw failure(controller.signal.reason);
          // No time for another attempt: report this answer (its body is gone).
          return answer(res, req.url, method, (async function* () {})());
        }
        break;
      }
      bump();
      const limitError = new UpstreamError(`${what} from ${host} exceeds resolve.gitMaxPackBytes (${maxResponseBytes} bytes)`, 502);
      const reader = res.body?.getReader();
      // Abort ends a read in progress, whether or not the body stream notices
      // the signal: cancelling the reader settles it (as if the body ended, so
      // each read checks the signal).
      const cancelOnAbort = () => void reader?.cancel(controller.signal.reason).catch(() => {});
      controller.signal.addEventListener('abort', cancelOnAbort, { once: true });
      async function* iterate(): AsyncIterableIterator<Uint8Array> {
        if (!reader) return;
        let received = 0;
        try {
          for (;;) {
            let chunk: Awaited<ReturnType<typeof reader.read>>;
            try {
              chunk = await reader.read();
            } catch (err) {
              throw failure(err);
            }
            if (controller.signal.aborted) throw failure(controller.signal.reason);
            if (chunk.done) break;
            received += chunk.value.length;
            opts.onBytes?.(chunk.value.length);
            if (received > maxResponseBytes) {
              controller.abort(limitError);
              throw limitError;
            }
            bump();
            yield chunk.value;
          }
        } finally {
          stop();
          controller.signal.removeEventListener('abort', cancelOnAbort);
          // A consumer that stops early, a limit or a deadline must not leave the connection streaming.
          void reader.cancel().catch(() => {});
        }
      }
      if (!reader) stop();
      if (what === 'pack') return answer(res, req.url, method, iterate());
      // Anything but a pack is read whole here, so that a failure while reading
      // it (deadline, cap, idle, reset) fails the request: isomorphic-git
      // treats an error of the body stream as its end, and would take a cut ref
      // listing for the whole one.
      const chunks: Uint8Array[] = [];
      for await (const c of iterate()) chunks.push(c);
      return answer(res, req.url, method, (async function* () {
        yield* chunks;
      })());
    },
  };
}

function answer(res: Response, url: string, method: string, body: AsyncIterableIterator<Uint8Array>): GitHttpResponse {
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => (headers[k] = v));
  return {
    url: res.url || url,
    method,
    statusCode: res.status,
    statusMessage: res.statusText,
    headers,
    body,
  };
}
