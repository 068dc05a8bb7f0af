// A FIFO concurrency limiter: at most `limit` tasks run at once, the rest
// start in the order they were queued.
export class Limiter {
  private active = 0;
  private queue: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /** Runs `fn` when a slot is free; `waited` tells it whether it queued for one. */
  async run<T>(fn: (waited: boolean) => Promise<T>): Promise<T> {
    const waited = this.active >= this.limit;
    if (waited) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      return await fn(waited);
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}
