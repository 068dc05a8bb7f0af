// Git packs written byte by byte (gitformat-pack(5)), for tests that need a
// pack git itself would never write: a valid trailing checksum over objects
// whose compressed data is broken.
import crypto from 'node:crypto';
import zlib from 'node:zlib';

/** Type codes of whole objects. */
export const BLOB = 3;
const OFS_DELTA = 6;

/** An entry: type and size varint header, then the (given or freshly deflated) data. */
export function packEntry(type: number, size: number, deflated: Buffer): Buffer {
  const head: number[] = [];
  let byte = (type << 4) | (size & 0x0f);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    head.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  head.push(byte);
  return Buffer.concat([Buffer.from(head), deflated]);
}

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/**
 * A pack of one blob and `depth` OFS deltas, each on the one before: every
 * delta copies its whole base and appends one byte. Returns the pack and the
 * last object's content.
 */
export function deltaChainPack(depth: number): { pack: Buffer; last: Buffer } {
  let content = Buffer.from('x');
  const entries = [packEntry(BLOB, content.length, zlib.deflateSync(content))];
  const offsets = [12];
  for (let i = 0; i < depth; i++) {
    const add = Buffer.from([0x61 + (i % 26)]);
    // copy (offset 0, size = base size; two size bytes cover up to 65535), then insert one byte
    const size = content.length;
    const delta = Buffer.from([...varint(size), ...varint(size + 1), 0x80 | 0x10 | 0x20, size & 0xff, (size >> 8) & 0xff, 1, add[0]]);
    const offset = offsets[i] + entries[i].length;
    offsets.push(offset);
    // The base's distance, in the OFS encoding (gitformat-pack: each continuation adds one before the shift).
    let n = offset - offsets[i];
    const dist = [n & 0x7f];
    n = Math.floor(n / 128);
    while (n > 0) {
      n -= 1;
      dist.unshift(0x80 | (n & 0x7f));
      n = Math.floor(n / 128);
    }
    const entry = packEntry(OFS_DELTA, delta.length, Buffer.alloc(0));
    entries.push(Buffer.concat([entry, Buffer.from(dist), zlib.deflateSync(delta)]));
    content = Buffer.concat([content, add]);
  }
  return { pack: packOf(entries), last: content };
}

/** A pack of `entries` with a correct header and SHA-1 trailer. */
export function packOf(entries: Buffer[]): Buffer {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'ascii');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(entries.length, 8);
  const body = Buffer.concat([header, ...entries]);
  return Buffer.concat([body, crypto.createHash('sha1').update(body).digest()]);
}

/**
 * A zlib stream of `data` with one byte changed so that inflating it fails
 * with a data error (not a truncation): the first such change, found by trying.
 */
export function corruptDeflate(data: Buffer): Buffer {
  const good = zlib.deflateSync(data);
  for (let i = 2; i < good.length - 4; i++) {
    for (const flip of [0x01, 0x10, 0x80, 0xff]) {
      const bad = Buffer.from(good);
      bad[i] ^= flip;
      try {
        zlib.inflateSync(bad);
      } catch (err) {
        if ((err as { code?: string }).code === 'Z_DATA_ERROR') return bad;
      }
    }
  }
  throw new Error('no single-byte change breaks this stream');
}

/** One blob whose deflate stream is broken, in a pack whose checksum is right. */
export function corruptPack(): Buffer {
  const text = Buffer.from('package m\n\n// ' + 'hello, hello, hello; '.repeat(40) + '\n');
  return packOf([packEntry(BLOB, text.length, corruptDeflate(text))]);
}

function pkt(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0'), 'ascii'), payload]);
}

/** A protocol v2 fetch response carrying `pack` on side-band 1. */
export function fetchResponse(pack: Buffer): Buffer {
  const parts = [pkt(Buffer.from('packfile\n'))];
  for (let i = 0; i < pack.length; i += 65515) parts.push(pkt(Buffer.concat([Buffer.from([1]), pack.subarray(i, i + 65515)])));
  parts.push(Buffer.from('0000'));
  return Buffer.concat(parts);
}

/** The start of a v2 fetch response whose pack never ends: `packfile`, then side-band 1 packets of `bytes` each. */
export function endlessPackPackets(bytes = 65515): { head: Buffer; packet: Buffer } {
  return {
    head: pkt(Buffer.from('packfile\n')),
    packet: pkt(Buffer.concat([Buffer.from([1]), crypto.randomBytes(Math.min(bytes, 65515))])),
  };
}
