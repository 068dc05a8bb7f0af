// Counts and times every storage call (a decorator at the storage seam), so
// storage errors and load show in /metrics whatever backend is configured.
import type { CreateOptions, CreateResult, ListOptions, ObjectBody, ObjectInfo, ObjectStorage, ReadStreamResult } from '../storage/storage.js';
import type { ProxyMetrics } from './metrics.js';

export class InstrumentedStorage implements ObjectStorage {
  readonly kind: string;
  readonly signedReadUrl?: (key: string, ttlSeconds: number) => Promise<string>;

  constructor(
    private readonly inner: ObjectStorage,
    private readonly metrics: ProxyMetrics,
  ) {
    this.kind = inner.kind;
    const sign = inner.signedReadUrl?.bind(inner);
    if (sign) this.signedReadUrl = (key, ttl) => this.timed('signedReadUrl', () => sign(key, ttl));
  }

  private async timed<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const end = this.metrics.storageLatency.startTimer({ op });
    try {
      const v = await fn();
      this.metrics.storageOps.inc({ op, result: 'ok' });
      return v;
    } catch (err) {
      this.metrics.storageOps.inc({ op, result: 'error' });
      throw err;
    } finally {
      end();
    }
  }

  createIfAbsent(key: string, body: ObjectBody, opts?: CreateOptions): Promise<CreateResult> {
    return this.timed('createIfAbsent', () => this.inner.createIfAbsent(key, body, opts));
  }
  read(key: string): Promise<Uint8Array | null> {
    return this.timed('read', () => this.inner.read(key));
  }
  openRead(key: string, range?: { start: number; end?: number }): Promise<ReadStreamResult | null> {
    return this.timed('openRead', () => this.inner.openRead(key, range));
  }
  stat(key: string): Promise<ObjectInfo | null> {
    return this.timed('stat', () => this.inner.stat(key));
  }
  list(prefix: string, opts?: ListOptions): Promise<string[]> {
    return this.timed('list', () => this.inner.list(prefix, opts));
  }
}
