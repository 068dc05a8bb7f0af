// Long CPU work (inflating and hashing thousands of objects) gives the event
// loop back every few milliseconds, so requests keep being answered meanwhile.
export class TimeSlice {
  private since = performance.now();
  constructor(private readonly ms = 4) {}

  async yieldIfDue(): Promise<void> {
    if (performance.now() - this.since < this.ms) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}
