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

  it('names heads so that names sort as sizes do, and refuses names that are not safe', () => {
    expect(sumdbTreeKey('db', 10n) > sumdbTreeKey('db', 9n)).toBe(true);
    expect(parseSumdbTreeKey(sumdbTreeKey('db', 123456789012345n))).toBe(123456789012345n);
    expect(() => sumdbTreeKey('../x', 1n)).toThrow();
    expect(() => sumdbTreeKey('db', -1n)).toThrow();
  });
});
