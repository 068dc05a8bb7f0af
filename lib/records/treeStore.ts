// The checksum database client's memory of what it verified, kept in our
// storage so that every replica, and every restart, checks a database against
// the same history: one create-if-absent object per verified tree head, named
// by its size (lib/records/layout.ts). The largest name is the latest head.
// Heads are never replaced; the client verifies what it reads back.
//
// The series only grows (one head per new tree the deployment meets), so a
// store lists only the names after the largest head it has read: the cost
// of a lookup does not grow with the database's history.
import type { TreeStore } from '../sumdb/client.js';
import type { ObjectStorage } from '../storage/storage.js';
import { parseSumdbTreeKey, sumdbTreeKey, sumdbTreesPrefix } from './layout.js';

export class StorageTreeStore implements TreeStore {
  /** The largest head read so far; immutable once created, so its bytes are kept. */
  private largest: { size: bigint; key: string; note: Uint8Array } | null = null;

  constructor(
    private readonly storage: ObjectStorage,
    private readonly dbName: string,
  ) {}

  async latest(): Promise<Uint8Array | null> {
    const known = this.largest;
    let best: { size: bigint; key: string } | null = null;
    for (const key of await this.storage.list(sumdbTreesPrefix(this.dbName), known ? { startAfter: known.key } : undefined)) {
      const size = parseSumdbTreeKey(key);
      if (size !== null && size > (best?.size ?? known?.size ?? -1n)) best = { size, key };
    }
    if (best) {
      const note = await this.storage.read(best.key);
      if (!note) throw new Error(`${best.key} is listed but cannot be read`);
      if (!this.largest || best.size > this.largest.size) this.largest = { ...best, note: note.slice() };
    }
    return this.largest ? this.largest.note.slice() : null;
  }

  async record(size: bigint, note: Uint8Array): Promise<Uint8Array> {
    const key = sumdbTreeKey(this.dbName, size);
    if ((await this.storage.createIfAbsent(key, note, { contentType: 'text/plain; charset=utf-8' })) === 'created') return note;
    const first = await this.storage.read(key);
    if (!first) throw new Error(`${key} exists but cannot be read`);
    return first;
  }
}
