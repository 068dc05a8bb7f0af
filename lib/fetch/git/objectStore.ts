// A local, persistent object store for one remote git repository, filled on
// demand over smart HTTP with isomorphic-git.
//
// Like the go command's bare cache clone, it starts empty, fetches single refs
// shallowly (depth 1) when only a snapshot is needed, and fetches the full
// history of every head and tag only when ancestry matters (pseudo-versions,
// hash lookups). Unlike the go command, nothing here decides which refs exist:
// the ref table always comes fresh from the remote (listRemoteRefs), and local
// refs only serve as "haves" for incremental fetches.
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import type { HttpClient } from 'isomorphic-git';
import { NotFoundError, UpstreamAuthError, UpstreamError } from '../../errors.js';
import { RWLock } from '../../util/rwlock.js';
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

/** The largest depth git accepts; `git fetch --unshallow` sends the same. */
const UNSHALLOW_DEPTH = 2147483647;
const TREE_CACHE_ENTRIES = 4096;

export class GitObjectStore {
  /**
   * Fetches run one at a time (isomorphic-git updates refs and the shallow
   * file); reads never wait for them, because the reader only sees packs
   * registered after their fetch finished.
   */
  private fetchLock = new RWLock();
  private reader: ObjectReader;
  private initialized: Promise<void> | undefined;
  private commits = new Map<string, CommitMeta>();
  private trees = new Map<string, TreeEntry[]>();
  private shallow = new Set<string>();
  /** Set when the history of every ref in the last full fetch is complete locally. */
  private fullFetchTips: Set<string> | undefined;

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
    this.initialized ??= (async () => {
      await fs.promises.mkdir(this.gitdir, { recursive: true });
      if (!fs.existsSync(path.join(this.gitdir, 'config'))) {
        await git.init({ fs, gitdir: this.gitdir, bare: true, defaultBranch: 'modproxy-unused' });
        await git.setConfig({ fs, gitdir: this.gitdir, path: 'remote.origin.url', value: this.remote.url });
        await git.setConfig({ fs, gitdir: this.gitdir, path: 'remote.origin.fetch', value: '+refs/heads/*:refs/remotes/origin/*' });
      }
      await this.loadShallow();
      this.reader.refresh();
    })();
    return this.initialized;
  }

  private async loadShallow(): Promise<void> {
    this.shallow.clear();
    try {
      const text = await fs.promises.readFile(path.join(this.gitdir, 'shallow'), 'utf8');
      for (const line of text.split('\n')) if (line.trim()) this.shallow.add(line.trim());
    } catch {
      // no shallow file: nothing is shallow
    }
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
          throw translateRemoteError(err2);
        }
      }
      throw translateRemoteError(err);
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

  /** After a fetch: see its packs and the new shallow boundary. */
  private async afterFetch(): Promise<void> {
    this.reader.refresh();
    await this.loadShallow();
  }

  /**
   * Makes `oid` (the peeled commit of `ref` in the caller's ref table) present
   * locally, fetching only that ref with depth 1 when it is missing. Returns
   * false when the remote's ref no longer points there (it moved between the
   * caller's ls-remote and this fetch).
   */
  async fetchRef(ref: string, oid: string): Promise<boolean> {
    await this.init();
    if (await this.hasObject(oid)) return true;
    return this.fetchLock.write(async () => {
      if (this.reader.has(oid)) return true;
      await this.withRemote((headers) =>
        git.fetch({
          fs,
          http: this.remote.http,
          gitdir: this.gitdir,
          url: this.remote.url,
          cache: {},
          ref,
          remoteRef: ref,
          singleBranch: true,
          depth: 1,
          tags: false,
          headers,
        }),
      );
      await this.afterFetch();
      this.fullFetchTips = undefined;
      return this.reader.has(oid);
    });
  }

  /**
   * Makes the complete history of every head and tag in `tips` present
   * locally (the go command's "fetch -f origin refs/heads/*:... refs/tags/*:..."
   * followed by --unshallow). No-op when a previous full fetch already covers
   * all of them.
   */
  async fetchAll(tips: Iterable<string>, anyRef: string): Promise<void> {
    await this.init();
    const want = new Set(tips);
    const covered = () => this.fullFetchTips !== undefined && [...want].every((t) => this.fullFetchTips!.has(t));
    if (covered()) return;
    await this.fetchLock.write(async () => {
      if (covered()) return;
      await this.withRemote((headers) =>
        git.fetch({
          fs,
          http: this.remote.http,
          gitdir: this.gitdir,
          url: this.remote.url,
          cache: {},
          remoteRef: anyRef,
          singleBranch: false,
          tags: true,
          depth: this.shallow.size > 0 ? UNSHALLOW_DEPTH : undefined,
          headers,
        }),
      );
      await this.afterFetch();
      if (this.shallow.size > 0) {
        // The server kept some commits shallow (it should not after an unshallow
        // fetch); treat history as incomplete rather than answer wrongly.
        throw new UpstreamError(`git fetch of ${this.remote.url} left ${this.shallow.size} shallow commits`);
      }
      const present = new Set<string>();
      for (const t of want) if (this.reader.has(t)) present.add(t);
      this.fullFetchTips = present;
    });
  }

  /** True when `oid` was fetched shallowly, so its parents may be missing locally. */
  isShallow(oid: string): boolean {
    return this.shallow.has(oid);
  }

  async readObject(oid: string): Promise<{ type: string; object: Uint8Array }> {
    await this.init();
    const r = this.reader.read(oid);
    return { type: r.type, object: r.data };
  }

  /** Object ids with a hex prefix among everything fetched so far. */
  async objectsWithPrefix(prefix: string): Promise<string[]> {
    await this.init();
    return this.reader.withPrefix(prefix);
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
    const { type, object } = await this.readObject(oid);
    if (type !== 'tree') throw new Error(`object ${oid} is a ${type}, not a tree`);
    const entries = parseTree(object);
    // Trees are immutable; keep a bounded number (findDir reads the same few over and over).
    if (this.trees.size >= TREE_CACHE_ENTRIES) this.trees.delete(this.trees.keys().next().value!);
    this.trees.set(oid, entries);
    return entries;
  }

  async readBlob(oid: string): Promise<Uint8Array> {
    const { type, object } = await this.readObject(oid);
    if (type !== 'blob') throw new Error(`object ${oid} is a ${type}, not a blob`);
    return object;
  }

  /** Drops in-memory caches (pack buffers); the on-disk objects stay. */
  releaseMemory(): void {
    this.reader.release();
    this.trees.clear();
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

/** Maps isomorphic-git and network errors onto our status classes. */
export function translateRemoteError(err: unknown): Error {
  if (err instanceof NotFoundError || err instanceof UpstreamError || err instanceof UpstreamAuthError) return err;
  const status = httpStatus(err);
  if (status === 404) return new NotFoundError('repository not found');
  if (status === 401 || status === 403) return new UpstreamAuthError(`git host refused access (HTTP ${status})`);
  if (status !== undefined) return new UpstreamError(`git host answered HTTP ${status}`, status === 503 ? 503 : 502);
  // Node's fetch says only "fetch failed"; the reason (ENOTFOUND, ECONNREFUSED, a timeout) is in `cause`.
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const message = err instanceof Error ? err.message : String(err);
  const detail = cause?.code ?? cause?.message;
  return new UpstreamError(`git transport failed: ${message}${detail ? ` (${detail})` : ''}`, 502, { cause: err });
}
