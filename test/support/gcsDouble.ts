// An HTTP test double of the Google Cloud Storage JSON API (plus V4 signed
// URL reads on the XML API), covering what @google-cloud/storage 7.x sends
// when it is pointed at a custom `apiEndpoint`. Bound to 127.0.0.1 only.
//
// What it follows (GCS behaviour → where it is implemented):
// - Object resources, error bodies, status codes: objectResource(),
//   jsonError(). Errors are {"error":{code,message,errors:[{message,domain,reason}]}}.
// - Preconditions (ifGenerationMatch 0 = "no live object", …): checkPreconditions().
//   On writes they are evaluated in the same synchronous step that installs
//   the new generation (commit()), so racing writers get one 200 and 412s.
// - Uploads: uploadType=media|multipart|resumable (resumable sessions with
//   308 "Resume Incomplete" + Range, 256 KiB granularity for non-final chunks,
//   status queries). X-Goog-Hash (and crc32c/md5Hash in multipart metadata)
//   are checked against the received bytes: 400 on mismatch.
// - Media download: Range/206/416, x-goog-hash, x-goog-generation, …
// - Listing: byte-order sort, prefix/delimiter/startOffset/endOffset,
//   maxResults counting items + prefixes, opaque nextPageToken.
// - V4 signed URLs (GOOG4-RSA-SHA256, path style): canonical request and
//   string-to-sign rebuilt from the request, RSA-SHA256 verified with the
//   registered public key; XML errors as GCS returns them.
// - Both `/storage/v1/b/...` and `/b/...` (STORAGE_EMULATOR_HOST quirk).
// - Authentication (optional, `accessTokens`): JSON API requests must carry
//   `Authorization: Bearer <token>` with a token the double was given, else
//   401 with GCS's error body and WWW-Authenticate (requireAuthorization()).
//   A resumable upload's session URI is its own credential, as on GCS.
//   Without `accessTokens` anything goes, like an emulator.
// - Append-only identities (optional, `appendOnlyTokens`): holders of these
//   tokens have roles/storage.objectCreator + objectViewer only, as the
//   proxy's account: a DELETE of an object is 403 "forbidden", as on GCS.
// - Fault injection (429/503/hang) decided by a seeded PRNG before a request
//   is processed, so a faulted request never changes state.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { prng } from './prng.js';

export interface GcsFaults {
  /** Fraction (0..1) of requests answered with a fault; a deterministic seeded PRNG decides. */
  rate: number;
  /** Which faults to pick from: 429, 503 (JSON error bodies like GCS), or 'timeout' (accept the request, never answer, until the client gives up). */
  kinds: Array<429 | 503 | 'timeout'>;
  seed?: number;
  /** Only requests whose "METHOD path" matches (path = the URL path as received, without the query). */
  match?: RegExp;
}
export interface GcsObject { name: string; generation: string; metageneration: string; data: Buffer; contentType: string; timeCreated: string; updated: string; md5Hash: string; crc32c: string; metadata?: Record<string, string> }
export interface GcsRequestRecord {
  method: string;
  /** URL path as received (still percent-encoded). */
  path: string;
  /** Raw query string, without the leading '?'. */
  query: string;
  /** Status answered; 0 when the request was never answered (a 'timeout' fault). */
  status: number;
  /** The Authorization header's scheme and whether the double accepted its credential ("Bearer accepted", "Bearer rejected"), or "none". */
  auth: string;
}
export interface GcsDouble {
  /** e.g. http://127.0.0.1:PORT — pass as `apiEndpoint` to new Storage({...}). */
  url: string;
  port: number;
  createBucket(name: string): void;
  /** Live objects of a bucket (for test assertions), by name. The map is the double's own state. */
  objects(bucket: string): Map<string, GcsObject>;
  setFaults(f: GcsFaults | undefined): void;
  /** Access tokens accepted from now on (undefined: no authentication, like an emulator). */
  setAccessTokens(tokens: string[] | undefined): void;
  /** Accepted tokens whose holders may create and read but not delete (objectCreator + objectViewer). */
  setAppendOnlyTokens(tokens: Record<string, string>): void;
  /** Every request seen: method, path, query, status answered. */
  requests: GcsRequestRecord[];
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Hashes. GCS reports crc32c as base64 of the big-endian CRC-32C (Castagnoli)
// and md5Hash as base64 of the MD5 digest.

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC32C_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function crc32cBase64(data: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32c(data));
  return out.toString('base64');
}

function md5Base64(data: Uint8Array): string {
  return crypto.createHash('md5').update(data).digest('base64');
}

// ---------------------------------------------------------------------------
// Errors.

/** A JSON API error: answered as {"error":{"code","message","errors":[…]}}. */
class JsonApiError extends Error {
  /** Extra response headers (e.g. Content-Range on 416). */
  headers: http.OutgoingHttpHeaders = {};
  constructor(readonly status: number, readonly reason: string, message: string, readonly extra: Record<string, string> = {}, readonly domain = 'global') {
    super(message);
  }
}

/** An XML API error: answered as <Error><Code>…</Code><Message>…</Message><Details>…</Details></Error>. */
class XmlApiError extends Error {
  headers: http.OutgoingHttpHeaders = {};
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: string, readonly more: Record<string, string> = {}) {
    super(message);
  }
}

function jsonErrorBody(status: number, reason: string, message: string, extra: Record<string, string> = {}, domain = 'global') {
  return { error: { code: status, message, errors: [{ message, domain, reason, ...extra }] } };
}

const notFoundBucket = () => new JsonApiError(404, 'notFound', 'The specified bucket does not exist.');
const notFoundObject = (bucket: string, name: string) => new JsonApiError(404, 'notFound', `No such object: ${bucket}/${name}`);
const conditionNotMet = () =>
  new JsonApiError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.', { locationType: 'header', location: 'If-Match' });
const badRequest = (message: string, reason = 'invalid') => new JsonApiError(400, reason, message);

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

