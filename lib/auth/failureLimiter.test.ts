import { describe, expect, it } from 'vitest';
import { FailureLimiter, type Reservation } from './failureLimiter.js';

function limiter(maxKeys = 1000) {
  const clock = { now: 1_000_000 };
  const l = new FailureLimiter({ windowMs: 60_000, initialDelayMs: 1000, maxDelayMs: 300_000, maxKeys, now: () => clock.now });
  return { l, clock };
}

/** Milliseconds `key` must wait (0: it may try now; 'busy': attempts in flight fill its budget). */
function waitMs(l: FailureLimiter, key: string, budget: number): number | 'busy' {
  const s = l.status(key, budget);
  return s.kind === 'blocked' ? s.waitMs : s.kind === 'busy' ? 'busy' : 0;
}

/** One evaluated failure for `key`, if the limiter lets it through. */
function fail(l: FailureLimiter, key: string, budget: number): boolean {
  if (l.status(key, budget).kind !== 'free') return false;
  l.reserve(key, budget).failed();
  return true;
}

describe('FailureLimiter', () => {
  it('lets a key fail its budget, then backs off exponentially up to the maximum', () => {
    const { l, clock } = limiter();
    for (let i = 0; i < 3; i++) expect(fail(l, 'k', 3)).toBe(true);
    expect(waitMs(l, 'k', 3)).toBe(1000);
    expect(waitMs(l, 'other', 3)).toBe(0);
    const waits: Array<number | 'busy'> = [];
    for (let i = 0; i < 12; i++) {
      clock.now += waitMs(l, 'k', 3) as number;
      expect(fail(l, 'k', 3)).toBe(true);
      waits.push(waitMs(l, 'k', 3));
    }
    expect(waits).toEqual([2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000, 300000, 300000]);
  });

  it('forgets a key once it has been quiet for the window after its backoff', () => {
    const { l, clock } = limiter();
    for (let i = 0; i < 4; i++) {
      clock.now += waitMs(l, 'k', 3) as number;
      fail(l, 'k', 3);
    }
    expect(waitMs(l, 'k', 3)).toBe(2000);
    clock.now += 2000 + 59_999;
    expect(fail(l, 'k', 3)).toBe(true); // remembered: this is failure 5
    expect(waitMs(l, 'k', 3)).toBe(4000);
    clock.now += 4000 + 60_000;
    expect(waitMs(l, 'k', 3)).toBe(0);
    expect(l.size).toBe(0);
    for (let i = 0; i < 3; i++) expect(fail(l, 'k', 3)).toBe(true); // a fresh budget
  });

  it('lets no more attempts be in flight than the budget has room for', () => {
    const { l } = limiter();
    fail(l, 'k', 10);
    const inFlight: Reservation[] = [];
    for (let i = 0; i < 200; i++) if (l.status('k', 10).kind === 'free') inFlight.push(l.reserve('k', 10));
    expect(inFlight).toHaveLength(9);
    expect(waitMs(l, 'k', 10)).toBe('busy');
    for (const r of inFlight) r.failed();
    expect(waitMs(l, 'k', 10)).toBe(1000);
  });

  it('lets one attempt at a time through once the budget is spent and the backoff has passed', () => {
    const { l, clock } = limiter();
    for (let i = 0; i < 3; i++) fail(l, 'k', 3);
    clock.now += 1000;
    const r = l.reserve('k', 3);
    clock.now += 10_000; // a slow evaluation
    expect(waitMs(l, 'k', 3)).toBe('busy');
    r.failed();
    expect(waitMs(l, 'k', 3)).toBe(2000); // from the failure, not from the reservation
  });

  it('does not count a successful attempt; with forget, not the earlier failures either', () => {
    const { l } = limiter();
    fail(l, 'k', 3);
    fail(l, 'k', 3);
    l.reserve('k', 3).succeeded();
    expect(waitMs(l, 'k', 3)).toBe(0);
    expect(fail(l, 'k', 3)).toBe(true); // failure 3 of 3
    expect(waitMs(l, 'k', 3)).toBe(1000);

    fail(l, 'j', 3);
    fail(l, 'j', 3);
    const other = l.reserve('j', 3);
    other.succeeded(true);
    expect(l.size).toBe(1); // 'j' is gone
    for (let i = 0; i < 3; i++) expect(fail(l, 'j', 3)).toBe(true);
  });

  it('wakes waiters when an attempt settles', async () => {
    const { l } = limiter();
    const r = l.reserve('k', 1);
    let woken = false;
    const waiting = l.settled().then(() => (woken = true));
    await Promise.resolve();
    expect(woken).toBe(false);
    r.succeeded();
    await waiting;
    expect(woken).toBe(true);
  });

  it('ignores settling a reservation twice', () => {
    const { l } = limiter();
    const r = l.reserve('k', 3);
    r.failed();
    r.succeeded(true);
    r.failed();
    fail(l, 'k', 3);
    expect(waitMs(l, 'k', 3)).toBe(0);
    fail(l, 'k', 3);
    expect(waitMs(l, 'k', 3)).toBe(1000);
  });

  it('holds at most maxKeys keys, however many and however long', () => {
    const { l } = limiter(1000);
    for (let i = 0; i < 20_000; i++) fail(l, `${'x'.repeat(1000)}${i}`, 10);
    expect(l.size).toBe(1000);
  });

  it('does not let a flood of junk keys unlock a locked-out key', () => {
    const { l } = limiter(1000);
    for (let i = 0; i < 10; i++) fail(l, 'user:alice', 10);
    expect(waitMs(l, 'user:alice', 10)).toBe(1000);
    // Ten times the table's size in one-off failures (the old map was cleared at its size).
    for (let i = 0; i < 10_000; i++) fail(l, `user:junk-${i}`, 10);
    expect(l.size).toBe(1000);
    expect(waitMs(l, 'user:alice', 10)).toBe(1000);
    // Even junk keys with several failures each evict only each other while they are below the target's tier.
    for (let i = 0; i < 2000; i++) for (let j = 0; j < 7; j++) fail(l, `user:junk2-${i}`, 10);
    expect(waitMs(l, 'user:alice', 10)).toBe(1000);
  });

  it('does not let junk with attempts in flight evict a locked-out key', () => {
    const { l } = limiter(30);
    for (let i = 0; i < 10; i++) fail(l, 'user:alice', 10);
    // A flood of concurrent junk: every other entry has an attempt in flight when the next one arrives.
    const inFlight: Reservation[] = [];
    for (let i = 0; i < 1000; i++) inFlight.push(l.reserve(`user:junk-${i}`, 10));
    expect(l.size).toBe(30);
    expect(waitMs(l, 'user:alice', 10)).toBe(1000);
    for (const r of inFlight) r.failed();
    expect(waitMs(l, 'user:alice', 10)).toBe(1000);
  });

  it('evicts expired entries before live ones', () => {
    const { l, clock } = limiter(3);
    for (let i = 0; i < 5; i++) fail(l, 'old', 2);
    clock.now += 300_000;
    fail(l, 'a', 2);
    fail(l, 'b', 2);
    fail(l, 'c', 2); // full: 'old' has expired and goes, rather than the live 'a' (the lowest tier's oldest)
    expect(l.size).toBe(3);
    fail(l, 'a', 2);
    expect(waitMs(l, 'a', 2)).toBe(1000); // its first failure was kept
    fail(l, 'd', 2); // full, nothing expired: the lowest tier's least recently failed entry goes ('b')
    fail(l, 'b', 2);
    expect(waitMs(l, 'b', 2)).toBe(0); // 'b' starts again from one failure
    expect(waitMs(l, 'a', 2)).toBe(1000); // 'a', in a higher tier, stayed
  });
});
