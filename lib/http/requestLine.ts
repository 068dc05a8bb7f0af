// The fields of a request's log line, in Cloud Logging's shape: `httpRequest`
// (https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry#HttpRequest),
// the trace the request belongs to, who asked, and why it failed. Built as
// JSON text directly (Logger.logJson): every hit writes one, and serializing
// an object graph for it cost more than the rest of the hit. A hit's line is
// put together from pieces made once (HitLines).
import type { IncomingMessage } from 'node:http';
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

/** The rest of `httpRequest` after the user agent, closing it, then the trace (ids checked to be hex: trace.ts). */
function httpRequestTail(seconds: number, headers: HitHeaders): string {
  const tail = `,"latency":"${seconds.toFixed(3)}s"}`;
  if (headers.traceparent === undefined && headers.cloudTraceContext === undefined) return tail;
  const trace = traceField(headers.traceparent, headers.cloudTraceContext);
  return trace ? tail + ',' + JSON.stringify(trace).slice(1, -1) : tail;
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

/**
 * The request lines of hits, the same text requestLineJson makes, from
 * pieces made once and redacted once (for Logger.logRedactedJson): the head
 * per answer and method (`head`, kept by the caller with its answer), the
 * user agent's member per distinct user agent (one remembered: a fleet of go
 * commands sends one). A hit then costs a few concatenations, not three
 * JSON.stringify calls and a scan of the whole line for secrets. Each piece
 * a client chose is redacted alone, which masks what redacting the line
 * would: every pattern of `redact` but the PEM block stays within one JSON
 * string, and a PEM block's header has spaces, which the URL of a hit (a
 * valid module path and version) cannot, and the trace member is hex.
 */
export class HitLines {
  private lastUserAgent: string | undefined;
  private lastUserAgentJson = '';

  constructor(private readonly redact: (text: string) => string) {}

  /** The part every hit of one URL and method repeats (redacted): made once, kept by the caller. */
  head(method: string, url: string, status: number, size: number): string {
    return this.redact(httpRequestHead(method, url, status, size));
  }

  /** The members of one hit's line, all redacted, after its `head`. */
  members(head: string, seconds: number, headers: HitHeaders): string {
    const ua = headers.userAgent;
    let uaJson = '';
    if (ua !== undefined) {
      if (ua !== this.lastUserAgent) {
        this.lastUserAgentJson = this.redact(userAgentMember(ua));
        this.lastUserAgent = ua;
      }
      uaJson = this.lastUserAgentJson;
    }
    return head + uaJson + httpRequestTail(seconds, headers);
  }
}
