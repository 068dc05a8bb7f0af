// Checksum database proxying (`/sumdb/<name>/…`, the go command's GOPROXY
// protocol for GOSUMDB): clients verify through modproxy, also when the
// database cannot be reached, and the database does not learn which modules
// a team uses.
//
//   /sumdb/<name>/supported   200 for a configured database, 404 otherwise
//   /sumdb/<name>/lookup/…    verified (signature, inclusion, consistency with
//                             the tree this deployment verified), then kept
//                             in storage forever (create-if-absent); a
//                             private path is never looked up (404)
//   /sumdb/<name>/tile/…      hash tiles (complete or partial: in a consistent
//                             log a tile never changes) authenticated against
//                             the verified tree, then kept forever; complete
//                             data tiles checked against their hash tile and
//                             kept; partial data tiles passed through, cached
//                             briefly
//   /sumdb/<name>/latest      verified, cached briefly
// Briefly cached answers are served stale when the database fails. Kept
// answers are also held in memory (bounded), once storage holds them.
//
// `/sumdb/supported` keeps go-mod-proxy's meaning of
// sumDatabaseProxy.discourageClientDirectSumDatabaseConnections: 200 when set,
// 410 otherwise.
import { BadRequestError, NotFoundError, UpstreamError, errorMessage } from '../errors.js';
import { escapePath, escapeVersion, unescapePath, unescapeVersion } from '../gomod/module.js';
import type { Logger } from '../log/logger.js';
import { sumdbAnswerKey } from '../records/layout.js';
import { SumdbClient, SumdbHttpStatusError, SumdbNotFoundError, type SumdbFetch, type SumdbLookup } from '../sumdb/client.js';
import { checkDataTile, parseTilePath } from '../sumdb/tlog.js';
import type { ObjectStorage } from '../storage/storage.js';
import { SingleFlight } from '../util/singleflight.js';
import { BytesArtifact, type Artifact } from './artifact.js';
import { ArtifactCache } from './artifactCache.js';

export interface ProxiedDatabase {
  client: SumdbClient;
  /** Raw GETs of the database (data tiles, checked or passed through). */
  fetch: SumdbFetch;
}

export interface SumdbProxyOptions {
  databases: ReadonlyMap<string, ProxiedDatabase>;
  storage: ObjectStorage;
  log: Logger;
  discourageDirect: boolean;
  /** How long /latest and partial tiles are served from memory (default 60 s). */
  shortTtlMs?: number;
  /** How long a stale answer may stand in for a failing database (default 1 h). */
  staleMs?: number;
  now?: () => number;
  /**
   * Whether a module path is private (privateModules): its lookups are
   * answered 404 without asking the database, which must not learn of it
   * (a client that was not told GONOSUMDB asks for them).
   */
  isPrivate?: (modPath: string) => boolean;
  /** Called once per answer served, with where it came from (metrics). */
  onAnswer?: (database: string, kind: SumdbAnswerKind, from: SumdbAnswerSource) => void;
}

export type SumdbAnswerKind = 'lookup' | 'tile' | 'latest';
/** storage: kept earlier; upstream: fetched (and verified) now; memory/stale: a brief cache, fresh or standing in for a failing database. */
export type SumdbAnswerSource = 'storage' | 'upstream' | 'memory' | 'stale';

/** What every database answer is at most (a full tile of height 8 is 8 KiB; lookups are small). */
const MAX_ANSWER = 1 << 20;
const SHORT_CACHE_ENTRIES = 1000;
/** Kept answers also held in memory, at most (lookups are ~1 KiB, tiles up to 8 KiB). */
const KEPT_MEMORY_BYTES = 8 << 20;

