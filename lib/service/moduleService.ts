// The proxy's core, one method per protocol endpoint. The data path:
//
//   storage hit?  → serve what the version's records name (never asks a source)
//   otherwise     → ask the module's source (lib/source) → commit the version
//                   manifest (.info, .mod, the source's pin) → serve it;
//                   make the zip from the pin → commit its record
//
// The service knows sources only through the seam (lib/source/moduleSource.ts),
// storage names only through lib/records, and answers with artifact handles.
//
// .info and .mod are answered as soon as the manifest is committed; the zip
// build starts right away in the background, and a .zip request joins it.
// Concurrent requests share one build per *resolved* version (singleflight),
// and whatever wins a storage commit is what every request serves.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  commitManifest,
  commitZip,
  readManifest,
  readManifestMod,
  readZipRecord,
  type CommitHook,
  type Manifest,
  type ZipRecord,
} from '../records/manifest.js';
import type { Leases } from '../records/lease.js';
import { leaseName, moduleRecordsPrefix, parseRecordKey, type BuildStep } from '../records/layout.js';
import { NotFoundError, errorMessage, isNotFound, isUpstreamFault } from '../errors.js';
import { hashGoMod } from '../gomod/dirhash.js';
import { canonicalVersion } from '../gomod/module.js';
import { isPseudoVersion, pseudoVersionTime } from '../gomod/pseudo.js';
import * as semver from '../gomod/semver.js';
import type { Logger } from '../log/logger.js';
import { noteOutcome, type Outcome, type RequestNote } from '../metrics/metrics.js';
import { marshalInfo } from '../gomod/infoJson.js';
import { invalidVersion } from '../gomod/moduleErrors.js';
import { NoZipError, type ModuleSource, type ResolvedVersion, type SourceRouter } from '../source/moduleSource.js';
import type { ObjectStorage } from '../storage/storage.js';
import { withFreshStorageBudget } from '../storage/requestBudget.js';
import { BytesArtifact, StoredArtifact, type Artifact } from './artifact.js';
import { ArtifactCache } from './artifactCache.js';
import { ExpiringCache } from '../util/expiringCache.js';
import { HashingFileWriter } from '../util/hashingFileWriter.js';
import { Limiter } from '../util/limiter.js';
import { SingleFlight } from '../util/singleflight.js';
import { SPOOL_ZIP_NAME, spoolZipName, sweepStaleFilesOnce } from '../util/staleFiles.js';

/** Zips copied from a source (not built) at once: I/O-bound, memory bounded by streaming. */
const ZIP_COPIES = 4;

export interface ModuleServiceOptions {
  storage: ObjectStorage;
  sources: SourceRouter;
  log: Logger;
  /** Where zips are spooled before they are committed (default: os.tmpdir()). */
  tmpDir?: string;
  /** Crash-test hooks on the commit path. */
  commitHook?: CommitHook;
  /** Start building the zip as soon as a manifest is committed (default true). */
  eagerZip?: boolean;
  /**
   * Zip builds that run at once (default 1). They queue in request order, which
   * is the order the go command asks for zips, and the limit bounds memory.
   */
  zipBuildConcurrency?: number;
  /** Cross-replica leases around builds (optional; see lib/records/lease.ts). */
  leases?: Leases;
  /**
   * Serve only what storage holds, never asking a source (the `offline`
   * configuration key). A request can ask the same for itself (the
   * `Disable-Module-Fetch: true` header): see the `noFetch` arguments.
   */
  offline?: boolean;
  /** Called after each build step that ran here (metrics): its result and duration. */
  onBuild?: (step: BuildStep, result: 'ok' | 'error', seconds: number) => void;
  /** How long "not found" answers are remembered (default 30 s; 0 disables). */
  negativeCacheMs?: number;
  /** Immutable records and artifacts kept in memory (default: 64 MiB, zips up to 4 MiB). */
  cache?: { memoryBytes: number; maxZipBytes: number };
  now?: () => number;
}

