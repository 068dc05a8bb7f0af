import { describe, expect, it } from 'vitest';
import { announcesBody, hitHeaders } from './rawHeaders.js';

describe('hitHeaders', () => {
  it('reads User-Agent and the trace headers whatever their case, and passes over the rest', () => {
    expect(hitHeaders(['Host', 'x', 'USER-AGENT', 'Go-http-client/1.1', 'TraceParent', 'tp', 'X-Cloud-Trace-Context', 'xc', 'Accept-Encoding', 'gzip'])).toEqual({
      userAgent: 'Go-http-client/1.1',
      traceparent: 'tp',
      cloudTraceContext: 'xc',
    });
    expect(hitHeaders([])).toEqual({ userAgent: undefined, traceparent: undefined, cloudTraceContext: undefined });
  });

  it('keeps the first User-Agent of several, as Node does', () => {
    expect(hitHeaders(['user-agent', 'a', 'User-Agent', 'b'])?.userAgent).toBe('a');
  });

  it.each(['Range', 'IF-NONE-MATCH', 'If-Range', 'Content-Length', 'transfer-encoding', 'Expect'])('sends a request with %s down the full path', (name) => {
    expect(hitHeaders(['Host', 'x', name, 'v'])).toBeUndefined();
  });

  it('sends a repeated trace header down the full path (Node would merge the values)', () => {
    expect(hitHeaders(['traceparent', 'a', 'Traceparent', 'b'])).toBeUndefined();
    expect(hitHeaders(['x-cloud-trace-context', 'a', 'X-Cloud-Trace-Context', 'b'])).toBeUndefined();
  });

  it('is not fooled by names of the same length', () => {
    // 13 characters like if-none-match, 5 like range, 14 like content-length.
    expect(hitHeaders(['Authorization', 'x', 'Rangy', 'y', 'Content-Lengtx', 'z'])).toBeDefined();
  });
});

describe('announcesBody', () => {
  it('finds Content-Length and Transfer-Encoding in any case, and nothing else', () => {
    expect(announcesBody(['Host', 'x', 'CONTENT-LENGTH', '0'])).toBe(true);
    expect(announcesBody(['Transfer-Encoding', 'chunked'])).toBe(true);
    expect(announcesBody(['Host', 'x', 'Content-Type', 'a', 'Content-Lengthy', '1'])).toBe(false);
  });
});
