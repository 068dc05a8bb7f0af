// The fields of a request's log line, in Cloud Logging's shape: `httpRequest`
// (https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry#HttpRequest),
// the trace the request belongs to, who asked, and why it failed. Built as
// JSON text directly (Logger.logJson): every hit writes one, and serializing
// an object graph for it cost more than the rest of the hit. A hit's line is
// put together from pieces made once (HitLines).
import type { IncomingMessage } from 'node:http';
import { putBytes, type EncodedLine } from '../log/lineBatch.js';
import { traceField } from '../log/trace.js';
import type { HitHeaders } from './rawHeaders.js';

export interface RequestLineFacts {
  status: number;
  /** Body bytes written. */
  size: number;
  seconds: number;
  identity?: string;
  /** Why a request failed, for statuses below 500 (a 5xx says it in the message). */
  reason?: string;
}

/** The headers a request line shows, from `req.headers`. */
export function lineHeaders(req: IncomingMessage): HitHeaders {
  const h = req.headers;
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(', ') : v);
  return { userAgent: h['user-agent'], traceparent: one(h.traceparent), cloudTraceContext: one(h['x-cloud-trace-context']) };
}

/** `"httpRequest":{` and its members up to the response size: what every hit of one URL and method repeats. */
function httpRequestHead(method: string, url: string, status: number, size: number): string {
  // Strings a client chose go through JSON.stringify; the rest are numbers and our own words.
  return `"httpRequest":{"requestMethod":${JSON.stringify(method)},"requestUrl":${JSON.stringify(url)},"status":${status},"responseSize":"${size}"`;
}

const userAgentMember = (ua: string | undefined): string => (ua === undefined ? '' : `,"userAgent":${JSON.stringify(ua)}`);

/** A latency in whole milliseconds (Cloud Logging's `latency` is a duration string: "0.012s"). */
const latencyMs = (seconds: number): number => Math.max(0, Math.round(seconds * 1000));

/** `latency` as seconds with three decimals. */
function latencyText(seconds: number): string {
  const ms = latencyMs(seconds);
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}s`;
}

/** The trace member after `httpRequest`, with its comma, or '' (ids checked to be hex: trace.ts). */
function traceMember(headers: HitHeaders): string {
  if (headers.traceparent === undefined && headers.cloudTraceContext === undefined) return '';
  const trace = traceField(headers.traceparent, headers.cloudTraceContext);
  return trace ? ',' + JSON.stringify(trace).slice(1, -1) : '';
}

/** The rest of `httpRequest` after the user agent, closing it, then the trace. */
function httpRequestTail(seconds: number, headers: HitHeaders): string {
  return `,"latency":"${latencyText(seconds)}"}` + traceMember(headers);
}

/**
 * The members of the line's JSON object (for Logger.logJson). `headers`:
 * those the hit path read from the raw list (rawHeaders.ts); by default
 * `req.headers`.
 */
export function requestLineJson(req: IncomingMessage, facts: RequestLineFacts, headers: HitHeaders = lineHeaders(req)): string {
  let json = httpRequestHead(req.method ?? 'GET', req.url ?? '/', facts.status, facts.size) + userAgentMember(headers.userAgent) + httpRequestTail(facts.seconds, headers);
  if (facts.identity) json += `,"identity":${JSON.stringify(facts.identity)}`;
  if (facts.reason !== undefined) json += `,"reason":${JSON.stringify(facts.reason)}`;
  return json;
}

const LATENCY_OPEN = Buffer.from(',"latency":"', 'latin1');
const LATENCY_CLOSE = Buffer.from('s"}', 'latin1');
/** Digits of a latency's whole seconds at most (a hit's is 0). */
const MAX_SECONDS_DIGITS = 16;
const EMPTY = Buffer.alloc(0);

/**
 * The request lines of hits, the bytes of the text requestLineJson makes,
 * from pieces made, redacted and encoded once (for Logger.logEncoded): the
 * head per answer and method (`head`, kept by the caller with its answer),
 * the user agent's member per distinct user agent (one remembered: a fleet of
 * go commands sends one). A hit then costs a few copies of bytes, not three
 * JSON.stringify calls, a scan of the whole line for secrets, and strings
 * joined and encoded again. Each piece a client chose is redacted alone,
 * which masks what redacting the line would: every pattern of `redact` but
 * the PEM block stays within one JSON string, and a PEM block's header has
 * spaces, which the URL of a hit (a valid module path and version) cannot,
 * and the trace member is hex.
 *
 * `members` returns this object, set for one hit: the logger encodes it
 * before the call returns, so one object serves every hit.
 */
export class HitLines implements EncodedLine {
  private lastUserAgent: string | undefined;
  private lastUserAgentJson = EMPTY;
  maxBytes = 0;
  private head: Buffer = EMPTY;
  private userAgent: Buffer = EMPTY;
  private ms = 0;
  private trace: Buffer = EMPTY;

  constructor(private readonly redact: (text: string) => string) {}

  /** The part every hit of one URL and method repeats (redacted, UTF-8): made once, kept by the caller. */
  headOf(method: string, url: string, status: number, size: number): Buffer {
    return Buffer.from(this.redact(httpRequestHead(method, url, status, size)), 'utf8');
  }

  /** The members of one hit's line, after its `head` (this object, until the next call). */
  members(head: Buffer, seconds: number, headers: HitHeaders): EncodedLine {
    const ua = headers.userAgent;
    let uaJson = EMPTY;
    if (ua !== undefined) {
      if (ua !== this.lastUserAgent) {
        this.lastUserAgentJson = Buffer.from(this.redact(userAgentMember(ua)), 'utf8');
        this.lastUserAgent = ua;
      }
      uaJson = this.lastUserAgentJson;
    }
    const trace = headers.traceparent === undefined && headers.cloudTraceContext === undefined ? EMPTY : Buffer.from(traceMember(headers), 'latin1');
    this.head = head;
    this.userAgent = uaJson;
    this.ms = latencyMs(seconds);
    this.trace = trace;
    this.maxBytes = head.length + uaJson.length + LATENCY_OPEN.length + MAX_SECONDS_DIGITS + 4 + LATENCY_CLOSE.length + trace.length;
    return this;
  }

  encode(buf: Buffer, at: number): number {
    at = putBytes(buf, at, this.head);
    at = putBytes(buf, at, this.userAgent);
    at = putBytes(buf, at, LATENCY_OPEN);
    at = writeMillisAsSeconds(buf, at, this.ms);
    at = putBytes(buf, at, LATENCY_CLOSE);
    return putBytes(buf, at, this.trace);
  }
}

/** Writes `ms` as latencyText's seconds (without the unit): whole seconds, a point, three digits. */
function writeMillisAsSeconds(buf: Buffer, at: number, ms: number): number {
  const frac = ms % 1000;
  const whole = (ms - frac) / 1000;
  // A hit takes well under a second: its whole part is one digit.
  if (whole < 10) buf[at++] = 0x30 + whole;
  else at += buf.write(String(whole), at, 'latin1');
  buf[at] = 0x2e; // .
  buf[at + 1] = 0x30 + Math.floor(frac / 100);
  buf[at + 2] = 0x30 + (Math.floor(frac / 10) % 10);
  buf[at + 3] = 0x30 + (frac % 10);
  return at + 4;
}
