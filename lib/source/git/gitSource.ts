// A module source backed by a git repository: the go command's direct mode
// (codeRepo over a remote repository) behind the module-source seam.
//
// One GitModuleSource is one request's view ("one go invocation"): its ref
// table is read once, lazily, then fixed. The zip it writes comes from the
// pin alone (commit + directory), so any later view writes the same bytes.
import type { Writable } from 'node:stream';
import { NoZipError, type ModuleSource, type ResolvedVersion, type SourcePin } from '../moduleSource.js';
import type { CodeRepo, RevInfo } from './codeRepo.js';
import { ArchiveRefusedError } from './gitRepo.js';
import { BuildLimitError, buildModuleZip, DEFAULT_MAX_BUILD_MEMORY, ZipCreateError } from './moduleZip.js';

export class GitModuleSource implements ModuleSource {
  /** What each answer of this view resolved to, for download(). */
  private readonly resolved = new WeakMap<ResolvedVersion, RevInfo>();

  constructor(
    private readonly repo: CodeRepo,
    /** resolve.maxBuildMemoryBytes: most bytes of one file held in memory while building a zip. */
    private readonly maxHeldBytes = DEFAULT_MAX_BUILD_MEMORY,
  ) {}

  list(): Promise<string[]> {
    return this.repo.versions('');
  }

  async latest(): Promise<ResolvedVersion> {
    return this.remember(await this.repo.latest());
  }

  async query(query: string): Promise<ResolvedVersion> {
    return this.remember(await this.repo.stat(query));
  }

  private remember(info: RevInfo): ResolvedVersion {
    const rev: ResolvedVersion = { version: info.version, time: info.time, origin: info.origin };
    this.resolved.set(rev, info);
    return rev;
  }

  async download(rev: ResolvedVersion): Promise<{ mod: Uint8Array; pin: SourcePin }> {
    const info = this.resolved.get(rev) ?? (await this.repo.stat(rev.version));
    const mod = await this.repo.goMod(rev.version);
    const { commit, dir } = await this.repo.source(rev.version, info);
    return { mod, pin: { kind: 'git', commit, dir } };
  }

  async writeZip(version: string, pin: SourcePin, out: Writable): Promise<{ h1: string; files: number }> {
    const { modPath } = this.repo;
    if (pin.kind !== 'git') throw new Error(`${modPath}@${version}: the git source cannot make a zip from a ${pin.kind} pin`);
    const code = this.repo.code;
    try {
      const src = await this.repo.zipSource(pin);
      return await buildModuleZip(
        {
          modPath,
          version,
          files: src.files,
          attributes: src.attributes,
          readBlob: (oid) => code.readBlob(oid),
          blobSize: (oid) => code.blobSize(oid),
          blobIsHeld: (oid) => code.blobIsHeld(oid),
          streamBlob: (oid) => code.streamBlob(oid),
          maxHeldBytes: this.maxHeldBytes,
        },
        out,
      );
    } catch (err) {
      if (err instanceof ZipCreateError) throw new NoZipError(`${modPath}@${version}: create zip: ${err.message}`);
      if (err instanceof ArchiveRefusedError) throw new NoZipError(`${modPath}@${version}: ${err.message}`);
      if (err instanceof BuildLimitError) throw new BuildLimitError(`${modPath}@${version}: ${err.message}`);
      throw err;
    }
  }
}
