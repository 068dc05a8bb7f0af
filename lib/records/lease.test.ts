import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../storage/memoryStorage.js';
import { runWithinStorageBudget, StorageBudgetError, withStorageBudget } from '../storage/requestBudget.js';
import { aroundStorage } from '../../test/support/aroundStorage.js';
import { Leases } from './lease.js';

function replicas(storage: MemoryStorage, clock: { t: number }, n: number, ttlMs = 1000): Leases[] {
  return Array.from({ length: n }, (_, i) => new Leases(storage, { ttlMs, maxWaitMs: 5000, pollMs: 1, now: () => clock.t, owner: `r${i}` }));
}

describe('Leases', () => {
  it('has one holder among concurrent replicas; the holder can renew, others cannot take it', async () => {
    const storage = new MemoryStorage();
    const clock = { t: 0 };
    const rs = replicas(storage, clock, 4);
    const won = await Promise.all(rs.map((r) => r.tryAcquire('m/@v/v1.0.0/zip')));
    expect(won.filter(Boolean)).toHaveLength(1);
    const holder = rs[won.indexOf(true)];
    const other = rs[won.indexOf(false)];
    expect(await holder.tryAcquire('m/@v/v1.0.0/zip')).toBe(true);
    expect(await other.tryAcquire('m/@v/v1.0.0/zip')).toBe(false);
    // A quarter of the TTL on, the holder's renewal is written.
    clock.t = 300;
    expect(await holder.tryAcquire('m/@v/v1.0.0/zip')).toBe(true);
    expect(await storage.list('leases/m/@v/v1.0.0/zip/')).toHaveLength(2);
    // Past the expiry the lease is stale and another replica takes it over.
    clock.t = 1301;
    expect(await other.tryAcquire('m/@v/v1.0.0/zip')).toBe(true);
    expect(await holder.tryAcquire('m/@v/v1.0.0/zip')).toBe(false);
    expect(await storage.list('leases/m/@v/v1.0.0/zip/')).toHaveLength(3);
  });

  it('takes a cold lease in one storage call, and renews a fresh one without any', async () => {
    const memory = new MemoryStorage();
    const calls: string[] = [];
    const storage = aroundStorage(memory, (what, call) => (calls.push(what), call()), 'counted');
    const clock = { t: 0 };
    const [a, b] = [0, 1].map((i) => new Leases(storage, { ttlMs: 1000, maxWaitMs: 5000, pollMs: 1, now: () => clock.t, owner: `r${i}` }));
    expect(await a.tryAcquire('cold')).toBe(true);
    expect(calls).toEqual(['create leases/cold/00000001']);
    calls.length = 0;
    // The holder's run() right after its claim: no storage call before the work.
    expect(await a.run('cold', async () => null, async (afterWait) => `worked, after a wait: ${afterWait}`)).toBe('worked, after a wait: false');
    expect(calls).toEqual([]);
    // Another replica finds number 1 taken, reads the series and sees it held.
    expect(await b.tryAcquire('cold')).toBe(false);
    expect(calls).toEqual(['create leases/cold/00000001', 'list leases/cold/', 'read leases/cold/00000001']);
    // A released lease, taken again by its former holder: the series decides, not its memory.
    await a.release('cold');
    calls.length = 0;
    expect(await a.tryAcquire('cold')).toBe(true);
    expect(calls).toEqual(['create leases/cold/00000001', 'list leases/cold/', 'read leases/cold/00000002', 'create leases/cold/00000003']);
  });

  it('writes its objects as advisory: the disk skips their flushes', async () => {
    const memory = new MemoryStorage();
    const seen: unknown[] = [];
    const storage = { ...aroundStorage(memory, (_what, call) => call(), 'seen'), createIfAbsent: (k: string, b: Uint8Array | { file: string }, o?: object) => (seen.push(o), memory.createIfAbsent(k, b)) };
    const a = new Leases(storage, { ttlMs: 1000, maxWaitMs: 5000, pollMs: 1, now: () => 0, owner: 'r0' });
    await a.tryAcquire('x');
    await a.release('x');
    expect(seen).toEqual([
      { contentType: 'application/json', advisory: true },
      { contentType: 'application/json', advisory: true },
    ]);
  });

  it('runs the work in the holder, and a claimed lease makes run() in another replica wait for the result', async () => {
    const storage = new MemoryStorage();
    const clock = { t: 0 };
    const [a, b] = replicas(storage, clock, 2);
    expect(await a.tryAcquire('x')).toBe(true);
    let result: string | null = null;
    let bWorked = false;
    const waiting = b.run(
      'x',
      async () => result,
      async () => {
        bWorked = true;
        return 'b';
      },
    );
    // a holds the claimed lease: run() in a renews it and does the work.
    const fromA = await a.run(
      'x',
      async () => result,
      async () => {
        result = 'a';
        return 'a';
      },
    );
    expect(fromA).toBe('a');
    expect(await waiting).toBe('a');
    expect(bWorked).toBe(false);
  });

  it('does the work anyway after maxWaitMs when the holder never finishes', async () => {
    const storage = new MemoryStorage();
    const clock = { t: 0 };
    const [a, b] = replicas(storage, clock, 2, 60_000);
    expect(await a.tryAcquire('y')).toBe(true);
    let polls = 0;
    const p = b.run(
      'y',
      async () => {
        polls++;
        return null;
      },
      async () => 'b',
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(polls).toBeGreaterThan(0); // still waiting: a's lease is fresh and b's wait is not over
    clock.t = 5000;
    expect(await p).toBe('b');
    expect(await b.tryAcquire('y')).toBe(false); // b worked without taking a's lease
  });

  it('a released lease is free at once: another replica takes it without waiting for the TTL', async () => {
    const storage = new MemoryStorage();
    const clock = { t: 0 };
    const [a, b] = replicas(storage, clock, 2, 60_000);
    expect(await a.tryAcquire('r')).toBe(true);
    await b.release('r'); // not the holder: nothing happens
    expect(await b.tryAcquire('r')).toBe(false);
    await a.release('r');
    await a.release('r'); // already released: nothing more is written
    const series = await storage.list('leases/r/');
    expect(series).toHaveLength(2);
    const last = JSON.parse(Buffer.from((await storage.read(series[1]))!).toString('utf8')) as Record<string, unknown>;
    expect(last).toEqual({ owner: 'r0', expiresAt: 0, released: true });
    expect(await b.tryAcquire('r')).toBe(true);
    await a.release('r'); // b holds it now: a's late release changes nothing
    expect(await a.tryAcquire('r')).toBe(false);
  });

  it('a holder whose work fails releases the lease, and a waiting replica does the work at its next poll', async () => {
    const storage = new MemoryStorage();
    const clock = { t: 0 };
    // TTL and maxWait far away on a clock that never moves: only the release can let b proceed.
    const [a, b] = [0, 1].map((i) => new Leases(storage, { ttlMs: 600_000, maxWaitMs: 600_000, pollMs: 1, now: () => clock.t, owner: `r${i}` }));
    let failA!: (err: Error) => void;
    const aWork = new Promise<string>((_, reject) => (failA = reject));
    const fromA = a.run('z', async () => null, () => aWork);
    while ((await storage.list('leases/z/')).length === 0) await new Promise((r) => setTimeout(r, 1));
    let bPolls = 0;
    const fromB = b.run(
      'z',
      async () => {
        bPolls++;
        return null;
      },
      async () => 'b',
    );
    while (bPolls === 0) await new Promise((r) => setTimeout(r, 1));
    failA(new Error('git server said 500'));
    await expect(fromA).rejects.toThrow('git server said 500');
    expect(await fromB).toBe('b');
    const owners = await Promise.all(
      (await storage.list('leases/z/')).map(async (k) => JSON.parse(Buffer.from((await storage.read(k))!).toString('utf8')) as { owner: string; released?: boolean }),
    );
    expect(owners.map((o) => `${o.owner}${o.released ? ' released' : ''}`)).toEqual(['r0', 'r0 released', 'r1']);
  });

  it("lets go even when the work failed because the request's storage budget is spent", async () => {
    const memory = new MemoryStorage();
    // A backend that runs its calls under the request's budget, as GcsStorage does.
    const storage = aroundStorage(memory, runWithinStorageBudget, 'budgeted');
    const a = new Leases(storage, { ttlMs: 600_000, maxWaitMs: 600_000, now: () => 0, owner: 'r0' });
    const hung = () => new Promise<never>(() => {});
    await withStorageBudget(50, async () => {
      await expect(a.run('w', async () => null, () => runWithinStorageBudget('read the body', hung))).rejects.toThrow(StorageBudgetError);
    });
    // The release goes on in the background, on a budget of its own.
    for (let i = 0; i < 200 && (await memory.list('leases/w/')).length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    const series = await memory.list('leases/w/');
    expect(series).toHaveLength(2);
    expect(JSON.parse(Buffer.from((await memory.read(series[1]))!).toString('utf8'))).toMatchObject({ owner: 'r0', released: true });
  });

  it('reports each wait for another holder once, with how it ended', async () => {
    const storage = new MemoryStorage();
    const clock = { t: 0 };
    const waits: string[] = [];
    const make = (owner: string, maxWaitMs = 5000) =>
      new Leases(storage, { ttlMs: 1000, maxWaitMs, pollMs: 1, now: () => clock.t, owner, onWait: (kind, result, seconds) => waits.push(`${kind} ${result} ${seconds >= 0}`) });
    const [a, b] = [make('r0'), make('r1')];
    // No contention: no wait.
    expect(await a.run('free', async () => null, async () => 'built', 'zip')).toBe('built');
    // b waits for a's result.
    expect(await a.tryAcquire('x')).toBe(true);
    let result: string | null = null;
    const waiting = b.run('x', async () => result, async () => 'b built', 'manifest');
    await new Promise((r) => setTimeout(r, 20));
    result = 'a built';
    expect(await waiting).toBe('a built');
    // a lets go: b takes the lease over.
    expect(await a.tryAcquire('y')).toBe(true);
    const taking = b.run('y', async () => null, async () => 'b built', 'zip');
    await new Promise((r) => setTimeout(r, 20));
    await a.release('y');
    expect(await taking).toBe('b built');
    // Nobody commits and the wait is up: b builds anyway.
    expect(await a.tryAcquire('z')).toBe(true);
    const c = make('r2', 0);
    expect(await c.run('z', async () => null, async () => 'c built', 'zip')).toBe('c built');
    expect(waits).toEqual(['manifest result true', 'zip acquired true', 'zip timeout true']);
  });
});
