// Singleflight: concurrent callers with the same key share one in-flight
// promise (like golang.org/x/sync/singleflight). The entry is dropped when the
// call settles, so a later call starts fresh.
export class SingleFlight<T> {
  private inflight = new Map<string, Promise<T>>();

  do(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.inflight.get(key);
    if (existing) return existing;
    const p = (async () => {
      try {
        return await fn();
      } finally {
        this.inflight.delete(key);
      }
    })();
    this.inflight.set(key, p);
    return p;
  }

  /** The call in flight under `key`, if any (to join it without starting one). */
  inFlight(key: string): Promise<T> | undefined {
    return this.inflight.get(key);
  }

  get size(): number {
    return this.inflight.size;
  }
}
