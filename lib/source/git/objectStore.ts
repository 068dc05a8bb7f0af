// A local, persistent object store for one remote git repository, filled on
// demand over smart HTTP with isomorphic-git.
//
// Like the go command's cache clone, it fetches single refs shallowly (depth
// 1) when only a snapshot is needed, and the full history of every head and
// tag only when ancestry matters (pseudo-versions, hash lookups). Nothing here
// decides which refs exist: the ref table always comes fresh from the remote
// (listRemoteRefs).
//
// The store is just a directory of complete packs. Each fetch writes its pack
// and index under temporary names and renames them in (pack first, index last,
// each rename atomic), so fetches of different refs run in parallel and readers
// never see a half-written pack. Refs are listed with isomorphic-git; packs
// are fetched and indexed natively (packFetch.ts says why).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import git from 'isomorphic-git';
import type { HttpClient } from 'isomorphic-git';
import { NotFoundError, StorageError, UpstreamAuthError, UpstreamError } from '../../errors.js';
import { SingleFlight } from '../../util/singleflight.js';
import { removeStaleFiles } from '../../util/staleFiles.js';
import { fetchCapabilities, fetchPack, GitRemoteError, indexPackFile } from './packFetch.js';
import { ObjectReader } from './packReader.js';

/** How isomorphic-git reaches the remote: URL, HTTP client and per-request headers (credentials). */
export interface GitRemote {
  url: string;
  http: HttpClient;
  /** Headers for each request; called again on every network operation so tokens can rotate. */
  headers?: () => Promise<Record<string, string>>;
  /** Called once after the remote answered 401/403, before a single retry (refresh credentials). */
  onUnauthorized?: () => Promise<void>;
}

/** One advertised ref: `oid` as advertised (tag object for annotated tags) and `peeled` (the commit). */
export interface AdvertisedRef {
  oid: string;
  peeled: string;
}

export interface CommitMeta {
  oid: string;
  /** Committer time, Unix seconds (what `git log --format=%ct` prints). */
  time: number;
  parents: string[];
  tree: string;
}

export interface TreeEntry {
  mode: string;
  name: string;
  oid: string;
}

const TREE_CACHE_ENTRIES = 4096;
const TEMP_PREFIX = '.tmp-';

/** A temporary name no other process uses: it says whose it is (pid) and is random besides. */
function tempName(): string {
  return `${TEMP_PREFIX}${process.pid}-${crypto.randomUUID()}`;
}

/** Whether an error is a failed system call (file system, not network): a local fault. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException;
  return e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string';
}

/**
 * A local I/O failure is a fault of this replica (503, never remembered),
 * not an answer about the module: it must not reach the resolution rules as
 * "not found".
 */
function asLocalFault(what: string, err: unknown): unknown {
  if (isSystemError(err)) return new StorageError(`git object store: cannot ${what}: ${err.code}`, { cause: err });
  return err;
}

async function localIo<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw asLocalFault(what, err);
  }
}
/** Objects asked for in one lazy fetch request. */
const WANT_BATCH = 4096;

export class GitObjectStore {
  private reader: ObjectReader;
  private initialized: Promise<void> | undefined;
  private commits = new Map<string, CommitMeta>();
  private trees = new Map<string, TreeEntry[]>();
  private refFetches = new SingleFlight<boolean>();
  private fullFetches = new SingleFlight<void>();
  /** The ref tips whose complete history the last full fetch brought. */
  private fullFetchTips: Set<string> | undefined;
  private capabilities: Promise<{ filter: boolean }> | undefined;
  private objectFetches = new SingleFlight<void>();

  constructor(
    readonly gitdir: string,
    private readonly remote: GitRemote,
  ) {
    this.reader = new ObjectReader(gitdir);
  }

  get url(): string {
    return this.remote.url;
  }

  private init(): Promise<void> {
    this.initialized ??= localIo('open the object store', async () => {
      const packDir = path.join(this.gitdir, 'objects', 'pack');
      await fs.promises.mkdir(packDir, { recursive: true });
      // A crashed fetch's temporary files (never one in flight: lib/util/staleFiles.ts).
      removeStaleFiles(packDir, Date.now(), TEMP_PREFIX);
      this.reader.refresh();
    }).catch((err: unknown) => {
      // A local fault may pass (a full disk, a directory in the way): try again next time.
      this.initialized = undefined;
      throw err;
    });
    return this.initialized;
  }

