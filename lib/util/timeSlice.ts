// Long CPU work (inflating and hashing thousands of objects) gives the event
// loop back every few milliseconds, so requests keep being answered meanwhile.
// Background work also passes its turn (foreground.ts): between slices it
// waits while requests are being answered.
export class TimeSlice {
  private since = performance.now();
  constructor(
    private readonly ms = 4,
    private readonly turn?: () => Promise<void> | undefined,
  ) {}

  /** A promise to await when the slice is used up, else nothing: a hot loop need not await (a microtask) per step. */
  yieldIfDue(): Promise<void> | undefined {
    if (performance.now() - this.since < this.ms) return undefined;
    return this.yieldNow();
  }

  private async yieldNow(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const waiting = this.turn?.();
    if (waiting) await waiting;
    this.since = performance.now();
  }
}
