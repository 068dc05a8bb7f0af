// A module source backed by a parent GOPROXY (the go command's proxy client
// behind the module-source seam), for public modules. Nothing it fetches is
// trusted: .info and lists are validated, go.mod files are verified before
// they are returned, and zips are downloaded to a temporary file, checked
// (lib/archive/zipReader.ts) and compared with the verified hash before a
// byte reaches the caller. See docs/public-modules.md.
//
// HTTP: every request has a total deadline and a body cap; redirects are
// followed only to http(s); credentials go only to the parent's own origin,
// and never again once a redirect has left it. 404/410 from the parent is
// "not found" (with its first line of text); anything else is an upstream
// fault (5xx to our clients, never cached as not found).
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { NotFoundError, ProxyError, UpstreamError, isNotFound } from '../../errors.js';
import { MAX_GO_MOD, MAX_ZIP_FILE } from '../../archive/checkFiles.js';
import { checkModuleZipFile, ZipCheckError, type ZipChecker } from '../../archive/zipReader.js';
import { hashGoMod } from '../../gomod/dirhash.js';
import type { Origin } from '../../gomod/infoJson.js';
import { canonicalVersion, check as checkModuleVersion, escapePath, escapeVersion } from '../../gomod/module.js';
import { isPseudoVersion, pseudoVersionTime } from '../../gomod/pseudo.js';
import { parseRevInfoJson, type RevInfoJson } from '../../gomod/revInfoJson.js';
import { parseGoTime } from '../../gomod/rfc3339.js';
import * as semver from '../../gomod/semver.js';
import { fields } from '../../gomod/unicode.js';
import type { ModuleSource, ResolvedVersion, SourcePin } from '../moduleSource.js';
import type { ModuleVerifier } from './verifier.js';
import { BodyTooLargeError, createHttpGet, declaredLength, discard, readBody, type HttpGet } from '../../net/httpRequest.js';
import { SPOOL_ZIP_NAME, spoolZipName, sweepStaleFilesOnce } from '../../util/staleFiles.js';

export interface ParentProxyOptions {
  /** The parent's base URL (http or https), e.g. https://proxy.golang.org. */
  url: string;
  verifier: ModuleVerifier;
  /** The Authorization header value for a request to this URL on the parent's origin, if any (loaded lazily). */
  authorization?: (url: URL) => Promise<string | undefined>;
  /** What the parent is called in messages (default "parent proxy"). */
  name?: string;
  /** Total deadline of a list/.info/.mod request (default 30 s). */
  timeoutMs?: number;
  /** Total deadline of a .zip download (default 10 min). */
  zipTimeoutMs?: number;
  /** Body caps in bytes. */
  limits?: Partial<BodyLimits>;
  /** Where zips are spooled for checking (default <os tmpdir>/modproxy-parent). */
  tmpDir?: string;
  /** Redirects followed per request (default 10). */
  maxRedirects?: number;
  /** Called with the size of each response body chunk received (metrics: bytes fetched from the parent). */
  onBytes?: (bytes: number) => void;
  /** The GET to use (default: lib/net/httpRequest.ts's, which honours HTTPS_PROXY; shared by the app's parents). */
  get?: HttpGet;
  /** How downloaded zips are checked (default: checkModuleZipFile; the app's also waits for requests: lib/util/foreground.ts). */
  checkZip?: ZipChecker;
}

export interface BodyLimits {
  list: number;
  info: number;
  mod: number;
  zip: number;
}

export const DEFAULT_LIMITS: BodyLimits = { list: 4 << 20, info: 64 << 10, mod: MAX_GO_MOD, zip: MAX_ZIP_FILE };
/** How much of an error response is read for its first line. */
const ERROR_BODY_LIMIT = 8 << 10;

/** One line of an upstream's text, safe to log and to pass on: control characters gone, length capped. */
export function sanitizeLine(text: string): string {
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  const clean = first.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').trim();
  return clean.length > 300 ? clean.slice(0, 300) + '…' : clean;
}

/**
 * Where a ParentProxySource reads a GOPROXY's files from (escaped paths
 * relative to its root), and what vouches for them: the parent over HTTP, or
 * a directory tree (fileTreeProxy.ts, for `modproxy-admin import`).
 */
export interface ProxyFiles {
  /** What errors call it ("parent proxy", "GOPROXY tree"). */
  readonly name: string;
  readonly verifier: ModuleVerifier;
  /** Where zips are spooled for checking. */
  readonly tmpDir: string;
  /** Checks a spooled zip (lib/archive/zipReader.ts's rules). */
  readonly checkZip: ZipChecker;
  /** A whole file, capped at the limit for its kind; not-found when absent. */
  getBytes(rel: string, what: string, limit: keyof BodyLimits): Promise<Uint8Array>;
  /** Copies a zip to `file` (created), capped at the zip limit. */
  getFile(rel: string, what: string, file: string): Promise<void>;
}

