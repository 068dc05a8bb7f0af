// The two Cloud Storage JSON API calls that every cold version makes several
// times, sent on node:http (lib/net/httpRequest.ts) instead of through
// @google-cloud/storage: reading a whole object (a media download) and
// creating one only if its name is free (a multipart upload with
// ifGenerationMatch=0). Everything else — streamed reads, resumable uploads,
// metadata, listing, deletion, signed URLs — stays on the library.
//
// Why: against the GCS test double, the library spent 5.5–6 ms of CPU per
// such call in a fresh process and about 4 warmed; the same requests on
// node:http took about 1.8 and 0.9 (docs/benchmarks.md, (d) public
// modules: "The GCS column's extra CPU is the storage library's"). A cold
// public version makes seven of them, on the event loop that also answers
// requests.
//
// What is kept of the library's behaviour, read from the same Storage object
// so that both paths follow one configuration:
// - the URLs it builds: its baseUrl for the JSON API (which is where
//   STORAGE_EMULATOR_HOST points), its apiEndpoint for uploads;
// - credentials: its GoogleAuth's request headers (ADC, token caching and
//   refresh are the auth library's), and none on a custom endpoint unless
//   useAuthWithCustomEndpoint, as the library decides;
// - its per-attempt timeout and retryOptions (autoRetry, maxRetries, the
//   back-off of retry-request: multiplier^n seconds plus up to 1 s of jitter,
//   capped at maxRetryDelay, all within totalTimeout, retryableErrorFn, and
//   idempotencyStrategy: RetryNever retries nothing; both calls here are
//   idempotent, a download by nature and a create by its precondition).
//   A create is retried as the library retries conditional writes: with
//   ifGenerationMatch=0 a first attempt that did succeed answers 412, which
//   is "exists". For the same reason a create that finds its pooled
//   connection closed by the server is sent again at once on a new one, as a
//   read is, instead of after a back-off of a second or more;
// - end-to-end MD5: an upload names its MD5 in its metadata, which GCS
//   checks (400 on a mismatch); a download is checked against x-goog-hash.
// Failures carry the HTTP status in `code`, as the library's ApiError does,
// so errorStatus() and retryableErrorFn read both alike.
import crypto from 'node:crypto';
import http from 'node:http';
import { IdempotencyStrategy } from '@google-cloud/storage';
import { proxyFor } from '../net/envProxy.js';
import { keepAliveAgents, readBody, sendRequest } from '../net/httpRequest.js';

/** What this reads from a @google-cloud/storage Storage object (its public fields). */
export interface StorageClientSettings {
  baseUrl: string;
  apiEndpoint: string;
  customEndpoint: boolean;
  useAuthWithCustomEndpoint?: boolean;
  timeout?: number;
  authClient: { getRequestHeaders(url?: string): Promise<Record<string, string>> };
  retryOptions: {
    autoRetry?: boolean;
    maxRetries?: number;
    retryDelayMultiplier?: number;
    maxRetryDelay?: number;
    totalTimeout?: number;
    retryableErrorFn?: (err: never) => boolean;
    idempotencyStrategy?: IdempotencyStrategy;
  };
}

/** A failed call: `code` is the HTTP status, as in the library's ApiError. */
export class GcsCallError extends Error {
  override name = 'GcsCallError';
  constructor(
    message: string,
    readonly code: number | string,
    /** GCS's error reasons, where its answer gave them (what retryableErrorFn reads). */
    readonly errors: Array<{ reason?: string; message?: string }> = [],
  ) {
    super(message);
  }
}

/** Answers longer than this are refused: callers read small objects (records, manifests, small zips). */
const MAX_OBJECT_BYTES = 1 << 30;
/** Error bodies are read this far, for the message. */
const MAX_ERROR_BYTES = 64 << 10;

export interface GcsObjectCallsOptions {
  settings: StorageClientSettings;
  bucket: string;
  /** The environment to read proxy settings from (default process.env), as the library honours HTTPS_PROXY. */
  env?: NodeJS.ProcessEnv;
  random?: () => number;
  /** Milliseconds, for totalTimeout (default Date.now). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class GcsObjectCalls {
  private readonly s: StorageClientSettings;
  private readonly authenticate: boolean;
  private readonly agents = keepAliveAgents();
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly opts: GcsObjectCallsOptions) {
    this.s = opts.settings;
    this.authenticate = !this.s.customEndpoint || this.s.useAuthWithCustomEndpoint === true;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.env = opts.env ?? process.env;
  }

  /** The whole object `name` (checked against its MD5), or null when there is none. */
  async download(name: string): Promise<Buffer | null> {
    const url = new URL(`${this.s.baseUrl}/b/${encodeURIComponent(this.opts.bucket)}/o/${encodeURIComponent(name)}`);
    url.searchParams.set('alt', 'media');
    return this.withRetries(async (signal) => {
      const res = await this.send(url, 'GET', {}, undefined, signal);
      if (res.statusCode === 404) {
        res.resume();
        return null;
      }
      if (res.statusCode !== 200) throw await callError(res, `download of ${name}`);
      const encoding = res.headers['content-encoding'];
      if (encoding !== undefined && encoding !== 'identity') {
        res.destroy();
        throw new GcsCallError(`download of ${name}: stored with content-encoding ${encoding}, which this store never writes`, 'CONTENT_ENCODING');
      }
      const md5 = md5Of(res.headers['x-goog-hash']);
      const body = await readBody(res, MAX_OBJECT_BYTES);
      if (md5 !== undefined && md5 !== crypto.createHash('md5').update(body).digest('base64')) {
        throw new GcsCallError(`download of ${name}: the bytes received do not match the object's MD5 (changed on the way)`, 'CONTENT_DOWNLOAD_MISMATCH');
      }
      return body;
    });
  }

