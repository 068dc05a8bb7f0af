// Local-disk storage: the embedded default.
//
// create-if-absent is atomic across processes that share the directory: the
// body is written to a unique temporary file in the same file system, fsynced,
// then hard-linked to its final name. link(2) fails with EEXIST if the name
// exists, so exactly one writer wins and readers only ever see complete files.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DeletableStorage, DeleteResult, ListedObject } from './deletableStorage.js';
import { removeStaleFiles } from '../util/staleFiles.js';
import { assertSafeKey, type CreateOptions, type CreateResult, type ListOptions, type ObjectBody, type ObjectInfo, type ObjectStorage, type ReadStreamResult } from './storage.js';

export class FsStorage implements ObjectStorage, DeletableStorage {
  readonly kind = 'fs';
  private readonly root: string;
  private readonly tmp: string;

  constructor(dir: string, now = Date.now()) {
    this.root = path.resolve(dir);
    this.tmp = path.join(this.root, '.tmp');
    fs.mkdirSync(this.tmp, { recursive: true });
    // What a crash left in .tmp/ (a create it never finished); a create in flight takes seconds, not hours.
    removeStaleFiles(this.tmp, now, '');
  }

  /** The file for a key, refusing anything that would resolve outside the root. */
  private file(key: string): string {
    assertSafeKey(key);
    const p = path.resolve(this.root, key);
    if (!p.startsWith(this.root + path.sep) || p.startsWith(this.tmp + path.sep)) throw new Error(`unsafe storage key ${JSON.stringify(key)}`);
    return p;
  }

  async createIfAbsent(key: string, body: ObjectBody, opts: CreateOptions = {}): Promise<CreateResult> {
    const final = this.file(key);
    if (fs.existsSync(final)) return 'exists';
    // The directory is made while the body is written and flushed: a new
    // module's records need several levels, one thread-pool round trip each,
    // and under concurrent commits that alone took 10-28 ms (bench public).
    const dirMade = fs.promises.mkdir(path.dirname(final), { recursive: true });
    dirMade.catch(() => {}); // awaited before the link; a failure is seen there
    const tmp = path.join(this.tmp, `${process.pid}-${crypto.randomUUID()}`);
    let tmpLeft = true;
    try {
      if (body instanceof Uint8Array) {
        const fh = await fs.promises.open(tmp, 'wx', 0o444);
        try {
          await fh.writeFile(body);
          // An advisory object (a lease) need not survive a crash, so it is not flushed: every cold version writes two on its way to an answer.
          if (!opts.advisory) await fh.sync();
        } finally {
          await fh.close();
        }
      } else {
        // The caller's file is linked rather than copied when it is on this
        // file system (it is not changed after the call: storage.ts); the
        // fsync below makes its bytes durable under our name all the same.
        await fs.promises.link(body.file, tmp).catch(() => fs.promises.copyFile(body.file, tmp));
        if (!opts.advisory) await fsync(tmp);
      }
      await dirMade;
      try {
        await fs.promises.link(tmp, final);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
        throw err;
      }
      tmpLeft = false;
      // The temporary name goes while the new entry is flushed, not after it: a cold .info waits for this commit.
      await Promise.all([opts.advisory ? undefined : syncDir(path.dirname(final)), removeFile(tmp)]);
      return 'created';
    } finally {
      if (tmpLeft) await removeFile(tmp);
    }
  }

  async read(key: string): Promise<Uint8Array | null> {
    try {
      return await fs.promises.readFile(this.file(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async openRead(key: string, range?: { start: number; end?: number }): Promise<ReadStreamResult | null> {
    const file = this.file(key);
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const { size } = await fh.stat();
    // Large reads: a zip streams at disk speed, not in 64 KiB steps.
    const stream = fh.createReadStream({ start: range?.start, end: range?.end, autoClose: true, highWaterMark: 1 << 20 });
    return { stream, size };
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    try {
      const st = await fs.promises.stat(this.file(key));
      return { size: st.size, created: st.mtime };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<string[]> {
    const after = opts.startAfter;
    const out: string[] = [];
    // Walk only the directory that can hold the prefix.
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash >= 0 ? prefix.slice(0, slash) : '';
    const start = dirKey === '' ? this.root : this.file(dirKey);
    const walk = async (dir: string, rel: string) => {
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const k = rel === '' ? e.name : `${rel}/${e.name}`;
        if (rel === '' && e.name === '.tmp') continue;
        if (e.isDirectory()) await walk(path.join(dir, e.name), k);
        else if (k.startsWith(prefix) && (after === undefined || k > after)) out.push(k);
      }
    };
    await walk(start, dirKey);
    return out.sort();
  }

  async listObjects(prefix: string): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    for (const key of await this.list(prefix)) {
      try {
        const st = await fs.promises.stat(this.file(key));
        out.push({ key, size: st.size, created: st.mtime, generation: fileGeneration(st) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // deleted since listed
      }
    }
    return out;
  }

  /**
   * Admin only (modproxy-admin gc). A file has no generation to make the
   * unlink conditional on atomically: the check is a stat just before it.
   * Only gc deletes, and the server re-creates a name only after it is gone,
   * so the name can hold another incarnation only if two gc runs overlap.
   */
  async deleteObject(key: string, opts: { ifGeneration: string }): Promise<DeleteResult> {
    const file = this.file(key);
    try {
      if (fileGeneration(await fs.promises.stat(file)) !== opts.ifGeneration) return 'changed';
      await fs.promises.unlink(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
      throw err;
    }
    await syncDir(path.dirname(file));
    return 'deleted';
  }
}

/** A file's incarnation: a re-created file has another inode or write time. */
function fileGeneration(st: fs.Stats): string {
  return `${st.ino}-${st.mtimeMs}`;
}

/** Flushes a file (or directory) that is already written to disk. */
async function fsync(p: string): Promise<void> {
  const fh = await fs.promises.open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Removes a file of ours (a temporary name) if it is there. unlink(2) itself:
 * fs.promises.rm would first lstat it, one more thread-pool round trip.
 * What it cannot remove, the sweep of .tmp/ at the next start takes.
 */
async function removeFile(file: string): Promise<void> {
  await fs.promises.unlink(file).catch(() => {});
}

async function syncDir(dir: string): Promise<void> {
  // Make the new directory entry durable; not every platform can fsync a directory.
  try {
    await fsync(dir);
  } catch {
    // best effort
  }
}
