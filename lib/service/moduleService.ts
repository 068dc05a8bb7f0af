// The proxy's core, one method per protocol endpoint. The data path:
//
//   storage hit?  → serve what the version's manifest names (never touches git)
//   otherwise     → resolve (lib/resolve over lib/fetch) → build .info/.mod/.zip
//                 → commit to storage (lib/commit) → serve the committed copy
//
// Concurrent requests for the same module version share one build
// (singleflight keyed on the *resolved* version), and whatever wins the
// storage commit is what every request serves.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { buildModuleZip, ZipCreateError } from '../archive/moduleZip.js';
import type { ZipWriter } from '../archive/zipWriter.js';
import { commitVersion, readManifest, type CommitHook, type Manifest } from '../commit/manifest.js';
import { NotFoundError } from '../errors.js';
import type { SourceRegistry } from '../fetch/sources.js';
import { hashGoMod } from '../gomod/dirhash.js';
import { canonicalVersion } from '../gomod/module.js';
import * as semver from '../gomod/semver.js';
import type { Logger } from '../log/logger.js';
import { marshalInfo } from '../protocol/infoJson.js';
import { CodeRepo, type RevInfo } from '../resolve/codeRepo.js';
import { invalidVersion } from '../resolve/errors.js';
import type { ObjectStorage } from '../storage/storage.js';
import { SingleFlight } from '../util/singleflight.js';

export interface ModuleServiceOptions {
  storage: ObjectStorage;
  sources: SourceRegistry;
  log: Logger;
  /** Where zips are spooled before they are committed (default: os.tmpdir()). */
  tmpDir?: string;
  zipWriter?: ZipWriter;
  /** Crash-test hooks on the commit path. */
  commitHook?: CommitHook;
}

export interface InfoAnswer {
  /** The .info JSON body. */
  body: string;
  /** The version it describes. */
  version: string;
  /** True when the request named exactly this version, so the answer never changes. */
  immutable: boolean;
}

export class ModuleService {
  private readonly flights = new SingleFlight<Manifest>();
  private readonly tmpDir: string;

  constructor(private readonly opts: ModuleServiceOptions) {
    this.tmpDir = opts.tmpDir ?? path.join(os.tmpdir(), 'modproxy-zips');
    fs.mkdirSync(this.tmpDir, { recursive: true });
  }

  private openRepo(modPath: string): CodeRepo {
    const loc = this.opts.sources.locate(modPath);
    return new CodeRepo(this.opts.sources.open(loc), loc.codeRoot, modPath);
  }

  /** `$m/@v/list`: tagged versions from the source, one per line. */
  async list(modPath: string): Promise<string> {
    const versions = await this.openRepo(modPath).versions('');
    return versions.map((v) => v + '\n').join('');
  }

  /** `$m/@latest`: the default branch's HEAD as a version, as direct mode's Latest() gives it. */
  async latest(modPath: string): Promise<InfoAnswer> {
    const repo = this.openRepo(modPath);
    const info = await repo.latest();
    const m = await this.commitResolved(repo, info);
    return { body: m.info, version: m.version, immutable: false };
  }

  /** `$m/@v/$q.info` for any query: canonical versions come from storage when committed. */
  async info(modPath: string, query: string): Promise<InfoAnswer> {
    if (semver.isValid(query) && canonicalVersion(query) === query) {
      const stored = await readManifest(this.opts.storage, modPath, query);
      if (stored) return { body: stored.info, version: stored.version, immutable: true };
    }
    const repo = this.openRepo(modPath);
    const info = await repo.stat(query);
    const m = await this.commitResolved(repo, info);
    return { body: m.info, version: m.version, immutable: m.version === query };
  }