/** A GET of the database, unverified: its 404/410 is not found; anything else that fails is an upstream fault. */
async function raw(name: string, db: ProxiedDatabase, path: string): Promise<Uint8Array> {
  try {
    return await db.fetch(path, { maxBytes: MAX_ANSWER, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    if (err instanceof SumdbHttpStatusError && (err.status === 404 || err.status === 410)) throw new NotFoundError(`checksum database ${name}: ${path}: not found`, err.status === 410);
    throw new UpstreamError(`checksum database ${name}: ${path}: ${errorMessage(err)}`, 502, { cause: err });
  }
}

/** The module path and version of a `lookup/<escaped path>@<escaped version>` request. */
function parseLookup(remote: string): { path: string; version: string } {
  const at = remote.lastIndexOf('@');
  try {
    if (at < 0) throw new Error('no @');
    return { path: unescapePath(remote.slice('lookup/'.length, at)), version: unescapeVersion(remote.slice(at + 1)) };
  } catch {
    throw new BadRequestError('malformed lookup path');
  }
}

export class SumdbProxy {
  private readonly recent = new Map<string, { body: Uint8Array; at: number }>();
  /**
   * Kept answers as storage holds them, so the client's /lookup that follows a
   * public module's verification, and every tile after the first, is served
   * without a storage round trip. Only what storage holds goes in.
   */
  private readonly keptInMemory = new ArtifactCache({ maxBytes: KEPT_MEMORY_BYTES });
  private readonly keeping = new SingleFlight<{ body: Uint8Array; from: SumdbAnswerSource }>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly now: () => number;

  constructor(private readonly opts: SumdbProxyOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The answer to `/sumdb/<rest>` (rest as it came, still escaped). */
  async serve(rest: string): Promise<Artifact> {
    if (rest === 'supported') {
      if (this.opts.discourageDirect) return BytesArtifact.text('', false);
      throw new NotFoundError('checksum database proxying: name a database', true);
    }
    const slash = rest.indexOf('/');
    const name = slash < 0 ? rest : rest.slice(0, slash);
    const db = this.opts.databases.get(name);
    if (!db) throw new NotFoundError(`checksum database ${JSON.stringify(name.slice(0, 100))} is not proxied here`);
    const remote = slash < 0 ? '' : rest.slice(slash + 1);
    if (remote === 'supported') return BytesArtifact.text('', false);
    if (remote === 'latest') return this.shortLived(name, '/latest', async () => (await db.client.latestSigned()).note, 'latest');
    if (remote.startsWith('lookup/')) {
      const { path, version } = parseLookup(remote);
      if (this.opts.isPrivate?.(path)) {
        throw new NotFoundError(
          `${path} is a private module here (privateModules): it is not looked up in the checksum database ${name}; exclude it with GONOSUMDB or GOPRIVATE`,
        );
      }
      return this.kept(name, remote, () => this.verifiedLookup(db.client, path, version), 'lookup');
    }
    if (remote.startsWith('tile/')) {
      let tile;
      try {
        tile = parseTilePath(remote);
      } catch {
        throw new BadRequestError(`malformed tile path`);
      }
      if (tile.l >= 0) return this.kept(name, remote, () => db.client.authenticatedTile(remote), 'tile');
      if (tile.w !== 2 ** tile.h) return this.shortLived(name, `/${remote}`, () => raw(name, db, `/${remote}`), 'tile');
      return this.kept(name, remote, async () => {
        // A data tile is proven by the level-0 hash tile over the same records.
        const hashes = await db.client.authenticatedTile(remote.replace(/^tile\/(\d+)\/data\//, 'tile/$1/0/'));
        const data = await raw(name, db, `/${remote}`);
        try {
          checkDataTile(tile, data, hashes);
        } catch (err) {
          throw new UpstreamError(`checksum database ${name}: ${remote}: ${errorMessage(err)}`);
        }
        return data;
      }, 'tile');
    }
    throw new NotFoundError(`checksum database ${name} has no ${JSON.stringify(remote.slice(0, 100))}`);
  }

  /**
   * Keeps a lookup answer that was just verified for another reason (a public
   * module's go.mod), so that the client's own /lookup, which follows at
   * once, is a storage read; it runs beside the module's commit instead of
   * after it. Failures only cost that: the client's request keeps it then.
   */
  keepLookup(name: string, lookup: SumdbLookup): void {
    if (!this.opts.databases.has(name)) return;
    const remote = `lookup/${escapePath(lookup.path)}@${escapeVersion(lookup.version)}`;
    // Likely absent (a module verified for its first commit): created without a read first.
    const p = this.kept(name, remote, async () => lookup.body, undefined, true).catch((err: unknown) => {
      this.opts.log.warn('could not keep a verified lookup', { database: name, path: remote, reason: errorMessage(err) });
    });
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  /** Waits for lookups being kept (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  private async verifiedLookup(client: SumdbClient, path: string, version: string): Promise<Uint8Array> {
    try {
      return (await client.recentLookup(path, version)).body;
    } catch (err) {
      if (err instanceof SumdbNotFoundError) throw new NotFoundError(err.message, err.status === 410);
      throw err;
    }
  }

  /**
   * An immutable answer: from storage, or verified, then created there
   * (whatever was there first is served). `kind`: an answer to a client,
   * counted. `likelyAbsent`: create first, read only when that finds one.
   */
  private async kept(name: string, remote: string, verified: () => Promise<Uint8Array>, kind?: SumdbAnswerKind, likelyAbsent = false): Promise<Artifact> {
    const key = sumdbAnswerKey(name, remote);
    const inMemory = this.keptInMemory.peek<Uint8Array>(key);
    if (inMemory) {
      if (kind) this.opts.onAnswer?.(name, kind, 'memory');
      return new BytesArtifact(inMemory, true);
    }
    // One flight per answer: a client's request joins a keepLookup under way.
    const { body, from } = await this.keeping.do(key, async () => {
      const stored = likelyAbsent ? null : await this.opts.storage.read(key);
      if (stored) return { body: stored, from: 'storage' as const };
      const fresh = await verified();
      if ((await this.opts.storage.createIfAbsent(key, fresh, { contentType: 'text/plain; charset=utf-8' })) === 'created') return { body: fresh, from: 'upstream' as const };
      const first = await this.opts.storage.read(key);
      if (!first) throw new Error(`${key} exists but cannot be read`);
      return { body: first, from: 'upstream' as const };
    });
    this.keptInMemory.keep(key, body, body.length);
    if (kind) this.opts.onAnswer?.(name, kind, from);
    return new BytesArtifact(body, true);
  }

  /** An answer that changes: fresh for a short while; when the database fails, the last one for longer. */
  private async shortLived(name: string, remote: string, fetch: () => Promise<Uint8Array>, kind: SumdbAnswerKind): Promise<Artifact> {
    const key = `${name}${remote}`;
    const cached = this.recent.get(key);
    const age = cached ? this.now() - cached.at : Infinity;
    if (cached && age < (this.opts.shortTtlMs ?? 60_000)) {
      this.opts.onAnswer?.(name, kind, 'memory');
      return new BytesArtifact(cached.body, false);
    }
    try {
      const body = await fetch();
      this.recent.delete(key);
      this.recent.set(key, { body, at: this.now() });
      while (this.recent.size > SHORT_CACHE_ENTRIES) this.recent.delete(this.recent.keys().next().value!);
      this.opts.onAnswer?.(name, kind, 'upstream');
      return new BytesArtifact(body, false);
    } catch (err) {
      if (cached && age < (this.opts.staleMs ?? 3_600_000) && !(err instanceof SumdbNotFoundError)) {
        this.opts.log.warn('checksum database unavailable: serving a stale answer', { database: name, path: remote, ageSeconds: Math.round(age / 1000), reason: errorMessage(err) });
        this.opts.onAnswer?.(name, kind, 'stale');
        return new BytesArtifact(cached.body, false);
      }
      if (err instanceof SumdbNotFoundError) throw new NotFoundError(err.message, err.status === 410);
      throw err;
    }
  }
}
