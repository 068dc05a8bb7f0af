// The HTTP client isomorphic-git uses to talk smart HTTP to git hosts.
//
// We supply our own (on Node's fetch) rather than isomorphic-git/http/node so
// that every request gets an idle timeout, so tests can count and inspect
// requests, and so credentials are attached as headers on the first request
// (isomorphic-git's onAuth costs an extra 401 round trip).
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';

export interface GitHttpClientOptions {
  /** Abort a request when no bytes arrive for this long. */
  idleTimeoutMs?: number;
  /** Injected fetch, for tests. */
  fetch?: typeof fetch;
  /** Called for each request with method and URL (never headers: they may hold tokens). */
  onRequest?: (method: string, url: string) => void;
}

/** Pauses before each retry of a request whose connection was reset before any answer. */
const RESET_RETRY_DELAYS_MS = [50, 250];

/**
 * Whether a fetch failed because the connection broke before any answer: a
 * kept-alive connection that the server closed just as it was reused. Smart
 * HTTP reads (ref listing, upload-pack) change nothing, so they can be sent again.
 */
function isConnectionReset(err: unknown): boolean {
  const code = (err as { cause?: { code?: unknown } })?.cause?.code ?? (err as { code?: unknown })?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET';
}

export function createGitHttpClient(opts: GitHttpClientOptions = {}): HttpClient {
  const idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
  const doFetch = opts.fetch ?? fetch;
  return {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const method = req.method ?? 'GET';
      opts.onRequest?.(method, req.url);
      let body: Buffer | undefined;
      if (req.body) {
        const chunks: Uint8Array[] = [];
        for await (const chunk of req.body) chunks.push(chunk);
        body = Buffer.concat(chunks);
      }
      const controller = new AbortController();
      let timer = setTimeout(() => controller.abort(new Error(`git HTTP request idle for ${idleTimeoutMs} ms`)), idleTimeoutMs);
      const bump = () => {
        clearTimeout(timer);
        timer = setTimeout(() => controller.abort(new Error(`git HTTP request idle for ${idleTimeoutMs} ms`)), idleTimeoutMs);
      };
      let res: Response;
      for (let attempt = 0; ; attempt++) {
        try {
          res = await doFetch(req.url, {
            method,
            headers: req.headers,
            body,
            signal: controller.signal,
            redirect: 'follow',
          });
          break;
        } catch (err) {
          if (attempt < RESET_RETRY_DELAYS_MS.length && isConnectionReset(err) && !controller.signal.aborted) {
            await new Promise((r) => setTimeout(r, RESET_RETRY_DELAYS_MS[attempt]));
            bump();
            continue;
          }
          clearTimeout(timer);
          throw err;
        }
      }
      bump();
      const headers: Record<string, string> = {};
      res.headers.forEach((v, k) => (headers[k] = v));
      const reader = res.body?.getReader();
      async function* iterate(): AsyncIterableIterator<Uint8Array> {
        if (!reader) return;
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            bump();
            yield value;
          }
        } finally {
          clearTimeout(timer);
        }
      }
      if (!reader) clearTimeout(timer);
      return {
        url: res.url || req.url,
        method,
        statusCode: res.status,
        statusMessage: res.statusText,
        headers,
        body: iterate(),
      };
    },
  };
}
