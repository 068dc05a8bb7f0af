// Reads a module zip from a file on disk, as the go command reads one it got
// from a proxy: its h1 (dirhash.HashZip: Hash1 over every entry's full name
// and the SHA-256 of its content) and x/mod's CheckZip rules (every name
// under "<module>@<version>/", clean and valid file paths, no duplicate or
// case-fold collisions, go.mod only at the root and lower-case, the size
// limits). See docs/go-rules/zip.md.
//
// The input is hostile: memory and work are bounded whatever the file says.
// Only the central directory is held in memory (capped); entry data is
// streamed, stored or inflated, through SHA-256 and CRC-32, and stopped as
// soon as it passes its declared size. Structure that the go command's zip
// reader would refuse, or that is ambiguous (overlapping entries, a local
// header that names another file, offsets outside the file, an entry count
// that disagrees with the directory), is refused with a ZipCheckError.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { check as checkModuleVersion, canonicalVersion, checkFilePath, quote } from '../gomod/module.js';
import { hash1, type FileDigest } from '../gomod/dirhash.js';
import { TimeSlice } from '../util/timeSlice.js';
import { CollisionChecker, cleanPath, MAX_GO_MOD, MAX_LICENSE, MAX_ZIP_FILE } from './checkFiles.js';

/** A zip that is malformed, hostile, or breaks the module zip rules. */
export class ZipCheckError extends Error {
  override name = 'ZipCheckError';
}

export interface ZipReadLimits {
  /** The zip file's size (default: x/mod's MaxZipFile, 500 MiB). */
  maxZipBytes?: number;
  /** Total uncompressed size of all entries (default 500 MiB). */
  maxUncompressed?: number;
  /** Entries in the central directory (default 100,000). */
  maxEntries?: number;
  /** The central directory's size (default 32 MiB). */
  maxDirectoryBytes?: number;
}

export interface CheckOptions {
  /** How long entries are inflated before the event loop gets a turn (default 4 ms). */
  sliceMs?: number;
  /** Between slices, waits for this (background checks: lib/util/foreground.ts). */
  turn?: () => Promise<void> | undefined;
}

/** Checks a module zip on disk, as checkModuleZipFile does. */
export type ZipChecker = (file: string, modPath: string, version: string, limits?: ZipReadLimits) => Promise<CheckedZip>;

