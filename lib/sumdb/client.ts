// A checksum database client: answers "what are the go.sum lines of this
// module version?" only with what the database has provably and permanently
// published, as the go command's sumdb client does.
//
// For every answer the client checks that
//   1. the tree head that came with it is signed by the configured key;
//   2. the record is in that tree (an inclusion proof built from tiles, every
//      tile authenticated up to the signed tree hash);
//   3. that tree and the last tree head this deployment verified are one
//      history: the smaller is a prefix of the larger (a consistency proof
//      from the larger tree's tiles). The last verified head lives in a
//      TreeStore, i.e. our own storage, so a database that shows different
//      histories to different replicas, or before and after a restart, is
//      caught; it only ever moves forward.
// The database is treated as hostile: every answer is size-bounded and
// parsed strictly, every request has a deadline, and each failure says
// whether the record is absent, the data did not verify, or the database
// could not be reached.
import { BodyTooLargeError, createHttpGet, discard, readBody, type HttpGet } from '../net/httpRequest.js';
import { setMaxListeners } from 'node:events';
import { ProxyError } from '../errors.js';
import { escapePath, escapeVersion } from '../gomod/module.js';
import { SingleFlight } from '../util/singleflight.js';
import { NoteError, openNote, parseVerifierKey, type Verifier } from './note.js';
import {
  EMPTY_TREE_HASH,
  HASH_SIZE,
  TileHashReader,
  TlogError,
  checkRecord,
  checkTree,
  hashEqual,
  hashToBase64,
  parseRecord,
  parseTilePath,
  parseTree,
  proveRecord,
  proveTree,
  recordHash,
  storedHashIndex,
  tilePath,
  treeHash,
  type Hash,
  type Tile,
  type TileSource,
  type Tree,
} from './tlog.js';

// ---------------------------------------------------------------------------
// Errors

export type SumdbFailure =
  /** The database answered 404 or 410 for the lookup: it has no record of this module version. */
  | 'not-found'
  /** The database answered, but what it sent does not verify (signature, proof, syntax, size). */
  | 'verification'
  /** Two verified tree heads are not one history: the database has forked. */
  | 'fork'
  /** The database could not be reached, timed out, or answered with another status. */
  | 'transport'
  /** Our tree store failed, or holds something that does not verify. */
  | 'store';

export class SumdbError extends ProxyError {
  override name = 'SumdbError';
  constructor(
    readonly reason: SumdbFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(reason === 'not-found' ? 'not-found' : reason === 'store' ? 'unavailable' : 'upstream', message, options);
  }

  override get severity(): 'INFO' | 'WARNING' | 'ERROR' {
    return this.reason === 'not-found' ? 'INFO' : 'ERROR';
  }
}

export class SumdbNotFoundError extends SumdbError {
  override name = 'SumdbNotFoundError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super('not-found', message);
  }
}

export class SumdbVerificationError extends SumdbError {
  override name = 'SumdbVerificationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('verification', message, options);
  }
}

export class SumdbForkError extends SumdbError {
  override name = 'SumdbForkError';
  constructor(
    message: string,
    /** The tree verified earlier (or the smaller of the two). */
    readonly olderSize: bigint,
    readonly newerSize: bigint,
    /** Both signed notes, as evidence. */
    readonly olderNote: Uint8Array,
    readonly newerNote: Uint8Array,
  ) {
    super('fork', message);
  }
}

export class SumdbTransportError extends SumdbError {
  override name = 'SumdbTransportError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('transport', message, options);
  }
}

export class SumdbStoreError extends SumdbError {
  override name = 'SumdbStoreError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('store', message, options);
  }
}

/**
 * What a SumdbFetch throws when the database answered with a status other
 * than 200. 404 and 410 on a lookup mean "no such record"; any other status,
 * or any other error thrown, is a transport failure.
 */
