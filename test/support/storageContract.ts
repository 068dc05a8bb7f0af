// The ObjectStorage contract, run against every backend.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import type { DeletableStorage } from '../../lib/storage/deletableStorage.js';
import type { ObjectStorage } from '../../lib/storage/storage.js';

export function storageContract(name: string, make: () => Promise<ObjectStorage> | ObjectStorage): void {
  describe(`ObjectStorage contract: ${name}`, () => {
    it('creates once and never overwrites', async () => {
      const s = await make();
      expect(await s.createIfAbsent('a/b/one', Buffer.from('first'))).toBe('created');
      expect(await s.createIfAbsent('a/b/one', Buffer.from('second'))).toBe('exists');
      expect(Buffer.from((await s.read('a/b/one'))!).toString()).toBe('first');
      const info = await s.stat('a/b/one');
      expect(info?.size).toBe(5);
      // Creation time: the backend's clock, so only roughly now.
      expect(Math.abs(info!.created.getTime() - Date.now())).toBeLessThan(10 * 60_000);
    });

    it('reads absent objects as null', async () => {
      const s = await make();
      expect(await s.read('nope/x')).toBeNull();
      expect(await s.stat('nope/x')).toBeNull();
      expect(await s.openRead('nope/x')).toBeNull();
    });

    it('creates from a local file and streams ranges', async () => {
      const s = await make();
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'contract-')), 'body');
      fs.writeFileSync(file, '0123456789');
      expect(await s.createIfAbsent('blobs/f', { file })).toBe('created');
      const whole = await s.openRead('blobs/f');
      expect(whole!.size).toBe(10);
      expect(await text(whole!.stream)).toBe('0123456789');
      const part = await s.openRead('blobs/f', { start: 2, end: 5 });
      expect(await text(part!.stream)).toBe('2345');
    });

    it('lists by prefix, sorted', async () => {
      const s = await make();
      for (const k of ['m/x/@v/b', 'm/x/@v/a', 'm/y/@v/c', 'n/z']) await s.createIfAbsent(k, Buffer.from(k));
      expect(await s.list('m/x/')).toEqual(['m/x/@v/a', 'm/x/@v/b']);
      expect(await s.list('m/')).toEqual(['m/x/@v/a', 'm/x/@v/b', 'm/y/@v/c']);
      // A series read on from where it was left.
      expect(await s.list('m/', { startAfter: 'm/x/@v/a' })).toEqual(['m/x/@v/b', 'm/y/@v/c']);
      expect(await s.list('m/', { startAfter: 'm/y/@v/c' })).toEqual([]);
      expect(await s.list('m/x/', { startAfter: 'm/' })).toEqual(['m/x/@v/a', 'm/x/@v/b']);
    });

    it('has exactly one winner among concurrent creators', async () => {
      const s = await make();
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => s.createIfAbsent('race/key', Buffer.from(`writer ${i}`))));
      expect(results.filter((r) => r === 'created')).toHaveLength(1);
      const winner = results.indexOf('created');
      expect(Buffer.from((await s.read('race/key'))!).toString()).toBe(`writer ${winner}`);
    });

    it('has exactly one winner among concurrent creators of an advisory object (a lease) too', async () => {
      const s = await make();
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => s.createIfAbsent('race/lease', Buffer.from(`writer ${i}`), { advisory: true })));
      expect(results.filter((r) => r === 'created')).toHaveLength(1);
      expect(Buffer.from((await s.read('race/lease'))!).toString()).toBe(`writer ${results.indexOf('created')}`);
      expect(await s.createIfAbsent('race/lease', Buffer.from('late'), { advisory: true })).toBe('exists');
    });

    it('refuses unsafe keys', async () => {
      const s = await make();
      for (const k of ['../x', 'a/../../x', '/abs', 'a//b', 'a/./b', 'nul\0x', 'back\\slash', '', 'a/']) {
        await expect(s.createIfAbsent(k, Buffer.from('x')), JSON.stringify(k)).rejects.toThrow(/unsafe storage key/);
        await expect(s.read(k), JSON.stringify(k)).rejects.toThrow(/unsafe storage key/);
      }
    });
  });
}

/** The admin's deletion capability (lib/storage/deletableStorage.ts), on the backends that have it. */
export function deletableContract(name: string, make: () => Promise<DeletableStorage> | DeletableStorage): void {
  describe(`DeletableStorage contract: ${name}`, () => {
    it('lists with metadata and deletes only the incarnation it was given', async () => {
      const s = await make();
      await s.createIfAbsent('blobs/x/one', Buffer.from('first'));
      await s.createIfAbsent('blobs/x/two', Buffer.from('2'));
      const listed = await s.listObjects('blobs/x/');
      expect(listed.map((o) => [o.key, o.size])).toEqual([['blobs/x/one', 5], ['blobs/x/two', 1]]);
      const one = listed[0];
      expect(Math.abs(one.created.getTime() - Date.now())).toBeLessThan(10 * 60_000);
      expect(await s.deleteObject('blobs/x/one', { ifGeneration: one.generation })).toBe('deleted');
      expect(await s.stat('blobs/x/one')).toBeNull();
      expect(await s.deleteObject('blobs/x/one', { ifGeneration: one.generation })).toBe('absent');
      // Created again under the same name: a delete of the old incarnation leaves it alone.
      if (s.kind === 'fs') await new Promise((r) => setTimeout(r, 20)); // another write time
      expect(await s.createIfAbsent('blobs/x/one', Buffer.from('again'))).toBe('created');
      const again = (await s.listObjects('blobs/x/one'))[0];
      expect(again.generation).not.toBe(one.generation);
      expect(await s.deleteObject('blobs/x/one', { ifGeneration: one.generation })).toBe('changed');
      expect(Buffer.from((await s.read('blobs/x/one'))!).toString()).toBe('again');
      await expect(s.deleteObject('../x', { ifGeneration: '1' })).rejects.toThrow(/unsafe storage key/);
    });
  });
}
