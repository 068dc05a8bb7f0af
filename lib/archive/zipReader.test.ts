import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XmodOracle } from '../../test/support/xmodOracle.js';
import { zipH1 } from '../../test/support/zipHash.js';
import { nativeZipWriter } from './zipWriter.js';
import { checkModuleZipFile, ZipCheckError } from './zipReader.js';

const M = 'example.com/m';
const V = 'v1.0.0';
const P = `${M}@${V}/`;
let tmp: string;
let n = 0;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-zipreader-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function crc32(buf: Buffer): number {
  let c = ~0 >>> 0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return ~c >>> 0;
}

interface RawEntry {
  name: string;
  data: Buffer;
  deflate?: boolean;
  /** Overrides of what the central directory declares. */
  size?: number;
  crc?: number;
  offset?: number;
  localName?: string;
}

/** A minimal zip writer that can lie. */
function rawZip(entries: RawEntry[], opts: { count?: number; cdOffset?: number } = {}): Buffer {
  const parts: Buffer[] = [];
  const cd: Buffer[] = [];
  let pos = 0;
  for (const e of entries) {
    const body = e.deflate ? zlib.deflateRawSync(e.data) : e.data;
    const name = Buffer.from(e.name);
    const localName = Buffer.from(e.localName ?? e.name);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(e.deflate ? 8 : 0, 8);
    lh.writeUInt32LE(crc32(e.data), 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(e.data.length, 22);
    lh.writeUInt16LE(localName.length, 26);
    const offset = pos;
    parts.push(lh, localName, body);
    pos += 30 + localName.length + body.length;
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(e.deflate ? 8 : 0, 10);
    ch.writeUInt32LE(e.crc ?? crc32(e.data), 16);
    ch.writeUInt32LE(e.deflate ? body.length : (e.size ?? e.data.length), 20);
    ch.writeUInt32LE(e.size ?? e.data.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(e.offset ?? offset, 42);
    cd.push(ch, name);
  }
  const cdBuf = Buffer.concat(cd);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(opts.count ?? entries.length, 8);
  eocd.writeUInt16LE(opts.count ?? entries.length, 10);
  eocd.writeUInt32LE(cdBuf.length, 12);
  eocd.writeUInt32LE(opts.cdOffset ?? pos, 16);
  return Buffer.concat([...parts, cdBuf, eocd]);
}

function write(buf: Buffer): string {
  const f = path.join(tmp, `z${++n}.zip`);
  fs.writeFileSync(f, buf);
  return f;
}

const ok = (): RawEntry[] => [
  { name: P + 'go.mod', data: Buffer.from(`module ${M}\n`) },
  { name: P + 'a.go', data: Buffer.from('package m\n'.repeat(100)), deflate: true },
];

describe('checkModuleZipFile', () => {
  it('hashes a zip as dirhash.HashZip does', async () => {
    const buf = rawZip(ok());
    const r = await checkModuleZipFile(write(buf), M, V);
    expect(r.h1).toBe(await zipH1(buf));
    expect(r.files).toBe(2);
  });

  it('hashes our own writer’s zips like an independent reader', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const files: Record<string, string> = { 'go.mod': `module ${M}\n`, 'LICENSE': 'x', 'sub/b.go': 'package sub\n'.repeat(5000) };
    await nativeZipWriter(
      Object.entries(files).map(([k, v]) => ({ name: P + k, read: async () => Buffer.from(v) })),
      out,
    );
    const buf = Buffer.concat(chunks);
    const r = await checkModuleZipFile(write(buf), M, V);
    expect(r.h1).toBe(await zipH1(buf));
    expect(r.files).toBe(3);
  });

  it('gives the event loop turns while it inflates', async () => {
    const many: RawEntry[] = [...ok()];
    for (let i = 0; i < 500; i++) many.push({ name: `${P}p/f${i}.go`, data: Buffer.from(`package p // ${i}\n`.repeat(50)), deflate: true });
    const file = write(rawZip(many));
    let turns = 0;
    const tick = () => {
      turns++;
      if (!done) setImmediate(tick);
    };
    let done = false;
    setImmediate(tick);
    const r = await checkModuleZipFile(file, M, V, { sliceMs: 0 });
    done = true;
    expect(r.files).toBe(502);
    // Every entry ends its slice: the loop ran between them (the file's I/O alone gives it a few dozen turns).
    expect(turns).toBeGreaterThanOrEqual(500);
  });

  const refuses = async (buf: Buffer, re: RegExp, limits = {}) => {
    const err = await checkModuleZipFile(write(buf), M, V, limits).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZipCheckError);
    expect((err as Error).message).toMatch(re);
  };

  it('refuses names outside the module prefix, unclean, invalid or colliding names', async () => {
    await refuses(rawZip([...ok(), { name: 'example.com/other@v1.0.0/x.go', data: Buffer.from('') }]), /path does not have prefix/);
    await refuses(rawZip([...ok(), { name: P + 'a/../b.go', data: Buffer.from('') }]), /not clean/);
    await refuses(rawZip([...ok(), { name: P + 'A.go', data: Buffer.from('') }]), /case-insensitive file name collision/);
    await refuses(rawZip([...ok(), { name: P + 'a.go', data: Buffer.from('') }]), /multiple entries/);
    await refuses(rawZip([...ok(), { name: P + 'sub/go.mod', data: Buffer.from('') }]), /not in module root/);
    await refuses(rawZip([...ok(), { name: P + 'x\u0001.go', data: Buffer.from('') }]), /invalid char/);
  });

  it('refuses declared and actual size mismatches, bad checksums and overlapping entries', async () => {
    const e = ok();
    e[1].size = 5; // deflated data inflates to more than declared
    await refuses(rawZip(e), /more than its declared/);
    const f = ok();
    f[1].size = 5000; // less than declared
    await refuses(rawZip(f), /holds 1000 bytes but declares 5000/);
    const g = ok();
    g[0].crc = 1;
    await refuses(rawZip(g), /checksum error/);
    const h = ok();
    h[1].offset = 0; // points at go.mod's local header
    await refuses(rawZip(h), /names another file/);
    const good = rawZip(ok());
    // Both directory entries point at the same local header.
    const twins = rawZip([ok()[0], { ...ok()[0], name: P + 'go.mod', localName: P + 'go.mod', offset: 0 }]);
    await refuses(twins, /multiple entries|overlap/);
    expect(good.length).toBeGreaterThan(0);
  });

  it('refuses absurd offsets, counts and sizes, and garbage', async () => {
    await refuses(rawZip(ok(), { count: 5 }), /end record says 5/);
    await refuses(rawZip(ok(), { cdOffset: 1 << 30 }), /out of range/);
    const e = ok();
    e[1].offset = 0x7fffffff;
    await refuses(rawZip(e), /outside the file/);
    await refuses(Buffer.from('not a zip at all, just text'), /not a valid zip/);
    await refuses(Buffer.alloc(0), /not a valid zip/);
    await refuses(rawZip(ok()), /too many entries/, { maxEntries: 1 });
    await refuses(rawZip(ok()), /module zip file is too large/, { maxZipBytes: 10 });
    await refuses(rawZip(ok()), /total uncompressed size/, { maxUncompressed: 100 });
    const big = ok();
    big[0].data = Buffer.alloc(100);
    big[0].name = P + 'LICENSE';
    big[0].size = 17 << 20;
    await refuses(rawZip(big), /LICENSE file too large/);
  });

  it('refuses a deflated entry that holds one byte more than it declares, in memory and streamed from disk', async () => {
    const e = ok();
    e[1].size = e[1].data.length - 1;
    await refuses(rawZip(e), /more than its declared 999 bytes/);
    // Past IN_MEMORY (4 MiB) the zip is read from its file, not held in memory: the same rules hold.
    const big = ok();
    big.push({ name: P + 'pad.bin', data: crypto.randomBytes(5 << 20) });
    big[1].size = big[1].data.length - 1;
    await refuses(rawZip(big), /more than its declared 999 bytes/);
    const g = ok();
    g[1].crc = 1;
    await refuses(rawZip(g), /checksum error in .*a\.go/);
  });

  it('bounds a deflate bomb by the declared size', async () => {
    const bomb: RawEntry[] = [{ name: P + 'bomb.txt', data: Buffer.alloc(4 << 20), deflate: true, size: 1000 }];
    await refuses(rawZip(bomb), /more than its declared 1000 bytes/);
  });
});