export class SumdbHttpStatusError extends Error {
  override name = 'SumdbHttpStatusError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// Dependencies

export interface SumdbFetchOptions {
  /** Answers longer than this must be refused (the client checks again). */
  maxBytes: number;
  /** Aborted when the client gives up on the request. */
  signal: AbortSignal;
}

/**
 * Reads a path of the database ("/latest", "/lookup/…", "/tile/…"): resolves
 * with the body of a 200 answer, throws SumdbHttpStatusError for other statuses.
 */
export type SumdbFetch = (path: string, opts: SumdbFetchOptions) => Promise<Uint8Array>;

/**
 * Where the last verified tree head is kept. It only ever records tree heads
 * that the client has verified, and it must be shared by every replica of a
 * deployment and survive restarts, so that all of them extend one history.
 *
 * The contract is shaped for append-only, create-if-absent storage (the only
 * atomic primitive lib/storage offers): each verified head is its own object,
 * keyed by tree size, and the latest is the one with the largest size. The
 * production implementation will keep them as objects
 * "sumdb/<key name>/tree/<size, zero-padded>" created with createIfAbsent
 * and find the latest by listing; MemoryTreeStore is the in-process model.
 */
export interface TreeStore {
  /** The signed note of the largest tree recorded so far, or null if none. */
  latest(): Promise<Uint8Array | null>;
  /**
   * Records the signed note of a verified tree of this size unless one of the
   * same size is already there (create-if-absent). Returns the note now
   * recorded for that size: note itself, or the one that was there first.
   */
  record(size: bigint, note: Uint8Array): Promise<Uint8Array>;
}

/** A TreeStore in memory (tests, and single-process use). */
export class MemoryTreeStore implements TreeStore {
  private readonly trees = new Map<bigint, Uint8Array>();

  async latest(): Promise<Uint8Array | null> {
    let best: bigint | null = null;
    for (const n of this.trees.keys()) if (best === null || n > best) best = n;
    return best === null ? null : this.trees.get(best)!.slice();
  }

  async record(size: bigint, note: Uint8Array): Promise<Uint8Array> {
    const have = this.trees.get(size);
    if (have) return have.slice();
    this.trees.set(size, note.slice());
    return note.slice();
  }

