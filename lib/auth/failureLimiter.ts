// A bound on failed authentications per client (address): after maxFailures
// within the window, further attempts are refused with 429 until it passes.
export class FailureLimiter {
  private failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private recent(client: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const list = (this.failures.get(client) ?? []).filter((t) => t > cutoff);
    if (list.length > 0) this.failures.set(client, list);
    else this.failures.delete(client);
    return list;
  }

  /** Seconds until `client` may try again, or 0. */
  blockedFor(client: string): number {
    const list = this.recent(client);
    if (list.length < this.maxFailures) return 0;
    return Math.max(1, Math.ceil((list[0] + this.windowMs - this.now()) / 1000));
  }

  fail(client: string): void {
    const list = this.recent(client);
    list.push(this.now());
    this.failures.set(client, list);
    if (this.failures.size > 100_000) this.failures.clear(); // bound memory under address floods
  }
}
