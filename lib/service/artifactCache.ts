// Immutable things kept in memory so that a hit costs no storage read: the
// records of committed versions (created once with create-if-absent, never
// rewritten) and the artifacts made from them (.info, .mod, small zips).
//
// One byte-bounded LRU holds all of it (cache.memoryBytes). Bodies are keyed
// by the storage name they were read from *and* the content hash the record
// names, so an entry is only ever served for the very name and content it was
// read as: another record naming another object (or the same name with other
// content) misses and reads storage. Absent objects are never cached (absence
// is not immutable). Concurrent misses of one key share a single read.
import { noteOutcome, type RequestNote } from '../metrics/metrics.js';
import { ByteLru } from '../util/lru.js';
import { SingleFlight } from '../util/singleflight.js';

/** Rough per-entry overhead (key, map entry, object headers) counted against the bound. */
const ENTRY_OVERHEAD = 256;

export interface ArtifactCacheOptions {
  /** Total bytes held (bodies and records); 0 disables caching. */
  maxBytes: number;
}

export class ArtifactCache {
  private readonly lru: ByteLru<unknown>;
  private readonly flights = new SingleFlight<unknown>();

  constructor(opts: ArtifactCacheOptions) {
    this.lru = new ByteLru(opts.maxBytes);
  }

  /**
   * The value under `key`, or `load()`'s (one load for concurrent callers),
   * kept when it is not null. `sizeOf` is the memory it holds, in bytes.
   * `note` learns whether memory answered or the load ran (or was joined).
   */
  async get<T>(key: string, load: () => Promise<T | null>, sizeOf: (v: T) => number, note?: RequestNote): Promise<T | null> {
    const hit = this.lru.get(key) as T | undefined;
    if (hit !== undefined) {
      noteOutcome(note, 'memory');
      return hit;
    }
    noteOutcome(note, 'storage');
    return this.flights.do(key, async () => {
      const v = await load();
      if (v !== null) this.lru.set(key, v, sizeOf(v) + key.length + ENTRY_OVERHEAD);
      return v;
    }) as Promise<T | null>;
  }

  /** Synchronous lookup (no load). */
  peek<T>(key: string): T | undefined {
    return this.lru.get(key) as T | undefined;
  }

  /** Keeps a value made elsewhere (`size` bytes against the bound). */
  keep(key: string, value: unknown, size: number): void {
    this.lru.set(key, value, size + key.length + ENTRY_OVERHEAD);
  }

  /** The key of a body: the storage name it is read from and the sha256 its record names. */
  static bodyKey(storageName: string, sha256: string): string {
    return `body ${storageName} ${sha256}`;
  }

  get bytes(): number {
    return this.lru.bytes;
  }

  get maxBytes(): number {
    return this.lru.maxBytes;
  }

  /** Entries held now. */
  get entries(): number {
    return this.lru.size;
  }

  /** Entries evicted to make room, since start. */
  get evictions(): number {
    return this.lru.evictions;
  }
}