export interface CheckedZip {
  /** go.sum's h1 of the zip (dirhash.HashZip). */
  h1: string;
  /** Regular files in the module (directory entries not counted). */
  files: number;
  /** Total uncompressed bytes. */
  size: number;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;
const EOCD_LEN = 22;
const MAX_COMMENT = 0xffff;

interface Entry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
  /** Where the data begins (after the local header), filled in later. */
  dataStart: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** zlib's native CRC-32 where this Node has it (20.15+), else the table. */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

function crc32Update(crc: number, buf: Uint8Array): number {
  if (nativeCrc32) return nativeCrc32(buf, crc) >>> 0;
  let c = ~crc >>> 0;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// ignoreBOM keeps a leading U+FEFF in the name, as Go's archive/zip does: dropped, a name that the go command finds
// outside the module's prefix (and hashes with its mark) would pass here, and hash as the name without it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Positional reads: a file handle, or a small zip held in memory (see IN_MEMORY), whose ranges are views of its
 * bytes, not copies.
 */
type ReadsAt = { read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>; bytes?: undefined } | { bytes: Buffer };

/** Zips up to this size (most modules) are read once into memory: hundreds of small reads cost more than the bytes. Larger ones stream. */
const IN_MEMORY = 4 << 20;

/** `len` bytes at `pos` of a zip held in memory, as a view (nothing here writes into what it reads). */
function viewAt(data: Buffer, pos: number, len: number): Buffer {
  if (pos < 0 || pos + len > data.length) throw new ZipCheckError('zip: unexpected end of file');
  return data.subarray(pos, pos + len);
}

async function readAt(fh: ReadsAt, pos: number, len: number): Promise<Buffer> {
  if (fh.bytes) return viewAt(fh.bytes, pos, len);
  const buf = Buffer.alloc(len);
  let off = 0;
  while (off < len) {
    const { bytesRead } = await fh.read(buf, off, len - off, pos + off);
    if (bytesRead === 0) throw new ZipCheckError('zip: unexpected end of file');
    off += bytesRead;
  }
  return buf;
}

/** A 64-bit little-endian field as a safe integer, or an error when it is absurd. */
function u64(buf: Buffer, off: number): number {
  const v = buf.readBigUInt64LE(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipCheckError('zip: not a valid zip file (absurd 64-bit field)');
  return Number(v);
}

/** Reads the central directory: bounded in entries and bytes; every offset checked against the file. */
async function readDirectory(fh: ReadsAt, fileSize: number, limits: Required<ZipReadLimits>): Promise<{ entries: Entry[]; cdOffset: number }> {
  if (fileSize < EOCD_LEN) throw new ZipCheckError('zip: not a valid zip file');
  const tailLen = Math.min(fileSize, EOCD_LEN + MAX_COMMENT);
  const tail = await readAt(fh, fileSize - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - EOCD_LEN; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG && i + EOCD_LEN + tail.readUInt16LE(i + 20) <= tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipCheckError('zip: not a valid zip file');
  const eocdPos = fileSize - tailLen + eocd;
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  let dirEnd = eocdPos;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // zip64: the locator sits just before the end record and names the zip64 end record.
    if (eocdPos < 20) throw new ZipCheckError('zip: not a valid zip file (zip64 locator missing)');
    const loc = await readAt(fh, eocdPos - 20, 20);
    if (loc.readUInt32LE(0) !== EOCD64_LOCATOR_SIG) throw new ZipCheckError('zip: not a valid zip file (zip64 locator missing)');
    const e64Pos = u64(loc, 8);
    if (e64Pos + 56 > eocdPos - 20) throw new ZipCheckError('zip: not a valid zip file (zip64 end record out of range)');
    const e64 = await readAt(fh, e64Pos, 56);
    if (e64.readUInt32LE(0) !== EOCD64_SIG) throw new ZipCheckError('zip: not a valid zip file (bad zip64 end record)');
    count = u64(e64, 32);
    cdSize = u64(e64, 40);
    cdOffset = u64(e64, 48);
    dirEnd = e64Pos;
  }
  if (count > limits.maxEntries) throw new ZipCheckError(`zip: too many entries (${count}; limit is ${limits.maxEntries})`);
  if (cdSize > limits.maxDirectoryBytes) throw new ZipCheckError(`zip: central directory too large (${cdSize} bytes; limit is ${limits.maxDirectoryBytes})`);
  if (cdOffset + cdSize > dirEnd) throw new ZipCheckError('zip: not a valid zip file (central directory out of range)');
  const cd = await readAt(fh, cdOffset, cdSize);
  const entries: Entry[] = [];
  let p = 0;
  while (p < cd.length) {
    if (entries.length >= count) throw new ZipCheckError('zip: central directory holds more entries than its end record says');
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CDH_SIG) throw new ZipCheckError('zip: not a valid zip file (bad central directory header)');
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc32 = cd.readUInt32LE(p + 16);
    let compressedSize = cd.readUInt32LE(p + 20);
    let uncompressedSize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localOffset = cd.readUInt32LE(p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.length) throw new ZipCheckError('zip: not a valid zip file (central directory header overruns the directory)');
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLen);
    let name: string;
    try {
      name = utf8.decode(nameBytes);
    } catch {
      throw new ZipCheckError(`zip: entry name is not valid UTF-8: ${JSON.stringify(nameBytes.toString('latin1'))}`);
    }
    // The zip64 extra field holds, in order, the fields saturated above.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.readUInt16LE(x);
      const size = cd.readUInt16LE(x + 2);
      if (x + 4 + size > xEnd) throw new ZipCheckError(`zip: bad extra field in ${JSON.stringify(name)}`);
      if (id === 0x0001) {
        let f = x + 4;
        const take = (): number => {
          if (f + 8 > x + 4 + size) throw new ZipCheckError(`zip: bad zip64 extra field in ${JSON.stringify(name)}`);
          const v = u64(cd, f);
          f += 8;
          return v;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localOffset === 0xffffffff) localOffset = take();
      }
      x += 4 + size;
    }
    if (flags & 0x1) throw new ZipCheckError(`zip: entry ${JSON.stringify(name)} is encrypted`);
    if (method !== 0 && method !== 8) throw new ZipCheckError(`zip: entry ${JSON.stringify(name)} uses unsupported compression method ${method}`);
    if (method === 0 && compressedSize !== uncompressedSize) throw new ZipCheckError(`zip: stored entry ${JSON.stringify(name)} has compressed size ${compressedSize} but size ${uncompressedSize}`);
    entries.push({ name, method, flags, crc32, compressedSize, uncompressedSize, localOffset, dataStart: -1 });
    p = end;
  }
  if (entries.length !== count) throw new ZipCheckError(`zip: central directory holds ${entries.length} entries but its end record says ${count}`);
  return { entries, cdOffset };
}

