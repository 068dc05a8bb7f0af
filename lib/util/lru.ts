// A map bounded by the total size of its values (bytes), not their count: a
// few large zips and many small .mod files share one budget. What goes first
// is chosen as the CLOCK (second chance) approximation of least recently used
// does: Map keeps insertion order, a hit only marks its entry, and eviction
// walks from the oldest, moving a marked entry to the end (its mark cleared)
// and evicting the first unmarked one. A hit writes one flag instead of
// deleting and re-inserting its key, on the path every cached answer takes.
interface Entry<V> {
  value: V;
  size: number;
  /** Read since it was inserted or last given its second chance. */
  marked: boolean;
}

export class ByteLru<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private used = 0;
  /** Entries evicted to make room (not replaced or refused ones), since construction. */
  evictions = 0;

  /** `maxBytes` 0 keeps nothing. */
  constructor(readonly maxBytes: number) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    e.marked = true;
    return e.value;
  }

  /** Keeps `value` unless it alone exceeds the bound; evicts to make room (oldest unmarked first). */
  set(key: string, value: V, size: number): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.used -= old.size;
    }
    if (size > this.maxBytes) return;
    this.entries.set(key, { value, size, marked: false });
    this.used += size;
    // Ends: each marked entry is passed over once (its mark cleared and moved
    // behind the new one, which the walk leaves alone and which alone fits).
    for (const [k, e] of this.entries) {
      if (this.used <= this.maxBytes) break;
      if (k === key) continue;
      this.entries.delete(k);
      if (e.marked) {
        e.marked = false;
        this.entries.set(k, e);
        continue;
      }
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