/** The parent of all public modules: opens one source per module path. */
export class ParentProxy implements ProxyFiles {
  readonly name: string;
  private readonly base: URL;
  private readonly limits: BodyLimits;
  readonly tmpDir: string;
  readonly checkZip: ZipChecker;
  private readonly get: HttpGet;

  constructor(readonly opts: ParentProxyOptions) {
    this.name = opts.name ?? 'parent proxy';
    this.base = new URL(opts.url.replace(/\/+$/, '') + '/');
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new Error(`parentProxy.url must be http or https: ${opts.url}`);
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.tmpDir = opts.tmpDir ?? path.join(os.tmpdir(), 'modproxy-parent');
    this.get = opts.get ?? createHttpGet();
    this.checkZip = opts.checkZip ?? checkModuleZipFile;
    // Zips a crashed process was downloading (shared by replicas on one host: only hours-old ones go).
    sweepStaleFilesOnce(this.tmpDir, SPOOL_ZIP_NAME);
  }

  get verifier(): ModuleVerifier {
    return this.opts.verifier;
  }

  open(modPath: string): ParentProxySource {
    return new ParentProxySource(this, modPath);
  }

  /** The URL of `rel` (already escaped) below the parent's base. */
  url(rel: string): URL {
    return new URL(rel, this.base);
  }

  /**
   * GET with the deadline, redirect and credential rules; returns the final
   * response (200) with its signal, or throws the mapped error. The caller
   * reads the body (or destroys it) within the same deadline.
   */
  private async request(rel: string, what: string, timeoutMs: number): Promise<{ res: IncomingMessage; signal: AbortSignal }> {
    const signal = AbortSignal.timeout(timeoutMs);
    let url = this.url(rel);
    let sameOrigin = true;
    let auth: string | undefined;
    try {
      auth = this.opts.authorization ? await this.opts.authorization(url) : undefined;
    } catch (err) {
      // A missing secret is our fault, not the module's: never "not found".
      throw new UpstreamError(`${this.name}: ${what}: credentials unavailable: ${(err as Error).message}`, 503, { cause: err });
    }
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': 'modproxy' };
      if (auth !== undefined && sameOrigin && url.origin === this.base.origin) headers.authorization = auth;
      let res: IncomingMessage;
      try {
        res = await this.get(url, { headers, signal });
      } catch (err) {
        throw this.networkError(what, err, signal);
      }
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location !== undefined) {
        discard(res);
        if (hop >= (this.opts.maxRedirects ?? 10)) throw new UpstreamError(`${this.name}: ${what}: too many redirects`);
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          throw new UpstreamError(`${this.name}: ${what}: redirect to an invalid URL`);
        }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new UpstreamError(`${this.name}: ${what}: redirect to a ${next.protocol.replace(/:$/, '')} URL refused`);
        if (next.origin !== this.base.origin) sameOrigin = false;
        url = next;
        continue;
      }
      if (status === 200) return { res, signal };
      const text = await this.readCapped(res, ERROR_BODY_LIMIT, what, signal, true).catch(() => new Uint8Array());
      const line = sanitizeLine(Buffer.from(text).toString('utf8'));
      if (status === 404 || status === 410) {
        throw new NotFoundError(line || `${what}: not found`, status === 410);
      }
      const mapped = status === 503 ? 503 : status === 504 ? 504 : 502;
      throw new UpstreamError(`${this.name}: ${what}: HTTP ${status}${line ? ': ' + line : ''}`, mapped);
    }
  }

  private networkError(what: string, err: unknown, signal: AbortSignal): UpstreamError {
    if (signal.aborted) return new UpstreamError(`${this.name}: ${what}: timed out`, 504, { cause: err });
    const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    return new UpstreamError(`${this.name}: ${what}: ${e.code ?? e.cause?.code ?? e.cause?.message ?? e.message}`, 502, { cause: err });
  }

  /** Reads a body up to `limit` bytes (truncating when `truncate`, refusing otherwise); the response is done with after. */
  private async readCapped(res: IncomingMessage, limit: number, what: string, signal: AbortSignal, truncate = false): Promise<Uint8Array> {
    try {
      return await readBody(res, limit, { truncate, onChunk: this.opts.onBytes });
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        throw new UpstreamError(`${this.name}: ${what}: response too large (${err.declared === undefined ? `limit is ${limit} bytes` : `${err.declared} bytes; limit is ${limit}`})`);
      }
      throw this.networkError(what, err, signal);
    }
  }

  async getBytes(rel: string, what: string, limit: keyof BodyLimits): Promise<Uint8Array> {
    const { res, signal } = await this.request(rel, what, this.opts.timeoutMs ?? 30_000);
    return this.readCapped(res, this.limits[limit], what, signal);
  }

  /** Downloads to `file` (created), within the zip deadline and cap. */
  async getFile(rel: string, what: string, file: string): Promise<void> {
    const { res, signal } = await this.request(rel, what, this.opts.zipTimeoutMs ?? 600_000);
    const limit = this.limits.zip;
    const declared = declaredLength(res);
    if (declared > limit) {
      discard(res);
      throw new UpstreamError(`${this.name}: ${what}: zip too large (${declared} bytes; limit is ${limit})`);
    }
    let n = 0;
    const onBytes = this.opts.onBytes;
    const name = this.name;
    async function* capped() {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        onBytes?.(chunk.length);
        n += chunk.length;
        if (n > limit) throw new UpstreamError(`${name}: ${what}: zip too large (limit is ${limit} bytes)`);
        yield chunk;
      }
    }
    try {
      await pipeline(capped, fs.createWriteStream(file, { flags: 'wx' }), { signal });
    } catch (err) {
      if (err instanceof ProxyError) throw err;
      throw this.networkError(what, err, signal);
    } finally {
      discard(res);
    }
  }
}