const DEFAULT_CACHE = { memoryBytes: 64 << 20, maxZipBytes: 4 << 20 };
/** What a record holds in memory besides the strings it carries. */
const RECORD_BYTES = 512;
const manifestBytes = (m: Manifest) => RECORD_BYTES + m.info.length + (m.mod.data?.length ?? 0);

export class ModuleService {
  private readonly manifestFlights = new SingleFlight<Manifest>();
  private readonly zipFlights = new SingleFlight<ZipRecord>();
  private readonly tmpDir: string;
  private readonly background = new Set<Promise<unknown>>();
  private readonly zipBuilds: Limiter;
  private readonly zipCopies = new Limiter(ZIP_COPIES);
  private readonly notFound: ExpiringCache<Error>;
  private readonly committedCache: ExpiringCache<string[]>;
  private readonly cache: ArtifactCache;
  private readonly maxZipBytes: number;

  constructor(private readonly opts: ModuleServiceOptions) {
    const cache = opts.cache ?? DEFAULT_CACHE;
    this.cache = new ArtifactCache({ maxBytes: cache.memoryBytes });
    this.maxZipBytes = cache.maxZipBytes;
    this.zipBuilds = new Limiter(opts.zipBuildConcurrency ?? 1);
    const now = opts.now ?? Date.now;
    this.notFound = new ExpiringCache(opts.negativeCacheMs ?? 30_000, now);
    this.committedCache = new ExpiringCache(10_000, now);
    this.tmpDir = opts.tmpDir ?? path.join(os.tmpdir(), 'modproxy-zips');
    fs.mkdirSync(this.tmpDir, { recursive: true });
    // Zips a crashed process was building (replicas on one host share the directory: only hours-old ones go).
    sweepStaleFilesOnce(this.tmpDir, SPOOL_ZIP_NAME);
  }

  /** Bytes the in-memory artifact cache holds now (bounded by cache.memoryBytes). */
  get cachedBytes(): number {
    return this.cache.bytes;
  }

  /** The in-memory artifact cache, as metrics show it. */
  cacheStats(): { bytes: number; maxBytes: number; entries: number; evictions: number } {
    const c = this.cache;
    return { bytes: c.bytes, maxBytes: c.maxBytes, entries: c.entries, evictions: c.evictions };
  }

  /**
   * A committed manifest, from memory once read: a manifest is created once
   * (create-if-absent) and never rewritten, so a copy is never stale. Absence
   * is not remembered.
   */
  private storedManifest(modPath: string, version: string, note?: RequestNote): Promise<Manifest | null> {
    return this.cache.get(`manifest ${modPath}@${version}`, () => readManifest(this.opts.storage, modPath, version), manifestBytes, note);
  }

  /** A committed zip record, from memory once read (immutable, like manifests). */
  private storedZipRecord(modPath: string, version: string, note?: RequestNote): Promise<ZipRecord | null> {
    return this.cache.get(`zip ${modPath}@${version}`, () => readZipRecord(this.opts.storage, modPath, version), () => RECORD_BYTES, note);
  }

  /**
   * What answered a URL with an immutable artifact, for the HTTP layer's hit
   * path (lib/http/handler.ts): a URL whose answer is immutable keeps it, so a
   * hit skips parsing and the record lookups. Held in the same memory bound as
   * the artifacts and counted at the artifact's full size again, so an answer
   * never keeps alive a body the bound no longer counts.
   *
   * The key is the URL path itself: a hit looks up the string the HTTP
   * parser made, with no key built for it. Only paths (`/…`) are kept, and
   * every other key of the cache starts with a word, so none can collide.
   */
  readonly answers = {
    get: <T>(url: string): T | undefined => (url.charCodeAt(0) === 0x2f ? this.cache.peek<T>(url) : undefined),
    set: (url: string, answer: unknown, artifact: Artifact): void => {
      // Streamed artifacts hold no body: only their handle is kept.
      if (artifact.immutable && url.charCodeAt(0) === 0x2f) this.cache.keep(url, answer, artifact.bytes ? artifact.size : 0);
    },
  };

