import type { IncomingMessage } from 'node:http';
import { expect, it } from 'vitest';
import { requestLineJson } from './requestLine.js';

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
