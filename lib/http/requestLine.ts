// The fields of a request's log line, in Cloud Logging's shape: `httpRequest`
// (https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry#HttpRequest),
// the trace the request belongs to, who asked, and why it failed. Built as
// JSON text directly (Logger.logJson): every hit writes one, and serializing
// an object graph for it cost more than the rest of the hit.
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

/**
 * The members of the line's JSON object (for Logger.logJson). `headers`:
 * those the hit path read from the raw list (rawHeaders.ts); by default
 * `req.headers`.
 */
export function requestLineJson(req: IncomingMessage, facts: RequestLineFacts, headers: HitHeaders = lineHeaders(req)): string {
  const ua = headers.userAgent;
  // Strings a client chose go through JSON.stringify; the rest are numbers and our own words.
  let json =
    `"httpRequest":{"requestMethod":${JSON.stringify(req.method ?? 'GET')},"requestUrl":${JSON.stringify(req.url ?? '/')},` +
    `"status":${facts.status},"responseSize":"${facts.size}"${ua === undefined ? '' : `,"userAgent":${JSON.stringify(ua)}`},"latency":"${facts.seconds.toFixed(3)}s"}`;
  const trace = traceField(headers.traceparent, headers.cloudTraceContext);
  if (trace) json += ',' + JSON.stringify(trace).slice(1, -1);
  if (facts.identity) json += `,"identity":${JSON.stringify(facts.identity)}`;
  if (facts.reason !== undefined) json += `,"reason":${JSON.stringify(facts.reason)}`;
  return json;
}
