import { describe, expect, it } from 'vitest';
import { LoginLimits, type LoginAttempt } from './loginLimits.js';

const CONFIG = {
  maxFailures: 10,
  maxFailuresPerIdentity: 100,
  maxFailuresPerAddress: 50,
  windowSeconds: 60,
  backoffInitialSeconds: 1,
  backoffMaxSeconds: 300,
  maxTrackedKeys: 10_000,
};

function limits() {
  const clock = { now: 1_700_000_000_000 };
  return { l: new LoginLimits(CONFIG, () => clock.now), clock };
}

/** One failed login, if it is let through: whether it was. */
function fail(l: LoginLimits, address: string, identity?: string): boolean {
  const a = l.begin(address, identity);
  if (a.kind === 'wait') return false;
  a.failed();
  return true;
}

const wait = (a: LoginAttempt) => (a.kind === 'wait' ? a.retryAfterSeconds : 0);

describe('LoginLimits', () => {
  it("does not let a stranger's failures lock the real user out from another address", () => {
    const { l } = limits();
    let evaluated = 0;
    for (let i = 0; i < 100; i++) if (fail(l, '203.0.113.66', 'alice')) evaluated++;
    expect(evaluated).toBe(10);
    expect(wait(l.begin('203.0.113.66', 'alice'))).toBe(1);
    const real = l.begin('198.51.100.7', 'alice');
    expect(real.kind).toBe('go');
  });

  it('slows a guess spread over many addresses once the identity budget is spent', () => {
    const { l } = limits();
    for (let i = 0; i < 100; i++) expect(fail(l, `192.0.2.${i}`, 'alice')).toBe(true);
    expect(wait(l.begin('198.51.100.7', 'alice'))).toBe(1);
    expect(l.begin('198.51.100.7', 'bob').kind).toBe('go');
  });

  it('stops one address spraying many identities', () => {
    const { l } = limits();
    for (let i = 0; i < 50; i++) expect(fail(l, '203.0.113.66', `user-${i}`)).toBe(true);
    expect(wait(l.begin('203.0.113.66', 'someone-else'))).toBe(1);
    expect(wait(l.begin('203.0.113.66'))).toBe(1); // bearer tokens and malformed credentials too
    expect(l.begin('198.51.100.7', 'someone-else').kind).toBe('go');
  });

  it('counts an IPv6 /64 as one address', () => {
    const { l } = limits();
    for (let i = 0; i < 50; i++) expect(fail(l, `2001:db8:1:2::${i.toString(16)}`, `user-${i}`)).toBe(true);
    expect(wait(l.begin('2001:db8:1:2:ffff::1', 'x'))).toBe(1);
    expect(l.begin('2001:db8:1:3::1', 'x').kind).toBe('go');
  });

  it('reserves before the check: of 200 concurrent attempts at most the budget go on', () => {
    const { l } = limits();
    const attempts = Array.from({ length: 200 }, () => l.begin('203.0.113.66', 'alice'));
    expect(attempts.filter((a) => a.kind === 'go')).toHaveLength(10);
    for (const a of attempts) if (a.kind === 'go') a.failed();
  });

  it("forgives a success, and forgets the client's earlier failures for that identity", () => {
    const { l } = limits();
    for (let i = 0; i < 9; i++) fail(l, '198.51.100.7', 'alice');
    const ok = l.begin('198.51.100.7', 'alice');
    if (ok.kind !== 'go') throw new Error('expected to go on');
    ok.succeeded();
    for (let i = 0; i < 10; i++) expect(fail(l, '198.51.100.7', 'alice')).toBe(true);
  });

  it('backs off exponentially, and Retry-After says how long', () => {
    const { l, clock } = limits();
    for (let i = 0; i < 10; i++) fail(l, '203.0.113.66', 'alice');
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const w = wait(l.begin('203.0.113.66', 'alice'));
      waits.push(w);
      clock.now += w * 1000;
      expect(fail(l, '203.0.113.66', 'alice')).toBe(true);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16]);
  });
});
