// A storage whose writes, reads and listings each go through a wrapper: tests
// count them, time them as round trips, or run them under a storage budget.
// openRead and stat pass straight through.
import type { ObjectStorage } from '../../lib/storage/storage.js';

export type AroundCall = <T>(what: string, call: () => Promise<T>) => Promise<T>;

export function aroundStorage(inner: ObjectStorage, around: AroundCall, kind = 'wrapped'): ObjectStorage {
  return {
    kind,
    createIfAbsent: (k, b, o) => around(`create ${k}`, () => inner.createIfAbsent(k, b, o)),
    read: (k) => around(`read ${k}`, () => inner.read(k)),
    openRead: (k, r) => inner.openRead(k, r),
    stat: (k) => inner.stat(k),
    list: (p, o) => around(`list ${p}`, () => inner.list(p, o)),
  };
}