/** Locates each entry's data and refuses entries that overlap each other or the central directory. */
async function locateData(fh: ReadsAt, entries: Entry[], cdOffset: number): Promise<void> {
  for (const e of entries) {
    if (e.localOffset + 30 > cdOffset) throw new ZipCheckError(`zip: entry ${JSON.stringify(e.name)} has a local header outside the file's data`);
    // The header and the name it must carry, in one read.
    const name = Buffer.from(e.name, 'utf8');
    if (e.localOffset + 30 + name.length > cdOffset) throw new ZipCheckError(`zip: local header of ${JSON.stringify(e.name)} names another file`);
    const h = await readAt(fh, e.localOffset, 30 + name.length);
    if (h.readUInt32LE(0) !== LFH_SIG) throw new ZipCheckError(`zip: entry ${JSON.stringify(e.name)} has no local header at its offset`);
    const nameLen = h.readUInt16LE(26);
    const extraLen = h.readUInt16LE(28);
    if (nameLen !== name.length || !h.subarray(30).equals(name)) throw new ZipCheckError(`zip: local header of ${JSON.stringify(e.name)} names another file`);
    e.dataStart = e.localOffset + 30 + nameLen + extraLen;
    if (e.dataStart + e.compressedSize > cdOffset) throw new ZipCheckError(`zip: data of ${JSON.stringify(e.name)} runs past the file's data`);
  }
  const byOffset = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1];
    if (prev.dataStart + prev.compressedSize > byOffset[i].localOffset) {
      throw new ZipCheckError(`zip: entries ${JSON.stringify(prev.name)} and ${JSON.stringify(byOffset[i].name)} overlap`);
    }
  }
}

async function* readRange(fh: ReadsAt, start: number, length: number): AsyncGenerator<Buffer> {
  const CHUNK = 64 << 10;
  let done = 0;
  while (done < length) {
    const n = Math.min(CHUNK, length - done);
    yield await readAt(fh, start + done, n);
    done += n;
  }
}

// Inflating thousands of small entries is CPU work with no I/O between them
// (the zip is in memory): a TimeSlice gives the event loop back every few
// milliseconds so requests keep being served while a zip is checked. (zlib's
// async form moves each entry to the thread pool instead, and was ten times
// slower.)

/** Entries whose compressed data is at most this are read and inflated in one piece. */
const SMALL_ENTRY = 1 << 20;

/** Read and inflated in one piece: most files of a module, bounded by their declared sizes. */
function isSmall(e: Entry): boolean {
  return e.compressedSize <= SMALL_ENTRY && e.uncompressedSize <= SMALL_ENTRY * 8;
}

const moreThanDeclared = (e: Entry) => new ZipCheckError(`zip: entry ${JSON.stringify(e.name)} holds more than its declared ${e.uncompressedSize} bytes`);