  /** Runs a network operation with credentials, retrying once after a refresh on 401/403. */
  private async withRemote<T>(op: (headers: Record<string, string>) => Promise<T>): Promise<T> {
    const headers = (await this.remote.headers?.()) ?? {};
    try {
      return await op(headers);
    } catch (err) {
      if (isAuthFailure(err) && this.remote.onUnauthorized) {
        await this.remote.onUnauthorized();
        const fresh = (await this.remote.headers?.()) ?? {};
        try {
          return await op(fresh);
        } catch (err2) {
          throw translateRemoteError(err2, this.remote.headers !== undefined);
        }
      }
      throw translateRemoteError(err, this.remote.headers !== undefined);
    }
  }

  /**
   * The remote's refs, like `git ls-remote`: HEAD, refs/heads/*, refs/tags/*,
   * with annotated tags peeled. An empty repository gives an empty map.
   */
  async listRemoteRefs(): Promise<Map<string, AdvertisedRef>> {
    const refs = await this.withRemote((headers) =>
      git.listServerRefs({ http: this.remote.http, url: this.remote.url, headers, protocolVersion: 2, peelTags: true, symrefs: true }),
    );
    const out = new Map<string, AdvertisedRef>();
    for (const r of refs) {
      if (r.ref === 'HEAD' || r.ref.startsWith('refs/heads/') || r.ref.startsWith('refs/tags/')) {
        if (r.ref.endsWith('^{}')) continue;
        out.set(r.ref, { oid: r.oid, peeled: r.peeled ?? r.oid });
      }
    }
    return out;
  }

  async hasObject(oid: string): Promise<boolean> {
    await this.init();
    return this.reader.has(oid);
  }

  /**
   * Whether the server does partial clone (protocol v2 `fetch` with `filter`).
   * Then snapshots are fetched without blobs, and trees and blobs are fetched
   * by id as needed (GitHub and git with uploadpack.allowFilter do this);
   * otherwise every fetch brings complete snapshots.
   */
  private partialClone(): Promise<boolean> {
    this.capabilities ??= this.withRemote((headers) => fetchCapabilities({ http: this.remote.http, url: this.remote.url, headers })).catch((err: unknown) => {
      this.capabilities = undefined;
      throw err;
    });
    return this.capabilities.then((c) => c.filter);
  }

  /** Fetches a pack for `wants` (written to disk as it arrives), indexes it and moves both into the store. */
  private async fetchInto(wants: string[], depth?: number, filter?: string): Promise<void> {
    const packDir = path.join(this.gitdir, 'objects', 'pack');
    const tmp = path.join(packDir, tempName());
    try {
      // The network part: its faults are the host's (fetchPack maps them).
      await this.withRemote((headers) => fetchPack({ http: this.remote.http, url: this.remote.url, headers, wants, depth, filter, file: `${tmp}.pack` }));
      let indexed;
      try {
        indexed = await indexPackFile(`${tmp}.pack`);
      } catch (err) {
        if (err instanceof GitRemoteError) throw new UpstreamError(`bad pack from ${this.remote.url}: ${err.message}`);
        throw asLocalFault('index a fetched pack', err);
      }
      const name = `pack-${indexed.checksum}`;
      await localIo('store a fetched pack', async () => {
        await fs.promises.writeFile(`${tmp}.idx`, indexed.idx);
        // pack before index: the reader only registers an index whose pack exists
        await fs.promises.rename(`${tmp}.pack`, path.join(packDir, `${name}.pack`));
        await fs.promises.rename(`${tmp}.idx`, path.join(packDir, `${name}.idx`));
      });
    } finally {
      await fs.promises.rm(`${tmp}.pack`, { force: true });
      await fs.promises.rm(`${tmp}.idx`, { force: true });
    }
    this.reader.refresh();
  }

  /**
   * Makes the commit of one advertised ref present locally, fetching just that
   * ref with depth 1 (as the go command does) when it is missing. Returns
   * false when the remote's ref no longer points there.
   */
  async fetchRef(ref: AdvertisedRef): Promise<boolean> {
    await this.init();
    if (this.reader.has(ref.peeled)) return true;
    return this.refFetches.do(`${ref.oid} ${ref.peeled}`, async () => {
      if (this.reader.has(ref.peeled)) return true;
      await this.fetchInto([ref.oid], 1, (await this.partialClone()) ? 'blob:none' : undefined);
      return this.reader.has(ref.peeled);
    });
  }

