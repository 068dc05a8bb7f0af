// An in-memory module source for unit tests of the service and the HTTP
// layer: modules and versions given as data, behind the same seam as git.
// It counts what it is asked, so tests can show what reaches a source.
import crypto from 'node:crypto';
import type { Writable } from 'node:stream';
import { nativeZipWriter } from '../../lib/archive/zipWriter.js';
import { NotFoundError, UpstreamError } from '../../lib/errors.js';
import { hash1 } from '../../lib/gomod/dirhash.js';
import { invalidVersion } from '../../lib/gomod/moduleErrors.js';
import * as semver from '../../lib/gomod/semver.js';
import { NoZipError, type ModuleSource, type ResolvedVersion, type SourcePin, type SourceRouter } from '../../lib/source/moduleSource.js';

export interface MemoryVersion {
  time: string;
  mod: string;
  /** The module's files, or the go command's reason its zip cannot be made. */
  files: Record<string, string> | { zipError: string };
}

export interface MemoryModule {
  versions: Record<string, MemoryVersion>;
  /** Names that resolve to a version (branches). */
  aliases?: Record<string, string>;
  /** Behave as a source whose query() fetches ahead (ModuleSource.fetchesAhead, as the parent proxy). */
  fetchesAhead?: boolean;
  /** Versions served but not listed (as the go command hides +incompatible ones when v1 has a go.mod). */
  unlisted?: string[];
}

export class MemorySource implements ModuleSource {
  constructor(
    private readonly modPath: string,
    private readonly mod: MemoryModule,
    private readonly calls: string[],
    private readonly down: () => boolean,
    private readonly onAsk?: (call: string) => void,
  ) {}

  get fetchesAhead(): boolean {
    return this.mod.fetchesAhead === true;
  }

  private ask(what: string): void {
    this.calls.push(`${what} ${this.modPath}`);
    this.onAsk?.(`${what} ${this.modPath}`);
    if (this.down()) throw new UpstreamError(`memory source for ${this.modPath} is down`);
  }

  async list(): Promise<string[]> {
    this.ask('list');
    return semver.sort(Object.keys(this.mod.versions).filter((v) => !this.mod.unlisted?.includes(v)));
  }

  async latest(): Promise<ResolvedVersion> {
    this.ask('latest');
    const all = semver.sort(Object.keys(this.mod.versions));
    if (all.length === 0) throw new NotFoundError(`${this.modPath}: no versions`);
    return this.resolved(all[all.length - 1]);
  }

  async query(query: string): Promise<ResolvedVersion> {
    this.ask(`query ${query}`);
    const version = this.mod.aliases?.[query] ?? query;
    if (!this.mod.versions[version]) throw invalidVersion(this.modPath, query, 'unknown revision ' + query);
    return this.resolved(version);
  }

  private resolved(version: string): ResolvedVersion {
    return { version, time: new Date(this.mod.versions[version].time), origin: { VCS: 'memory', URL: `memory://${this.modPath}` } };
  }

  async download(rev: ResolvedVersion): Promise<{ mod: Uint8Array; pin: SourcePin }> {
    this.ask(`download ${rev.version}`);
    const commit = crypto.createHash('sha1').update(`${this.modPath}@${rev.version}`).digest('hex');
    return { mod: Buffer.from(this.mod.versions[rev.version].mod), pin: { kind: 'git', commit, dir: '' } };
  }

  async writeZip(version: string, _pin: SourcePin, out: Writable): Promise<{ h1: string; files: number }> {
    this.ask(`zip ${version}`);
    const v = this.mod.versions[version];
    if ('zipError' in v.files) throw new NoZipError(`${this.modPath}@${version}: create zip: ${v.files.zipError}`);
    const entries = Object.entries(v.files).map(([name, text]) => ({ name: `${this.modPath}@${version}/${name}`, data: Buffer.from(text) }));
    await nativeZipWriter(entries.map((e) => ({ name: e.name, read: async () => e.data })), out);
    const h1 = hash1(entries.map((e) => ({ name: e.name, sha256Hex: crypto.createHash('sha256').update(e.data).digest('hex') })));
    return { h1, files: entries.length };
  }
}

/** Serves the given modules from memory; every other path is not served. */
export class MemorySources implements SourceRouter {
  /** What the sources were asked, in order ("query <q> <module>", "zip <v> <module>", …). */
  readonly calls: string[] = [];
  /** While true, every source call fails as an upstream fault. */
  down = false;
  /** Called with each call as it is made (to look at the world at that moment). */
  onAsk?: (call: string) => void;

  constructor(readonly modules: Record<string, MemoryModule>) {}

  serves(modPath: string): boolean {
    return modPath in this.modules;
  }

  async sourceFor(modPath: string): Promise<ModuleSource> {
    const mod = this.modules[modPath];
    if (!mod) throw new NotFoundError(`module ${modPath} is not served by this proxy`);
    return new MemorySource(modPath, mod, this.calls, () => this.down, (call) => this.onAsk?.(call));
  }
}
