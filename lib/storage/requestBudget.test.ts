import { describe, expect, it } from 'vitest';
import { runWithinStorageBudget, StorageBudget, StorageBudgetError, storageBudgetSpent, withFreshStorageBudget, withStorageBudget } from './requestBudget.js';

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
});
