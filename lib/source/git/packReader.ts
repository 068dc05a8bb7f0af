// Reads git objects from the packs in a GitObjectStore directory, with Node's
// native zlib. The store holds complete packs only (objectStore.ts writes each
// fetch as one pack and index, never loose objects), so packs are all there is
// to read.
//
// Why not isomorphic-git's readObject: it inflates with pako (JS), lists the
// pack directory and probes for a loose file on every call, and holds whole
// packs in memory; reading the ~3000 blobs of one module version took 2.1 s,
// this reader takes a fraction of that (see bench/). It also makes reads safe
// while a fetch writes new packs: only packs registered after their fetch
// completed are ever looked at.
//
// Formats: gitformat-pack(5) (pack v2 entries, OFS/REF deltas) and the v2
// .idx file; objects are read by exact byte range (offsets sorted per pack),
// so memory use is bounded by the object being read plus a small base cache.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';

export interface GitObject {
  type: ObjectType;
  data: Buffer;
}

const TYPES: Record<number, ObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;

/** A parsed v2 pack index. */
class PackIndex {
  readonly count: number;
  private readonly fanout: Uint32Array;
  private readonly shas: Buffer;
  private readonly offsets32: Buffer;
  private readonly offsets64: Buffer;
  /** Start offsets of all objects, sorted, to find where each object's bytes end. */
  readonly sortedOffsets: Float64Array;

  constructor(buf: Buffer) {
    if (buf.readUInt32BE(0) !== 0xff744f63 || buf.readUInt32BE(4) !== 2) throw new Error('unsupported pack index version');
    this.fanout = new Uint32Array(256);
    for (let i = 0; i < 256; i++) this.fanout[i] = buf.readUInt32BE(8 + i * 4);
    this.count = this.fanout[255];
    const shaStart = 8 + 256 * 4;
    const crcStart = shaStart + this.count * 20;
    const off32Start = crcStart + this.count * 4;
    const off64Start = off32Start + this.count * 4;
    this.shas = buf.subarray(shaStart, crcStart);
    this.offsets32 = buf.subarray(off32Start, off64Start);
    this.offsets64 = buf.subarray(off64Start, buf.length - 40);
    const sorted = new Float64Array(this.count);
    for (let i = 0; i < this.count; i++) sorted[i] = this.offsetAt(i);
    sorted.sort();
    this.sortedOffsets = sorted;
  }

  private offsetAt(i: number): number {
    const o = this.offsets32.readUInt32BE(i * 4);
    if (o & 0x80000000) {
      const j = o & 0x7fffffff;
      return Number(this.offsets64.readBigUInt64BE(j * 8));
    }
    return o;
  }

  /** The index of `oid` (binary, 20 bytes) or -1. */
  private indexOf(oid: Buffer): number {
    const first = oid[0];
    let lo = first === 0 ? 0 : this.fanout[first - 1];
    let hi = this.fanout[first];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.shas.compare(oid, 0, 20, mid * 20, mid * 20 + 20);
      if (c === 0) return mid;
      if (c > 0) hi = mid;
      else lo = mid + 1;
    }
    return -1;
  }

  offsetOf(oid: Buffer): number {
    const i = this.indexOf(oid);
    return i < 0 ? -1 : this.offsetAt(i);
  }
}

class Pack {
  private fd: number | undefined;

  constructor(
    readonly packPath: string,
    readonly index: PackIndex,
    private readonly size: number,
  ) {}

  /** The [start, end) byte range of the object at `offset`. */
  range(offset: number): [number, number] {
    const s = this.index.sortedOffsets;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid] <= offset) lo = mid + 1;
      else hi = mid;
    }
    const end = lo < s.length ? s[lo] : this.size - 20;
    return [offset, end];
  }

  read(start: number, end: number): Buffer {
    this.fd ??= fs.openSync(this.packPath, 'r');
    const buf = Buffer.allocUnsafe(end - start);
    let done = 0;
    while (done < buf.length) {
      const n = fs.readSync(this.fd, buf, done, buf.length - done, start + done);
      if (n === 0) throw new Error(`short read in ${this.packPath}`);
      done += n;
    }
    return buf;
  }
}