/** How long a zip fetched ahead waits for writeZip() before it is removed. */
const UNCLAIMED_ZIP_TTL_MS = 120_000;

/** A zip fetched ahead into a temporary file, and its check once firstUseZipH1 made it. */
interface ZipAhead {
  version: string;
  file: string;
  fetched: Promise<void>;
  checked?: { h1: string; files: number };
}

export class ParentProxySource implements ModuleSource {
  /** The zip is the parent's, downloaded and checked, never built here. */
  readonly zipIsCopy = true;
  readonly isParentProxy = true;
  /** query() of a canonical version starts the go.mod and the checksum lookup (startAhead). */
  readonly fetchesAhead = true;
  private readonly escaped: string;

  constructor(
    private readonly parent: ProxyFiles,
    readonly modPath: string,
  ) {
    this.escaped = escapePath(modPath);
  }

  private what(rel: string): string {
    return `${this.modPath}/${rel}`;
  }

  /** The parent's list, each line split as Go's strings.Fields splits it (its idea of space, not JS's). */
  private async listLines(): Promise<string[][]> {
    const rel = `${this.escaped}/@v/list`;
    const body = Buffer.from(await this.parent.getBytes(rel, this.what('@v/list'), 'list')).toString('utf8');
    return body.split('\n').map(fields);
  }

