// The few request headers the hit path reads, found in `req.rawHeaders`
// (the name, value list Node's parser fills) instead of `req.headers`. Node
// builds `req.headers` on first access: one lower-cased property store per
// header, into an object of arbitrary keys. A hit answered from memory needs
// three or four values, and building the object cost it more than looking
// them up. Anything unusual (a header that asks for more than a plain GET, or
// a repeated one whose merged value Node would compute) sends the request
// down the full path, which reads `req.headers` as before.

/** What a hit needs from its request's headers. */
export interface HitHeaders {
  userAgent: string | undefined;
  traceparent: string | undefined;
  cloudTraceContext: string | undefined;
}

/** Whether `name` (as sent) is `lower` (lower-case), compared without allocating for names of another length. */
function nameIs(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || name.toLowerCase() === lower);
}

/**
 * The headers of a request that can be answered from memory as it stands: a
 * GET or HEAD without a body, condition or range. Undefined when it has a
 * header the full path treats differently (Content-Length, Transfer-Encoding,
 * Expect, Range, If-Range, If-None-Match), or a trace header twice.
 */
export function hitHeaders(raw: string[]): HitHeaders | undefined {
  let userAgent: string | undefined;
  let traceparent: string | undefined;
  let cloudTraceContext: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // By length first: most names (Host, Accept, …) are passed over without a comparison.
    switch (name.length) {
      case 10:
        // Node keeps the first User-Agent of several.
        if (userAgent === undefined && nameIs(name, 'user-agent')) userAgent = raw[i + 1];
        break;
      case 11:
        if (nameIs(name, 'traceparent')) {
          if (traceparent !== undefined) return undefined;
          traceparent = raw[i + 1];
        }
        break;
      case 21:
        if (nameIs(name, 'x-cloud-trace-context')) {
          if (cloudTraceContext !== undefined) return undefined;
          cloudTraceContext = raw[i + 1];
        }
        break;
      case 5: // range
      case 6: // expect
      case 8: // if-range
      case 13: // if-none-match
      case 14: // content-length
      case 17: // transfer-encoding
        if (asksMore(name)) return undefined;
        break;
    }
  }
  return { userAgent, traceparent, cloudTraceContext };
}

const ASKS_MORE = new Set(['range', 'expect', 'if-range', 'if-none-match', 'content-length', 'transfer-encoding']);

function asksMore(name: string): boolean {
  return ASKS_MORE.has(name) || ASKS_MORE.has(name.toLowerCase());
}

/** Whether the request has a header that announces a body (Content-Length or Transfer-Encoding, any value). */
export function announcesBody(raw: string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if ((name.length === 14 && nameIs(name, 'content-length')) || (name.length === 17 && nameIs(name, 'transfer-encoding'))) return true;
  }
  return false;
}
