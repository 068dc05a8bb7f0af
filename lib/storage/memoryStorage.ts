// In-memory storage for unit tests: same contract as the other backends.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { assertSafeKey, type CreateResult, type ListOptions, type ObjectBody, type ObjectInfo, type ObjectStorage, type ReadStreamResult } from './storage.js';

export class MemoryStorage implements ObjectStorage {
  readonly kind = 'memory';
  readonly objects = new Map<string, Uint8Array>();
  /** When each object was created (tests may move it back to age an object). */
  readonly created = new Map<string, Date>();

  async createIfAbsent(key: string, body: ObjectBody): Promise<CreateResult> {
    assertSafeKey(key);
    if (this.objects.has(key)) return 'exists';
    const bytes = body instanceof Uint8Array ? Uint8Array.from(body) : await fs.promises.readFile(body.file);
    if (this.objects.has(key)) return 'exists';
    this.objects.set(key, bytes);
    this.created.set(key, new Date());
    return 'created';
  }

  async read(key: string): Promise<Uint8Array | null> {
    assertSafeKey(key);
    return this.objects.get(key) ?? null;
  }

  async openRead(key: string, range?: { start: number; end?: number }): Promise<ReadStreamResult | null> {
    const data = await this.read(key);
    if (!data) return null;
    const slice = range ? data.subarray(range.start, range.end === undefined ? undefined : range.end + 1) : data;
    return { stream: Readable.from([Buffer.from(slice)]), size: data.length };
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const data = await this.read(key);
    return data ? { size: data.length, created: this.created.get(key) ?? new Date(0) } : null;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<string[]> {
    const after = opts.startAfter;
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix) && (after === undefined || k > after)).sort();
  }
}
