import { describe, expect, it } from 'vitest';
import { runWithinStorageBudget, StorageBudget, StorageBudgetError, storageBudgetSpent, storageBudgetsInFlight, withFreshStorageBudget, withStorageBudget } from './requestBudget.js';

const never = () => new Promise<never>(() => {});

describe('StorageBudget', () => {
  it('counts the time during which any call is in flight, overlapping calls once', async () => {
    const clock = { t: 0 };
    const budget = new StorageBudget(10_000, () => clock.t);
    let finishA!: () => void;
    let finishB!: () => void;
    const a = budget.run('a', () => new Promise<void>((r) => (finishA = r)));
    clock.t = 1000;
    const b = budget.run('b', () => new Promise<void>((r) => (finishB = r)));
    clock.t = 3000;
    finishA();
    await a;
    expect(budget.remainingMs()).toBe(7000); // b still in flight since 0 for the budget
    clock.t = 4000;
    finishB();
    await b;
    expect(budget.remainingMs()).toBe(6000);
    clock.t = 60_000; // time with nothing in flight does not count
    expect(budget.remainingMs()).toBe(6000);
  });

  it('abandons a call still running when the budget runs out, and refuses the calls after it', async () => {
    const budget = new StorageBudget(30);
    await expect(budget.run('read x', never)).rejects.toThrow(StorageBudgetError);
    let called = false;
    await expect(
      budget.run('read y', async () => {
        called = true;
      }),
    ).rejects.toThrow(/storage budget of 0.03 s \(read y\)/);
    expect(called).toBe(false);
  });

  it('travels with the async context; work detached from a request gets a budget of its own', async () => {
    expect(storageBudgetSpent()).toBe(false);
    expect(await runWithinStorageBudget('no budget', async () => 'ran')).toBe('ran');
    await withStorageBudget(30, async () => {
      await expect(runWithinStorageBudget('read x', never)).rejects.toThrow(StorageBudgetError);
      expect(storageBudgetSpent()).toBe(true);
      await withFreshStorageBudget(async () => {
        expect(storageBudgetSpent()).toBe(false);
        expect(await runWithinStorageBudget('read y', async () => 'ran')).toBe('ran');
      });
      await expect(runWithinStorageBudget('read z', async () => 'ran')).rejects.toThrow(StorageBudgetError);
    });
  });

  it('turns the async context off once no budgeted work is in flight (hits then pay no async hooks), and on for the next', async () => {
    let late: Promise<boolean> | undefined;
    await withStorageBudget(30, async () => {
      await expect(runWithinStorageBudget('read x', never)).rejects.toThrow(StorageBudgetError);
      // Work the request leaves behind, neither awaited nor with a budget of its own.
      late = new Promise((r) => setTimeout(() => r(storageBudgetSpent()), 20));
      expect(storageBudgetsInFlight()).toBe(1);
    });
    expect(storageBudgetsInFlight()).toBe(0);
    // With the context still on, the timer would see the request's spent budget.
    expect(await late).toBe(false);
    await withStorageBudget(30, async () => {
      expect(storageBudgetSpent()).toBe(false);
      await expect(runWithinStorageBudget('read y', never)).rejects.toThrow(StorageBudgetError);
      expect(storageBudgetSpent()).toBe(true);
    });
    expect(storageBudgetsInFlight()).toBe(0);
  });

  it('keeps the context on while any budgeted work is in flight: one request ending leaves the others theirs', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = withStorageBudget(30, async () => {
      await expect(runWithinStorageBudget('read x', never)).rejects.toThrow(StorageBudgetError);
      await gate;
      return storageBudgetSpent();
    });
    const detached = withStorageBudget(1000, () => withFreshStorageBudget(async () => gate.then(() => storageBudgetSpent())));
    await withStorageBudget(1000, async () => {});
    await expect(withStorageBudget(1000, async () => Promise.reject(new Error('failed request')))).rejects.toThrow('failed request');
    expect(() => withStorageBudget(1000, () => {
      throw new Error('thrown');
    })).toThrow('thrown');
    expect(storageBudgetsInFlight()).toBe(3);
    release();
    expect(await slow).toBe(true);
    expect(await detached).toBe(false);
    expect(storageBudgetsInFlight()).toBe(0);
  });
});
