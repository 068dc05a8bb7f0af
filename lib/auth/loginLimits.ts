// Limits on failed logins (Basic, /auth/userpassword, bearer tokens, malformed
// credentials), kept so that a stranger can slow an attacker down without
// being able to lock the real user out:
//
//   per (identity, address)  maxFailures, then backoff — stops one client
//                            guessing one identity's password;
//   per identity             maxFailuresPerIdentity (much higher), then backoff
//                            — slows a guess spread over many addresses, while
//                            one stranger cannot reach it cheaply (its own pair
//                            backs off long before);
//   per address              maxFailuresPerAddress over all identities — stops
//                            one client spraying many identities.
//
// Each attempt is reserved against every key that applies before the
// credentials are checked, and forgiven only if they are right. An attempt
// that would take more attempts in flight than a budget has room for waits
// (at most maxQueueWaitMs) for those to settle: a client's burst of correct
// logins goes through, a burst of wrong ones is refused once they fail.
import { addressKey } from './clientAddress.js';
import { FailureLimiter } from './failureLimiter.js';

export interface LoginLimitsConfig {
  maxFailures: number;
  maxFailuresPerIdentity: number;
  maxFailuresPerAddress: number;
  windowSeconds: number;
  backoffInitialSeconds: number;
  backoffMaxSeconds: number;
  maxTrackedKeys: number;
}

/** How long an attempt waits at most for attempts in flight to settle, before 429. */
const MAX_QUEUE_WAIT_MS = 10_000;

export type LoginAttempt =
  | {
      kind: 'go';
      /** The credentials were right: the attempt is not counted, and this client's earlier failures for the identity are forgotten. */
      succeeded(): void;
      failed(): void;
    }
  | { kind: 'wait'; retryAfterSeconds: number };

export class LoginLimits {
  private readonly limiter: FailureLimiter;

  constructor(
    private readonly cfg: LoginLimitsConfig,
    now: () => number = Date.now,
    private readonly maxQueueWaitMs = MAX_QUEUE_WAIT_MS,
  ) {
    this.limiter = new FailureLimiter({
      windowMs: cfg.windowSeconds * 1000,
      initialDelayMs: cfg.backoffInitialSeconds * 1000,
      maxDelayMs: cfg.backoffMaxSeconds * 1000,
      maxKeys: cfg.maxTrackedKeys,
      now,
    });
  }

  /** Before credentials are checked: an attempt to settle with the outcome, or how long the client must wait. */
  async begin(address: string, identity?: string): Promise<LoginAttempt> {
    const addr = addressKey(address);
    const keys: Array<[string, number]> = [[`address\0${addr}`, this.cfg.maxFailuresPerAddress]];
    if (identity !== undefined) {
      keys.push([`identity\0${identity}`, this.cfg.maxFailuresPerIdentity], [`pair\0${identity}\0${addr}`, this.cfg.maxFailures]);
    }
    // Real time, not the injected clock: this bounds how long a request is held, not a limit's window.
    const deadline = performance.now() + this.maxQueueWaitMs;
    for (;;) {
      const statuses = keys.map(([k, budget]) => this.limiter.status(k, budget));
      const wait = Math.max(0, ...statuses.map((s) => (s.kind === 'blocked' ? s.waitMs : 0)));
      if (wait > 0) return { kind: 'wait', retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };
      if (statuses.every((s) => s.kind === 'free')) break;
      const left = deadline - performance.now();
      if (left <= 0) return { kind: 'wait', retryAfterSeconds: 1 };
      await settledOrTimeout(this.limiter.settled(), left);
    }
    const reservations = keys.map(([k, budget]) => this.limiter.reserve(k, budget));
    return {
      kind: 'go',
      succeeded: () => reservations.forEach((r, i) => r.succeeded(i === 2)),
      failed: () => reservations.forEach((r) => r.failed()),
    };
  }

  /** Keys tracked now (for tests and diagnostics). */
  get trackedKeys(): number {
    return this.limiter.size;
  }
}

function settledOrTimeout(settled: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}
