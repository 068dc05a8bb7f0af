// What the disk backend does beyond the storage contract (storage.test.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { STALE_TEMP_MS } from '../util/staleFiles.js';
import { FsStorage } from './fsStorage.js';

const dirs: string[] = [];
const tmpDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'fsstorage-own-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** The prototype every FileHandle shares (to spy on its methods), from a handle opened in `dir`. */
async function fileHandlePrototype(dir: string): Promise<{ sync: () => Promise<void> }> {
  const probe = await fs.promises.open(path.join(dir, 'probe'), 'w');
  await probe.close();
  return Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
}

describe('FsStorage', () => {
  it("removes a crash's leftovers from .tmp when it starts, and leaves newer files (a create in flight) alone", () => {
    const root = tmpDir();
    const tmp = path.join(root, '.tmp');
    fs.mkdirSync(tmp, { recursive: true });
    const old = path.join(tmp, '123-crashed');
    const inFlight = path.join(tmp, '456-in-flight');
    fs.writeFileSync(old, 'left behind');
    fs.writeFileSync(inFlight, 'being written');
    const now = Date.now();
    const past = (now - STALE_TEMP_MS - 60_000) / 1000;
    fs.utimesSync(old, past, past);
    new FsStorage(root, now);
    expect(fs.readdirSync(tmp)).toEqual(['456-in-flight']);
  });

  it('flushes a record (file and directory) before it is visible, and an advisory object not at all', async () => {
    const root = tmpDir();
    const storage = new FsStorage(path.join(root, 'store'));
    // Count every FileHandle's sync() calls.
    const sync = vi.spyOn(await fileHandlePrototype(root), 'sync');
    try {
      const file = path.join(root, 'spooled.zip');
      fs.writeFileSync(file, 'zip bytes');
      expect(await storage.createIfAbsent('records/a', Buffer.from('record'))).toBe('created');
      expect(await storage.createIfAbsent('blobs/b', { file })).toBe('created');
      expect(sync).toHaveBeenCalledTimes(4);
      sync.mockClear();
      expect(await storage.createIfAbsent('leases/c/00000001', Buffer.from('lease'), { advisory: true })).toBe('created');
      expect(await storage.createIfAbsent('leases/c/00000001', Buffer.from('again'), { advisory: true })).toBe('exists');
      expect(await storage.createIfAbsent('leases/d', { file }, { advisory: true })).toBe('created');
      expect(sync).not.toHaveBeenCalled();
      expect(Buffer.from((await storage.read('leases/c/00000001'))!).toString()).toBe('lease');
    } finally {
      sync.mockRestore();
    }
  });

  it('removes the temporary name while the new entry is flushed, not after the flush', async () => {
    const root = tmpDir();
    const storage = new FsStorage(path.join(root, 'store'));
    const proto = await fileHandlePrototype(root);
    const events: string[] = [];
    const realSync = proto.sync;
    const sync = vi.spyOn(proto, 'sync').mockImplementation(async function (this: unknown) {
      await realSync.call(this);
      events.push('flushed');
    });
    const realUnlink = fs.promises.unlink;
    const unlink = vi.spyOn(fs.promises, 'unlink').mockImplementation(async (p) => {
      events.push(`unlink ${path.basename(path.dirname(String(p)))}`);
      return realUnlink(p);
    });
    try {
      expect(await storage.createIfAbsent('records/a', Buffer.from('record'))).toBe('created');
      // The record's file is flushed, linked; then its temporary name goes before the directory's flush ends.
      expect(events).toEqual(['flushed', 'unlink .tmp', 'flushed']);
      expect(fs.readdirSync(path.join(root, 'store', '.tmp'))).toEqual([]);
    } finally {
      sync.mockRestore();
      unlink.mockRestore();
    }
  });

  it('links a file body on the same file system instead of copying it, and keeps it once the caller deletes its name', async () => {
    const root = tmpDir();
    const storage = new FsStorage(path.join(root, 'store'));
    const file = path.join(root, 'spooled.zip');
    fs.writeFileSync(file, 'zip bytes');
    expect(await storage.createIfAbsent('blobs/z', { file })).toBe('created');
    const stored = path.join(root, 'store', 'blobs', 'z');
    expect(fs.statSync(stored).ino).toBe(fs.statSync(file).ino);
    fs.rmSync(file);
    expect(Buffer.from((await storage.read('blobs/z'))!).toString()).toBe('zip bytes');
    // No temporary name is left behind.
    expect(fs.readdirSync(path.join(root, 'store', '.tmp'))).toEqual([]);
  });
});