/** A byte-bounded LRU of resolved objects (delta bases are read again and again). */
class ObjectCache {
  private map = new Map<string, GitObject>();
  private bytes = 0;
  constructor(private readonly limit: number) {}

  get(key: string): GitObject | undefined {
    const v = this.map.get(key);
    if (v) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, v: GitObject): void {
    if (v.data.length > this.limit / 4) return;
    this.map.set(key, v);
    this.bytes += v.data.length;
    while (this.bytes > this.limit) {
      const [k, old] = this.map.entries().next().value as [string, GitObject];
      this.map.delete(k);
      this.bytes -= old.data.length;
    }
  }
}

/** A pack entry's header: object type code, inflated size, and for deltas where the base is. */
export interface PackEntryHeader {
  typeCode: number;
  size: number;
  /** OFS_DELTA: how far before this entry its base starts. */
  baseDistance?: number;
  /** REF_DELTA: the base object's id. */
  baseOid?: string;
  /** Where the compressed data starts. */
  dataStart: number;
}

/** Parses the entry header at `pos` (gitformat-pack: type and size varint, then the delta base). */
export function parseEntryHeader(buf: Buffer, pos: number): PackEntryHeader {
  let byte = buf[pos++];
  const typeCode = (byte >> 4) & 7;
  let size = byte & 0x0f;
  let shift = 4;
  while (byte & 0x80) {
    byte = buf[pos++];
    size += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  }
  const h: PackEntryHeader = { typeCode, size, dataStart: pos };
  if (typeCode === OFS_DELTA) {
    byte = buf[pos++];
    let n = byte & 0x7f;
    while (byte & 0x80) {
      byte = buf[pos++];
      n = (n + 1) * 128 + (byte & 0x7f);
    }
    h.baseDistance = n;
  } else if (typeCode === REF_DELTA) {
    h.baseOid = buf.toString('hex', pos, pos + 20);
    pos += 20;
  }
  h.dataStart = pos;
  return h;
}

/** Applies a git delta (gitformat-pack "Deltified representation") to a base. */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = delta[pos++];
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return result;
  };
  const baseSize = varint();
  if (baseSize !== base.length) throw new Error('delta base size mismatch');
  const size = varint();
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  while (pos < delta.length) {
    const op = delta[pos++];
    if (op & 0x80) {
      let off = 0;
      let len = 0;
      for (let i = 0; i < 4; i++) if (op & (1 << i)) off += delta[pos++] * 2 ** (8 * i);
      for (let i = 0; i < 3; i++) if (op & (0x10 << i)) len += delta[pos++] * 2 ** (8 * i);
      if (len === 0) len = 0x10000;
      base.copy(out, o, off, off + len);
      o += len;
    } else if (op !== 0) {
      delta.copy(out, o, pos, pos + op);
      o += op;
      pos += op;
    } else {
      throw new Error('invalid delta opcode 0');
    }
  }
  if (o !== size) throw new Error('delta result size mismatch');
  return out;
}

export class ObjectReader {
  private packs: Pack[] = [];
  private known = new Set<string>();
  private cache: ObjectCache;

  constructor(
    private readonly gitdir: string,
    cacheBytes = 64 << 20,
  ) {
    this.cache = new ObjectCache(cacheBytes);
  }

