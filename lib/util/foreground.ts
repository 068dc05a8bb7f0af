// Requests first. Background CPU work (checking a parent proxy's zip after its
// version's manifest is committed) runs on the event loop in short slices
// (TimeSlice); between slices it also waits while requests are being
// answered. A slice that runs while a request is answered delays every step
// of that request: the go command asks .info after .info, each a dozen
// awaits, and behind 4 ms slices of zip checks a cold public .info took 30–80
// ms instead of 14–21 ms (npm run bench public). Worker threads would free the
// loop, but each pays its own warm-up on every fresh instance (more CPU than
// the checks themselves: see docs/public-modules.md).
//
// The wait is bounded (maxWaitMs per turn), so a server that is never idle
// slows its background work down but never stops it. A request that itself
// waits for background work (a .zip whose check is running) leaves the
// foreground first, or it would wait for itself.

export class Foreground {
  private active = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly maxWaitMs = 50) {}

  /** Requests being answered now. */
  get size(): number {
    return this.active;
  }

  /** A request begins; the returned function ends it (once, however often it is called). */
  enter(): () => void {
    this.active++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      if (--this.active === 0) this.wake();
    };
  }

  /**
   * Background work's turn: undefined when no request is being answered (go
   * on), else a promise that settles when the last one ends or after
   * maxWaitMs, whichever comes first.
   */
  readonly turn = (): Promise<void> | undefined => {
    if (this.active === 0) return undefined;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.maxWaitMs);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(done);
    });
  };

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