// ---------------------------------------------------------------------------
// State.

interface StoredObject extends GcsObject {
  contentEncoding?: string;
  cacheControl?: string;
  contentDisposition?: string;
}

interface BucketState {
  name: string;
  timeCreated: string;
  objects: Map<string, StoredObject>;
}

/** Object metadata a writer supplies (multipart JSON part, resumable initiation body). */
interface WriteMetadata {
  name?: string;
  contentType?: string;
  contentEncoding?: string;
  cacheControl?: string;
  contentDisposition?: string;
  crc32c?: string;
  md5Hash?: string;
  metadata?: Record<string, unknown>;
}

/** A resumable upload session (https://cloud.google.com/storage/docs/performing-resumable-uploads). */
interface UploadSession {
  id: string;
  bucket: string;
  name: string;
  contentType: string;
  meta: WriteMetadata;
  /** Precondition query parameters of the initiating POST; evaluated when the upload completes. */
  preconditions: URLSearchParams;
  /** X-Upload-Content-Length of the initiating POST, if any. */
  declaredSize?: number;
  chunks: Buffer[];
  persisted: number;
  /** The final answer once the session is finished (object JSON, or the error that ended it). */
  final?: { status: number; body: unknown };
}

/** GCS persists non-final resumable chunks in multiples of 256 KiB. */
const CHUNK_GRANULARITY = 256 * 1024;

// ---------------------------------------------------------------------------
// Preconditions (https://cloud.google.com/storage/docs/request-preconditions).

type Precondition = 'ok' | 'notModified' | 'failed';

function integerParam(q: URLSearchParams, key: string): bigint | undefined {
  const v = q.get(key);
  if (v === null) return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`Invalid argument: ${key}`);
  return BigInt(v);
}

/**
 * `ifGenerationMatch=0` holds only when there is no live object;
 * `ifGenerationNotMatch`/`ifMetagenerationMatch`/`…NotMatch` fail when there
 * is none. A failed *NotMatch on a read is 304 Not Modified, every other
 * failure is 412.
 */
function checkPreconditions(live: StoredObject | undefined, q: URLSearchParams, isRead: boolean): Precondition {
  const genMatch = integerParam(q, 'ifGenerationMatch');
  const genNotMatch = integerParam(q, 'ifGenerationNotMatch');
  const metaMatch = integerParam(q, 'ifMetagenerationMatch');
  const metaNotMatch = integerParam(q, 'ifMetagenerationNotMatch');
  const gen = live ? BigInt(live.generation) : undefined;
  const meta = live ? BigInt(live.metageneration) : undefined;
  if (genMatch !== undefined && (genMatch === 0n ? live !== undefined : gen !== genMatch)) return 'failed';
  if (metaMatch !== undefined && meta !== metaMatch) return 'failed';
  if (genNotMatch !== undefined && (gen === undefined || (genNotMatch !== 0n && gen === genNotMatch))) return isRead && gen !== undefined ? 'notModified' : 'failed';
  if (metaNotMatch !== undefined && (meta === undefined || meta === metaNotMatch)) return isRead && meta !== undefined ? 'notModified' : 'failed';
  return 'ok';
}

// ---------------------------------------------------------------------------
// Ranges (RFC 7233 single ranges, as GCS serves them).

type RangeResult = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: 'full' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' }; // malformed or multi-range: ignored, whole object
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return { kind: 'full' }; // syntactically invalid: ignored
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}

// ---------------------------------------------------------------------------
// multipart/related (uploadType=multipart): a JSON metadata part, then the data part.

function parseMultipartRelated(contentType: string | undefined, body: Buffer): Array<{ headers: Record<string, string>; content: Buffer }> {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
  if (!contentType?.toLowerCase().startsWith('multipart/related') || !boundary) throw badRequest('Metadata part is too large or missing; expected multipart/related with a boundary.');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: Record<string, string>; content: Buffer }> = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw badRequest('Malformed multipart body.');
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') break; // closing delimiter
    if (body.subarray(pos, pos + 2).toString() === '\r\n') pos += 2;
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), pos);
    if (next < 0) throw badRequest('Malformed multipart body.');
    const part = body.subarray(pos, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers: Record<string, string> = {};
    const headerText = headerEnd < 0 ? '' : part.subarray(0, headerEnd).toString();
    for (const line of headerText.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    parts.push({ headers, content: headerEnd < 0 ? part : part.subarray(headerEnd + 4) });
    pos = next + 2;
  }
  return parts;
}

// ---------------------------------------------------------------------------
// V4 signatures (https://cloud.google.com/storage/docs/authentication/signatures),
// as src/signer.ts builds them.