  /**
   * Fetches objects by id that a partial clone left out: trees below a commit
   * we have, blobs of files we read. Only ids found in trees of commits we
   * resolved from the refs are ever asked for.
   */
  async ensureObjects(oids: Iterable<string>, kind: 'tree' | 'blob'): Promise<void> {
    await this.init();
    const missing = [...new Set(oids)].filter((o) => !this.reader.has(o));
    if (missing.length === 0) return;
    if (!(await this.partialClone())) throw new Error(`objects missing from a complete fetch of ${this.remote.url}: ${missing[0]}`);
    for (let i = 0; i < missing.length; i += WANT_BATCH) {
      const batch = missing.slice(i, i + WANT_BATCH).filter((o) => !this.reader.has(o));
      if (batch.length === 0) continue;
      // A tree comes with its subtrees (not blobs); a blob alone.
      await this.objectFetches.do(`${kind} ${batch.join(',')}`, () => this.fetchInto(batch, undefined, kind === 'tree' ? 'blob:none' : undefined));
    }
    const still = missing.find((o) => !this.reader.has(o));
    if (still) throw new UpstreamError(`git host did not send object ${still} of ${this.remote.url}`);
  }

  /**
   * Makes the complete history of every head and tag present locally (the go
   * command's "fetch -f origin refs/heads/*:... refs/tags/*:..." followed by
   * --unshallow). A fetch without "haves" brings a complete, self-contained
   * pack. No-op when an earlier full fetch covers all tips.
   */
  async fetchAll(refs: AdvertisedRef[]): Promise<void> {
    await this.init();
    const want = new Set(refs.map((r) => r.peeled));
    const covered = () => this.fullFetchTips !== undefined && [...want].every((t) => this.fullFetchTips!.has(t));
    while (!covered()) {
      await this.fullFetches.do('all', async () => {
        if (covered()) return;
        // Ancestry needs commits only: tree:0 leaves out every tree and blob.
        await this.fetchInto(
          refs.map((r) => r.oid),
          undefined,
          (await this.partialClone()) ? 'tree:0' : undefined,
        );
        const present = new Set<string>();
        for (const t of want) if (this.reader.has(t)) present.add(t);
        this.fullFetchTips = present;
        if (present.size !== want.size) throw new UpstreamError(`git fetch of ${this.remote.url} did not bring every ref`, 503);
      });
    }
  }

  async readObject(oid: string): Promise<{ type: string; object: Uint8Array }> {
    await this.init();
    try {
      const r = this.reader.read(oid);
      return { type: r.type, object: r.data };
    } catch (err) {
      throw asLocalFault('read a stored object', err);
    }
  }

  async readCommit(oid: string): Promise<CommitMeta> {
    const cached = this.commits.get(oid);
    if (cached) return cached;
    const { type, object } = await this.readObject(oid);
    if (type !== 'commit') throw new Error(`object ${oid} is a ${type}, not a commit`);
    const meta = parseCommit(oid, object);
    this.commits.set(oid, meta);
    return meta;
  }

  async readTree(oid: string): Promise<TreeEntry[]> {
    const cached = this.trees.get(oid);
    if (cached) return cached;
    await this.ensureObjects([oid], 'tree');
    const { type, object } = await this.readObject(oid);
    if (type !== 'tree') throw new Error(`object ${oid} is a ${type}, not a tree`);
    const entries = parseTree(object);
    // Trees are immutable; keep a bounded number (findDir reads the same few over and over).
    if (this.trees.size >= TREE_CACHE_ENTRIES) this.trees.delete(this.trees.keys().next().value!);
    this.trees.set(oid, entries);
    return entries;
  }

  /** The size of a blob, from its pack entry (nothing inflated). */
  async blobSize(oid: string): Promise<number> {
    await this.ensureObjects([oid], 'blob');
    const stored = this.reader.stored(oid);
    if (!stored) throw new Error(`object ${oid} not found`);
    if (stored.whole && stored.whole.type !== 'blob') throw new Error(`object ${oid} is a ${stored.whole.type}, not a blob`);
    return stored.size;
  }

  /**
   * Whether reading a blob means holding it whole: true for one stored as a
   * delta (its base and result are built in memory), false for one that
   * {@link streamBlob} inflates piece by piece from the pack.
   */
  async blobIsHeld(oid: string): Promise<boolean> {
    await this.ensureObjects([oid], 'blob');
    return !this.reader.stored(oid)?.whole;
  }

