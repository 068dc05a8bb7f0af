import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../storage/memoryStorage.js';
import { parseSumdbTreeKey, sumdbTreeKey } from './layout.js';
import { StorageTreeStore } from './treeStore.js';

describe('StorageTreeStore', () => {
  it('keeps one head per size, the first one recorded, and answers the largest as latest', async () => {
    const storage = new MemoryStorage();
    const store = new StorageTreeStore(storage, 'sum.golang.org');
    expect(await store.latest()).toBeNull();
    expect(Buffer.from(await store.record(9n, Buffer.from('nine')))).toEqual(Buffer.from('nine'));
    expect(Buffer.from(await store.record(10n, Buffer.from('ten')))).toEqual(Buffer.from('ten'));
    expect(Buffer.from(await store.record(10n, Buffer.from('other ten')))).toEqual(Buffer.from('ten'));
    expect(Buffer.from((await store.latest())!)).toEqual(Buffer.from('ten'));
    // Another replica on the same storage sees the same history.
    expect(Buffer.from((await new StorageTreeStore(storage, 'sum.golang.org').latest())!)).toEqual(Buffer.from('ten'));
    expect(await new StorageTreeStore(storage, 'other.example').latest()).toBeNull();
  });

  it('lists only the heads after the largest it has read', async () => {
    const storage = new MemoryStorage();
    const seen: Array<string | undefined> = [];
    const spying = Object.assign(Object.create(storage) as MemoryStorage, {
      list: (prefix: string, opts?: { startAfter?: string }) => {
        seen.push(opts?.startAfter);
        return storage.list(prefix, opts);
      },
    });
    const store = new StorageTreeStore(spying, 'db');
    const replica = new StorageTreeStore(storage, 'db');
    expect(await store.latest()).toBeNull();
    await replica.record(5n, Buffer.from('five'));
    expect(Buffer.from((await store.latest())!).toString()).toBe('five');
    // Another replica records a larger head: it is found after the one already read.
    await replica.record(12n, Buffer.from('twelve'));
    await replica.record(7n, Buffer.from('seven'));
    expect(Buffer.from((await store.latest())!).toString()).toBe('twelve');
    expect(Buffer.from((await store.latest())!).toString()).toBe('twelve');
    expect(seen).toEqual([undefined, undefined, sumdbTreeKey('db', 5n), sumdbTreeKey('db', 12n)]);
  });

  it('names heads so that names sort as sizes do, and refuses names that are not safe', () => {
    expect(sumdbTreeKey('db', 10n) > sumdbTreeKey('db', 9n)).toBe(true);
    expect(parseSumdbTreeKey(sumdbTreeKey('db', 123456789012345n))).toBe(123456789012345n);
    expect(() => sumdbTreeKey('../x', 1n)).toThrow();
    expect(() => sumdbTreeKey('db', -1n)).toThrow();
  });
});
