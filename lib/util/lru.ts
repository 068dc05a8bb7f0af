// A least-recently-used map bounded by the total size of its values (bytes),
// not their count: a few large zips and many small .mod files share one budget.
// Map keeps insertion order; a hit re-inserts its key, so the first key is the
// least recently used one.
export class ByteLru<V> {
  private readonly entries = new Map<string, { value: V; size: number }>();
  private used = 0;
  /** Entries evicted to make room (not replaced or refused ones), since construction. */
  evictions = 0;

  /** `maxBytes` 0 keeps nothing. */
  constructor(readonly maxBytes: number) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  /** Keeps `value` unless it alone exceeds the bound; evicts the least recently used to make room. */
  set(key: string, value: V, size: number): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.used -= old.size;
    }
    if (size > this.maxBytes) return;
    this.entries.set(key, { value, size });
    this.used += size;
    for (const [k, e] of this.entries) {
      if (this.used <= this.maxBytes) break;
      this.entries.delete(k);
      this.used -= e.size;
      this.evictions++;
    }
  }

  /** The bytes held now (never more than maxBytes). */
  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }
}