  /** Whether this request may not ask a source: offline mode, or the client said not to. */
  private fetchDisabled(noFetch: boolean): boolean {
    return noFetch || this.opts.offline === true;
  }

  /** Whether any source serves the module (no network). */
  serves(modPath: string): boolean {
    return this.opts.sources.serves(modPath);
  }

  private sourceFor(modPath: string): Promise<ModuleSource> {
    return this.opts.sources.sourceFor(modPath);
  }

  /** Runs `fn`, remembering a "not found" answer for `key` for a short while. */
  private async negativeCached<T>(key: string, fn: () => Promise<T>, note?: RequestNote): Promise<T> {
    const cached = this.notFound.get(key);
    if (cached) {
      noteOutcome(note, 'memory');
      throw cached;
    }
    try {
      return await fn();
    } catch (err) {
      if (isNotFound(err)) this.notFound.set(key, err as Error);
      throw err;
    }
  }

  /** Canonical versions committed to storage for a module (briefly cached). */
  async committedVersions(modPath: string): Promise<string[]> {
    const prefix = moduleRecordsPrefix(modPath);
    const cached = this.committedCache.get(prefix);
    if (cached) return cached;
    const versions: string[] = [];
    for (const key of await this.opts.storage.list(prefix)) {
      const r = parseRecordKey(key);
      if (r?.kind === 'manifest') versions.push(r.version);
    }
    this.committedCache.set(prefix, versions);
    return versions;
  }

  /**
   * `$m/@v/list`: tagged versions from the source, merged with every version
   * already committed (a served version stays listed after its tag is
   * deleted), without pseudo-versions. When the source cannot be reached,
   * the committed versions alone.
   *
   * A committed +incompatible version the source does not list is left out
   * while the source answers: the go command lists none when the latest
   * compatible version has a go.mod, and one fetched by its exact version
   * would otherwise become every client's @latest wherever that go.mod reads
   * like the one the go command synthesizes ("module <path>" alone).
   */
  async list(modPath: string, noFetch = false, note?: RequestNote): Promise<Artifact> {
    if (this.fetchDisabled(noFetch)) {
      noteOutcome(note, 'storage');
      const all = await this.committedVersions(modPath);
      if (all.length === 0) throw fetchDisabledError(modPath);
      const tagged = semver.sort(all.filter((v) => !isPseudoVersion(v)));
      return BytesArtifact.text(tagged.map((v) => v + '\n').join(''), false);
    }
    return this.negativeCached(`list ${modPath}`, async () => {
      let fromSource: string[] = [];
      let sourceError: unknown;
      try {
        const source = await this.sourceFor(modPath);
        noteOutcome(note, askedOutcome(source));
        fromSource = await source.list();
      } catch (err) {
        if (!isUpstreamFault(err) && !isNotFound(err)) throw err;
        sourceError = err;
      }
      const committed = (await this.committedVersions(modPath)).filter((v) => !isPseudoVersion(v));
      if (sourceError !== undefined) {
        if (committed.length === 0) throw sourceError;
        this.opts.log.warn('listing from storage: source unavailable', { module: modPath, reason: errorMessage(sourceError) });
      }
      // The source's list as it is (a parent's duplicates too, as the go command would see them), plus what was committed.
      const listed = new Set(fromSource);
      const extra = committed.filter((v) => !listed.has(v) && (sourceError !== undefined || !v.endsWith('+incompatible')));
      const merged = semver.sort([...fromSource, ...extra]);
      return BytesArtifact.text(merged.map((v) => v + '\n').join(''), false);
    }, note);
  }

