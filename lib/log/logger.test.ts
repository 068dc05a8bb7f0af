import { expect, it } from 'vitest';
import type { EncodedLine } from './lineBatch.js';
import { createLogger, redact } from './logger.js';

/** Members given as bytes, as the hit line gives them. */
const membersOf = (json: string): EncodedLine => {
  const bytes = Buffer.from(json, 'utf8');
  return { maxBytes: bytes.length, encode: (buf, at) => at + bytes.copy(buf, at) };
};

it('writes one Cloud Logging JSON object per line', () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), minSeverity: 'INFO' }).child({ component: 'test' });
  log.debug('dropped');
  log.info('hello', { httpRequest: { requestMethod: 'GET', requestUrl: '/', status: 200 } });
  log.error('bad');
  expect(lines).toHaveLength(2);
  const e = JSON.parse(lines[0]);
  expect(e).toMatchObject({ severity: 'INFO', message: 'hello', component: 'test', httpRequest: { status: 200 } });
  expect(JSON.parse(lines[1]).severity).toBe('ERROR');
});

it('masks credentials that reach a log line by mistake', () => {
  const key = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----';
  const out = redact(JSON.stringify({ a: 'Authorization: Bearer abc.def-ghi', b: 'token ghs_abcdefghijklmnopqrstuvwxyz0123', c: key, d: 'https://x-access-token:s3cr3t@github.com/o/r' }));
  expect(out).not.toMatch(/abc\.def-ghi|ghs_abcdef|MIIEpAIBAAKCAQEA|s3cr3t/);
});

it('masks each kind of credential on its own (the quick marker check lets none through)', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9abc.c2lnbmF0dXJlc2ln';
  for (const [line, secret] of [
    ['{"h":"authorization: token abcdef123"}', 'abcdef123'],
    ['{"h":"Authorization=Basic dXNlcjpwYXNz"}', 'dXNlcjpwYXNz'],
    ['{"t":"ghp_abcdefghijklmnop"}', 'ghp_abcdefghijklmnop'],
    ['{"k":"-----BEGIN PRIVATE KEY-----\\nMIIsecret\\n-----END PRIVATE KEY-----"}', 'MIIsecret'],
    ['{"u":"https://X-Access-Token:s3cr3t@git.example/o/r"}', 's3cr3t'],
    [`{"q":"/x?t=${jwt}"}`, jwt],
  ] as const) {
    expect(redact(line)).not.toContain(secret);
  }
  const plain = '{"httpRequest":{"requestUrl":"/github.com/acme/lib/@v/v1.0.0.mod"}}';
  expect(redact(plain)).toBe(plain);
});

it('writes lines whose members come as JSON already (logJson) like any other line: same shape, severity floor, redaction', () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), minSeverity: 'INFO' }).child({ component: 'http' });
  log.logJson('DEBUG', 'dropped', '"a":1');
  log.logJson('INFO', 'request "quoted"', '"httpRequest":{"status":200,"userAgent":"Authorization: Bearer abc.def-ghi"}');
  log.logJson('WARNING', 'bare', '');
  log.logJson('ERROR', 'request failed: git said Authorization: token ghs_abcdefghijklmnopqrstuvwxyz0123', '');
  expect(lines).toHaveLength(3);
  expect(lines[2]).not.toContain('ghs_abcdef');
  expect(JSON.parse(lines[2]).severity).toBe('ERROR');
  const e = JSON.parse(lines[0]);
  expect(e).toMatchObject({ severity: 'INFO', message: 'request "quoted"', component: 'http', httpRequest: { status: 200 } });
  expect(new Date(e.time).toISOString()).toBe(e.time);
  expect(lines[0]).not.toContain('abc.def-ghi');
  expect(JSON.parse(lines[1])).toEqual({ severity: 'WARNING', message: 'bare', time: expect.any(String), component: 'http' });
});

it('writes members encoded by the caller (logEncoded) as logJson writes them, without scanning them again', () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), minSeverity: 'INFO' }).child({ component: 'http' });
  const members = '"httpRequest":{"status":200,"userAgent":"x \u00e9\u2028 \u{1F600}"}';
  log.logJson('INFO', 'request', members);
  log.logEncoded('INFO', 'request', membersOf(members));
  log.logEncoded('DEBUG', 'request', membersOf(members));
  expect(lines).toHaveLength(2);
  expect(lines[1].replace(/"time":"[^"]*"/, '')).toBe(lines[0].replace(/"time":"[^"]*"/, ''));
  expect(JSON.parse(lines[1])).toMatchObject({ severity: 'INFO', message: 'request', component: 'http', httpRequest: { userAgent: 'x \u00e9\u2028 \u{1F600}' } });
  // The severity and message change between lines: each line starts with its own.
  log.logJson('WARNING', 'request failed: "x"', '');
  log.logEncoded('ERROR', 'other', membersOf('"a":1'));
  expect(JSON.parse(lines[2])).toMatchObject({ severity: 'WARNING', message: 'request failed: "x"' });
  expect(JSON.parse(lines[3])).toEqual({ severity: 'ERROR', message: 'other', time: expect.any(String), component: 'http', a: 1 });
  // What the caller passes is written as it is: redacting each piece it is made of is the caller's part (HitLines).
  log.logEncoded('INFO', 'request', membersOf('"note":"token ghs_abcdefghijklmnopqrstuvwxyz0123"'));
  expect(lines[4]).toContain('ghs_abcdef');
});
