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

  get size(): number {
    return this.inflight.size;
  }
}
