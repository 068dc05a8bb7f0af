// The zip container writer, behind a seam so the library can be measured and
// swapped (see bench/). Entries are pulled lazily and strictly in order, so at
// most one file's bytes are held in memory at a time.
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import JSZip from 'jszip';

export interface ZipEntrySource {
  /** Full entry name, `M@V/path`. */
  name: string;
  /** Produces the entry's bytes when the writer reaches it. */
  read(): Promise<Uint8Array>;
}

export type ZipWriter = (entries: ZipEntrySource[], out: Writable) => Promise<void>;

/** A fixed timestamp, so the same module gives byte-identical zips (hashes never depend on it). */
const ZIP_DATE = new Date(Date.UTC(1980, 0, 1, 0, 0, 0));

/**
 * jszip, streaming: each entry is a lazy Node stream that jszip consumes
 * when it reaches the entry (streamFiles writes data descriptors, so no
 * entry has to be buffered to learn its size). No directory entries: they
 * would change the module's h1 hash.
 */
export const jszipWriter: ZipWriter = async (entries, out) => {
  const zip = new JSZip();
  for (const e of entries) {
    const lazy = Readable.from(
      (async function* () {
        yield Buffer.from(await e.read());
      })(),
      { objectMode: false },
    );
    zip.file(e.name, lazy as unknown as NodeJS.ReadableStream, { binary: true, createFolders: false, date: ZIP_DATE });
  }
  const stream = zip.generateNodeStream({
    type: 'nodebuffer',
    streamFiles: true,
    compression: 'DEFLATE',
    compressionOptions: { level: 5 },
    platform: 'DOS',
  }) as unknown as Readable;
  await pipeline(stream, out);
};