  /**
   * `$m/@latest`: the default branch's HEAD as a version, as direct mode's
   * Latest() gives it; when the source cannot be reached, the highest
   * committed release (or the newest committed pseudo-version).
   */
  async latest(modPath: string, noFetch = false, note?: RequestNote): Promise<Artifact> {
    if (this.fetchDisabled(noFetch)) {
      noteOutcome(note, 'storage');
      const best = pickLatest(await this.committedVersions(modPath));
      const m = best ? await readManifest(this.opts.storage, modPath, best) : null;
      if (!m) throw fetchDisabledError(modPath);
      return BytesArtifact.text(m.info, false);
    }
    return this.negativeCached(`latest ${modPath}`, async () => {
      try {
        const source = await this.sourceFor(modPath);
        noteOutcome(note, askedOutcome(source));
        const m = await this.commitResolved(modPath, source, await source.latest(), false, note);
        return BytesArtifact.text(m.info, false);
      } catch (err) {
        if (!isUpstreamFault(err)) throw err;
        const best = pickLatest(await this.committedVersions(modPath));
        if (!best) throw err;
        const m = await readManifest(this.opts.storage, modPath, best);
        if (!m) throw err;
        this.opts.log.warn('@latest from storage: source unavailable', { module: modPath, version: best, reason: errorMessage(err) });
        return BytesArtifact.text(m.info, false);
      }
    }, note);
  }

  /** `$m/@v/$q.info` for any query: canonical versions come from storage when committed. */
  async info(modPath: string, query: string, noFetch = false, note?: RequestNote): Promise<Artifact> {
    const canonical = semver.isValid(query) && canonicalVersion(query) === query;
    if (canonical) {
      const stored = await this.storedManifest(modPath, query, note);
      if (stored) return this.infoArtifact(stored);
    }
    // Queries other than canonical versions (branches, v1, >=v1.2) need the source.
    if (this.fetchDisabled(noFetch)) throw fetchDisabledError(`${modPath}@${query}`);
    return this.negativeCached(`info ${modPath} ${query}`, async () => {
      const source = await this.sourceFor(modPath);
      noteOutcome(note, askedOutcome(source));
      const rev = await source.query(query);
      // A canonical query that resolved to itself was looked up in storage just above.
      const m = await this.commitResolved(modPath, source, rev, canonical && rev.version === query, note);
      return BytesArtifact.text(m.info, m.version === query);
    }, note);
  }

  /** The .info of a committed version, made once per manifest. */
  private async infoArtifact(m: Manifest): Promise<Artifact> {
    const a = await this.cache.get(`info ${m.path}@${m.version}`, async () => BytesArtifact.text(m.info, true), (a) => a.size);
    return a!;
  }

  /** The committed manifest of a canonical version (for .mod and .zip), resolving it on first use. */
  async manifest(modPath: string, version: string, noFetch = false, note?: RequestNote): Promise<Manifest> {
    const stored = await this.storedManifest(modPath, version, note);
    if (stored) return stored;
    if (this.fetchDisabled(noFetch)) throw fetchDisabledError(`${modPath}@${version}`);
    return this.negativeCached(`version ${modPath} ${version}`, async () =>
      builtFor(note, await this.manifestFlights.do(`${modPath}@${version}`, () =>
        this.leased(
          modPath,
          version,
          'manifest',
          true,
          () => this.storedManifest(modPath, version),
          async () => {
            const source = await this.sourceFor(modPath);
            noteOutcome(note, askedOutcome(source));
            const rev = await source.query(version);
            if (rev.version !== version) throw invalidVersion(modPath, version, `version ${version} resolves to ${rev.version}`);
            return this.buildManifest(modPath, source, rev);
          },
        ),
      )),
      note,
    );
  }

