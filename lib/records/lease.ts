// Cross-replica leases: keep a crowd of cold replicas from all fetching and
// building the same module version at once.
//
// Advisory only — correctness never depends on a lease (the commit protocol
// makes duplicate work harmless). A replica that cannot get the lease waits
// for the holder's result for a bounded time, then does the work itself.
//
// The bucket is append-only (no overwrite, no delete), so a lease is a
// numbered object created with create-if-absent (names: ./layout.ts):
//   leases/<name>/<seq>   {"owner", "expiresAt"}
// The holder is the creator of the highest sequence number. A stale lease
// (past expiresAt) is taken over by creating the next number; exactly one
// replica wins that create. Old lease objects are garbage for the bucket's
// lifecycle rule (leases/ prefix) or `modproxy-admin gc`, never read again.
//
// A cold lease costs one storage call: the first attempt creates number 1
// outright, and only when that exists does the replica list and read the
// series. A holder renewing a lease it took moments ago (the zip lease
// claimed with the manifest, then run() for the zip) writes nothing: see
// RENEW_AFTER_FRACTION.
//
// A holder whose work fails lets go the same way: it creates the next number
// as a release record {"owner", "expiresAt": <now>, "released": true}, which
// every reader (this version or an older one, which looks at expiresAt only)
// sees as "not held", so a waiter takes the lease at its next poll instead of
// waiting out maxWaitMs for a result that will never come.
import crypto from 'node:crypto';
import os from 'node:os';
import { StorageBudgetError, withFreshStorageBudget } from '../storage/requestBudget.js';
import type { ObjectStorage } from '../storage/storage.js';
import { leaseObjectKey, leaseObjectSeq, leaseObjectsPrefix } from './layout.js';

export interface LeaseOptions {
  ttlMs: number;
  /** Longest wait for another holder's result before doing the work anyway. */
  maxWaitMs: number;
  /** First poll interval; doubles up to 2 s. */
  pollMs?: number;
  now?: () => number;
  owner?: string;
  /**
   * Called when run() found the lease held by another replica, once the wait
   * ends: how (its result appeared, the lease was let go or went stale and
   * this replica took it, or maxWaitMs passed) and how long it took (metrics).
   */
  onWait?: (kind: string, result: LeaseWaitResult, seconds: number) => void;
}

export type LeaseWaitResult = 'result' | 'acquired' | 'timeout';

/**
 * A holder acquiring its own lease again writes a renewal only once this
 * fraction of the TTL has passed since it took it; before that, the lease
 * still has most of its life ahead, and the renewal would only add storage
 * round trips to the step it guards.
 */
const RENEW_AFTER_FRACTION = 0.25;

/** Lease objects are advisory: a crash that loses one only lets another replica do the work too. */
const LEASE_OBJECT = { contentType: 'application/json', advisory: true } as const;

interface LeaseBody {
  owner: string;
  expiresAt: number;
  /** A release record: the owner let go (its work failed); expiresAt is the release time. */
  released?: true;
}

export class Leases {
  readonly owner: string;
  private readonly now: () => number;
  /**
   * When (by `now`) this replica created each lease it holds, by name. Kept
   * until released or past the TTL, pruned oldest first on each insert (the
   * TTL is one for all, so insertion order is expiry order).
   */
  private readonly taken = new Map<string, number>();

  constructor(
    private readonly storage: ObjectStorage,
    private readonly opts: LeaseOptions,
  ) {
    this.owner = opts.owner ?? `${os.hostname()}/${process.pid}/${crypto.randomUUID()}`;
    this.now = opts.now ?? Date.now;
  }

  private async current(name: string): Promise<{ seq: number; body: LeaseBody | null }> {
    let seq = 0;
    for (const k of await this.storage.list(leaseObjectsPrefix(name))) seq = Math.max(seq, leaseObjectSeq(k));
    if (seq === 0) return { seq, body: null };
    const data = await this.storage.read(leaseObjectKey(name, seq));
    return { seq, body: data ? (JSON.parse(Buffer.from(data).toString('utf8')) as LeaseBody) : null };
  }

