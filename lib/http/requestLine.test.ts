import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { encodedText } from '../log/lineBatch.js';
import { redact } from '../log/logger.js';
import { HitLines, requestLineJson } from './requestLine.js';

const request = (url: string, headers: Record<string, string>) => ({ method: 'GET', url, headers }) as unknown as IncomingMessage;

it('is the members of a JSON object in Cloud Logging shape, whatever a client puts in the URL and headers', () => {
  const hostile = '"}\n{"severity":"CRITICAL","message":"forged\u0000\u2028\\';
  const req = request(`/x/@v/list?${hostile}`, { 'user-agent': hostile, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  const before = process.env.GOOGLE_CLOUD_PROJECT;
  process.env.GOOGLE_CLOUD_PROJECT = 'proj';
  let line: unknown;
  try {
    line = JSON.parse(`{${requestLineJson(req, { status: 404, size: 12, seconds: 0.0123, identity: 'ci"bot', reason: 'not found: "x"' })}}`);
  } finally {
    if (before === undefined) delete process.env.GOOGLE_CLOUD_PROJECT;
    else process.env.GOOGLE_CLOUD_PROJECT = before;
  }
  expect(line).toEqual({
    httpRequest: { requestMethod: 'GET', requestUrl: `/x/@v/list?${hostile}`, status: 404, responseSize: '12', userAgent: hostile, latency: '0.012s' },
    'logging.googleapis.com/trace': `projects/proj/traces/0af7651916cd43dd8448eb211c80319c`,
    identity: 'ci"bot',
    reason: 'not found: "x"',
  });
});

it('leaves out what a request does not have (no user agent, no trace, no identity, no reason)', () => {
  const line = JSON.parse(`{${requestLineJson(request('/healthz', {}), { status: 200, size: 3, seconds: 0 })}}`);
  expect(line).toEqual({ httpRequest: { requestMethod: 'GET', requestUrl: '/healthz', status: 200, responseSize: '3', latency: '0.000s' } });
});

describe('HitLines', () => {
  const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  it('makes the text requestLineJson makes, redacted, as the user agent changes and comes back', () => {
    const hostile = '"}\n{"severity":"CRITICAL","message":"forged\u0000\u2028\\';
    const secret = 'curl Authorization: Bearer abcdefghijklmnop';
    const lines = new HitLines(redact);
    const url = `/x/@v/v1.0.0.mod`;
    const head = lines.headOf('GET', url, 200, 38);
    const before = process.env.GOOGLE_CLOUD_PROJECT;
    process.env.GOOGLE_CLOUD_PROJECT = 'proj';
    try {
      for (const [ua, traceparent] of [
        ['Go-http-client/1.1', undefined],
        [hostile, tp],
        [secret, undefined],
        [undefined, tp],
        ['Go-http-client/1.1', undefined],
        [secret, undefined],
      ] as const) {
        const headers = { userAgent: ua, traceparent, cloudTraceContext: undefined };
        const req = request(url, { ...(ua === undefined ? {} : { 'user-agent': ua }), ...(traceparent ? { traceparent } : {}) });
        const got = encodedText(lines.members(head, 0.0004, headers));
        expect(got).toBe(redact(requestLineJson(req, { status: 200, size: 38, seconds: 0.0004 })));
        expect(got).not.toContain('abcdefghijklmnop');
        JSON.parse(`{${got}}`);
      }
    } finally {
      if (before === undefined) delete process.env.GOOGLE_CLOUD_PROJECT;
      else process.env.GOOGLE_CLOUD_PROJECT = before;
    }
  });

  it('writes the latency as requestLineJson does, from a hit\'s microseconds to a slow request\'s minutes', () => {
    const lines = new HitLines(redact);
    const url = '/x/@v/v1.0.0.info';
    const head = lines.headOf('GET', url, 200, 186);
    for (const seconds of [0, 0.0000031, 0.0004999, 0.0005, 0.0015, 0.012, 0.9995, 1, 9.999, 10.0004, 61.25, 123456.789]) {
      const got = encodedText(lines.members(head, seconds, { userAgent: undefined, traceparent: undefined, cloudTraceContext: undefined }));
      expect(got).toBe(requestLineJson(request(url, {}), { status: 200, size: 186, seconds }));
      const latency = (JSON.parse(`{${got}}`) as { httpRequest: { latency: string } }).httpRequest.latency;
      // The same figure toFixed(3) gives (a millisecond's rounding at most).
      expect(Math.abs(Number(latency.slice(0, -1)) - Number(seconds.toFixed(3)))).toBeLessThanOrEqual(0.001);
    }
    expect(encodedText(lines.members(head, 0.0123, { userAgent: undefined, traceparent: undefined, cloudTraceContext: undefined }))).toContain('"latency":"0.012s"');
    expect(encodedText(lines.members(head, 61.25, { userAgent: undefined, traceparent: undefined, cloudTraceContext: undefined }))).toContain('"latency":"61.250s"');
  });

  it('redacts the head: a URL that carries a credential-looking part is masked once, when the head is made', () => {
    const jwt = 'eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2Q';
    const head = new HitLines(redact).headOf('HEAD', `/example.com/${jwt}/@v/v1.0.0.info`, 200, 0).toString('utf8');
    expect(head).not.toContain(jwt);
    expect(head).toContain('[REDACTED]');
  });
});
