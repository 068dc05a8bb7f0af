// What the service hands the HTTP layer: an artifact handle, not a storage
// key. The HTTP layer asks it for its size, digest (ETag), bytes (a range)
// and, where storage can sign one, a URL, and never learns where it lives.
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import type { ObjectStorage } from '../storage/storage.js';

/** A byte range, end inclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface Artifact {
  size: number;
  /** sha256 of the whole body, lowercase hex. */
  sha256: string;
  /** True when this request's answer can never change (a canonical version's .info, .mod, .zip). */
  immutable: boolean;
  /** The whole body, when it is in memory. */
  readonly bytes?: Uint8Array;
  /** The body, or a range of it. */
  open(range?: ByteRange): Promise<Readable>;
  /** A time-limited URL for the body, when storage can sign one. */
  signedUrl?(ttlSeconds: number): Promise<string>;
}

/** An artifact held in memory (.info, .mod, list). */
export class BytesArtifact implements Artifact {
  readonly size: number;
  private digest: string | undefined;

  /** `sha256`: the digest when already known (from a record), so it is not computed again. */
  constructor(
    readonly bytes: Uint8Array,
    readonly immutable: boolean,
    sha256?: string,
  ) {
    this.size = bytes.length;
    this.digest = sha256;
  }

  static text(s: string, immutable: boolean): BytesArtifact {
    return new BytesArtifact(Buffer.from(s, 'utf8'), immutable);
  }

  get sha256(): string {
    this.digest ??= crypto.createHash('sha256').update(this.bytes).digest('hex');
    return this.digest;
  }

  async open(range?: ByteRange): Promise<Readable> {
    const all = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return Readable.from([range ? all.subarray(range.start, range.end + 1) : all]);
  }
}

/** An immutable artifact stored as a content-addressed body (zips). */
export class StoredArtifact implements Artifact {
  readonly immutable = true;
  readonly signedUrl?: (ttlSeconds: number) => Promise<string>;

  constructor(
    private readonly storage: ObjectStorage,
    private readonly key: string,
    readonly size: number,
    readonly sha256: string,
    /** The whole body when it is held in memory (small zips; see artifactCache.ts). */
    readonly bytes?: Uint8Array,
  ) {
    const sign = storage.signedReadUrl?.bind(storage);
    if (sign) this.signedUrl = (ttl) => sign(key, ttl);
  }

  async open(range?: ByteRange): Promise<Readable> {
    if (this.bytes) {
      const all = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
      return Readable.from([range ? all.subarray(range.start, range.end + 1) : all]);
    }
    const opened = await this.storage.openRead(this.key, range);
    // Records name only bodies written before them; a missing one is a storage fault.
    if (!opened) throw new Error(`storage lost ${this.key}`);
    return opened.stream;
  }
}
