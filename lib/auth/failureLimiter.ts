// Failed authentications per key (an address, an identity, or both), with
// exponential backoff, in bounded memory whatever clients send.
//
// A key has a budget of failures; past it, each failure makes the key wait
// initialDelay·2^(failures − budget), capped at maxDelay, before the next
// attempt. A key is forgotten once it has been quiet for `window` after its
// backoff ended. An attempt is counted *before* it is evaluated (reserve) and
// forgiven only if it succeeds, so concurrent attempts cannot all pass a check
// made before any of them failed; while an over-budget attempt is in flight
// the key waits for its outcome.
//
// Memory: keys are stored as 16-byte hashes (whatever their length) with an
// O(1) record each (two counters, two times), at most `maxKeys` of them. When
// the table is full the entry least worth keeping goes, chosen thus:
//   1. an entry that has expired (checked at the head of each tier below);
//   2. else the least recently failed entry of the lowest non-empty tier,
//      tiers being powers of two of the failure count (1, 2–3, 4–7, 8–15, …),
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
  /** The attempt failed: it stays counted, and the backoff runs from now. */
  failed(): void;
  /** The attempt succeeded: it is not counted; with `forget`, neither are the key's earlier failures. */
  succeeded(forget?: boolean): void;
}

interface Entry {
  hash: string;
  /** Failures, including attempts in flight. */
  count: number;
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

  constructor(private readonly opts: FailureLimiterOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Keys tracked now. */
  get size(): number {
    return this.entries.size;
  }

  /** Milliseconds until `key` may try again (0: now), given its budget. */
  waitMs(key: string, budget: number): number {
    const e = this.live(hashKey(key));
    if (!e) return 0;
    let wait = e.blockedUntil - this.now();
    // An over-budget attempt in flight: wait for its outcome (it sets the backoff).
    if (e.pending > 0 && e.count >= budget) wait = Math.max(wait, this.opts.initialDelayMs);
    return Math.max(0, wait);
  }

  /** Counts an attempt on `key` as a failure now, before it is evaluated. Check waitMs first. */
  reserve(key: string, budget: number): Reservation {
    const hash = hashKey(key);
    const now = this.now();
    let e = this.live(hash);
    if (!e) {
      if (this.entries.size >= this.opts.maxKeys) this.evictOne();
      e = { hash, count: 0, pending: 0, lastAt: now, blockedUntil: 0, tier: 0, prev: undefined, next: undefined };
      this.entries.set(hash, e);
      this.append(e);
    }
    const entry = e;
    const before = entry.blockedUntil;
    entry.count++;
    entry.pending++;
    entry.lastAt = now;
    if (entry.count >= budget) entry.blockedUntil = Math.max(entry.blockedUntil, now + this.delay(entry.count - budget));
    const setTo = entry.blockedUntil;
    this.touch(entry);
    let settled = false;
    return {
      failed: () => {
        if (settled) return;
        settled = true;
        entry.pending--;
        if (this.entries.get(hash) !== entry) return; // evicted meanwhile
        const t = this.now();
        entry.lastAt = t;
        if (entry.count >= budget) entry.blockedUntil = Math.max(entry.blockedUntil, t + this.delay(entry.count - budget));
        this.touch(entry);
      },
      succeeded: (forget = false) => {
        if (settled) return;
        settled = true;
        entry.pending--;
        if (this.entries.get(hash) !== entry) return;
        if (forget) {
          entry.count = entry.pending; // attempts still in flight stay counted
          entry.blockedUntil = 0;
        } else {
          entry.count = Math.max(0, entry.count - 1);
          // Undo the backoff this attempt started, unless a later attempt has moved it since.
          if (entry.blockedUntil === setTo) entry.blockedUntil = before;
        }
        if (entry.count === 0 && entry.blockedUntil <= this.now()) this.remove(entry);
        else this.touch(entry);
      },
    };
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
    e.tier = tierOf(e.count);
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
