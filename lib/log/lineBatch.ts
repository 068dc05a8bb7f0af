// Log lines collected as bytes and written in batches. A line comes either
// as text (encoded as UTF-8 once, into the batch) or as an EncodedLine that
// writes its own bytes into the batch: the request line of a hit is made of
// pieces encoded once (lib/http/requestLine.ts), so a hit copies a few
// byte ranges instead of concatenating strings that a join then flattens
// and a write encodes again. Under load, those string steps were about 7%
// of a hit's CPU, now about 3% (perf, 2026-12-02).

import fs from 'node:fs';

/** A line that writes its own UTF-8 bytes (no newline). */
export interface EncodedLine {
  /** The most bytes `encode` writes. */
  readonly maxBytes: number;
  /** Writes the line into `buf` from `at` (with room for maxBytes); returns where it ended. */
  encode(buf: Buffer, at: number): number;
}

/** Copies `bytes` into `buf` at `at`; returns where they end (for EncodedLine.encode). */
export function putBytes(buf: Buffer, at: number, bytes: Uint8Array): number {
  buf.set(bytes, at);
  return at + bytes.length;
}

/** Where a logger's lines go: as text or encoded. */
export interface LineSink {
  text(line: string): void;
  encoded(line: EncodedLine): void;
}

/** The text of an encoded line (for sinks that take strings, and tests). */
export function encodedText(line: EncodedLine): string {
  const buf = Buffer.allocUnsafe(line.maxBytes);
  return buf.toString('utf8', 0, line.encode(buf, 0));
}

/** A sink that hands every line, as text, to `write` (tests, the admin CLI). */
export function textSink(write: (line: string) => void): LineSink {
  return { text: write, encoded: (line) => write(encodedText(line)) };
}

/** The bytes a batch holds before it is written regardless of the timer (bounds memory under load). */
export const BATCH_BYTES = 64 << 10;

/**
 * How long a line waits for others to be written with it. Under load that is
 * many event loop turns: one write per turn cost a hit about a microsecond.
 */
export const BATCH_MS = 20;

const NEWLINE = 0x0a;

export interface LineBatchOptions {
  /** Where a batch goes; default process.stdout. */
  out?: (bytes: Buffer) => void;
  /** The descriptor written synchronously at exit (the rest of a batch); default 1. */
  exitFd?: number;
  batchBytes?: number;
  batchMs?: number;
}

/**
 * Lines of up to BATCH_MS (or BATCH_BYTES) written at once. Whatever is
 * pending when the process exits (process.exit after SIGTERM, or an uncaught
 * error) is written synchronously on 'exit', so no line is lost. A batch is
 * handed to `out` and never touched again (a pipe may still be writing it).
 */
export class LineBatch implements LineSink {
  private readonly out: (bytes: Buffer) => void;
  private readonly size: number;
  private readonly ms: number;
  private buf: Buffer;
  private used = 0;
  private scheduled = false;
  private readonly timerFlush = () => {
    this.scheduled = false;
    this.flush();
  };

  constructor(opts: LineBatchOptions = {}) {
    this.out = opts.out ?? ((b) => void process.stdout.write(b));
    this.size = opts.batchBytes ?? BATCH_BYTES;
    this.ms = opts.batchMs ?? BATCH_MS;
    this.buf = Buffer.allocUnsafeSlow(this.size);
    const fd = opts.exitFd ?? 1;
    process.once('exit', () => {
      if (this.used === 0) return;
      try {
        fs.writeSync(fd, this.buf, 0, this.used);
      } catch {
        // Nothing else can be done with a log line at exit.
      }
      this.used = 0;
    });
  }

  text(line: string): void {
    if (!this.room(Buffer.byteLength(line, 'utf8') + 1)) {
      // Longer than a batch: a write of its own, in order after what was held.
      this.out(Buffer.from(line + '\n', 'utf8'));
      return;
    }
    this.used += this.buf.write(line, this.used);
    this.buf[this.used++] = NEWLINE;
    this.schedule();
  }

  encoded(line: EncodedLine): void {
    if (!this.room(line.maxBytes + 1)) {
      const own = Buffer.allocUnsafe(line.maxBytes + 1);
      const end = line.encode(own, 0);
      own[end] = NEWLINE;
      this.out(own.subarray(0, end + 1));
      return;
    }
    this.used = line.encode(this.buf, this.used);
    this.buf[this.used++] = NEWLINE;
    this.schedule();
  }

  /** Writes what is held now. */
  flush(): void {
    if (this.used === 0) return;
    const full = this.buf.subarray(0, this.used);
    this.buf = Buffer.allocUnsafeSlow(this.size);
    this.used = 0;
    this.out(full);
  }

  /** Whether `bytes` fit in a batch, writing out what is held first if they do not fit behind it. */
  private room(bytes: number): boolean {
    if (this.used + bytes <= this.size) return true;
    this.flush();
    return bytes <= this.size;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Unreferenced: a process with nothing else to do exits, and 'exit' writes the rest.
    setTimeout(this.timerFlush, this.ms).unref();
  }
}
