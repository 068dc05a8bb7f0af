// Basic credentials that passed the password check lately. The go command
// sends .netrc's Basic header with every request of a build (hundreds of
// .info/.mod/.zip requests), and each check is a deliberately slow scrypt
// (~100 ms of CPU): remembering a success for a few minutes makes the
// second request as cheap as a hash.
//
// Entries are keyed by an HMAC of the whole header under a key made at start
// and never stored: the table holds no password and nothing usable outside
// this process. Only successes are kept, so a wrong password always takes
// the full check and counts against the login limits. The table is bounded
// (oldest entry out first) and entries expire, so a password changed in the
// configuration (which restarts the process anyway) is never outlived.
import crypto from 'node:crypto';

export interface VerifiedCredentialsOptions {
  /** How long a success is remembered (default 5 minutes). */
  ttlMs?: number;
  /** Entries kept at most (default 10,000: about 1.5 MiB). */
  maxEntries?: number;
  now?: () => number;
}

export class VerifiedCredentials {
  private readonly key = crypto.randomBytes(32);
  private readonly entries = new Map<string, { identity: string; until: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: VerifiedCredentialsOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 300_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  private id(header: string): string {
    return crypto.createHmac('sha256', this.key).update(header).digest('base64');
  }

  /** The identity a header proved lately, if it did. */
  get(header: string): string | undefined {
    const id = this.id(header);
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.until <= this.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return e.identity;
  }

  remember(header: string, identity: string): void {
    const id = this.id(header);
    this.entries.delete(id);
    this.entries.set(id, { identity, until: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