/** Refuses an entry whose content disagrees with its declared size or CRC-32. */
function checkEnd(e: Entry, n: number, crc: number): void {
  if (n !== e.uncompressedSize) throw new ZipCheckError(`zip: entry ${JSON.stringify(e.name)} holds ${n} bytes but declares ${e.uncompressedSize}`);
  if (crc !== e.crc32) throw new ZipCheckError(`zip: checksum error in ${JSON.stringify(e.name)}`);
}

/** crypto.hash (Node 20.12+) hashes in one call, without a Hash object per file. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;

function sha256Hex(data: Uint8Array): string {
  return oneShotHash ? oneShotHash('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
}

/** A small entry's SHA-256, from its compressed data in one piece; synchronous, so a zip in memory needs no await per file. */
function digestSmall(raw: Buffer, e: Entry): string {
  let data = raw;
  if (e.method !== 0) {
    try {
      // The output chunk is one byte more than the declared size (zlib's least is 64 bytes): an entry that
      // holds what it declares ends inside the first chunk, so it costs one allocation and one native call,
      // where a chunk of exactly the size filled up and made zlib allocate a second one to find the end.
      // maxOutputLength still refuses the byte beyond. The declared size is at most 8 MiB; the chunk at most 1 MiB.
      data = zlib.inflateRawSync(raw, {
        maxOutputLength: Math.max(1, e.uncompressedSize),
        chunkSize: Math.min(Math.max(zlib.constants.Z_MIN_CHUNK, e.uncompressedSize + 1), 1 << 20),
      });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw moreThanDeclared(e);
      throw new ZipCheckError(`zip: entry ${JSON.stringify(e.name)}: bad deflate data (${(err as Error).message})`);
    }
  }
  if (data.length > e.uncompressedSize) throw moreThanDeclared(e);
  checkEnd(e, data.length, crc32Update(0, data));
  return sha256Hex(data);
}

/**
 * One entry's SHA-256, refusing any size or checksum disagreement: a small entry of a zip in memory at once (no
 * await per file), a small one on disk after one read, a large one streamed.
 */
function digestEntry(fh: ReadsAt, e: Entry): string | Promise<string> {
  if (!isSmall(e)) return digestStreamed(fh, e);
  if (fh.bytes) return digestSmall(viewAt(fh.bytes, e.dataStart, e.compressedSize), e);
  return readAt(fh, e.dataStart, e.compressedSize).then((raw) => digestSmall(raw, e));
}

/** Streams one entry's content through SHA-256 and CRC-32. */
async function digestStreamed(fh: ReadsAt, e: Entry): Promise<string> {
  const hash = crypto.createHash('sha256');
  let crc = 0;
  let n = 0;
  const take = (chunk: Buffer) => {
    n += chunk.length;
    if (n > e.uncompressedSize) throw moreThanDeclared(e);
    hash.update(chunk);
    crc = crc32Update(crc, chunk);
  };
  if (e.method === 0) {
    for await (const chunk of readRange(fh, e.dataStart, e.compressedSize)) take(chunk);
  } else {
    const src = Readable.from(readRange(fh, e.dataStart, e.compressedSize));
    const inflate = zlib.createInflateRaw();
    src.on('error', (err) => inflate.destroy(err));
    src.pipe(inflate);
    try {
      for await (const chunk of inflate) take(chunk as Buffer);
    } catch (err) {
      if (err instanceof ZipCheckError) throw err;
      throw new ZipCheckError(`zip: entry ${JSON.stringify(e.name)}: bad deflate data (${(err as Error).message})`);
    } finally {
      src.destroy();
      inflate.destroy();
    }
  }
  checkEnd(e, n, crc);
  return hash.digest('hex');
}

