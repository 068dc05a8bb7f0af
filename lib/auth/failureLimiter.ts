// Failed authentications per key (an address, an identity, or both), with
// exponential backoff, in bounded memory whatever clients send.
//
// A key has a budget of failures; past it, each failure makes the key wait
// initialDelay·2^(failures − budget), capped at maxDelay, before the next
// attempt. A key is forgotten once it has been quiet for `window` after its
// backoff ended. Attempts are reserved before they are evaluated, and at most
// as many may be in flight as the budget has room for (one at a time once it
// is spent), so concurrent attempts cannot all pass a check made before any
// of them failed. A further attempt is `busy`: the caller waits for one in
// flight to settle (settled()) and asks again — if they were right it goes
// on, if they were wrong the key is blocked by then. A legitimate client's
// burst of concurrent logins is thus delayed, never refused.
//
// Memory: keys are stored as 16-byte hashes (whatever their length) with an
// O(1) record each (two counters, two times), at most `maxKeys` of them. When
// the table is full the entry least worth keeping goes, chosen thus:
//   1. an entry that has expired (checked at the head of each tier below);
//   2. else the least recently failed entry of the lowest non-empty tier,
//      tiers being powers of two of failures plus attempts in flight (1, 2–3, 4–7, …),
//      preferring one without an attempt in flight — but never an entry of a
//      higher tier while a lower one has any.
// A flood of one-off junk keys therefore only ever evicts other entries in
// the lowest tier — itself, in the end. To evict a key with c failures an
// attacker must first make every one of the maxKeys tracked keys reach the
// same tier (≥ maxKeys·c/2 failures, each itself counted against the
// attacker's address) and touch them more recently than the target. Unlike
// clearing the table when full, or evicting the least recently used entry,
// this cannot be used to unlock a targeted identity cheaply; at worst it
// forgets someone's single typo. Each operation is O(1) (a hash, a Map
// lookup, linked-list moves, a bounded look at tier heads).
import crypto from 'node:crypto';

export interface FailureLimiterOptions {
  /** A key's failures are forgotten after this long without one, counted from the end of its backoff. */
  windowMs: number;
  /** The wait after the first failure past the budget; it doubles with each further failure. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Keys tracked at most (memory bound). */
  maxKeys: number;
  now?: () => number;
}

/** An attempt counted before it is evaluated; settle it with its outcome. */
export interface Reservation {
  /** The attempt failed: it is counted, and a backoff runs from now once the budget is spent. */
  failed(): void;
  /** The attempt succeeded: it is not counted; with `forget`, neither are the key's earlier failures. */
  succeeded(forget?: boolean): void;
}

/** Whether a key may try now: free; busy (wait for an attempt in flight to settle); or blocked for waitMs. */
export type KeyStatus = { kind: 'free' } | { kind: 'busy' } | { kind: 'blocked'; waitMs: number };

interface Entry {
  hash: string;
  failures: number;
  /** Attempts in flight. */
  pending: number;
  lastAt: number;
  blockedUntil: number;
  tier: number;
  prev: Entry | undefined;
  next: Entry | undefined;
}

const TIERS = 32;
/** Entries looked at per tier for one without an attempt in flight, when evicting. */
const EVICTION_PROBES = 8;

const tierOf = (count: number) => (count <= 1 ? 0 : Math.min(TIERS - 1, 31 - Math.clz32(count)));

