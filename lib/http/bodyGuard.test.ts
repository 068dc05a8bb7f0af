import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.js';
import { guardBodies, judgeBody, passedBodyGuard } from './bodyGuard.js';

/** A request as Node's parser leaves it: headers lower-cased in `headers`, as sent in `rawHeaders`. */
const req = (method: string, url: string, sent: Record<string, string> = {}) =>
  ({ method, url, headers: Object.fromEntries(Object.entries(sent).map(([k, v]) => [k.toLowerCase(), v])), rawHeaders: Object.entries(sent).flat() }) as unknown as IncomingMessage;

describe('judgeBody', () => {
  it.each([
    ['GET', '/healthz', {}, { ok: true }],
    ['GET', '/healthz', { 'content-length': '0' }, { ok: true }],
    ['POST', '/anything', {}, { ok: true }],
    ['GET', '/healthz', { 'content-length': '1' }, { ok: false, status: 413 }],
    ['GET', '/healthz', { Host: 'x', 'Content-Length': '1' }, { ok: false, status: 413 }],
    ['GET', '/healthz', { 'TRANSFER-ENCODING': 'chunked' }, { ok: false, status: 413 }],
    ['GET', '/github.com/o/m/@v/list', { 'transfer-encoding': 'chunked' }, { ok: false, status: 413 }],
    ['POST', '/auth/userpasswordx', { 'content-length': '2' }, { ok: false, status: 413 }],
    ['PUT', '/auth/userpassword', { 'content-length': '2' }, { ok: false, status: 413 }],
    ['POST', '/auth/userpassword', { 'content-length': '65536' }, { ok: true }],
    ['POST', '/auth/userpassword?x=1', { 'content-length': '65537' }, { ok: false, status: 413 }],
    ['POST', '/auth/gce', { 'transfer-encoding': 'chunked' }, { ok: false, status: 411 }],
    ['POST', '/auth/gce', { 'content-length': '10', 'content-encoding': 'gzip' }, { ok: false, status: 415 }],
    ['POST', '/auth/gce', { 'content-length': '10', 'content-encoding': 'identity' }, { ok: true }],
  ] as const)('%s %s %j', (method, url, headers, verdict) => {
    expect(judgeBody(req(method, url, headers))).toMatchObject(verdict);
  });
});

describe('guardBodies', () => {
  it('marks the requests it passes only when asked (the functions-framework entry checks the mark; our own server needs none)', () => {
    const passed: boolean[] = [];
    const log = createLogger({ write: () => {} });
    const res = {} as ServerResponse;
    guardBodies((r) => passed.push(passedBodyGuard(r)), log)(req('GET', '/x'), res);
    guardBodies((r) => passed.push(passedBodyGuard(r)), log, { mark: true })(req('GET', '/x'), res);
    expect(passed).toEqual([false, true]);
  });
});