/** x/mod CheckZip's per-name rules and size limits; throws CheckedFiles.Err's text. */
function checkNames(entries: Entry[], modPath: string, version: string, maxUncompressed: number): number {
  const prefix = `${modPath}@${version}/`;
  const invalid: string[] = [];
  let sizeError: string | undefined;
  const collisions = new CollisionChecker();
  let size = 0;
  let files = 0;
  for (const e of entries) {
    const bad = (msg: string) => invalid.push(`${e.name}: ${msg}`);
    if (!e.name.startsWith(prefix)) {
      bad(`path does not have prefix ${quote(prefix)}`);
      continue;
    }
    let name = e.name.slice(prefix.length);
    if (name === '') continue;
    const isDir = name.endsWith('/');
    if (isDir) name = name.slice(0, -1);
    if (cleanPath(name) !== name) {
      bad('file path is not clean');
      continue;
    }
    try {
      checkFilePath(name);
    } catch (err) {
      bad((err as Error).message);
      continue;
    }
    const collision = collisions.check(name, isDir);
    if (collision) {
      bad(collision);
      continue;
    }
    if (isDir) continue;
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (base.toLowerCase() === 'go.mod') {
      if (base !== name) {
        bad('go.mod file not in module root directory');
        continue;
      }
      if (name !== 'go.mod') {
        bad('go.mod files must have lowercase names');
        continue;
      }
    }
    const sz = e.uncompressedSize;
    if (maxUncompressed - size >= sz) size += sz;
    else sizeError ??= `total uncompressed size of module contents too large (max size is ${maxUncompressed} bytes)`;
    if (name === 'go.mod' && sz > MAX_GO_MOD) {
      bad(`go.mod file too large (max size is ${MAX_GO_MOD} bytes)`);
      continue;
    }
    if (name === 'LICENSE' && sz > MAX_LICENSE) {
      bad(`LICENSE file too large (max size is ${MAX_LICENSE} bytes)`);
      continue;
    }
    files++;
  }
  if (sizeError) throw new ZipCheckError(sizeError);
  if (invalid.length > 0) throw new ZipCheckError(invalid.join('\n'));
  return files;
}

/**
 * Checks the module zip in `file` for `modPath@version` and computes its h1.
 * Throws ZipCheckError for anything the go command would refuse, or that is
 * malformed or beyond the limits; other errors are I/O faults.
 */
export async function checkModuleZipFile(file: string, modPath: string, version: string, opts: ZipReadLimits & CheckOptions = {}): Promise<CheckedZip> {
  const limits: Required<ZipReadLimits> = {
    maxZipBytes: opts.maxZipBytes ?? MAX_ZIP_FILE,
    maxUncompressed: opts.maxUncompressed ?? MAX_ZIP_FILE,
    maxEntries: opts.maxEntries ?? 100_000,
    maxDirectoryBytes: opts.maxDirectoryBytes ?? 32 << 20,
  };
  if (canonicalVersion(version) !== version) throw new ZipCheckError(`version ${JSON.stringify(version)} is not canonical`);
  try {
    checkModuleVersion(modPath, version);
  } catch (err) {
    throw new ZipCheckError((err as Error).message);
  }
  const handle = await fs.promises.open(file, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    if (fileSize > limits.maxZipBytes) throw new ZipCheckError(`module zip file is too large (${fileSize} bytes; limit is ${limits.maxZipBytes} bytes)`);
    const fh: ReadsAt = fileSize <= IN_MEMORY ? { bytes: await readAt(handle, 0, fileSize) } : handle;
    const { entries, cdOffset } = await readDirectory(fh, fileSize, limits);
    // Names and declared sizes first: a zip that breaks the rules is refused before any data is read.
    const files = checkNames(entries, modPath, version, limits.maxUncompressed);
    // Directory entries and skipped names count too: no entry may make us inflate beyond the limit.
    let declared = 0;
    for (const e of entries) declared += e.uncompressedSize;
    if (declared > limits.maxUncompressed) throw new ZipCheckError(`total uncompressed size of module contents too large (max size is ${limits.maxUncompressed} bytes)`);
    await locateData(fh, entries, cdOffset);
    const digests: FileDigest[] = [];
    let size = 0;
    const slice = new TimeSlice(opts.sliceMs, opts.turn);
    for (const e of entries) {
      const digest = digestEntry(fh, e);
      digests.push({ name: e.name, sha256Hex: typeof digest === 'string' ? digest : await digest });
      size += e.uncompressedSize;
      const due = slice.yieldIfDue();
      if (due) await due;
    }
    return { h1: hash1(digests), files, size };
  } finally {
    await handle.close();
  }
}