  /**
   * The parent's list as the go command's proxy client reads it (Versions):
   * the first field of each line that is valid semver and not a
   * pseudo-version, canonical or not, whatever its major version, and as
   * often as the parent lists it, so that a client sees through modproxy
   * what it would see reading the parent.
   */
  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const [v] of await this.listLines()) if (v !== undefined && semver.isValid(v) && !isPseudoVersion(v)) out.push(v);
    return semver.sort(out);
  }

  /** The list's canonical tagged versions that belong to this module path, sorted. */
  private versionsIn(lines: string[][]): string[] {
    const out = new Set<string>();
    for (const [v] of lines) {
      if (!v || !semver.isValid(v) || canonicalVersion(v) !== v || isPseudoVersion(v)) continue;
      try {
        checkModuleVersion(this.modPath, v);
      } catch {
        continue;
      }
      out.add(v);
    }
    return semver.sort([...out]);
  }

  /**
   * @latest from the parent. A parent without @latest (a plain file tree, as
   * GOPROXY=file:// allows) gets the highest release in its list, else the
   * highest pre-release (what the go command picks from a list); and a list
   * with no tagged version, the newest of its pseudo-versions and timestamped
   * lines, as the go command's proxy client picks one (latestFromList).
   */
  async latest(): Promise<ResolvedVersion> {
    try {
      return await this.info(`${this.escaped}/@latest`, '@latest', undefined);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const lines = await this.listLines();
      const versions = this.versionsIn(lines);
      const releases = versions.filter((v) => semver.prerelease(v) === '');
      const best = (releases.length > 0 ? releases : versions).at(-1) ?? newestListed(lines);
      if (best === undefined) throw err;
      return this.query(best);
    }
  }

  query(query: string): Promise<ResolvedVersion> {
    const ev = escapeVersion(query);
    // A canonical version is what the .info will name (or it fails): its
    // go.mod and verified hashes are asked for at once, not after the .info.
    if (semver.isValid(query) && canonicalVersion(query) === query) this.startAhead(query);
    return this.info(`${this.escaped}/@v/${ev}.info`, `@v/${query}.info`, query);
  }

  /**
   * Requests started ahead for one version of this (per-request) source: its
   * go.mod and the verifier's hashes by query(), its zip (into a temporary
   * file) by download(); download() and writeZip() take them over.
   */
  private ahead?: { version: string; mod: Promise<Uint8Array>; zipH1: Promise<string | undefined> };
  private zipAhead?: ZipAhead;

  private startAhead(version: string): void {
    if (this.ahead?.version === version) return;
    const mod = this.parent.getBytes(`${this.escaped}/@v/${escapeVersion(version)}.mod`, this.what(`@v/${version}.mod`), 'mod');
    const zipH1 = this.parent.verifier.zipH1For(this.modPath, version);
    // A failure is seen by whoever takes the request over (or by nobody, when the .info fails first).
    mod.catch(() => {});
    zipH1.catch(() => {});
    this.ahead = { version, mod, zipH1 };
  }

  private startZipAhead(version: string): void {
    if (this.zipAhead?.version === version) return;
    const file = path.join(this.parent.tmpDir, spoolZipName());
    const fetched = fs.promises
      .mkdir(this.parent.tmpDir, { recursive: true })
      .then(() => this.parent.getFile(`${this.escaped}/@v/${escapeVersion(version)}.zip`, this.what(`@v/${version}.zip`), file));
    fetched.catch(() => {});
    this.holdZipAhead({ version, file, fetched });
  }

  private holdZipAhead(z: ZipAhead): void {
    this.zipAhead = z;
    // Nobody takes it over when the manifest commit fails or another writer builds the zip: remove it then.
    setTimeout(() => {
      if (this.zipAhead === z) this.dropZipAhead();
    }, UNCLAIMED_ZIP_TTL_MS).unref();
  }

  private dropZipAhead(): void {
    const z = this.zipAhead;
    if (!z) return;
    this.zipAhead = undefined;
    void z.fetched.catch(() => {}).finally(() => fs.promises.rm(z.file, { force: true }).catch(() => {}));
  }

  /** Fetches an .info answer, reads it as the go command does (revInfoJson.ts) and validates it. */
  private async info(rel: string, label: string, query: string | undefined): Promise<ResolvedVersion> {
    const what = this.what(label);
    const body = Buffer.from(await this.parent.getBytes(rel, what, 'info')).toString('utf8');
    let j: RevInfoJson;
    try {
      j = parseRevInfoJson(body);
    } catch (err) {
      throw new UpstreamError(`${this.parent.name}: ${what}: invalid .info JSON: ${(err as Error).message}`);
    }
    const v = j.Version;
    if (!semver.isValid(v) || canonicalVersion(v) !== v) {
      throw new UpstreamError(`${this.parent.name}: ${what}: .info has an invalid version ${JSON.stringify(v)}`);
    }
    try {
      checkModuleVersion(this.modPath, v);
    } catch (err) {
      throw new UpstreamError(`${this.parent.name}: ${what}: .info version ${v}: ${(err as Error).message}`);
    }
    if (query !== undefined && semver.isValid(query) && canonicalVersion(query) === query && v !== query) {
      throw new UpstreamError(`${this.parent.name}: ${what}: returned info for version ${v} instead of requested version ${query}`);
    }
    // A zone offset of 24 hours or more parses but Go's MarshalJSON refuses it: nothing could write this .info.
    if (j.Time.text === undefined) throw new UpstreamError(`${this.parent.name}: ${what}: .info has a time the go command cannot write`);
    return { version: v, time: j.Time.date, timeText: j.Time.text, origin: cacheOrigin(j.Origin, v) };
  }

  async download(rev: ResolvedVersion): Promise<{ mod: Uint8Array; pin: SourcePin }> {
    const v = rev.version;
    // The zip is fetched while the go.mod is checked and the manifest commits (its check waits for writeZip).
    this.startZipAhead(v);
    // Ask the verifier (the checksum database) while the go.mod downloads, unless query() already did.
    this.startAhead(v);
    const { mod: modFetched, zipH1: zipH1For } = this.ahead!;
    this.ahead = undefined;
    try {
      return await this.verifiedDownload(v, modFetched, zipH1For);
    } catch (err) {
      // Nothing will be committed: the zip fetched ahead goes too.
      this.dropZipAhead();
      throw err;
    }
  }

  private async verifiedDownload(v: string, modFetched: Promise<Uint8Array>, zipH1For: Promise<string | undefined>): Promise<{ mod: Uint8Array; pin: SourcePin }> {
    const mod = await modFetched;
    await this.parent.verifier.verifyMod(this.modPath, v, mod);
    const zipH1 = (await zipH1For) ?? (await this.firstUseZipH1(v));
    return { mod, pin: { kind: 'proxy', modH1: hashGoMod(mod), zipH1 } };
  }

  /**
   * When nothing vouches for the zip (a private module proxy found by
   * discovery: FirstUseVerifier), the go command accepts any valid one:
   * the zip fetched ahead is checked now and its hash pinned, and writeZip
   * stores that very file without checking it again.
   */
  private async firstUseZipH1(version: string): Promise<string> {
    const z = this.zipAhead!;
    this.zipAhead = undefined;
    try {
      await z.fetched;
      z.checked = await this.checkZip(z.file, version, this.what(`@v/${version}.zip`));
    } catch (err) {
      await fs.promises.rm(z.file, { force: true });
      throw err;
    }
    this.holdZipAhead(z);
    return z.checked.h1;
  }

  async writeZip(version: string, pin: SourcePin, out: Writable): Promise<{ h1: string; files: number }> {
    if (pin.kind !== 'proxy') throw new Error(`${this.modPath}@${version}: the ${this.parent.name} cannot make a zip from a ${pin.kind} pin`);
    const what = this.what(`@v/${version}.zip`);
    this.startZipAhead(version);
    const { file, fetched, checked: checkedAhead } = this.zipAhead!;
    this.zipAhead = undefined;
    try {
      await fetched;
      const checked = checkedAhead ?? (await this.checkZip(file, version, what));
      if (checked.h1 !== pin.zipH1) {
        throw new UpstreamError(`${this.parent.name}: ${what}: checksum mismatch: downloaded ${checked.h1}, verified ${pin.zipH1}`);
      }
      await pipeline(fs.createReadStream(file), out);
      return { h1: checked.h1, files: checked.files };
    } finally {
      await fs.promises.rm(file, { force: true });
    }
  }

  /** Checks a downloaded zip as a module zip of this version (a refusal is an upstream fault). */
  private async checkZip(file: string, version: string, what: string): Promise<{ h1: string; files: number }> {
    try {
      return await this.parent.checkZip(file, this.modPath, version);
    } catch (err) {
      if (err instanceof ZipCheckError) throw new UpstreamError(`${this.parent.name}: ${what}: invalid module zip: ${sanitizeLine(err.message)}`);
      throw err;
    }
  }
}