  /**
   * Runs a build under the cross-replica lease when leases are on: first
   * checks storage (`done`) unless the caller just did (`checked`), then
   * either builds or waits for another replica's commit (bounded; see
   * lib/records/lease.ts). Storage is asked again only after a wait: each
   * call is a round trip on the cold path, and a commit that races ours is
   * settled by create-if-absent anyway.
   */
  private async leased<T>(modPath: string, version: string, step: BuildStep, checked: boolean, done: () => Promise<T | null>, build: () => Promise<T>): Promise<T> {
    if (!checked) {
      const existing = await done();
      if (existing) return existing;
    }
    const leases = this.opts.leases;
    if (!leases) return build();
    return leases.run(leaseName(modPath, version, step), done, async (afterWait) => (afterWait ? await done() : null) ?? build(), step);
  }

  /**
   * Takes a lease ahead of its step; advisory, so a storage error only costs
   * the head start. True when this replica holds it now.
   */
  private async claimLease(modPath: string, version: string, step: BuildStep): Promise<boolean> {
    const leases = this.opts.leases;
    if (!leases) return false;
    try {
      return await leases.tryAcquire(leaseName(modPath, version, step));
    } catch (err) {
      this.opts.log.warn('could not claim lease', { module: modPath, version, step, reason: errorMessage(err) });
      return false;
    }
  }

  /**
   * Lets go of a lease claimed ahead of a step that will not run or has
   * failed, so that replicas waiting for it take over at once (a no-op when
   * another replica holds it by now).
   */
  private async releaseLease(modPath: string, version: string, step: BuildStep): Promise<void> {
    const leases = this.opts.leases;
    if (!leases) return;
    try {
      await leases.release(leaseName(modPath, version, step));
    } catch (err) {
      this.opts.log.warn('could not release lease', { module: modPath, version, step, reason: errorMessage(err) });
    }
  }

  /** Commits the manifest of a version a query resolved to; `checked`: the caller has just found it absent from storage. */
  private async commitResolved(modPath: string, source: ModuleSource, rev: ResolvedVersion, checked: boolean, note?: RequestNote): Promise<Manifest> {
    if (!checked) {
      const stored = await this.storedManifest(modPath, rev.version, note);
      if (stored) return stored;
    }
    return builtFor(note, await this.manifestFlights.do(`${modPath}@${rev.version}`, async () => {
      // A source that fetched ahead has done the work a manifest lease would
      // guard: the manifest is committed at once (create-if-absent decides
      // between replicas), its zip claimed alongside.
      if (source.fetchesAhead) return this.buildManifest(modPath, source, rev);
      // The version exists (the source resolved it): its manifest and zip
      // leases are claimed at once, not one after the other, so a cold version
      // costs one storage round trip less before it is answered. When the
      // manifest lease is another replica's, the zip claim is let go at once,
      // so that replica's zip build, which follows its commit, finds it free.
      let zipClaimed = false;
      if (this.opts.leases && this.opts.eagerZip !== false) {
        const [manifestHeld] = await Promise.all([this.claimLease(modPath, rev.version, 'manifest'), this.claimLease(modPath, rev.version, 'zip')]);
        if (manifestHeld) zipClaimed = true;
        else await this.releaseLease(modPath, rev.version, 'zip');
      }
      return this.leased(
        modPath,
        rev.version,
        'manifest',
        true,
        () => this.storedManifest(modPath, rev.version),
        () => this.buildManifest(modPath, source, rev, zipClaimed),
      );
    }));
  }

  /**
   * Asks the source for .mod and the pin of a resolved version and commits its
   * manifest; `zipClaimed`: the caller has claimed the zip step already.
   */
  private async buildManifest(modPath: string, source: ModuleSource, rev: ResolvedVersion, zipClaimed = false): Promise<Manifest> {
    return this.measured('manifest', () => this.buildManifestUnmeasured(modPath, source, rev, zipClaimed));
  }

  /** Runs a build step, reporting its result and duration to `onBuild`. */
  private async measured<T>(step: BuildStep, fn: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    const report = (result: 'ok' | 'error') => this.opts.onBuild?.(step, result, Number(process.hrtime.bigint() - started) / 1e9);
    try {
      const v = await fn();
      report('ok');
      return v;
    } catch (err) {
      report('error');
      throw err;
    }
  }

