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

function limits(maxQueueWaitMs?: number) {
  const clock = { now: 1_700_000_000_000 };
  return { l: new LoginLimits(CONFIG, () => clock.now, maxQueueWaitMs), clock };
}

/** One failed login, if it is let through: whether it was. */
async function fail(l: LoginLimits, address: string, identity?: string): Promise<boolean> {
  const a = await l.begin(address, identity);
  if (a.kind === 'wait') return false;
  a.failed();
  return true;
}

const wait = (a: LoginAttempt) => (a.kind === 'wait' ? a.retryAfterSeconds : 0);
const tick = () => new Promise((r) => setImmediate(r));

describe('LoginLimits', () => {
  it("does not let a stranger's failures lock the real user out from another address", async () => {
    const { l } = limits();
    let evaluated = 0;
    for (let i = 0; i < 100; i++) if (await fail(l, '203.0.113.66', 'alice')) evaluated++;
    expect(evaluated).toBe(10);
    expect(wait(await l.begin('203.0.113.66', 'alice'))).toBe(1);
    expect((await l.begin('198.51.100.7', 'alice')).kind).toBe('go');
  });

  it('slows a guess spread over many addresses once the identity budget is spent', async () => {
    const { l } = limits();
    for (let i = 0; i < 100; i++) expect(await fail(l, `192.0.2.${i}`, 'alice')).toBe(true);
    expect(wait(await l.begin('198.51.100.7', 'alice'))).toBe(1);
    expect((await l.begin('198.51.100.7', 'bob')).kind).toBe('go');
  });

  it('stops one address spraying many identities', async () => {
    const { l } = limits();
    for (let i = 0; i < 50; i++) expect(await fail(l, '203.0.113.66', `user-${i}`)).toBe(true);
    expect(wait(await l.begin('203.0.113.66', 'someone-else'))).toBe(1);
    expect(wait(await l.begin('203.0.113.66'))).toBe(1); // bearer tokens and malformed credentials too
    expect((await l.begin('198.51.100.7', 'someone-else')).kind).toBe('go');
  });

  it('counts an IPv6 /64 as one address', async () => {
    const { l } = limits();
    for (let i = 0; i < 50; i++) expect(await fail(l, `2001:db8:1:2::${i.toString(16)}`, `user-${i}`)).toBe(true);
    expect(wait(await l.begin('2001:db8:1:2:ffff::1', 'x'))).toBe(1);
    expect((await l.begin('2001:db8:1:3::1', 'x').then((a) => a.kind))).toBe('go');
  });

  it('of 200 concurrent wrong attempts lets the budget be evaluated, and refuses the rest once those fail', async () => {
    const { l } = limits();
    const pending = Array.from({ length: 200 }, () => l.begin('203.0.113.66', 'alice'));
    await tick();
    const started: LoginAttempt[] = [];
    // The first ten go on at once; the rest wait for their outcomes.
    for (const p of pending) void p.then((a) => started.push(a));
    await tick();
    expect(started.filter((a) => a.kind === 'go')).toHaveLength(10);
    expect(started).toHaveLength(10);
    for (const a of started) if (a.kind === 'go') a.failed();
    const all = await Promise.all(pending);
    expect(all.filter((a) => a.kind === 'go')).toHaveLength(10);
    expect(all.filter((a) => a.kind === 'wait')).toHaveLength(190);
  });

  it("lets a client's burst of concurrent correct logins through, beyond the budget", async () => {
    const { l } = limits();
    const attempts = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const a = await l.begin('198.51.100.7', 'alice');
        if (a.kind === 'go') setImmediate(() => a.succeeded()); // a password check that takes a moment, and is right
        return a.kind;
      }),
    );
    expect(attempts).toEqual(Array(40).fill('go'));
  });

  it('waits at most maxQueueWaitMs for attempts in flight, then answers wait', async () => {
    const { l } = limits(50);
    const held = await Promise.all(Array.from({ length: 10 }, () => l.begin('198.51.100.7', 'alice')));
    expect(held.every((a) => a.kind === 'go')).toBe(true);
    expect(await l.begin('198.51.100.7', 'alice')).toEqual({ kind: 'wait', retryAfterSeconds: 1 });
  });

  it("forgives a success, and forgets the client's earlier failures for that identity", async () => {
    const { l } = limits();
    for (let i = 0; i < 9; i++) await fail(l, '198.51.100.7', 'alice');
    const ok = await l.begin('198.51.100.7', 'alice');
    if (ok.kind !== 'go') throw new Error('expected to go on');
    ok.succeeded();
    for (let i = 0; i < 10; i++) expect(await fail(l, '198.51.100.7', 'alice')).toBe(true);
  });

  it('backs off exponentially, and Retry-After says how long', async () => {
    const { l, clock } = limits();
    for (let i = 0; i < 10; i++) await fail(l, '203.0.113.66', 'alice');
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const w = wait(await l.begin('203.0.113.66', 'alice'));
      waits.push(w);
      clock.now += w * 1000;
      expect(await fail(l, '203.0.113.66', 'alice')).toBe(true);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16]);
  });
});