/**
 * The go command's latestFromList (modfetch/proxy.go) over a parent's list:
 * of the lines whose first field is valid semver, the one with the latest
 * time, from the line's second field (RFC 3339) or else from a
 * pseudo-version; tagged versions without a time are skipped. Times that do
 * not parse are Go's zero time and never win, and the first of equal times
 * does.
 */
export function newestListed(lines: string[][]): string | undefined {
  let best: string | undefined;
  let bestAt = ZERO_TIME_NANOS;
  for (const f of lines) {
    if (f.length === 0 || !semver.isValid(f[0])) continue;
    let at: bigint;
    try {
      if (f.length >= 2) {
        const t = parseGoTime(f[1]);
        at = BigInt(Math.floor(t.date.getTime() / 1000)) * 1_000_000_000n + BigInt(t.nanos);
      } else if (isPseudoVersion(f[0])) {
        at = BigInt(pseudoVersionTime(f[0]).getTime()) * 1_000_000n;
      } else continue;
    } catch {
      continue; // Go's zero time: never after bestAt
    }
    if (at > bestAt) {
      best = f[0];
      bestAt = at;
    }
  }
  return best;
}

/** Go's zero time.Time, 0001-01-01T00:00:00Z, in Unix nanoseconds. */
const ZERO_TIME_NANOS = -62135596800n * 1_000_000_000n;

/**
 * The Origin as the go command writes it into its cache's .info
 * (modfetch writeDiskStat): TagPrefix, TagSum and RepoSum cleared, and Ref
 * for a pseudo-version.
 */
function cacheOrigin(o: Partial<Origin> | undefined, version: string): Origin | undefined {
  if (o === undefined) return undefined;
  const out: Origin = { VCS: o.VCS ?? '', URL: o.URL ?? '' };
  if (o.Subdir) out.Subdir = o.Subdir;
  if (o.Hash) out.Hash = o.Hash;
  if (o.Ref && !isPseudoVersion(version)) out.Ref = o.Ref;
  return out;
}
