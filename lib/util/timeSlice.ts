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

  async yieldIfDue(): Promise<void> {
    if (performance.now() - this.since < this.ms) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    const waiting = this.turn?.();
    if (waiting) await waiting;
    this.since = performance.now();
  }
}
