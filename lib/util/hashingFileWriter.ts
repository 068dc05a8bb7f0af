// A writable that spools to a file and hashes what passes through, so a zip is
// hashed while it is written and never held whole in memory.
import type crypto from 'node:crypto';
import fs from 'node:fs';
import { Writable } from 'node:stream';

export class HashingFileWriter extends Writable {
  private readonly out: fs.WriteStream;

  constructor(
    file: string,
    private readonly hash: crypto.Hash,
  ) {
    super();
    this.out = fs.createWriteStream(file);
    this.out.on('error', (err) => this.destroy(err));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hash.update(chunk);
    if (this.out.write(chunk)) cb();
    else this.out.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.out.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.out.destroy();
    cb(err);
  }
}