export class FailureLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly heads: (Entry | undefined)[] = new Array(TIERS).fill(undefined);
  private readonly tails: (Entry | undefined)[] = new Array(TIERS).fill(undefined);
  private readonly now: () => number;
  private nextSettle: Promise<void> | undefined;
  private settle: (() => void) | undefined;

  constructor(private readonly opts: FailureLimiterOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Keys tracked now. */
  get size(): number {
    return this.entries.size;
  }

  /** Whether `key` may try now, given its budget. */
  status(key: string, budget: number): KeyStatus {
    const e = this.live(hashKey(key));
    if (!e) return { kind: 'free' };
    const wait = e.blockedUntil - this.now();
    if (wait > 0) return { kind: 'blocked', waitMs: wait };
    return e.pending < Math.max(1, budget - e.failures) ? { kind: 'free' } : { kind: 'busy' };
  }

  /** Resolves when some attempt in flight settles (then ask status() again). */
  settled(): Promise<void> {
    return (this.nextSettle ??= new Promise<void>((resolve) => (this.settle = resolve)));
  }

  /** Reserves an attempt on `key` before it is evaluated. Only when status() is free. */
  reserve(key: string, budget: number): Reservation {
    const hash = hashKey(key);
    let e = this.live(hash);
    if (!e) {
      if (this.entries.size >= this.opts.maxKeys) this.evictOne();
      e = { hash, failures: 0, pending: 0, lastAt: this.now(), blockedUntil: 0, tier: 0, prev: undefined, next: undefined };
      this.entries.set(hash, e);
      this.append(e);
    }
    const entry = e;
    entry.pending++;
    this.touch(entry);
    let done = false;
    const settle = (apply: (inTable: boolean) => void) => {
      if (done) return;
      done = true;
      entry.pending--;
      apply(this.entries.get(hash) === entry); // false: evicted meanwhile
      this.notify();
    };
    return {
      failed: () =>
        settle((inTable) => {
          if (!inTable) return;
          const now = this.now();
          entry.failures++;
          entry.lastAt = now;
          if (entry.failures >= budget) entry.blockedUntil = Math.max(entry.blockedUntil, now + this.delay(entry.failures - budget));
          this.touch(entry);
        }),
      succeeded: (forget = false) =>
        settle((inTable) => {
          if (!inTable) return;
          if (forget) {
            entry.failures = 0;
            entry.blockedUntil = 0;
          }
          if (entry.failures === 0 && entry.pending === 0 && entry.blockedUntil <= this.now()) this.remove(entry);
          else this.touch(entry);
        }),
    };
  }

  private notify(): void {
    const settle = this.settle;
    this.nextSettle = this.settle = undefined;
    settle?.();
  }

  private delay(overBudget: number): number {
    return Math.min(this.opts.maxDelayMs, this.opts.initialDelayMs * 2 ** overBudget);
  }

  private expired(e: Entry, now: number): boolean {
    return e.pending === 0 && now >= Math.max(e.lastAt, e.blockedUntil) + this.opts.windowMs;
  }

  /** The entry for `hash`, unless it has expired (then it is dropped). */
  private live(hash: string): Entry | undefined {
    const e = this.entries.get(hash);
    if (e && this.expired(e, this.now())) {
      this.remove(e);
      return undefined;
    }
    return e;
  }

  private evictOne(): void {
    const now = this.now();
    for (const head of this.heads) {
      if (head && this.expired(head, now)) return this.remove(head);
    }
    // Never above the lowest non-empty tier: a flood of concurrent junk keeps its own entries in flight, and must
    // not thereby reach a higher tier. Losing a low entry's reservation loses at most that one attempt's count.
    const lowest = this.heads.find((h) => h !== undefined);
    let e = lowest;
    for (let i = 0; e && i < EVICTION_PROBES; i++, e = e.next) {
      if (e.pending === 0) return this.remove(e);
    }
    if (lowest) this.remove(lowest);
  }

  /** Moves `e` to the most recent end of the tier its count puts it in. */
  private touch(e: Entry): void {
    this.unlink(e);
    e.tier = tierOf(e.failures + e.pending);
    this.append(e);
  }

  private remove(e: Entry): void {
    this.unlink(e);
    this.entries.delete(e.hash);
  }

  private append(e: Entry): void {
    e.prev = this.tails[e.tier];
    e.next = undefined;
    if (e.prev) e.prev.next = e;
    else this.heads[e.tier] = e;
    this.tails[e.tier] = e;
  }

  private unlink(e: Entry): void {
    if (e.prev) e.prev.next = e.next;
    else if (this.heads[e.tier] === e) this.heads[e.tier] = e.next;
    if (e.next) e.next.prev = e.prev;
    else if (this.tails[e.tier] === e) this.tails[e.tier] = e.prev;
    e.prev = e.next = undefined;
  }
}

/** A fixed-size stand-in for a key of any length. */
function hashKey(key: string): string {
  return crypto.createHash('sha256').update(key).digest().subarray(0, 16).toString('base64');
}