  private async buildManifestUnmeasured(modPath: string, source: ModuleSource, rev: ResolvedVersion, zipClaimedByCaller: boolean): Promise<Manifest> {
    const version = rev.version;
    const eagerZip = this.opts.eagerZip !== false;
    // Claim the zip step before the manifest becomes visible: replicas waiting
    // for this manifest then wait for our zip too, instead of racing our
    // background build for the zip lease and fetching the repository again.
    // The claim runs while the source downloads, not after it. A source that
    // fetched ahead has its download done already: the claim runs alongside
    // the commit instead, and a replica that sees the manifest in between
    // at worst builds the zip itself (the zip lease still lets one build).
    const zipClaimed: Promise<unknown> = eagerZip && !zipClaimedByCaller ? this.claimLease(modPath, version, 'zip') : Promise.resolve();
    let committed: Awaited<ReturnType<typeof commitManifest>>;
    try {
      const [{ mod, pin }] = await Promise.all([source.download(rev), source.fetchesAhead ? undefined : zipClaimed]);
      [committed] = await Promise.all([
        commitManifest(
          this.opts.storage,
          { path: modPath, version, info: marshalInfo({ Version: version, Time: rev.timeText ?? rev.time, Origin: rev.origin }), mod: { data: mod, h1: hashGoMod(mod) }, source: pin },
          this.opts.commitHook,
        ),
        zipClaimed,
      ]);
    } catch (err) {
      // No zip build follows: the manifest may be stored anyway, and others must not wait for our zip.
      if (eagerZip) {
        await zipClaimed;
        await this.releaseLease(modPath, version, 'zip');
      }
      throw err;
    }
    const { record, won } = committed;
    if (committed.indexWritten) {
      this.inBackground(
        committed.indexWritten.catch((err: unknown) => {
          this.opts.log.warn('version committed, but its /index entry could not be written', { module: modPath, version, reason: errorMessage(err) });
        }),
      );
    }
    this.opts.log.info(won ? 'committed module version' : 'module version already committed by another writer', { module: modPath, version, source: record.source });
    this.committedCache.delete(moduleRecordsPrefix(modPath));
    // The record storage now holds under that name (ours, or the winner's as read back): the .mod that follows needs no read.
    this.cache.keep(`manifest ${modPath}@${version}`, record, manifestBytes(record));
    if (eagerZip) this.buildZipInBackground(source, record, won);
    return record;
  }

  /** `created`: this replica has just created the manifest (see zipRecordFor's `fresh`). */
  private buildZipInBackground(source: ModuleSource, m: Manifest, created: boolean): void {
    // The build outlives the request that committed the manifest: it gets a storage budget of its own.
    const p = withFreshStorageBudget(() =>
      this.zipRecordFor(m, source, undefined, created).catch(async (err: unknown) => {
        // A later .zip request retries; nothing partial was committed. The zip
        // lease claimed with the manifest is let go (the lease's run() already
        // did if the build itself failed; this covers failures before it), so
        // replicas waiting for our zip build it themselves at once.
        this.opts.log.warn('background zip build failed', { module: m.path, version: m.version, reason: errorMessage(err) });
        await this.releaseLease(m.path, m.version, 'zip');
      }),
    );
    this.inBackground(p);
  }

