// One time budget for the storage calls made while serving one request.
//
// The GCS client retries each call on its own (back-off 1 s doubling to 8 s,
// each attempt up to 60 s), and a request makes several calls one after the
// other (manifest, zip record, blobs, leases), so under storage faults one
// request could wait for minutes before its 503. The budget bounds the total:
// every storage call of a request runs against it, a call still running when
// it is spent is abandoned (its error is the request's), and no further call
// starts. The client then gets a 503 at once instead of after every retry.
//
// What counts is the wall time during which at least one of the request's
// storage calls is in flight (concurrent calls are not counted twice); time
// spent on git, the client, or waiting between lease polls does not count.
//
// The budget travels with the request's async context (AsyncLocalStorage),
// so the storage seam and everything that calls it stay unchanged: the HTTP
// entry point opens a budget per request (withStorageBudget), the GCS backend
// runs each call under the current one (runWithinStorageBudget), and also
// stops the client library's retries once it is spent (storageBudgetSpent).
import { AsyncLocalStorage } from 'node:async_hooks';
import { StorageError } from '../errors.js';

/** A request's storage calls took longer than its budget. */
export class StorageBudgetError extends StorageError {
  override name = 'StorageBudgetError';
}

export class StorageBudget {
  private spentMs = 0;
  private exhausted = false;
  private inFlight = 0;
  private since = 0;

  constructor(
    /** The budget, in milliseconds. */
    readonly limitMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Milliseconds left (negative once overspent). */
  remainingMs(): number {
    // A call abandoned at the deadline spends the budget, whatever the clock read then: the
    // timer's clock (the event loop's) and performance.now() may disagree by a millisecond.
    if (this.exhausted) return 0;
    return this.limitMs - this.spentMs - (this.inFlight > 0 ? this.now() - this.since : 0);
  }

  /**
   * Runs one storage call against the budget: refused when the budget is
   * spent, abandoned with a StorageBudgetError when the budget runs out while
   * it is in flight (the call itself goes on unobserved; the library stops
   * retrying it, see storageBudgetSpent).
   */
  async run<T>(what: string, call: () => Promise<T>): Promise<T> {
    const remaining = this.remainingMs();
    if (remaining <= 0) throw this.exceeded(what);
    if (this.inFlight++ === 0) this.since = this.now();
    let timer: NodeJS.Timeout | undefined;
    const running = call();
    try {
      return await Promise.race([
        running,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            this.exhausted = true;
            reject(this.exceeded(what));
          }, Math.ceil(remaining));
        }),
      ]);
    } finally {
      clearTimeout(timer);
      running.catch(() => {}); // an abandoned call's late failure is nobody's business
      if (--this.inFlight === 0) this.spentMs += this.now() - this.since;
    }
  }

  private exceeded(what: string): StorageBudgetError {
    return new StorageBudgetError(`storage did not answer within the request's storage budget of ${this.limitMs / 1000} s (${what})`);
  }
}

const current = new AsyncLocalStorage<StorageBudget>();

/**
 * Budgeted work in flight: requests, and work detached from them. Node's
 * AsyncLocalStorage (before the async-context-frame one of Node 24) works
 * through async hooks: once it has run, every promise, tick and native
 * handle the process creates calls its init hook, a cache hit's too, though
 * a hit never touches storage (a node:http server measured 5-9% slower with
 * one enabled). So the context is turned off whenever no budgeted work is
 * in flight, and on again by the next.
 */
let inFlight = 0;

const settled = (): void => {
  if (--inFlight === 0) current.disable();
};

function runBudgeted<T>(budget: StorageBudget, fn: () => T): T {
  inFlight++;
  let result: T;
  try {
    result = current.run(budget, fn);
  } catch (err) {
    settled();
    throw err;
  }
  // The caller handles the promise's failure (this does not: .then marks it handled).
  if (result instanceof Promise) result.then(settled, settled);
  else settled();
  return result;
}

/** How many budgeted runs are in flight (the async context is on while any is). */
export function storageBudgetsInFlight(): number {
  return inFlight;
}

/**
 * Runs `fn` (a request) with a storage budget of `limitMs` for every storage
 * call it makes until its promise settles. Work it leaves running without
 * awaiting it, and that does not take a budget of its own
 * (withFreshStorageBudget), keeps the budget while other budgeted work is in
 * flight, and runs without one after.
 */
export function withStorageBudget<T>(limitMs: number, fn: () => T): T {
  return runBudgeted(new StorageBudget(limitMs), fn);
}

/**
 * Runs `fn` (work that outlives the request that started it, like a
 * background zip build) with a budget of its own, as large as the current
 * one, instead of the rest of the request's.
 */
export function withFreshStorageBudget<T>(fn: () => T): T {
  const budget = current.getStore();
  return budget ? runBudgeted(new StorageBudget(budget.limitMs), fn) : fn();
}

/** Runs one storage call under the current request's budget, if there is one. */
export function runWithinStorageBudget<T>(what: string, call: () => Promise<T>): Promise<T> {
  const budget = current.getStore();
  return budget ? budget.run(what, call) : call();
}

/** Whether the current request's storage budget is spent (no budget: never). */
export function storageBudgetSpent(): boolean {
  const budget = current.getStore();
  return budget !== undefined && budget.remainingMs() <= 0;
}