describe('checkModuleZipFile (differential: x/mod, as the go command hashes and checks a downloaded zip)', () => {
  let oracle: XmodOracle;
  beforeAll(async () => {
    oracle = await XmodOracle.start();
  }, 120_000);
  afterAll(async () => {
    await oracle?.close();
  });

  const BOM = '\ufeff';
  const cases: Record<string, Buffer> = {
    'a well-formed zip': rawZip(ok()),
    // TextDecoder drops a leading byte order mark unless told not to: the name would lose it, and its hash with it.
    'a name led by a byte order mark (the local header without it)': rawZip([...ok(), { name: BOM + P + 'x.go', localName: P + 'x.go', data: Buffer.from('package m\n') }]),
    'a name led by a byte order mark (the local header with it)': rawZip([...ok(), { name: BOM + P + 'x.go', data: Buffer.from('package m\n') }]),
    'a byte order mark inside a name': rawZip([...ok(), { name: P + BOM + 'x.go', data: Buffer.from('package m\n') }]),
    'a byte order mark as a whole file name': rawZip([...ok(), { name: P + 'd/' + BOM, data: Buffer.from('') }]),
  };
  for (const [what, zip] of Object.entries(cases)) {
    it(what, async () => {
      const go = await oracle.value<{ h1?: string; hashErr?: string; checkErr?: string }>('zip.HashAndCheck', new Uint8Array(zip), M, V);
      let ours: { h1: string } | Error;
      try {
        ours = await checkModuleZipFile(write(zip), M, V);
      } catch (err) {
        ours = err as Error;
      }
      if (go.checkErr !== undefined || go.hashErr !== undefined) {
        expect(ours, `x/mod refuses it: ${go.checkErr ?? go.hashErr}`).toBeInstanceOf(ZipCheckError);
      } else {
        expect(ours).not.toBeInstanceOf(Error);
        expect((ours as { h1: string }).h1).toBe(go.h1);
      }
    });
  }
});