  /** Every recorded size, ascending (for tests). */
  sizes(): bigint[] {
    return [...this.trees.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/** The key of sum.golang.org, the go command's default GOSUMDB. */
export const SUM_GOLANG_ORG_KEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';

export interface SumdbLimits {
  /** Largest /lookup answer (record plus signed tree head). */
  lookupBytes: number;
  /** Largest /latest answer (a signed note). */
  latestBytes: number;
  /** Deadline of each request, in milliseconds. */
  requestTimeoutMs: number;
  /** Verified tiles kept in memory between calls (a partial one as the prefix of its full tile). */
  tileCacheEntries: number;
}

export const DEFAULT_SUMDB_LIMITS: SumdbLimits = {
  lookupBytes: 64 * 1024,
  latestBytes: 64 * 1024,
  requestTimeoutMs: 30_000,
  tileCacheEntries: 512,
};

export interface SumdbClientOptions {
  /** The verifier key, "<name>+<hash>+<key>" (for sum.golang.org, SUM_GOLANG_ORG_KEY). */
  key: string;
  fetch: SumdbFetch;
  store: TreeStore;
  /** Height of the database's tiles (sum.golang.org: 8). */
  tileHeight?: number;
  limits?: Partial<SumdbLimits>;
  /** Called once per lookup verified against the database (not for answers remembered), with how it ended (metrics). */
  onLookup?: (result: 'verified' | 'not_found' | 'error') => void;
}

export interface SumdbLookup {
  path: string;
  version: string;
  /**
   * The record's lines, as signed: usually the two go.sum lines "<path> <version> h1:…" and
   * "<path> <version>/go.mod h1:…", but the go command reads whatever is there (vouchedHash).
   */
  lines: string[];
  /** The record's number in the log. */
  recordId: bigint;
  /** The signed tree the record was proven to be in. */
  tree: Tree;
  /** The database's answer, byte for byte: what a caching proxy may keep once it is verified. */
  body: Uint8Array;
}

/**
 * What a verified record says the hash of `path` `version` must be (version
 * "v1.2.3" for the zip, "v1.2.3/go.mod" for the go.mod), read as the go
 * command's checkSumDB reads the lines its sumdb client's Lookup returns: the
 * first line that begins "<path> <version> h1:" decides, and the rest of it is
 * the hash (a download is accepted only if it hashes to exactly that);
 * lines of other versions, other hash kinds ("h2:") and other modules are
 * passed over. undefined when no line does: the newest go command then
 * refuses the download ("checksum missing from sumdb response"; go1.23
 * accepted it).
 */
export function vouchedHash(lines: readonly string[], path: string, version: string): string | undefined {
  const prefix = `${path} ${version} h1:`;
  const line = lines.find((l) => l.startsWith(prefix));
  return line?.slice(prefix.length - 'h1:'.length);
}

// ---------------------------------------------------------------------------
// The client

export interface SignedTree {
  tree: Tree;
  note: Uint8Array;
}

/** How many verified lookups are remembered. */
const VERIFIED_LOOKUPS = 1024;

/** How often advance() re-reads the store after writing before it gives up. */
const MAX_STORE_ROUNDS = 6;
/** Tree heads remembered as consistent with the stored history (size → hash). */
const CHECKED_HEADS = 64;

export class SumdbClient {
  /** The database's name, from its key. */
  readonly name: string;
  private readonly verifier: Verifier;
  private readonly fetcher: SumdbFetch;
  private readonly store: TreeStore;
  private readonly height: number;
  private readonly limits: SumdbLimits;
  private readonly lookups = new SingleFlight<SumdbLookup>();
  /** Lookups verified lately, oldest first. */
  private readonly verifiedLookups = new Map<string, SumdbLookup>();
  private readonly latests = new SingleFlight<SignedTree>();
  /**
   * Tiles that once authenticated, by their full tile's path: the widest prefix seen (a partial tile is the prefix of
   * its full tile in an append-only log), most recently used last. Never trusted blindly: each use re-authenticates,
   * and a tree that fails to is read again without the cache.
   */
  private readonly tileCache = new Map<string, Uint8Array>();
  private readonly checkedHeads = new Map<bigint, Hash>();
  private readonly onLookup?: SumdbClientOptions['onLookup'];

  constructor(opts: SumdbClientOptions) {
    try {
      this.verifier = parseVerifierKey(opts.key.trim());
    } catch (e) {
      throw new Error(`sumdb: bad verifier key: ${(e as Error).message}`);
    }
    this.name = this.verifier.name;
    this.fetcher = opts.fetch;
    this.store = opts.store;
    this.height = opts.tileHeight ?? 8;
    if (!Number.isInteger(this.height) || this.height < 1 || this.height > 30) {
      throw new Error(`sumdb: invalid tile height ${opts.tileHeight}`);
    }
    this.limits = { ...DEFAULT_SUMDB_LIMITS, ...opts.limits };
    this.onLookup = opts.onLookup;
  }

  /**
   * The go.sum lines of path@version, once verified (see the top of this
   * file). Throws SumdbNotFoundError when the database has no record,
   * SumdbVerificationError/SumdbForkError when what it sent does not verify,
   * SumdbTransportError when it cannot be reached, SumdbStoreError when our
   * store fails; an invalid path or version throws the module package's error.
   */
  async lookup(path: string, version: string): Promise<SumdbLookup> {
    if (version.endsWith('/go.mod')) throw new Error(`sumdb: lookup takes a module version, not ${JSON.stringify(version)}`);
    const remote = `/lookup/${escapePath(path)}@${escapeVersion(version)}`;
    const result = await this.lookups.do(remote, () => this.countedLookup(path, version, remote));
    this.verifiedLookups.delete(remote);
    this.verifiedLookups.set(remote, result);
    while (this.verifiedLookups.size > VERIFIED_LOOKUPS) this.verifiedLookups.delete(this.verifiedLookups.keys().next().value!);
    return result;
  }

  /**
   * lookup(), or its answer if this client verified it lately: a verified
   * record never changes, so a proxy that serves the lookup right after the
   * verifier asked for it need not ask the database again.
   */
  async recentLookup(path: string, version: string): Promise<SumdbLookup> {
    const known = this.verifiedLookups.get(`/lookup/${escapePath(path)}@${escapeVersion(version)}`);
    return known ?? this.lookup(path, version);
  }

  /**
   * Fetches the database's latest signed tree head and verifies it like the
   * one in a lookup answer (signature, consistency with the stored head),
   * advancing the stored head. Returns the verified tree.
   */
  async latest(): Promise<Tree> {
    return (await this.latestSigned()).tree;
  }

  /** As latest(), with the signed note as the database sent it (what a proxy serves as /latest). */
  latestSigned(): Promise<SignedTree> {
    return this.latests.do('latest', async () => {
      const msg = await this.get('/latest', this.limits.latestBytes);
      const signed = this.openTree(msg, 'latest tree head');
      await this.advance(signed);
      return signed;
    });
  }

  /**
   * A hash tile (`tile/H/L/…`, complete or `.p/W`), authenticated against the
   * latest verified tree (following /latest once when that tree does not
   * cover it yet): what a caching proxy may keep forever, since in a
   * consistent log a tile's hashes never change. Data tiles, other heights and
   * tiles beyond the database's tree are refused.
   */
  async authenticatedTile(path: string): Promise<Uint8Array> {
    let t: Tile;
    try {
      t = parseTilePath(path);
    } catch (e) {
      throw new SumdbVerificationError(`sumdb ${this.name}: ${(e as Error).message}`);
    }
    if (t.l < 0 || t.h !== this.height) throw new SumdbVerificationError(`sumdb ${this.name}: ${path} is not a hash tile of height ${this.height}`);
    // Its last hash is the node of level l·h numbered n·2^h + w − 1.
    const lastNode = (t.n << BigInt(t.h)) + BigInt(t.w) - 1n;
    const covers = (tree: Tree | null) => tree !== null && (lastNode + 1n) << BigInt(t.l * t.h) <= tree.n;
    let tree = await this.verifiedTree();
    if (!covers(tree)) tree = await this.latest();
    if (!covers(tree)) throw new SumdbVerificationError(`sumdb ${this.name}: ${path} is beyond the tree of size ${tree!.n}`);
    // The reader reads the tile as wide as the tree allows: this one, or a
    // wider one whose first w hashes are this one's.
    const same = (x: Tile) => x.h === t.h && x.l === t.l && x.n === t.n && x.w >= t.w;
    let data: Uint8Array | undefined;
    const source = this.tileSource();
    const capturing: TileSource = {
      height: source.height,
      readTiles: async (tiles, opts) => {
        const got = await source.readTiles(tiles, opts);
        tiles.forEach((x, i) => {
          if (same(x)) data = got[i];
        });
        return got;
      },
      saveTiles: source.saveTiles,
    };
    await this.verify(`${path} in tree ${tree!.n}`, async () => {
      await new TileHashReader(tree!, capturing).readHashes([storedHashIndex(t.l * t.h, lastNode)]);
    });
    if (!data) throw new Error(`sumdb ${this.name}: ${path} was not read while authenticating it`);
    return data.slice(0, t.w * HASH_SIZE);
  }

  /** The last verified tree head in the store (its signature re-checked), or null. */
  async verifiedTree(): Promise<Tree | null> {
    return (await this.readStored())?.tree ?? null;
  }

  private async countedLookup(path: string, version: string, remote: string): Promise<SumdbLookup> {
    try {
      const r = await this.doLookup(path, version, remote);
      this.onLookup?.('verified');
      return r;
    } catch (e) {
      this.onLookup?.(e instanceof SumdbNotFoundError ? 'not_found' : 'error');
      throw e;
    }
  }

  private async doLookup(path: string, version: string, remote: string): Promise<SumdbLookup> {
    const what = `${path}@${version}`;
    const body = await this.get(remote, this.limits.lookupBytes, what);

    let rec;
    try {
      rec = parseRecord(body);
    } catch (e) {
      throw new SumdbVerificationError(`sumdb ${this.name}: lookup of ${what}: ${(e as Error).message}`, { cause: e });
    }
    const signed = this.openTree(rec.rest, `lookup of ${what}: tree head`);
    const { tree } = signed;
    if (rec.id < 0n || rec.id >= tree.n) {
      throw new SumdbVerificationError(
        `sumdb ${this.name}: lookup of ${what}: record ${rec.id} is not in the signed tree of size ${tree.n}`,
      );
    }

    // Inclusion: the record's hash and an audit path read from tiles of the
    // signed tree must lead to the signed tree hash.
    await this.verify(`lookup of ${what}: record ${rec.id} in tree ${tree.n}`, async () => {
      const reader = new TileHashReader(tree, this.tileSource());
      const proof = await proveRecord(tree.n, rec.id, reader);
      checkRecord(proof, tree.n, tree.hash, rec.id, recordHash(rec.text));
    });

    // Consistency with what this deployment verified before.
    await this.advance(signed);

    // The record's text passed parseRecord's checks (printable, newline-terminated lines): it is read as the go command reads it, by vouchedHash.
    const lines = Buffer.from(rec.text).toString('utf8').split('\n').slice(0, -1);
    return { path, version, lines, recordId: rec.id, tree, body };
  }

  /** Verifies a signed tree head note with the configured key and parses it. */
  private openTree(msg: Uint8Array, what: string): SignedTree {
    try {
      const note = openNote(msg, [this.verifier], { maxBytes: Math.max(this.limits.latestBytes, this.limits.lookupBytes) });
      return { tree: parseTree(note.text), note: msg.slice() };
    } catch (e) {
      if (e instanceof NoteError || e instanceof TlogError) {
        throw new SumdbVerificationError(`sumdb ${this.name}: ${what}: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }

  /** The stored head, re-verified (a store that returns garbage is a store error, not a reason to trust). */
  private async readStored(): Promise<SignedTree | null> {
    let msg: Uint8Array | null;
    try {
      msg = await this.store.latest();
    } catch (e) {
      throw new SumdbStoreError(`sumdb ${this.name}: reading the verified tree head: ${(e as Error).message}`, { cause: e });
    }
    if (msg === null) return null;
    try {
      const note = openNote(msg, [this.verifier]);
      return { tree: parseTree(note.text), note: msg };
    } catch (e) {
      throw new SumdbStoreError(`sumdb ${this.name}: the stored tree head does not verify: ${(e as Error).message}`, { cause: e });
    }
  }

  private async recordStored(signed: SignedTree): Promise<void> {
    let now: Uint8Array;
    try {
      now = await this.store.record(signed.tree.n, signed.note);
    } catch (e) {
      throw new SumdbStoreError(`sumdb ${this.name}: recording tree ${signed.tree.n}: ${(e as Error).message}`, { cause: e });
    }
    let there: SignedTree;
    try {
      there = { tree: parseTree(openNote(now, [this.verifier]).text), note: now };
    } catch (e) {
      throw new SumdbStoreError(`sumdb ${this.name}: the stored tree head does not verify: ${(e as Error).message}`, { cause: e });
    }
    if (there.tree.n !== signed.tree.n) {
      throw new SumdbStoreError(`sumdb ${this.name}: the store answered tree ${there.tree.n} when recording tree ${signed.tree.n}`);
    }
    if (!hashEqual(there.tree.hash, signed.tree.hash)) throw this.forkError(there, signed);
  }

  private rememberChecked(tree: Tree): void {
    this.checkedHeads.delete(tree.n);
    this.checkedHeads.set(tree.n, tree.hash);
    while (this.checkedHeads.size > CHECKED_HEADS) this.checkedHeads.delete(this.checkedHeads.keys().next().value!);
  }

  /**
   * Makes signed part of the one history this deployment follows: checks it
   * against the stored head (whichever is larger must contain the other) and,
   * when it is newer, records it. Loops because other replicas may record
   * newer heads concurrently; each round either finishes or writes.
   */
  private async advance(signed: SignedTree): Promise<void> {
    // A head this client found consistent with the store's newest head stays
    // part of the one history: every later head is checked against a newest
    // one that contains it. Most lookups carry such a head.
    const known = this.checkedHeads.get(signed.tree.n);
    if (known && hashEqual(known, signed.tree.hash)) return;
    for (let round = 0; round < MAX_STORE_ROUNDS; round++) {
      const stored = await this.readStored();
      if (stored === null) {
        await this.recordStored(signed);
        continue;
      }
      if (signed.tree.n <= stored.tree.n) {
        await this.checkConsistent(signed, stored);
        this.rememberChecked(signed.tree);
        return;
      }
      await this.checkConsistent(stored, signed);
      await this.recordStored(signed);
    }
    throw new SumdbStoreError(`sumdb ${this.name}: the stored tree head kept changing; gave up after ${MAX_STORE_ROUNDS} rounds`);
  }

  /** Checks that older's tree is a prefix of newer's (same size: identical). Throws SumdbForkError if not. */
  private async checkConsistent(older: SignedTree, newer: SignedTree): Promise<void> {
    const o = older.tree;
    const n = newer.tree;
    if (o.n === n.n) {
      if (!hashEqual(o.hash, n.hash)) throw this.forkError(older, newer);
      return;
    }
    if (o.n === 0n) {
      if (!hashEqual(o.hash, EMPTY_TREE_HASH)) throw this.forkError(older, newer);
      return;
    }
    let consistent = false;
    const what = `consistency of tree ${o.n} with tree ${n.n}`;
    try {
      await this.verify(what, async () => {
        const reader = new TileHashReader(n, this.tileSource());
        const proof = await proveTree(n.n, o.n, reader);
        try {
          checkTree(proof, n.n, n.hash, o.n, o.hash);
          consistent = true;
        } catch (e) {
          if (!(e instanceof TlogError && e.code === 'proof')) throw e;
        }
      });
    } catch (e) {
      // Say which check could not get its tiles.
      if (e instanceof SumdbTransportError) {
        throw new SumdbTransportError(`sumdb ${this.name}: ${what}: ${e.message}`, { cause: e });
      }
      throw e;
    }
    if (!consistent) {
      // The tiles are authenticated against the newer tree, so the proof can
      // only fail because the older tree is not its prefix.
      let claimed = '';
      try {
        claimed = hashToBase64(await treeHash(o.n, new TileHashReader(n, this.tileSource())));
      } catch {
        // evidence only
      }
      throw this.forkError(older, newer, claimed);
    }
  }

  private forkError(older: SignedTree, newer: SignedTree, claimed = ''): SumdbForkError {
    const o = older.tree;
    const n = newer.tree;
    const detail =
      o.n === n.n
        ? `two different trees of size ${o.n} (hashes ${hashToBase64(o.hash)} and ${hashToBase64(n.hash)})`
        : `the tree of size ${n.n} does not contain the tree of size ${o.n} (hash ${hashToBase64(o.hash)}` +
          (claimed ? `; the larger tree's tiles give ${claimed})` : ')');
    return new SumdbForkError(
      `SECURITY ERROR: checksum database ${this.name} has forked: ${detail}; verified tree ${o.n} vs tree ${n.n}`,
      o.n,
      n.n,
      older.note,
      newer.note,
    );
  }

  /** Runs a proof check; proof and tile failures become SumdbVerificationError. */
  private async verify(what: string, f: () => Promise<void>): Promise<void> {
    try {
      await f();
    } catch (e) {
      if (e instanceof TlogError) {
        throw new SumdbVerificationError(`sumdb ${this.name}: ${what}: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }

  // -------------------------------------------------------------------------
  // Transport

  /** GETs a path with a size bound and a deadline. */
  private async get(path: string, maxBytes: number, lookupOf?: string, signal?: AbortSignal): Promise<Uint8Array> {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new SumdbTransportError(`sumdb ${this.name}: ${path}: no answer within ${this.limits.requestTimeoutMs} ms`);
        ctl.abort(err);
        reject(err);
      }, this.limits.requestTimeoutMs);
    });
    try {
      let body: Uint8Array;
      try {
        body = await Promise.race([this.fetcher(path, { maxBytes, signal: ctl.signal }), deadline]);
      } catch (e) {
        if (e instanceof SumdbError) throw e;
        if (e instanceof SumdbHttpStatusError) {
          if (lookupOf !== undefined && (e.status === 404 || e.status === 410)) {
            throw new SumdbNotFoundError(`sumdb ${this.name}: ${lookupOf}: not found (${e.status})`, e.status);
          }
          throw new SumdbTransportError(`sumdb ${this.name}: ${path}: status ${e.status}`, { cause: e });
        }
        if (e instanceof ResponseTooLargeError) {
          throw new SumdbVerificationError(`sumdb ${this.name}: ${path}: answer larger than ${maxBytes} bytes`, { cause: e });
        }
        throw new SumdbTransportError(`sumdb ${this.name}: ${path}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      }
      if (!(body instanceof Uint8Array)) throw new SumdbTransportError(`sumdb ${this.name}: ${path}: fetch returned no bytes`);
      if (body.length > maxBytes) {
        throw new SumdbVerificationError(`sumdb ${this.name}: ${path}: answer larger than ${maxBytes} bytes`);
      }
      return body;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private tileSource(): TileSource {
    return {
      height: this.height,
      readTiles: (tiles, opts) => this.readTiles(tiles, opts.fresh),
      saveTiles: (tiles, data) => this.saveTiles(tiles, data),
    };
  }

  private async readTiles(tiles: Tile[], fresh: boolean): Promise<Uint8Array[]> {
    // All at once; the first failure cancels the others. (Each request
    // listens on the shared signal, so there may be more than Node's default
    // of ten listeners.)
    const ctl = new AbortController();
    setMaxListeners(tiles.length + 10, ctl.signal);
    try {
      return await Promise.all(tiles.map((t) => this.readTile(t, fresh, ctl.signal)));
    } catch (e) {
      ctl.abort(e);
      throw e;
    }
  }

  private async readTile(t: Tile, fresh: boolean, signal: AbortSignal): Promise<Uint8Array> {
    const full: Tile = { ...t, w: 2 ** t.h };
    const want = t.w * HASH_SIZE;
    if (!fresh) {
      const cached = this.tileCache.get(tilePath(full));
      if (cached && cached.length >= want) {
        this.tileCache.delete(tilePath(full));
        this.tileCache.set(tilePath(full), cached);
        return cached.slice(0, want);
      }
    }
    const exact = (data: Uint8Array, size: number, p: string) => {
      if (data.length !== size) {
        throw new SumdbVerificationError(`sumdb ${this.name}: /${p}: ${data.length} bytes, want ${size}`);
      }
      return data;
    };
    const p = tilePath(t);
    try {
      return exact(await this.get(`/${p}`, want, undefined, signal), want, p);
    } catch (e) {
      // A partial tile may be gone once the tile is complete: take the full one's prefix.
      const gone = e instanceof SumdbTransportError && e.cause instanceof SumdbHttpStatusError && [404, 410].includes(e.cause.status);
      if (t.w === full.w || !gone) throw e;
      const fp = tilePath(full);
      const data = exact(await this.get(`/${fp}`, full.w * HASH_SIZE, undefined, signal), full.w * HASH_SIZE, fp);
      return data.slice(0, want);
    }
  }

  private saveTiles(tiles: Tile[], data: Uint8Array[]): void {
    // Partial tiles too: every lookup under a tree whose size is not a multiple of 2^h reads the same partial tile,
    // which the go command's client keeps as well, and asking the database for it again was one more round trip
    // before each cold version could be answered.
    tiles.forEach((t, i) => {
      const key = tilePath({ ...t, w: 2 ** t.h });
      const have = this.tileCache.get(key);
      // A wider tile kept before stays only if what was just authenticated is its prefix (else it predates a fork).
      const keep = have !== undefined && have.length > data[i].length && Buffer.from(have.buffer, have.byteOffset, data[i].length).equals(data[i]);
      this.tileCache.delete(key);
      this.tileCache.set(key, keep ? have : data[i].slice());
    });
    while (this.tileCache.size > this.limits.tileCacheEntries) {
      const oldest = this.tileCache.keys().next().value as string;
      this.tileCache.delete(oldest);
    }
  }
}

// ---------------------------------------------------------------------------
// HTTP

/** Thrown by httpSumdbFetch when an answer exceeds maxBytes. */
export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError';
}

export interface HttpSumdbFetchOptions {
  /** The GET to use (default: lib/net/httpRequest.ts's; the app's honours HTTPS_PROXY). */
  get?: HttpGet;
  /** Extra request headers (e.g. User-Agent). */
  headers?: Record<string, string>;
}

/**
 * A SumdbFetch over HTTP(S) for a database at baseUrl (e.g.
 * "https://sum.golang.org", or a proxy's "<proxy>/sumdb/sum.golang.org").
 * Reads at most maxBytes of a body, refuses redirects (any status but 200
 * is an error), and honours the client's abort signal.
 */
export function httpSumdbFetch(baseUrl: string, opts: HttpSumdbFetchOptions = {}): SumdbFetch {
  const base = baseUrl.replace(/\/+$/, '');
  const get = opts.get ?? createHttpGet();
  return async (path, { maxBytes, signal }) => {
    const res = await get(new URL(base + path), { signal, headers: opts.headers });
    if (res.statusCode !== 200) {
      discard(res);
      throw new SumdbHttpStatusError(res.statusCode ?? 0, `${path}: ${res.statusCode} ${res.statusMessage ?? ''}`.trimEnd());
    }
    try {
      return new Uint8Array(await readBody(res, maxBytes));
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw new ResponseTooLargeError(err.declared === undefined ? `${path}: more than ${maxBytes} bytes` : `${path}: ${err.declared} bytes, more than ${maxBytes}`);
      throw err;
    }
  };
}