  /** Creates `name` with `data` unless a live object has the name: 'exists' (412) then. */
  async createIfAbsent(name: string, data: Buffer, meta: { contentType: string; cacheControl: string }): Promise<'created' | 'exists'> {
    const url = new URL(`${this.s.apiEndpoint}/upload/storage/v1/b/${encodeURIComponent(this.opts.bucket)}/o`);
    url.searchParams.set('uploadType', 'multipart');
    url.searchParams.set('ifGenerationMatch', '0');
    const metadata = JSON.stringify({ name, contentType: meta.contentType, cacheControl: meta.cacheControl, md5Hash: crypto.createHash('md5').update(data).digest('base64') });
    const boundary = crypto.randomBytes(16).toString('hex');
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n${metadata}\r\n--${boundary}\r\ncontent-type: ${meta.contentType}\r\n\r\n`),
      data,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const headers = { 'content-type': `multipart/related; boundary=${boundary}`, 'content-length': String(body.length) };
    return this.withRetries(async (signal) => {
      const res = await this.send(url, 'POST', headers, body, signal, true);
      if (res.statusCode === 412) {
        res.resume();
        return 'exists';
      }
      if (res.statusCode !== 200) throw await callError(res, `create of ${name}`);
      // The object resource: read to its end so the connection goes back to the pool.
      await readBody(res, MAX_ERROR_BYTES, { truncate: true });
      return 'created';
    });
  }

  /** `idempotent`: a create, which its precondition makes safe to send again on a fresh connection (a GET is by default). */
  private async send(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, signal: AbortSignal, idempotent?: true): Promise<http.IncomingMessage> {
    const auth = this.authenticate ? await this.s.authClient.getRequestHeaders(url.href) : {};
    return sendRequest(url, method, { ...auth, ...headers }, body, { signal, proxy: proxyFor(url, this.env), agents: this.agents, idempotent });
  }

  /** One call, attempted again on what retryOptions call retryable, as the library does. */
  private async withRetries<T>(attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const r = this.s.retryOptions;
    const maxRetries = r.autoRetry === false || r.idempotencyStrategy === IdempotencyStrategy.RetryNever ? 0 : (r.maxRetries ?? 3);
    const multiplier = r.retryDelayMultiplier ?? 2;
    const maxDelayMs = (r.maxRetryDelay ?? 64) * 1000;
    const totalMs = (r.totalTimeout ?? 600) * 1000;
    const retryable = (r.retryableErrorFn ?? (() => false)) as (err: unknown) => boolean;
    const started = this.now();
    for (let retry = 0; ; retry++) {
      const signal = AbortSignal.timeout(this.s.timeout ?? 60_000);
      try {
        return await attempt(signal);
      } catch (err) {
        const failure = signal.aborted ? new GcsCallError(`no answer within ${this.s.timeout ?? 60_000} ms (timeout)`, 'ETIMEDOUT') : err;
        const delay = Math.min(multiplier ** retry * 1000 + Math.floor(this.random() * 1000), maxDelayMs, totalMs - (this.now() - started));
        if (retry >= maxRetries || delay <= 0 || !retryable(failure)) throw failure;
        await this.sleep(delay);
      }
    }
  }
}

/** The base64 MD5 in an x-goog-hash header ("crc32c=…,md5=…"), if it names one. */
function md5Of(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return /(?:^|[,\s])md5=([A-Za-z0-9+/=]+)/.exec(text)?.[1];
}

/** A non-success answer as an error carrying its status and GCS's reasons. */
async function callError(res: http.IncomingMessage, what: string): Promise<GcsCallError> {
  const status = res.statusCode ?? 0;
  let message = `${what} answered HTTP ${status}`;
  let errors: Array<{ reason?: string; message?: string }> = [];
  try {
    const text = (await readBody(res, MAX_ERROR_BYTES, { truncate: true })).toString('utf8');
    const parsed = JSON.parse(text) as { error?: { message?: unknown; errors?: unknown } };
    if (typeof parsed.error?.message === 'string') message += `: ${parsed.error.message}`;
    if (Array.isArray(parsed.error?.errors)) errors = parsed.error.errors as typeof errors;
  } catch {
    // Not GCS's JSON error body (a relay, a load balancer): the status says enough.
  }
  return new GcsCallError(message, status, errors);
}
