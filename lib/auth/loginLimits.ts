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
// credentials are checked, and forgiven only if they are right.
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
  begin(address: string, identity?: string): LoginAttempt {
    const addr = addressKey(address);
    const keys: Array<[string, number]> = [[`address\0${addr}`, this.cfg.maxFailuresPerAddress]];
    if (identity !== undefined) {
      keys.push([`identity\0${identity}`, this.cfg.maxFailuresPerIdentity], [`pair\0${identity}\0${addr}`, this.cfg.maxFailures]);
    }
    const wait = Math.max(...keys.map(([k, budget]) => this.limiter.waitMs(k, budget)));
    if (wait > 0) return { kind: 'wait', retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };
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