  /** A blob's content in pieces, streamed from its pack when it is stored whole (else read whole). */
  async *streamBlob(oid: string): AsyncGenerator<Uint8Array> {
    await this.ensureObjects([oid], 'blob');
    const stored = this.reader.stored(oid);
    if (!stored?.whole) {
      yield await this.readBlob(oid);
      return;
    }
    const { type, packPath, start, end } = stored.whole;
    if (type !== 'blob') throw new Error(`object ${oid} is a ${type}, not a blob`);
    const source = fs.createReadStream(packPath, { start, end: end - 1, highWaterMark: 1 << 20 });
    const inflate = zlib.createInflate();
    source.on('error', (err) => inflate.destroy(err));
    source.pipe(inflate);
    let n = 0;
    try {
      for await (const chunk of inflate as AsyncIterable<Buffer>) {
        n += chunk.length;
        if (n > stored.size) throw new Error(`blob ${oid} inflates past its size ${stored.size}`);
        yield chunk;
      }
    } catch (err) {
      throw asLocalFault('read a stored object', err);
    } finally {
      source.destroy();
      inflate.destroy();
    }
    if (n !== stored.size) throw new Error(`blob ${oid} inflated to ${n} bytes, expected ${stored.size}`);
  }

  async readBlob(oid: string): Promise<Uint8Array> {
    await this.ensureObjects([oid], 'blob');
    const { type, object } = await this.readObject(oid);
    if (type !== 'blob') throw new Error(`object ${oid} is a ${type}, not a blob`);
    return object;
  }
}

/**
 * Parses a raw commit object. We only need the tree, the parents and the
 * committer timestamp (seconds since the epoch, independent of the zone).
 */
export function parseCommit(oid: string, object: Uint8Array): CommitMeta {
  const text = Buffer.from(object).toString('utf8');
  const headerEnd = text.indexOf('\n\n');
  const header = headerEnd >= 0 ? text.slice(0, headerEnd) : text;
  let tree = '';
  let time = 0;
  const parents: string[] = [];
  for (const line of header.split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5).trim();
    else if (line.startsWith('parent ')) parents.push(line.slice(7).trim());
    else if (line.startsWith('committer ')) {
      // "committer Name <email> 1577836800 +0000"
      const m = /> (-?\d+) [+-]\d{4}\s*$/.exec(line);
      if (m) time = Number(m[1]);
    }
  }
  return { oid, time, parents, tree };
}

/**
 * Parses a raw tree object: repeated "<octal mode> <name>\0<20-byte id>".
 * Parsed here rather than by isomorphic-git because its parser rejects legacy
 * modes (100664) and some names that git itself stores and archives.
 */
export function parseTree(object: Uint8Array): TreeEntry[] {
  const buf = Buffer.from(object.buffer, object.byteOffset, object.byteLength);
  const entries: TreeEntry[] = [];
  let i = 0;
  while (i < buf.length) {
    const space = buf.indexOf(0x20, i);
    const nul = buf.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 21 > buf.length) throw new Error('malformed tree object');
    const mode = buf.toString('latin1', i, space).padStart(6, '0');
    const name = buf.toString('utf8', space + 1, nul);
    const oid = buf.toString('hex', nul + 1, nul + 21);
    entries.push({ mode, name, oid });
    i = nul + 21;
  }
  return entries;
}

function httpStatus(err: unknown): number | undefined {
  const e = err as { code?: string; data?: { statusCode?: number } };
  if (e?.code === 'HttpError') return e.data?.statusCode;
  return undefined;
}

function isAuthFailure(err: unknown): boolean {
  const s = httpStatus(err);
  return s === 401 || s === 403;
}

/**
 * Maps isomorphic-git and network errors onto our status classes. A 401/403
 * to a request that carried our credentials is our fault (5xx); without
 * credentials it is how hosts answer a repository that does not exist or is
 * not public (GitHub answers 401), so "not found", as for the go command.
 */
export function translateRemoteError(err: unknown, withCredentials = false): Error {
  if (err instanceof NotFoundError || err instanceof UpstreamError) return err;
  const status = httpStatus(err);
  if (status === 404) return new NotFoundError('repository not found');
  if (status === 401 || status === 403) {
    return withCredentials
      ? new UpstreamAuthError(`the git host refused modproxy's credentials (HTTP ${status}): a fault of the proxy's configuration, not of the module`)
      : new NotFoundError(`repository not found, or not readable without credentials (git host answered HTTP ${status})`);
  }
  if (status !== undefined) return new UpstreamError(`git host answered HTTP ${status}`, status === 503 ? 503 : 502);
  // Node's fetch says only "fetch failed"; the reason (ENOTFOUND, ECONNREFUSED, a timeout) is in `cause`.
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const message = err instanceof Error ? err.message : String(err);
  const detail = cause?.code ?? cause?.message;
  return new UpstreamError(`git transport failed: ${message}${detail ? ` (${detail})` : ''}`, 502, { cause: err });
}
