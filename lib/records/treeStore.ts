// The checksum database client's memory of what it verified, kept in our
// storage so that every replica, and every restart, checks a database against
// the same history: one create-if-absent object per verified tree head, named
// by its size (lib/records/layout.ts). The largest name is the latest head.
// Heads are never replaced; the client verifies what it reads back.
import type { TreeStore } from '../sumdb/client.js';
import type { ObjectStorage } from '../storage/storage.js';
import { parseSumdbTreeKey, sumdbTreeKey, sumdbTreesPrefix } from './layout.js';

export class StorageTreeStore implements TreeStore {
  constructor(
    private readonly storage: ObjectStorage,
    private readonly dbName: string,
  ) {}

  async latest(): Promise<Uint8Array | null> {
    let best: { size: bigint; key: string } | null = null;
    for (const key of await this.storage.list(sumdbTreesPrefix(this.dbName))) {
      const size = parseSumdbTreeKey(key);
      if (size !== null && (!best || size > best.size)) best = { size, key };
    }
    return best ? this.storage.read(best.key) : null;
  }

  async record(size: bigint, note: Uint8Array): Promise<Uint8Array> {
    const key = sumdbTreeKey(this.dbName, size);
    if ((await this.storage.createIfAbsent(key, note, { contentType: 'text/plain; charset=utf-8' })) === 'created') return note;
    const first = await this.storage.read(key);
    if (!first) throw new Error(`${key} exists but cannot be read`);
    return first;
  }
}