  /**
   * Tries to become (or stay) the holder; true when this replica now holds the
   * lease. A holder that acquires again renews its lease (once a quarter of
   * the TTL has passed), so taking a lease ahead of `run` (to claim the next
   * step early) is safe. `firstAttempt`: try creating number 1 before reading
   * the series (run() polls with false: by then the series exists).
   */
  async tryAcquire(name: string, firstAttempt = true): Promise<boolean> {
    const takenAt = this.taken.get(name);
    if (takenAt !== undefined && this.now() - takenAt < this.opts.ttlMs * RENEW_AFTER_FRACTION) return true;
    // Most leases are cold: number 1 is created without reading the series first.
    if (takenAt === undefined && firstAttempt && (await this.create(name, 1))) return true;
    const { seq, body } = await this.current(name);
    if (body && body.owner !== this.owner && this.held(body)) return false;
    return this.create(name, seq + 1);
  }

  /** Creates lease object `seq` held by this replica; true when it was created (this replica holds the lease). */
  private async create(name: string, seq: number): Promise<boolean> {
    const at = this.now();
    const next: LeaseBody = { owner: this.owner, expiresAt: at + this.opts.ttlMs };
    if ((await this.storage.createIfAbsent(leaseObjectKey(name, seq), Buffer.from(JSON.stringify(next)), LEASE_OBJECT)) !== 'created') return false;
    for (const [n, t] of this.taken) {
      if (t + this.opts.ttlMs > at) break;
      this.taken.delete(n);
    }
    this.taken.delete(name);
    this.taken.set(name, at);
    return true;
  }

  private held(body: LeaseBody): boolean {
    return body.released !== true && body.expiresAt > this.now();
  }

  /**
   * Lets go of the lease `name` if this replica holds it: appends a release
   * record, so that waiters take over at once. A no-op when another replica
   * holds it by now (or it is already released); losing the create race to a
   * replica that took over is fine too.
   */
  async release(name: string): Promise<void> {
    try {
      await this.releaseNow(name);
    } catch (err) {
      if (!(err instanceof StorageBudgetError)) throw err;
      // The request's storage budget is spent (likely what failed the work):
      // let go in the background on a budget of its own, rather than hold
      // back the request's answer.
      void withFreshStorageBudget(() => this.releaseNow(name)).catch(() => {});
    }
  }

  private async releaseNow(name: string): Promise<void> {
    this.taken.delete(name);
    const { seq, body } = await this.current(name);
    if (!body || body.owner !== this.owner || !this.held(body)) return;
    const next: LeaseBody = { owner: this.owner, expiresAt: this.now(), released: true };
    await this.storage.createIfAbsent(leaseObjectKey(name, seq + 1), Buffer.from(JSON.stringify(next)), LEASE_OBJECT);
  }

  /**
   * Runs `work` if this replica gets the lease `name` (and releases the lease
   * if the work fails). Otherwise polls `done` (has the holder committed its
   * result?) until it answers, the lease is released or goes stale (then
   * tries to take it over), or maxWaitMs passes (then works anyway).
   * `kind` names the lease's kind to onWait (a build step).
   */
  async run<T>(name: string, done: () => Promise<T | null>, work: (afterWait: boolean) => Promise<T>, kind = 'lease'): Promise<T> {
    const deadline = this.now() + this.opts.maxWaitMs;
    let delay = this.opts.pollMs ?? 100;
    let waitStarted: number | undefined;
    const waited = (result: LeaseWaitResult) => {
      if (waitStarted !== undefined) this.opts.onWait?.(kind, result, (performance.now() - waitStarted) / 1000);
    };
    for (let attempt = 0; ; attempt++) {
      if (await this.tryAcquire(name, attempt === 0)) {
        waited('acquired');
        // After a wait, `work` may want to look for a result again (the holder may have committed before letting go).
        const afterWait = waitStarted !== undefined;
        return this.releasingOnFailure(name, () => work(afterWait));
      }
      waitStarted ??= performance.now();
      const result = await done();
      if (result !== null) {
        waited('result');
        return result;
      }
      if (this.now() >= deadline) {
        waited('timeout');
        return work(true);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }

  /** Runs the work of a lease this replica holds; a failure lets go of the lease before it propagates. */
  private async releasingOnFailure<T>(name: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      // Best effort: if storage fails here too, the lease expires after its TTL as before.
      await this.release(name).catch(() => {});
      throw err;
    }
  }
}
