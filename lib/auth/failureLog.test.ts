import { expect, it } from 'vitest';
import { createLogger } from '../log/logger.js';
import { FailureLog, sanitizeName } from './failureLog.js';

function harness(maxKeys?: number) {
  const lines: Array<Record<string, unknown>> = [];
  const clock = { now: 0 };
  const log = new FailureLog(createLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }), {
    intervalMs: 60_000,
    maxKeys,
    maxLinesPerInterval: 5,
    now: () => clock.now,
  });
  return { log, lines, clock };
}

it('logs one line per identity and interval, then how many it stood for', () => {
  const { log, lines, clock } = harness();
  for (let i = 0; i < 50; i++) log.failed({ identity: 'alice', client: `192.0.2.${i}`, reason: 'wrong identity or password' });
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ severity: 'WARNING', message: 'client authentication failed', identity: 'alice', client: '192.0.2.0', suppressedSinceLastLine: 0 });
  clock.now = 60_000;
  log.failed({ identity: 'alice', client: '192.0.2.99', reason: 'wrong identity or password' });
  expect(lines[1]).toMatchObject({ identity: 'alice', client: '192.0.2.99', suppressedSinceLastLine: 49 });
});

it('keys failures without an identity by client address', () => {
  const { log, lines } = harness();
  log.failed({ client: '192.0.2.1', reason: 'malformed basic credentials' });
  log.failed({ client: '192.0.2.1', reason: 'malformed basic credentials' });
  log.failed({ client: '192.0.2.2', reason: 'malformed basic credentials' });
  expect(lines.map((l) => l.client)).toEqual(['192.0.2.1', '192.0.2.2']);
  expect(lines[0]).not.toHaveProperty('identity');
});

it('caps the lines per interval and reports the rest on the next line', () => {
  const { log, lines, clock } = harness();
  for (let i = 0; i < 100; i++) log.failed({ identity: `junk-${i}`, client: '192.0.2.1', reason: 'x' });
  expect(lines).toHaveLength(5);
  clock.now = 60_000;
  log.failed({ identity: 'junk-new', client: '192.0.2.1', reason: 'x' });
  expect(lines[5]).toMatchObject({ identity: 'junk-new', otherFailuresSuppressed: 95 });
});

it('remembers a bounded number of keys', () => {
  const { log, lines } = harness(3);
  for (let i = 0; i < 4; i++) log.failed({ identity: `user-${i}`, client: '192.0.2.1', reason: 'x' }); // all in one interval
  log.failed({ identity: 'user-0', client: '192.0.2.1', reason: 'x' }); // forgotten: logged again, though within its interval
  log.failed({ identity: 'user-3', client: '192.0.2.1', reason: 'x' }); // remembered: not logged
  expect(lines.map((l) => l.identity)).toEqual(['user-0', 'user-1', 'user-2', 'user-3', 'user-0']);
});

it('sanitizes and truncates claimed names', () => {
  expect(sanitizeName('alice')).toBe('alice');
  expect(sanitizeName('a\u0000b\u202ec\nd')).toBe('a?b?c?d');
  expect(sanitizeName('é'.repeat(100))).toBe(`${'é'.repeat(64)}…`);
});
