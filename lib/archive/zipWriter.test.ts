import { Writable } from 'node:stream';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { nativeZipWriter } from './zipWriter.js';

function sink(): { out: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _e, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { out, bytes: () => Buffer.concat(chunks) };
}

const entries = (n: number, size = 3) =>
  Array.from({ length: n }, (_, i) => ({ name: `m@v1.0.0/d${i % 7}/f${i}.txt`, read: async () => Buffer.alloc(size, `e${i}`) }));

describe('native zip writer', () => {
  it('writes file entries only, in order, with their bytes', async () => {
    const s = sink();
    const list = [...entries(5), { name: 'm@v1.0.0/ünïcödé/é.go', read: async () => Buffer.from('package p\n') }, { name: 'm@v1.0.0/empty', read: async () => Buffer.alloc(0) }];
    await nativeZipWriter(list, s.out);
    const zip = await JSZip.loadAsync(s.bytes());
    const names = Object.keys(zip.files);
    expect(names).toEqual(list.map((e) => e.name));
    for (const e of list) expect((await zip.file(e.name)!.async('nodebuffer')).equals(Buffer.from(await e.read()))).toBe(true);
    expect(Object.values(zip.files).some((f) => f.dir)).toBe(false);
  });

  it('stops with the error of an entry that cannot be read', async () => {
    const s = sink();
    const list = [...entries(2), { name: 'm@v1.0.0/bad', read: async () => Promise.reject(new Error('boom')) }];
    await expect(nativeZipWriter(list, s.out)).rejects.toThrow('boom');
  });

  it('sets the UTF-8 flag only for non-ASCII names', async () => {
    const s = sink();
    await nativeZipWriter([{ name: 'm@v/a', read: async () => Buffer.from('x') }, { name: 'm@v/é', read: async () => Buffer.from('y') }], s.out);
    const b = s.bytes();
    expect(b.readUInt16LE(6)).toBe(0);
    const second = b.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]), 4);
    expect(b.readUInt16LE(second + 6)).toBe(0x0800);
  });

  it('writes zip64 end records past 65535 entries', async () => {
    const s = sink();
    await nativeZipWriter(entries(70_000, 1), s.out);
    const zip = await JSZip.loadAsync(s.bytes());
    expect(Object.keys(zip.files)).toHaveLength(70_000);
    expect(await zip.file('m@v1.0.0/d6/f69999.txt')!.async('string')).toBe('e');
  });
});