/** RFC 3986 encoding of everything but A-Z a-z 0-9 - . _ ~ (signer.ts fixedEncodeURIComponent). */
function strictEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function canonicalQuery(q: URLSearchParams): string {
  return [...q.entries()]
    .filter(([k]) => k !== 'X-Goog-Signature')
    .map(([k, v]) => [strictEncode(k), strictEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function publicKeyOf(pem: string): crypto.KeyObject {
  return pem.includes('BEGIN CERTIFICATE') ? new crypto.X509Certificate(pem).publicKey : crypto.createPublicKey(pem);
}

/**
 * Checks a V4 query-string signature. Expiry is checked before the signature
 * (an expired URL is 400 ExpiredToken even when correctly signed); a signature
 * that does not verify is 403 SignatureDoesNotMatch with the string-to-sign.
 */
function verifyV4Signature(req: http.IncomingMessage, rawPath: string, q: URLSearchParams, signers: Map<string, crypto.KeyObject>): void {
  const required = ['X-Goog-Algorithm', 'X-Goog-Credential', 'X-Goog-Date', 'X-Goog-Expires', 'X-Goog-SignedHeaders', 'X-Goog-Signature'];
  if (required.some(k => !q.get(k))) {
    throw new XmlApiError(400, 'AuthorizationQueryParametersError', 'Query-string authentication version 4 requires the X-Goog-Algorithm, X-Goog-Credential, X-Goog-Date, X-Goog-Expires, X-Goog-SignedHeaders, and X-Goog-Signature parameters.');
  }
  if (q.get('X-Goog-Algorithm') !== 'GOOG4-RSA-SHA256') throw new XmlApiError(400, 'InvalidArgument', 'Invalid argument.', 'Only GOOG4-RSA-SHA256 is emulated.');
  const credential = q.get('X-Goog-Credential')!.split('/');
  const date = q.get('X-Goog-Date')!;
  const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (credential.length !== 5 || credential[3] !== 'storage' || credential[4] !== 'goog4_request' || !dm || credential[1] !== date.slice(0, 8)) {
    throw new XmlApiError(400, 'AuthorizationQueryParametersError', 'Invalid argument.', `Invalid credential scope or date: ${q.get('X-Goog-Credential')}`);
  }
  const [email, datestamp, location] = credential;
  const expires = Number(q.get('X-Goog-Expires'));
  if (!Number.isInteger(expires) || expires < 1 || expires > 604800) {
    throw new XmlApiError(400, 'AuthorizationQueryParametersError', 'Invalid argument.', 'X-Goog-Expires must be between 1 and 604800 seconds.');
  }
  const signedAt = Date.UTC(+dm[1], +dm[2] - 1, +dm[3], +dm[4], +dm[5], +dm[6]);
  if (Date.now() > signedAt + expires * 1000) {
    throw new XmlApiError(400, 'ExpiredToken', 'Invalid argument.', `Request signature expired at: ${new Date(signedAt + expires * 1000).toISOString().replace('.000Z', '+00:00')}`);
  }
  const signedHeaders = q.get('X-Goog-SignedHeaders')!;
  const headerNames = signedHeaders.split(';');
  if (!headerNames.includes('host')) throw new XmlApiError(400, 'AuthorizationQueryParametersError', 'Invalid argument.', 'X-Goog-SignedHeaders must include host.');
  // The client library signs `host` as URL.hostname (no port): real GCS is
  // always on the default port. We accept the Host header with or without it.
  const hostHeader = req.headers.host ?? '';
  const hostCandidates = [hostHeader.replace(/:\d+$/, ''), hostHeader];
  const stringsToSign = hostCandidates.map(host => {
    const canonicalHeaders = headerNames
      .map(h => {
        const raw = h === 'host' ? host : req.headers[h];
        const value = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).trim().replace(/\s{2,}/g, ' ');
        return `${h}:${value}\n`;
      })
      .join('');
    const sha = req.headers['x-goog-content-sha256'];
    const payload = headerNames.includes('x-goog-content-sha256') && typeof sha === 'string' ? sha : 'UNSIGNED-PAYLOAD';
    const canonicalRequest = [req.method ?? 'GET', rawPath, canonicalQuery(q), canonicalHeaders, signedHeaders, payload].join('\n');
    const hash = crypto.createHash('sha256').update(canonicalRequest).digest('hex');
    return { canonicalRequest, stringToSign: ['GOOG4-RSA-SHA256', date, `${datestamp}/${location}/storage/goog4_request`, hash].join('\n') };
  });
  const key = signers.get(email);
  const signature = Buffer.from(q.get('X-Goog-Signature')!, 'hex');
  if (key && stringsToSign.some(s => crypto.verify('RSA-SHA256', Buffer.from(s.stringToSign), key, signature))) return;
  throw new XmlApiError(403, 'SignatureDoesNotMatch', 'Access denied.', 'The request signature we calculated does not match the signature you provided. Check your Google secret key and signing method.', {
    StringToSign: stringsToSign[0].stringToSign,
    CanonicalRequest: stringsToSign[0].canonicalRequest,
  });
}

// ---------------------------------------------------------------------------
// The server.

const JSON_CONTENT_TYPE = 'application/json; charset=UTF-8';

/** GCS's object etag: base64 of a protobuf {1: generation, 2: metageneration}. */
function objectEtag(o: StoredObject): string {
  const varint = (n: bigint) => {
    const out: number[] = [];
    do {
      let byte = Number(n & 0x7fn);
      n >>= 7n;
      if (n > 0n) byte |= 0x80;
      out.push(byte);
    } while (n > 0n);
    return out;
  };
  return Buffer.from([0x08, ...varint(BigInt(o.generation)), 0x10, ...varint(BigInt(o.metageneration))]).toString('base64');
}

/** Splits "a=1, b=2" (X-Goog-Hash) into a map. */
function parseGoogHash(header: string | string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',')) {
    const i = item.indexOf('=');
    if (i > 0) out[item.slice(0, i).trim().toLowerCase()] = item.slice(i + 1).trim();
  }
  return out;
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

class GcsDoubleServer implements GcsDouble {
  url = '';
  port = 0;
  readonly requests: GcsRequestRecord[] = [];
  private readonly server: http.Server;
  private readonly buckets = new Map<string, BucketState>();
  private readonly sessions = new Map<string, UploadSession>();
  private readonly signers = new Map<string, crypto.KeyObject>();
  private faults: GcsFaults | undefined;
  private accessTokens: Set<string> | undefined;
  /** token → the holder's email, for the error message. */
  private appendOnlyTokens = new Map<string, string>();
  private random: () => number = Math.random;
  private lastGeneration = 0;

  constructor(opts: { signers?: Record<string, string>; faults?: GcsFaults; accessTokens?: string[] }) {
    for (const [email, pem] of Object.entries(opts.signers ?? {})) this.signers.set(email, publicKeyOf(pem));
    this.setFaults(opts.faults);
    this.setAccessTokens(opts.accessTokens);
    this.server = http.createServer((req, res) => void this.onRequest(req, res));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, { name, timeCreated: new Date().toISOString(), objects: new Map() });
  }

  objects(bucket: string): Map<string, GcsObject> {
    const b = this.buckets.get(bucket);
    if (!b) throw new Error(`gcsDouble: no bucket ${bucket}`);
    return b.objects;
  }

  setFaults(f: GcsFaults | undefined): void {
    this.faults = f;
    this.random = prng(f?.seed ?? 1);
  }

  setAccessTokens(tokens: string[] | undefined): void {
    this.accessTokens = tokens ? new Set(tokens) : undefined;
  }

  setAppendOnlyTokens(tokens: Record<string, string>): void {
    this.appendOnlyTokens = new Map(Object.entries(tokens));
  }

  /**
   * GCS's answers to a JSON API request without valid credentials: no
   * Authorization header is an anonymous caller (401 "required"), a token it
   * does not know is 401 "Invalid Credentials" (reason authError); both with
   * WWW-Authenticate. Requests to a resumable session URI carry no
   * credentials: the URI is the credential.
   */
  private requireAuthorization(req: http.IncomingMessage, q: URLSearchParams, record: GcsRequestRecord): void {
    const header = firstHeader(req.headers.authorization);
    const m = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
    const accepted = m !== null && this.accessTokens !== undefined && this.accessTokens.has(m[1]);
    record.auth = header === undefined ? 'none' : `${header.split(/\s/)[0]} ${accepted ? 'accepted' : 'rejected'}`;
    const appendOnly = accepted ? this.appendOnlyTokens.get(m![1]) : undefined;
    if (appendOnly !== undefined && req.method === 'DELETE' && !q.has('upload_id')) {
      throw new JsonApiError(403, 'forbidden', `${appendOnly} does not have storage.objects.delete access to the Google Cloud Storage object. Permission denied on resource (or it may not exist).`);
    }
    if (!this.accessTokens || accepted || q.has('upload_id')) return;
    const where = { locationType: 'header', location: 'Authorization' };
    const err =
      header === undefined
        ? new JsonApiError(401, 'required', `Anonymous caller does not have storage.objects.${req.method === 'GET' || req.method === 'HEAD' ? 'get' : 'create'} access to the Google Cloud Storage object. Permission denied on resource (or it may not exist).`, where)
        : new JsonApiError(401, 'authError', 'Invalid Credentials', where);
    err.headers['www-authenticate'] = 'Bearer realm="https://accounts.google.com/"';
    throw err;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>(resolve => this.server.close(() => resolve()));
    this.server.closeAllConnections(); // keep-alive sockets and requests left hanging by 'timeout' faults
    await closed;
  }

  // --- dispatch -------------------------------------------------------------

  private pickFault(method: string, path: string): 429 | 503 | 'timeout' | undefined {
    const f = this.faults;
    if (!f || f.rate <= 0 || f.kinds.length === 0) return undefined;
    if (f.match) {
      f.match.lastIndex = 0;
      if (!f.match.test(`${method} ${path}`)) return undefined;
    }
    if (this.random() >= f.rate) return undefined;
    return f.kinds[Math.floor(this.random() * f.kinds.length)];
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    req.on('error', () => {}); // clients that give up reset the socket
    res.on('error', () => {});
    const rawTarget = req.url ?? '/';
    const q = rawTarget.indexOf('?');
    const rawPath = q < 0 ? rawTarget : rawTarget.slice(0, q);
    const record: GcsRequestRecord = { method: req.method ?? 'GET', path: rawPath, query: q < 0 ? '' : rawTarget.slice(q + 1), status: 0, auth: 'none' };
    const fault = this.pickFault(record.method, rawPath); // decided before anything is read or changed
    let body: Buffer;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      body = Buffer.concat(chunks);
    } catch {
      this.requests.push(record); // the client went away mid-body; nothing changes
      return;
    }
    if (fault === 'timeout') {
      this.requests.push(record); // status 0: never answered; the client's timeout ends it
      return;
    }
    const reply = (status: number, headers: http.OutgoingHttpHeaders, payload?: Buffer | string, statusMessage?: string) => {
      record.status = status;
      this.requests.push(record);
      const noBody = status === 204 || status === 304;
      const buf = payload === undefined || noBody ? Buffer.alloc(0) : Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
      res.writeHead(status, statusMessage ?? http.STATUS_CODES[status] ?? 'Unknown', noBody ? headers : { 'content-length': buf.length, ...headers });
      res.end(req.method === 'HEAD' || noBody ? undefined : buf);
    };
    const isJsonApi = /^\/(storage\/v1|upload\/storage\/v1|download\/storage\/v1|b)(\/|$)/.test(rawPath);
    try {
      if (isJsonApi) this.requireAuthorization(req, new URLSearchParams(record.query), record);
      if (fault === 429) {
        throw new JsonApiError(429, 'rateLimitExceeded', 'The rate of change requests to the object exceeds the rate limit. Please reduce the rate of create, update, and delete requests.', {}, 'usageLimits');
      }
      if (fault === 503) throw new JsonApiError(503, 'backendError', 'We encountered an internal error. Please try again.');
      const url = new URL(rawTarget, this.url);
      if (isJsonApi) this.routeJsonApi(req, rawPath, url.searchParams, body, reply);
      else this.serveXmlApi(req, rawPath, url.searchParams, reply);
    } catch (err) {
      if (err instanceof JsonApiError) {
        reply(err.status, { 'content-type': JSON_CONTENT_TYPE, ...err.headers }, JSON.stringify(jsonErrorBody(err.status, err.reason, err.message, err.extra, err.domain)));
      } else if (err instanceof XmlApiError) {
        const more = Object.entries(err.more).map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join('');
        const details = err.details === undefined ? '' : `<Details>${xmlEscape(err.details)}</Details>`;
        const xml = `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message>${details}${more}</Error>`;
        reply(err.status, { 'content-type': 'application/xml; charset=UTF-8', ...err.headers }, xml);
      } else {
        reply(500, { 'content-type': JSON_CONTENT_TYPE }, JSON.stringify(jsonErrorBody(500, 'backendError', `gcsDouble internal error: ${String(err)}`)));
      }
    }
  }

  // --- JSON API ---------------------------------------------------------------

  private routeJsonApi(req: http.IncomingMessage, rawPath: string, q: URLSearchParams, body: Buffer, reply: Reply): void {
    const method = req.method ?? 'GET';
    const base = /^\/(upload|download)\/storage\/v1(?=\/)|^\/storage\/v1(?=\/)/.exec(rawPath);
    const kind = base?.[1] ?? 'storage';
    const rest = rawPath.slice(base ? base[0].length : 0); // no prefix: the STORAGE_EMULATOR_HOST quirk
    // /b/{bucket}[/o[/{object}]]; object names are one percent-encoded segment
    // (`/` is %2F), a raw `/` in the name is tolerated.
    const m = /^\/b\/([^/]+)(\/o(?:\/(.+))?)?\/?$/.exec(rest);
    if (!m) throw new JsonApiError(404, 'notFound', `Not Found: ${method} ${rawPath}`);
    const bucketName = decodeURIComponent(m[1]);
    const hasObjectsPath = m[2] !== undefined;
    const objectName = m[3] === undefined ? undefined : decodeURIComponent(m[3]);

    if (kind === 'upload') {
      if (!hasObjectsPath || objectName !== undefined) throw new JsonApiError(404, 'notFound', `Not Found: ${method} ${rawPath}`);
      const sessionId = q.get('upload_id');
      if (sessionId !== null) return this.resumableSessionRequest(req, sessionId, body, reply);
      if (method !== 'POST') throw new JsonApiError(405, 'methodNotAllowed', `${method} is not allowed on the upload endpoint.`);
      return this.upload(req, this.bucket(bucketName), q, body, reply);
    }
    const bucket = this.bucket(bucketName);
    if (!hasObjectsPath) {
      if (method !== 'GET') throw notImplemented(method, rawPath);
      return reply(200, { 'content-type': JSON_CONTENT_TYPE }, JSON.stringify(this.bucketResource(bucket)));
    }
    if (objectName === undefined) {
      if (method !== 'GET') throw notImplemented(method, rawPath);
      return reply(200, { 'content-type': JSON_CONTENT_TYPE }, JSON.stringify(this.list(bucket, q)));
    }
    if (method === 'GET' && (kind === 'download' || q.get('alt') === 'media')) return this.download(req, bucket, objectName, q, reply);
    if (method === 'GET') {
      const o = this.readable(bucket, objectName, q);
      return reply(200, { 'content-type': JSON_CONTENT_TYPE }, JSON.stringify(this.objectResource(bucket.name, o)));
    }
    if (method === 'DELETE') return this.deleteObject(bucket, objectName, q, reply);
    throw notImplemented(method, rawPath);
  }

  private bucket(name: string): BucketState {
    const b = this.buckets.get(name);
    if (!b) throw notFoundBucket();
    return b;
  }

  /** The live object a read addresses, after `generation=` and the read preconditions. */
  private readable(bucket: BucketState, name: string, q: URLSearchParams): StoredObject {
    const live = bucket.objects.get(name);
    const generation = q.get('generation');
    if (!live || (generation !== null && generation !== live.generation)) throw notFoundObject(bucket.name, name);
    const pre = checkPreconditions(live, q, true);
    if (pre === 'failed') throw conditionNotMet();
    if (pre === 'notModified') throw new JsonApiError(304, 'notModified', 'Not Modified');
    return live;
  }

  private bucketResource(b: BucketState) {
    return {
      kind: 'storage#bucket',
      selfLink: `${this.url}/storage/v1/b/${b.name}`,
      id: b.name,
      name: b.name,
      projectNumber: '1',
      metageneration: '1',
      location: 'US',
      storageClass: 'STANDARD',
      etag: 'CAE=',
      timeCreated: b.timeCreated,
      updated: b.timeCreated,
      iamConfiguration: { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: 'enforced' },
      locationType: 'multi-region',
    };
  }

  private objectResource(bucket: string, o: StoredObject) {
    const enc = encodeURIComponent(o.name);
    return {
      kind: 'storage#object',
      id: `${bucket}/${o.name}/${o.generation}`,
      selfLink: `${this.url}/storage/v1/b/${bucket}/o/${enc}`,
      mediaLink: `${this.url}/download/storage/v1/b/${bucket}/o/${enc}?generation=${o.generation}&alt=media`,
      name: o.name,
      bucket,
      generation: o.generation,
      metageneration: o.metageneration,
      contentType: o.contentType,
      storageClass: 'STANDARD',
      size: String(o.data.length),
      md5Hash: o.md5Hash,
      crc32c: o.crc32c,
      etag: objectEtag(o),
      timeCreated: o.timeCreated,
      updated: o.updated,
      timeStorageClassUpdated: o.timeCreated,
      timeFinalized: o.timeCreated,
      ...(o.contentEncoding !== undefined && { contentEncoding: o.contentEncoding }),
      ...(o.cacheControl !== undefined && { cacheControl: o.cacheControl }),
      ...(o.contentDisposition !== undefined && { contentDisposition: o.contentDisposition }),
      ...(o.metadata !== undefined && { metadata: o.metadata }),
    };
  }

  /** objects.list: sorted by UTF-8 bytes; maxResults counts items and prefixes together. */
  private list(bucket: BucketState, q: URLSearchParams) {
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxResults = q.has('maxResults') ? Number(q.get('maxResults')) : 1000;
    if (!Number.isInteger(maxResults) || maxResults < 1) throw badRequest(`Invalid value for maxResults: ${q.get('maxResults')}`);
    const pageSize = Math.min(maxResults, 1000);
    const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    let after: string | undefined;
    const token = q.get('pageToken');
    if (token) {
      try {
        after = (JSON.parse(Buffer.from(token, 'base64url').toString()) as { after: string }).after;
      } catch {
        throw badRequest('Invalid page token.');
      }
      if (typeof after !== 'string') throw badRequest('Invalid page token.');
    }
    const startOffset = q.get('startOffset');
    const endOffset = q.get('endOffset');
    const names = [...bucket.objects.keys()]
      .filter(n => n.startsWith(prefix))
      .filter(n => (startOffset === null || cmp(n, startOffset) >= 0) && (endOffset === null || endOffset === '' || cmp(n, endOffset) < 0))
      .filter(n => after === undefined || cmp(n, after) > 0)
      .sort(cmp);
    const items: StoredObject[] = [];
    const prefixes: string[] = [];
    let last: string | undefined;
    let nextPageToken: string | undefined;
    for (let i = 0; i < names.length; ) {
      if (items.length + prefixes.length === pageSize) {
        nextPageToken = Buffer.from(JSON.stringify({ after: last })).toString('base64url');
        break;
      }
      const name = names[i];
      const cut = delimiter ? name.indexOf(delimiter, prefix.length) : -1;
      if (cut >= 0) {
        // Every name under this "directory" is folded into one prefix entry.
        const p = name.slice(0, cut + delimiter.length);
        prefixes.push(p);
        while (i < names.length && names[i].startsWith(p)) last = names[i++];
      } else {
        items.push(bucket.objects.get(name)!);
        last = names[i++];
      }
    }
    return {
      kind: 'storage#objects',
      ...(nextPageToken !== undefined && { nextPageToken }),
      ...(prefixes.length > 0 && { prefixes }),
      ...(items.length > 0 && { items: items.map(o => this.objectResource(bucket.name, o)) }),
    };
  }

  /** Media download (alt=media): headers as the JSON API sends them, Range → 206/416. */
  private download(req: http.IncomingMessage, bucket: BucketState, name: string, q: URLSearchParams, reply: Reply): void {
    const o = this.readable(bucket, name, q);
    const headers: http.OutgoingHttpHeaders = {
      'content-type': o.contentType,
      etag: objectEtag(o),
      'x-goog-generation': o.generation,
      'x-goog-metageneration': o.metageneration,
      'x-goog-hash': `crc32c=${o.crc32c},md5=${o.md5Hash}`,
      'x-goog-stored-content-encoding': o.contentEncoding ?? 'identity',
      'x-goog-stored-content-length': String(o.data.length),
      'x-goog-storage-class': 'STANDARD',
      'cache-control': 'no-cache, no-store, max-age=0, must-revalidate',
    };
    this.sendMedia(req, o, headers, reply, () => new JsonApiError(416, 'requestedRangeNotSatisfiable', 'Request range not satisfiable'));
  }

  /** Object bytes with Range handling; gzip-stored objects are decompressed for clients that do not accept gzip. */
  private sendMedia(req: http.IncomingMessage, o: StoredObject, headers: http.OutgoingHttpHeaders, reply: Reply, unsatisfiable: () => JsonApiError | XmlApiError): void {
    const acceptsGzip = /\bgzip\b/.test(firstHeader(req.headers['accept-encoding']) ?? '');
    if (o.contentEncoding === 'gzip') {
      if (!acceptsGzip) return reply(200, headers, zlib.gunzipSync(o.data)); // decompressive transcoding ignores Range
      headers['content-encoding'] = 'gzip';
    }
    const range = parseRange(firstHeader(req.headers.range), o.data.length);
    if (range.kind === 'unsatisfiable') {
      const err = unsatisfiable();
      err.headers['content-range'] = `bytes */${o.data.length}`;
      throw err;
    }
    if (range.kind === 'full') return reply(200, headers, o.data);
    headers['content-range'] = `bytes ${range.start}-${range.end}/${o.data.length}`;
    reply(206, headers, o.data.subarray(range.start, range.end + 1));
  }

  private deleteObject(bucket: BucketState, name: string, q: URLSearchParams, reply: Reply): void {
    const live = bucket.objects.get(name);
    const generation = q.get('generation');
    if (!live || (generation !== null && generation !== live.generation)) throw notFoundObject(bucket.name, name);
    if (checkPreconditions(live, q, false) !== 'ok') throw conditionNotMet();
    bucket.objects.delete(name);
    reply(204, {});
  }

  // --- uploads ----------------------------------------------------------------

  private upload(req: http.IncomingMessage, bucket: BucketState, q: URLSearchParams, body: Buffer, reply: Reply): void {
    const uploadType = q.get('uploadType');
    for (const k of ['ifGenerationMatch', 'ifGenerationNotMatch', 'ifMetagenerationMatch', 'ifMetagenerationNotMatch']) integerParam(q, k); // 400 on junk, early
    if (uploadType === 'media') {
      const name = q.get('name');
      if (!name) throw badRequest('Required', 'required');
      const contentType = firstHeader(req.headers['content-type']) ?? 'application/octet-stream';
      const result = this.commit(bucket, name, body, { contentType }, q, parseGoogHash(req.headers['x-goog-hash']));
      return reply(200, { 'content-type': JSON_CONTENT_TYPE }, JSON.stringify(result));
    }
    if (uploadType === 'multipart') {
      const parts = parseMultipartRelated(firstHeader(req.headers['content-type']), body);
      if (parts.length !== 2) throw badRequest(`Expected 2 parts in a multipart upload, got ${parts.length}.`);
      let meta: WriteMetadata;
      try {
        meta = parts[0].content.length ? (JSON.parse(parts[0].content.toString()) as WriteMetadata) : {};
      } catch {
        throw badRequest('Metadata part is not valid JSON.', 'parseError');
      }
      const name = q.get('name') ?? meta.name;
      if (!name) throw badRequest('Required', 'required');
      const contentType = meta.contentType ?? parts[1].headers['content-type'] ?? 'application/octet-stream';
      const result = this.commit(bucket, name, parts[1].content, { ...meta, contentType }, q, parseGoogHash(req.headers['x-goog-hash']));
      return reply(200, { 'content-type': JSON_CONTENT_TYPE }, JSON.stringify(result));
    }
    if (uploadType === 'resumable') {
      let meta: WriteMetadata;
      try {
        meta = body.length ? (JSON.parse(body.toString()) as WriteMetadata) : {};
      } catch {
        throw badRequest('Metadata is not valid JSON.', 'parseError');
      }
      const name = q.get('name') ?? meta.name;
      if (!name) throw badRequest('Required', 'required');
      const declared = firstHeader(req.headers['x-upload-content-length']);
      const session: UploadSession = {
        id: crypto.randomBytes(24).toString('base64url'),
        bucket: bucket.name,
        name,
        contentType: firstHeader(req.headers['x-upload-content-type']) ?? meta.contentType ?? 'application/octet-stream',
        meta,
        // Preconditions ride on the session and are evaluated when the upload
        // completes (the library's system test expects the 412 in the body of
        // the final PUT, not on the initiating POST).
        preconditions: new URLSearchParams([...q.entries()].filter(([k]) => /^if(Meta)?[gG]eneration(Not)?Match$/.test(k))),
        declaredSize: declared === undefined ? undefined : Number(declared),
        chunks: [],
        persisted: 0,
      };
      this.sessions.set(session.id, session);
      const location = `${this.url}/upload/storage/v1/b/${bucket.name}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${session.id}`;
      return reply(200, { location, 'x-guploader-uploadid': session.id, 'content-type': 'text/plain; charset=utf-8' });
    }
    throw badRequest(`Invalid upload type: ${uploadType ?? '(none)'}`);
  }

  /**
   * PUT to a session URI. `Content-Range: bytes a-b/total|*` carries a chunk,
   * `bytes a-*\/total|*` the rest of the object, `bytes *\/total|*` asks for
   * the status. Incomplete → 308 with `Range: bytes=0-N` (none when nothing
   * is persisted); complete → 200 + object JSON (repeated for later requests).
   */
  private resumableSessionRequest(req: http.IncomingMessage, id: string, body: Buffer, reply: Reply): void {
    const s = this.sessions.get(id);
    if (!s) throw new JsonApiError(404, 'notFound', 'No such upload session.');
    const finish = (status: number, payload: unknown) => {
      s.final = { status, body: payload };
      s.chunks = [];
      reply(status, { 'content-type': JSON_CONTENT_TYPE }, JSON.stringify(payload));
    };
    if (req.method === 'DELETE') {
      // Cancelling a session: GCS answers 499 and the session is gone.
      s.final = { status: 410, body: jsonErrorBody(410, 'gone', 'The upload session was cancelled.') };
      s.chunks = [];
      return reply(499, {}, '', 'Client Closed Request');
    }
    if (req.method !== 'PUT' && req.method !== 'POST') throw new JsonApiError(405, 'methodNotAllowed', `${req.method} on an upload session`);
    if (s.final) return reply(s.final.status, { 'content-type': JSON_CONTENT_TYPE }, JSON.stringify(s.final.body));
    const incomplete = () => reply(308, s.persisted > 0 ? { range: `bytes=0-${s.persisted - 1}` } : {}, undefined, 'Resume Incomplete');
    const tryCommit = (data: Buffer) => {
      try {
        if (s.declaredSize !== undefined && s.declaredSize !== data.length) {
          throw badRequest(`Upload of ${data.length} bytes does not match X-Upload-Content-Length ${s.declaredSize}.`);
        }
        const bucket = this.bucket(s.bucket);
        finish(200, this.commit(bucket, s.name, data, { ...s.meta, contentType: s.contentType }, s.preconditions, parseGoogHash(req.headers['x-goog-hash'])));
      } catch (err) {
        if (!(err instanceof JsonApiError)) throw err;
        finish(err.status, jsonErrorBody(err.status, err.reason, err.message, err.extra, err.domain));
      }
    };
    const contentRange = firstHeader(req.headers['content-range'])?.trim() ?? `bytes 0-*/*`;
    const status = /^bytes \*\/(\d+|\*)$/.exec(contentRange);
    if (status) {
      if (body.length > 0) throw badRequest('A status query must not carry data.');
      if (status[1] !== '*' && Number(status[1]) === s.persisted) return tryCommit(Buffer.concat(s.chunks));
      return incomplete();
    }
    const m = /^bytes (\d+)-(-?\d+|\*)\/(\d+|\*)$/.exec(contentRange);
    if (!m) throw badRequest(`Invalid Content-Range: ${contentRange}`);
    const start = Number(m[1]);
    const total = m[3] === '*' ? undefined : Number(m[3]);
    if (m[2] !== '*' && Number(m[2]) - start + 1 !== body.length) {
      throw badRequest(`Content-Range ${contentRange} does not match the ${body.length} bytes received.`);
    }
    if (start > s.persisted) throw badRequest(`Invalid request. The upload offset ${start} is past the ${s.persisted} bytes persisted so far.`);
    const fresh = body.subarray(s.persisted - start); // bytes already persisted are skipped
    const end = start + body.length; // exclusive
    const isFinal = m[2] === '*' || (total !== undefined && end === total);
    if (total !== undefined && end > total) throw badRequest(`Content-Range ${contentRange} goes past the declared total.`);
    if (isFinal) {
      if (total !== undefined && total !== end) throw badRequest(`Content-Range ${contentRange} does not match the ${body.length} bytes received.`);
      s.chunks.push(Buffer.from(fresh));
      s.persisted += fresh.length;
      return tryCommit(Buffer.concat(s.chunks));
    }
    if (body.length < CHUNK_GRANULARITY) {
      throw badRequest(
        `Invalid request.  The number of bytes uploaded is required to be equal or greater than 262144, except for the final request (it's recommended to be the exact multiple of 262144).  The received request contained ${body.length} bytes, which does not meet this requirement.`,
      );
    }
    // Only whole 256 KiB units of a non-final chunk are persisted; the client
    // must resend the rest (it reads the Range header to find out).
    const keepUntil = Math.floor(end / CHUNK_GRANULARITY) * CHUNK_GRANULARITY;
    if (keepUntil > s.persisted) {
      const take = fresh.subarray(0, keepUntil - s.persisted);
      s.chunks.push(Buffer.from(take));
      s.persisted += take.length;
    }
    incomplete();
  }

  /**
   * Installs a new generation of `name`, or throws. Hashes are checked first
   * (400), then preconditions (412); the check and the write happen in one
   * synchronous step, so concurrent conditional writers cannot both win.
   */
  private commit(bucket: BucketState, name: string, data: Buffer, meta: WriteMetadata & { contentType: string }, preconditions: URLSearchParams, goog: Record<string, string>) {
    const crc = crc32cBase64(data);
    const md5 = md5Base64(data);
    const claimedCrc = goog.crc32c ?? meta.crc32c;
    const claimedMd5 = goog.md5 ?? meta.md5Hash;
    if (claimedCrc !== undefined && claimedCrc !== crc) throw badRequest(`Provided CRC32C "${claimedCrc}" doesn't match calculated CRC32C "${crc}".`);
    if (claimedMd5 !== undefined && claimedMd5 !== md5) throw badRequest(`Provided MD5 hash "${claimedMd5}" doesn't match calculated MD5 hash "${md5}".`);
    if (checkPreconditions(bucket.objects.get(name), preconditions, false) !== 'ok') throw conditionNotMet();
    this.lastGeneration = Math.max(this.lastGeneration + 1, Date.now() * 1000); // microsecond-like, strictly increasing
    const now = new Date().toISOString();
    const metadata = meta.metadata ? Object.fromEntries(Object.entries(meta.metadata).map(([k, v]) => [k, String(v)])) : undefined;
    const o: StoredObject = {
      name,
      generation: String(this.lastGeneration),
      metageneration: '1',
      data: Buffer.from(data),
      contentType: meta.contentType,
      timeCreated: now,
      updated: now,
      md5Hash: md5,
      crc32c: crc,
      ...(metadata && { metadata }),
      ...(meta.contentEncoding !== undefined && { contentEncoding: meta.contentEncoding }),
      ...(meta.cacheControl !== undefined && { cacheControl: meta.cacheControl }),
      ...(meta.contentDisposition !== undefined && { contentDisposition: meta.contentDisposition }),
    };
    bucket.objects.set(name, o);
    return this.objectResource(bucket.name, o);
  }

  // --- XML API: path-style object reads, V4 signed URLs ----------------------

  private serveXmlApi(req: http.IncomingMessage, rawPath: string, q: URLSearchParams, reply: Reply): void {
    const m = /^\/([^/]+)\/(.+)$/.exec(rawPath);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new XmlApiError(501, 'NotImplemented', 'A header or query you provided requested a function that is not implemented.', `gcsDouble emulates only GET/HEAD on the XML API, not ${req.method}.`);
    if (!m) throw new XmlApiError(404, 'NoSuchKey', 'The specified key does not exist.');
    if (!q.has('X-Goog-Signature') && !q.has('X-Goog-Algorithm')) {
      // No credentials: objects are private (uniform bucket-level access, public access prevention).
      throw new XmlApiError(403, 'AccessDenied', 'Access denied.', 'Anonymous caller does not have storage.objects.get access to the Google Cloud Storage object. Permission \'storage.objects.get\' denied on resource (or it may not exist).');
    }
    verifyV4Signature(req, rawPath, q, this.signers);
    const bucket = this.buckets.get(decodeURIComponent(m[1]));
    if (!bucket) throw new XmlApiError(404, 'NoSuchBucket', 'The specified bucket does not exist.');
    const name = decodeURIComponent(m[2]);
    const o = bucket.objects.get(name);
    const generation = q.get('generation');
    if (!o || (generation !== null && generation !== o.generation)) throw new XmlApiError(404, 'NoSuchKey', 'The specified key does not exist.', `No such object: ${bucket.name}/${name}`);
    const headers: http.OutgoingHttpHeaders = {
      'content-type': q.get('response-content-type') ?? o.contentType,
      etag: `"${Buffer.from(o.md5Hash, 'base64').toString('hex')}"`,
      'last-modified': new Date(o.updated).toUTCString(),
      'x-goog-generation': o.generation,
      'x-goog-metageneration': o.metageneration,
      'x-goog-hash': [`crc32c=${o.crc32c}`, `md5=${o.md5Hash}`],
      'x-goog-stored-content-encoding': o.contentEncoding ?? 'identity',
      'x-goog-stored-content-length': String(o.data.length),
      'x-goog-storage-class': 'STANDARD',
      'accept-ranges': 'bytes',
      'cache-control': 'private, max-age=0',
    };
    const disposition = q.get('response-content-disposition') ?? o.contentDisposition;
    if (disposition) headers['content-disposition'] = disposition;
    for (const [k, v] of Object.entries(o.metadata ?? {})) headers[`x-goog-meta-${k.toLowerCase()}`] = v;
    this.sendMedia(req, o, headers, reply, () =>
      new XmlApiError(416, 'InvalidRange', 'The requested range cannot be satisfied.', firstHeader(req.headers.range)),
    );
  }
}

type Reply = (status: number, headers: http.OutgoingHttpHeaders, payload?: Buffer | string, statusMessage?: string) => void;

function notImplemented(method: string, path: string): JsonApiError {
  return new JsonApiError(501, 'notImplemented', `gcsDouble does not emulate ${method} ${path}`);
}

export async function startGcsDouble(opts: {
  /** Service accounts whose V4 signed URLs are accepted: client_email → PEM public key (or certificate). */
  signers?: Record<string, string>;
  faults?: GcsFaults;
  /** Require `Authorization: Bearer <one of these>` on the JSON API (default: no authentication, like an emulator). */
  accessTokens?: string[];
} = {}): Promise<GcsDouble> {
  const double = new GcsDoubleServer(opts);
  await double.listen();
  return double;
}