  /** The committed manifest of a canonical version (for .mod and .zip), building it on first use. */
  async manifest(modPath: string, version: string): Promise<Manifest> {
    const stored = await readManifest(this.opts.storage, modPath, version);
    if (stored) return stored;
    return this.flights.do(`${modPath}@${version}`, async () => {
      const again = await readManifest(this.opts.storage, modPath, version);
      if (again) return again;
      const repo = this.openRepo(modPath);
      const info = await repo.stat(version);
      if (info.version !== version) {
        throw invalidVersion(modPath, version, `version ${version} resolves to ${info.version}`);
      }
      return this.build(repo, info);
    });
  }

  private async commitResolved(repo: CodeRepo, info: RevInfo): Promise<Manifest> {
    const stored = await readManifest(this.opts.storage, repo.modPath, info.version);
    if (stored) return stored;
    return this.flights.do(`${repo.modPath}@${info.version}`, async () => {
      const again = await readManifest(this.opts.storage, repo.modPath, info.version);
      return again ?? this.build(repo, info);
    });
  }

  /** Builds .info, .mod and .zip of a resolved version and commits them. */
  private async build(repo: CodeRepo, info: RevInfo): Promise<Manifest> {
    const { modPath } = repo;
    const version = info.version;
    const started = Date.now();
    const mod = await repo.goMod(version);
    const infoBody = marshalInfo({ Version: version, Time: info.time, Origin: info.origin });
    const zipFile = path.join(this.tmpDir, `${crypto.randomUUID()}.zip`);
    try {
      let zip: Parameters<typeof commitVersion>[1]['zip'];
      try {
        const src = await repo.zipSource(version);
        const hash = crypto.createHash('sha256');
        const out = fs.createWriteStream(zipFile);
        const tee = new HashingWriter(out, hash);
        const result = await buildModuleZip(
          { modPath, version, files: src.files, attributes: src.attributes, readBlob: (oid) => repo.code.readBlob(oid), writer: this.opts.zipWriter },
          tee,
        );
        const size = (await fs.promises.stat(zipFile)).size;
        zip = { file: zipFile, sha256: hash.digest('hex'), size, h1: result.h1, files: result.files };
      } catch (err) {
        if (!(err instanceof ZipCreateError)) throw err;
        zip = { error: `${modPath}@${version}: create zip: ${err.message}` };
      }
      const { manifest, won } = await commitVersion(
        this.opts.storage,
        { path: modPath, version, info: infoBody, mod: { data: mod, h1: hashGoMod(mod) }, zip },
        this.opts.commitHook,
      );
      this.opts.log.info(won ? 'committed module version' : 'module version already committed by another writer', {
        module: modPath,
        version,
        zipBytes: 'error' in manifest.zip ? undefined : manifest.zip.size,
        zipError: 'error' in manifest.zip ? manifest.zip.error : undefined,
        buildMs: Date.now() - started,
      });
      return manifest;
    } finally {
      await fs.promises.rm(zipFile, { force: true });
    }
  }

  /** The go.mod bytes of a committed version. */
  async mod(modPath: string, version: string): Promise<Uint8Array> {
    const m = await this.manifest(modPath, version);
    if (m.mod.data !== undefined) return Buffer.from(m.mod.data, 'base64');
    const body = await this.opts.storage.read(m.mod.blob!);
    if (!body) throw new Error(`storage lost ${m.mod.blob}`);
    return body;
  }

  /** Where the zip of a committed version is, or the go command's reason there is none. */
  async zip(modPath: string, version: string): Promise<{ key: string; size: number; sha256: string }> {
    const m = await this.manifest(modPath, version);
    if ('error' in m.zip) throw new NotFoundError(m.zip.error);
    return { key: m.zip.blob, size: m.zip.size, sha256: m.zip.sha256 };
  }

  get storage(): ObjectStorage {
    return this.opts.storage;
  }
}

/** A Writable that hashes what passes through to the underlying stream. */
class HashingWriter extends Writable {
  constructor(
    private readonly out: fs.WriteStream,
    private readonly hash: crypto.Hash,
  ) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hash.update(chunk);
    if (this.out.write(chunk)) cb();
    else this.out.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.out.end((err?: Error | null) => cb(err));
  }
}
