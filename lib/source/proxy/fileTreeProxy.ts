// A GOPROXY tree on disk (the go command's cache/download layout: what
// GOPROXY=file://<dir> reads) as the files of a ParentProxySource, so that
// `modproxy-admin import` goes through the same checks and commit path as a
// parent proxy over HTTP: .info validated, go.mod verified, zip checked and
// compared with its verified hash. The tree is untrusted like any parent:
// reads stay below its root, only regular files are read, and each kind of
// file is capped as the HTTP parent caps bodies.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { NotFoundError, UpstreamError } from '../../errors.js';
import { checkModuleZipFile } from '../../archive/zipReader.js';
import { DEFAULT_LIMITS, type BodyLimits, type ProxyFiles } from './parentProxy.js';
import type { ModuleVerifier } from './verifier.js';

export interface FileTreeProxyOptions {
  root: string;
  verifier: ModuleVerifier;
  tmpDir?: string;
  limits?: Partial<BodyLimits>;
}

export class FileTreeProxy implements ProxyFiles {
  readonly name = 'GOPROXY tree';
  readonly root: string;
  readonly verifier: ModuleVerifier;
  readonly tmpDir: string;
  /** Without waits: `modproxy-admin import` answers no requests a check should wait for. */
  readonly checkZip = checkModuleZipFile;
  private readonly limits: BodyLimits;

  constructor(opts: FileTreeProxyOptions) {
    this.root = path.resolve(opts.root);
    this.verifier = opts.verifier;
    this.tmpDir = opts.tmpDir ?? path.join(os.tmpdir(), 'modproxy-import');
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
  }

  /** The file of `rel` (an escaped proxy path), refusing anything that would leave the root. */
  private file(rel: string, what: string): string {
    const parts = rel.split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\0'))) {
      throw new UpstreamError(`GOPROXY tree: ${what}: invalid path ${JSON.stringify(rel)}`);
    }
    return path.join(this.root, ...parts);
  }

  /** Opens a regular file below the root: its handle and size; not-found when absent. */
  private async open(rel: string, what: string, limit: number): Promise<{ fh: fs.promises.FileHandle; size: number }> {
    let fh: fs.promises.FileHandle;
    try {
      // O_NOFOLLOW: the last element is never a symbolic link out of the tree.
      fh = await fs.promises.open(this.file(rel, what), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`${what}: not found in the GOPROXY tree`);
      if (err instanceof UpstreamError) throw err;
      throw new UpstreamError(`GOPROXY tree: ${what}: ${code ?? (err as Error).message}`);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new UpstreamError(`GOPROXY tree: ${what}: not a regular file`);
      if (st.size > limit) throw new UpstreamError(`GOPROXY tree: ${what}: too large (${st.size} bytes; limit is ${limit})`);
      return { fh, size: st.size };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async getBytes(rel: string, what: string, limit: keyof BodyLimits): Promise<Uint8Array> {
    const { fh, size } = await this.open(rel, what, this.limits[limit]);
    try {
      const buf = Buffer.alloc(size);
      let n = 0;
      while (n < size) {
        const { bytesRead } = await fh.read(buf, n, size - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
      }
      return buf.subarray(0, n);
    } finally {
      await fh.close();
    }
  }

  async getFile(rel: string, what: string, file: string): Promise<void> {
    const { fh } = await this.open(rel, what, this.limits.zip);
    const limit = this.limits.zip;
    // The size was checked at open; the cap holds if the file grows meanwhile.
    async function* capped(source: AsyncIterable<Buffer>) {
      let n = 0;
      for await (const chunk of source) {
        n += chunk.length;
        if (n > limit) throw new UpstreamError(`GOPROXY tree: ${what}: zip too large (limit is ${limit} bytes)`);
        yield chunk;
      }
    }
    try {
      await pipeline(fh.createReadStream({ autoClose: false }), capped, fs.createWriteStream(file, { flags: 'wx' }));
    } finally {
      await fh.close();
    }
  }
}