  /**
   * Registers packs written since the last call. Call only when no fetch is
   * writing (a half-written .idx must never be read).
   */
  refresh(): void {
    const dir = path.join(this.gitdir, 'objects', 'pack');
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      // Only finished packs: fetches write under temporary names and rename last.
      if (!/^pack-[0-9a-f]{40}\.idx$/.test(name) || this.known.has(name)) continue;
      const packPath = path.join(dir, name.replace(/\.idx$/, '.pack'));
      if (!fs.existsSync(packPath)) continue;
      const index = new PackIndex(fs.readFileSync(path.join(dir, name)));
      this.packs.push(new Pack(packPath, index, fs.statSync(packPath).size));
      this.known.add(name);
    }
  }

  has(oid: string): boolean {
    const bin = Buffer.from(oid, 'hex');
    return this.packs.some((p) => p.index.offsetOf(bin) >= 0);
  }

  /**
   * The object `oid`. Resolved objects are cached by their place in a pack
   * (pack path and offset), the only name an OFS_DELTA base has; a read by id
   * finds that place in the index first, which is a binary search.
   */
  read(oid: string): GitObject {
    const bin = Buffer.from(oid, 'hex');
    for (const p of this.packs) {
      const off = p.index.offsetOf(bin);
      if (off >= 0) return this.readPacked(p, off);
    }
    throw new ObjectNotFoundError(oid);
  }

  /**
   * How `oid` is stored, from its pack entry alone (nothing is inflated but a
   * delta's first bytes): the object's size, and for an object stored whole,
   * its type and where its zlib data lies, so that it can be streamed rather
   * than held (moduleZip.ts reads large blobs this way).
   */
  stored(oid: string): StoredObject | undefined {
    const bin = Buffer.from(oid, 'hex');
    for (const p of this.packs) {
      const off = p.index.offsetOf(bin);
      if (off < 0) continue;
      const [start, end] = p.range(off);
      const h = parseEntryHeader(p.read(start, Math.min(end, start + 64)), 0);
      const dataStart = start + h.dataStart;
      if (h.typeCode !== OFS_DELTA && h.typeCode !== REF_DELTA) {
        const type = TYPES[h.typeCode];
        if (!type) throw new Error(`unknown pack object type ${h.typeCode} in ${p.packPath}`);
        return { size: h.size, whole: { type, packPath: p.packPath, start: dataStart, end } };
      }
      // A delta starts with the sizes of its base and of its result (two varints).
      for (let n = 256; ; n *= 4) {
        const head = zlib.inflateSync(p.read(dataStart, Math.min(end, dataStart + n)), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
        const sizes = readVarints(head, 2);
        if (sizes) return { size: sizes[1] };
        if (dataStart + n >= end) throw new Error(`truncated delta in ${p.packPath}`);
      }
    }
    return undefined;
  }

  private readPacked(pack: Pack, offset: number): GitObject {
    const key = `${pack.packPath}:${offset}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const [start, end] = pack.range(offset);
    const buf = pack.read(start, end);
    const { typeCode, size, baseDistance, baseOid, dataStart } = parseEntryHeader(buf, 0);
    let obj: GitObject;
    if (typeCode === OFS_DELTA || typeCode === REF_DELTA) {
      const base = typeCode === OFS_DELTA ? this.readPacked(pack, offset - baseDistance!) : this.read(baseOid!);
      const delta = inflate(buf.subarray(dataStart), size);
      obj = { type: base.type, data: applyDelta(base.data, delta) };
    } else {
      const type = TYPES[typeCode];
      if (!type) throw new Error(`unknown pack object type ${typeCode} in ${pack.packPath}`);
      obj = { type, data: inflate(buf.subarray(dataStart), size) };
    }
    this.cache.set(key, obj);
    return obj;
  }
}

/** What {@link ObjectReader.stored} tells about an object. */
export interface StoredObject {
  /** Size of the object's content. */
  size: number;
  /** For an object stored whole (not as a delta): its type and the [start, end) range of its zlib data. */
  whole?: { type: ObjectType; packPath: string; start: number; end: number };
}

/** The first `count` little-endian base-128 varints of `buf`, or undefined if it ends first. */
function readVarints(buf: Buffer, count: number): number[] | undefined {
  const out: number[] = [];
  let pos = 0;
  while (out.length < count) {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length) return undefined;
      const b = buf[pos++];
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    out.push(v);
  }
  return out;
}

function inflate(data: Buffer, size: number): Buffer {
  const out = zlib.inflateSync(data, { maxOutputLength: Math.max(size, 1) });
  if (out.length !== size) throw new Error(`pack object inflated to ${out.length} bytes, expected ${size}`);
  return out;
}

export class ObjectNotFoundError extends Error {
  override name = 'ObjectNotFoundError';
  constructor(readonly oid: string) {
    super(`object ${oid} not found`);
  }
}
