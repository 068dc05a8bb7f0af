// The storage seam: a flat, append-only object store. Every backend offers one
// atomic primitive, create-if-absent, and never overwrites or deletes through
// this interface; the commit protocol (lib/records) builds consistency on it.
import type { Readable } from 'node:stream';

export type CreateResult = 'created' | 'exists';

/**
 * Where an object's bytes come from when creating it: memory, or a local file
 * (zips). A file is the caller's own and is not changed after the call (it may
 * be deleted): a backend on the same file system may link it rather than copy it.
 */
export type ObjectBody = Uint8Array | { file: string };

export interface CreateOptions {
  contentType?: string;
  /**
   * The object only advises (a lease): losing it in a crash harms nothing,
   * since correctness never depends on it. The disk backend then skips the
   * flushes (two fsyncs) that make a record durable; atomicity is the same.
   */
  advisory?: boolean;
}

export interface ObjectInfo {
  size: number;
  /**
   * When the object was created (GCS timeCreated; a file's mtime, which is
   * its write time: files are written once, read-only). `modproxy-admin gc`
   * and the commit path's reuse rule (lib/records/manifest.ts) read it.
   */
  created: Date;
}

export interface ReadStreamResult {
  stream: Readable;
  size: number;
}

export interface ObjectStorage {
  /** A short name for logs ("fs", "memory", "gcs"). */
  readonly kind: string;
  /**
   * Creates `key` with `body` unless an object named `key` already exists.
   * Atomic: concurrent callers (in any process) see exactly one 'created';
   * readers never observe a partial object.
   */
  createIfAbsent(key: string, body: ObjectBody, opts?: CreateOptions): Promise<CreateResult>;
  /** The whole object, or null when absent. For small objects (manifests). */
  read(key: string): Promise<Uint8Array | null>;
  /** A stream of the object (optionally a byte range, end inclusive), or null when absent. */
  openRead(key: string, range?: { start: number; end?: number }): Promise<ReadStreamResult | null>;
  stat(key: string): Promise<ObjectInfo | null>;
  /** Keys that start with `prefix`, sorted; with `startAfter`, only the keys after it. */
  list(prefix: string, opts?: ListOptions): Promise<string[]>;
  /** A time-limited URL granting read access, for backends that have one (GCS V4 signed URLs). */
  signedReadUrl?(key: string, ttlSeconds: number): Promise<string>;
}

export interface ListOptions {
  /** Only keys that sort after this one (so that a growing series is read from where it was left). */
  startAfter?: string;
}

/**
 * Keys are '/'-separated, built only from escaped module paths and versions,
 * hashes and fixed words. Backends call this before touching anything, as a
 * second line of defence against traversal.
 */
export function assertSafeKey(key: string): void {
  if (
    key.length === 0 ||
    key.length > 1024 ||
    key.startsWith('/') ||
    key.endsWith('/') ||
    key.includes('\0') ||
    key.includes('\\') ||
    key.split('/').some((part) => part === '' || part === '.' || part === '..') ||
    // control characters have no business in a key
    /[\u0000-\u001f\u007f]/.test(key)
  ) {
    throw new Error(`unsafe storage key ${JSON.stringify(key)}`);
  }
}