  /** Work that outlives its request; idle() waits for it. */
  private inBackground(p: Promise<unknown>): void {
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  /** Waits for background work (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  /**
   * The zip record of a manifest, building and committing it on first use. `fresh`: the manifest was created by this
   * replica a moment ago, so no zip record can be stored yet and storage is not asked first. (Should another writer
   * have committed one meanwhile, commitZip finds it before storing a blob, and create-if-absent settles the rest.)
   */
  private async zipRecordFor(m: Manifest, source?: ModuleSource, note?: RequestNote, fresh = false): Promise<ZipRecord> {
    // A build of this zip running here (the one a cold version's commit starts) is joined without asking
    // storage first: until it ends, its record is not in storage, or the build itself finds it there.
    const key = `${m.path}@${m.version}`;
    const building = this.zipFlights.inFlight(key);
    if (building) {
      noteOutcome(note, builtOutcome(m));
      return building;
    }
    const stored = fresh ? null : await this.storedZipRecord(m.path, m.version, note);
    if (stored) return stored;
    noteOutcome(note, builtOutcome(m));
    return this.zipFlights.do(key, async () => {
      const from = source ?? (await this.sourceFor(m.path));
      // Building a zip holds files in memory: one at a time. Copying a finished one does not.
      const slots = from.zipIsCopy ? this.zipCopies : this.zipBuilds;
      return slots.run((waited) =>
        // Storage is asked again after a wait for a slot (another replica may have committed meanwhile);
        // otherwise the lookup above is a moment old.
        this.leased(
          m.path,
          m.version,
          'zip',
          !waited,
          () => this.storedZipRecord(m.path, m.version),
          () => this.measured('zip', () => this.buildZip(from, m)),
        ),
      );
    });
  }

  /** Has the source make the zip of the manifest's pin, and commits its record. */
  private async buildZip(source: ModuleSource, m: Manifest): Promise<ZipRecord> {
    const started = Date.now();
    const zipFile = path.join(this.tmpDir, spoolZipName());
    try {
      let zip: Parameters<typeof commitZip>[1]['zip'];
      try {
        const hash = crypto.createHash('sha256');
        const result = await source.writeZip(m.version, m.source, new HashingFileWriter(zipFile, hash));
        const size = (await fs.promises.stat(zipFile)).size;
        zip = { file: zipFile, sha256: hash.digest('hex'), size, h1: result.h1, files: result.files };
      } catch (err) {
        if (!(err instanceof NoZipError)) throw err;
        zip = { error: err.message };
      }
      const { record, won } = await commitZip(this.opts.storage, { path: m.path, version: m.version, source: m.source, zip }, this.opts.commitHook);
      this.opts.log.info(won ? 'committed module zip' : 'module zip already committed by another writer', {
        module: m.path,
        version: m.version,
        zipBytes: 'error' in record.zip ? undefined : record.zip.size,
        zipError: 'error' in record.zip ? record.zip.error : undefined,
        buildMs: Date.now() - started,
      });
      await this.keepCommittedZip(record, 'file' in zip ? zip : undefined);
      return record;
    } finally {
      await fs.promises.rm(zipFile, { force: true });
    }
  }

  /**
   * Keeps what a zip commit leaves in storage, as the manifest commit does:
   * the record storage now holds under its name (ours, or the winner's as
   * read back), and, when it names the blob we uploaded (same digest) and the
   * zip is small enough to serve from memory, the spooled bytes under that
   * blob's name. Blobs are named by their digest, so whichever writer created
   * it, storage holds exactly these bytes there (the digest was taken as the
   * spool was written, and nothing writes it after). The .zip that follows
   * the build then reads neither the record nor the body back from storage.
   */
  private async keepCommittedZip(record: ZipRecord, spooled: { file: string; sha256: string; size: number } | undefined): Promise<void> {
    this.cache.keep(`zip ${record.path}@${record.version}`, record, RECORD_BYTES);
    const z = record.zip;
    if (!spooled || 'error' in z || z.sha256 !== spooled.sha256 || z.size !== spooled.size || z.size > this.maxZipBytes) return;
    // The zip is committed: failing to keep its body only costs the next request a read.
    const bytes = await fs.promises.readFile(spooled.file).catch(() => null);
    if (!bytes || bytes.length !== z.size) return;
    this.cache.keep(ArtifactCache.bodyKey(z.blob, z.sha256), new StoredArtifact(this.opts.storage, z.blob, z.size, z.sha256, bytes), z.size);
  }

  /** The go.mod of a committed version. */
  async mod(modPath: string, version: string, noFetch = false, note?: RequestNote): Promise<Artifact> {
    const m = await this.manifest(modPath, version, noFetch, note);
    // Keyed by where the body lives (the manifest itself when inline, else its blob) and its hash.
    const where = m.mod.blob ?? `manifest ${m.path}@${m.version}`;
    const a = await this.cache.get(
      ArtifactCache.bodyKey(where, m.mod.sha256),
      async () => new BytesArtifact(await readManifestMod(this.opts.storage, m), true, m.mod.sha256),
      (a) => a.size,
      // An inline go.mod is made from the manifest in hand: no storage read.
      m.mod.blob ? note : undefined,
    );
    return a!;
  }

  /** The zip of a committed version, or the go command's reason there is none. */
  async zip(modPath: string, version: string, noFetch = false, note?: RequestNote): Promise<Artifact> {
    const m = await this.manifest(modPath, version, noFetch, note);
    // A committed version whose zip is not built yet would need the source to build it.
    const record = this.fetchDisabled(noFetch) ? await this.storedZipRecord(modPath, version, note) : await this.zipRecordFor(m, undefined, note);
    if (!record) throw fetchDisabledError(`${modPath}@${version} (zip)`);
    if ('error' in record.zip) throw new NotFoundError(record.zip.error);
    const z = record.zip;
    const storage = this.opts.storage;
    if (z.size > this.maxZipBytes) {
      // Streamed from storage; the handle alone is kept, so its reply headers are built once.
      const handle = await this.cache.get(`handle ${z.blob} ${z.sha256}`, async () => new StoredArtifact(storage, z.blob, z.size, z.sha256), () => 0);
      noteOutcome(note, 'storage');
      return handle!;
    }
    // Small zips are read whole, once, and served from memory; the record's digest is the ETag (no re-hashing).
    const a = await this.cache.get(
      ArtifactCache.bodyKey(z.blob, z.sha256),
      async () => {
        const bytes = await storage.read(z.blob);
        // Records name only bodies written before them; a missing or truncated one is a storage fault.
        if (!bytes || bytes.length !== z.size) throw new Error(`storage lost ${z.blob}`);
        return new StoredArtifact(storage, z.blob, z.size, z.sha256, bytes);
      },
      (a) => a.size,
      note,
    );
    return a!;
  }
}

/** How a request that asked a source (list, @latest, a query) counts: a git host's answer, or the parent's. */
function askedOutcome(source: ModuleSource): Outcome {
  return source.isParentProxy ? 'parent' : 'source';
}

/** How a request that waited for a version to be resolved and committed counts: built from git, or fetched from the parent. */
function builtOutcome(m: Manifest): Outcome {
  return m.source.kind === 'proxy' ? 'parent' : 'build';
}

/** Notes that the request waited for `m` to be built (joined flights included), and passes `m` on. */
function builtFor(note: RequestNote | undefined, m: Manifest): Manifest {
  noteOutcome(note, builtOutcome(m));
  return m;
}

/**
 * What is not in storage while fetching is disabled: "not found" (404), so
 * the go command tries the next GOPROXY entry, with the reason spelled out.
 */
function fetchDisabledError(what: string): NotFoundError {
  return new NotFoundError(`${what}: not in storage, and module fetch is disabled (offline mode or Disable-Module-Fetch: true)`);
}

/** The version @latest falls back to from storage: the highest release, else the newest pseudo-version. */
export function pickLatest(versions: string[]): string | undefined {
  const tagged = semver.sort(versions.filter((v) => !isPseudoVersion(v)));
  const releases = tagged.filter((v) => semver.prerelease(v) === '');
  if (releases.length > 0) return releases[releases.length - 1];
  if (tagged.length > 0) return tagged[tagged.length - 1];
  let best: string | undefined;
  for (const v of versions) if (!best || pseudoVersionTime(v) > pseudoVersionTime(best)) best = v;
  return best;
}
