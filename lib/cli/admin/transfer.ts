// `modproxy-admin export` and `import`: to and from a GOPROXY tree, the go
// command's cache/download layout (<escaped path>/@v/list, <escaped
// version>.info, .mod, .zip), which GOPROXY=file://<dir> reads, a module
// cache holds under $GOMODCACHE/cache/download, and `go mod download` makes
// from any proxy (Athens, goproxy, proxy.golang.org).
//
// export writes what storage holds, bodies checked against their records on
// the way. import never writes records itself: the tree is a module source
// (FileTreeProxy behind a ParentProxySource) plugged into the server's own
// service (adminApp.ts), so each version is verified and committed exactly as
// one from a parent proxy; and each version is checked whole (.info, go.mod
// and zip against the verifier) before the service is asked for it, so that
// a version whose zip does not verify leaves nothing behind, not even its
// manifest. What vouches for a version:
//
//   --sums <go.sum>  its two go.sum lines (go.mod and zip); a public module
//                    without lines falls back to the checksum database, when
//                    publicModules.sumDatabase is configured;
//   otherwise        the checksum database (publicModules.sumDatabase);
//   privateModules   paths only their go.sum lines (they are not in any
//                    public checksum database, nor should their names be
//                    sent to one): without --sums they are refused.
//
// Only versions with .info, .mod and .zip in the tree are imported; the
// go.mod-only versions a module cache also holds are listed as skipped.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../../config/schema.js';
import { errorMessage, NotFoundError } from '../../errors.js';
import { canonicalVersion, check as checkModuleVersion, escapePath, escapeVersion, unescapePath, unescapeVersion } from '../../gomod/module.js';
import { isPseudoVersion } from '../../gomod/pseudo.js';
import * as semver from '../../gomod/semver.js';
import { readManifest, readManifestMod, readZipRecord } from '../../records/manifest.js';
import type { ModuleSource, SourceRouter } from '../../source/moduleSource.js';
import { FileTreeProxy } from '../../source/proxy/fileTreeProxy.js';
import { ParentProxySource } from '../../source/proxy/parentProxy.js';
import { GoSumThenVerifier, GoSumVerifier, VerificationError, type ModuleVerifier } from '../../source/proxy/verifier.js';
import type { PrivateModulesRouter } from '../../source/router.js';
import type { ObjectStorage } from '../../storage/storage.js';
import type { AdminIo } from '../modproxyAdmin.js';
import { createAdminApp } from './adminApp.js';
import { committedVersions } from './committed.js';

/** Directory levels walked below an import root (module paths are far shallower). */
const MAX_TREE_DEPTH = 48;
/** The largest go.sum read by --sums. */
const MAX_SUMS_BYTES = 64 << 20;

/** Committed versions by module. */
async function versionsByModule(storage: ObjectStorage, prefix: string): Promise<Map<string, string[]>> {
  const byModule = new Map<string, string[]>();
  for (const v of await committedVersions(storage, prefix)) byModule.set(v.path, [...(byModule.get(v.path) ?? []), v.version]);
  return byModule;
}

/** Writes `data` (or moves a finished temporary file) into place, so that no reader sees half a file. */
async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const part = `${file}.${crypto.randomUUID()}.tmp`;
  await fs.promises.writeFile(part, data, { flag: 'wx' });
  await fs.promises.rename(part, file);
}

/** Copies a zip body out of storage, checked against its record's size and sha256. */
async function exportZip(storage: ObjectStorage, blob: string, size: number, sha256: string, file: string): Promise<void> {
  const body = await storage.openRead(blob);
  if (!body) throw new Error(`zip body ${blob} is missing from storage`);
  const part = `${file}.${crypto.randomUUID()}.tmp`;
  try {
    const hash = crypto.createHash('sha256');
    body.stream.on('data', (c: Buffer) => hash.update(c));
    await pipeline(body.stream, fs.createWriteStream(part, { flags: 'wx' }));
    const got = (await fs.promises.stat(part)).size;
    const digest = hash.digest('hex');
    if (got !== size || digest !== sha256) throw new Error(`zip body ${blob} differs from its record (size ${got}, sha256 ${digest})`);
    await fs.promises.rename(part, file);
  } finally {
    await fs.promises.rm(part, { force: true });
  }
}

/** Runs `export <dir> [<module path prefix>]`; returns the exit code. */
export async function runExport(args: string[], storage: ObjectStorage, io: AdminIo): Promise<number> {
  const [dir, prefix = ''] = args;
  if (!dir || args.length > 2) {
    io.err('usage: modproxy-admin export <directory> [<module path prefix>]');
    return 2;
  }
  let versions = 0;
  let problems = 0;
  for (const [modPath, list] of await versionsByModule(storage, prefix)) {
    const vdir = path.join(dir, ...escapePath(modPath).split('/'), '@v');
    await fs.promises.mkdir(vdir, { recursive: true });
    for (const version of list) {
      const base = path.join(vdir, escapeVersion(version));
      try {
        const m = await readManifest(storage, modPath, version);
        if (!m) throw new Error('manifest unreadable');
        await writeAtomic(`${base}.info`, m.info);
        await writeAtomic(`${base}.mod`, await readManifestMod(storage, m));
        const z = await readZipRecord(storage, modPath, version);
        if (!z) {
          // The go command would fail on it: say so, and let `prefetch` build it first.
          throw new Error('its zip is not committed yet (run modproxy-admin prefetch for it, then export again)');
        }
        if (!('error' in z.zip)) {
          await exportZip(storage, z.zip.blob, z.zip.size, z.zip.sha256, `${base}.zip`);
          // As the module cache keeps it next to the zip.
          await writeAtomic(`${base}.ziphash`, z.zip.h1);
        }
        versions++;
      } catch (err) {
        problems++;
        io.err(`FAILED ${modPath}@${version}: ${errorMessage(err)}`);
      }
    }
    // @v/list: tagged versions, merged with a list already in the tree (an export into an earlier one).
    const listFile = path.join(vdir, 'list');
    const previous = await fs.promises.readFile(listFile, 'utf8').catch(() => '');
    const tagged = new Set(previous.split('\n').map((l) => l.trim()).filter((v) => v !== ''));
    for (const v of list) if (!isPseudoVersion(v)) tagged.add(v);
    await writeAtomic(listFile, semver.sort([...tagged]).map((v) => v + '\n').join(''));
  }
  io.out(`exported ${versions} versions to ${dir}${problems > 0 ? `; ${problems} failed` : ''}`);
  return problems === 0 ? 0 : 1;
}

interface TreeVersion {
  path: string;
  version: string;
}

/**
 * The versions of a GOPROXY tree: every <escaped path>/@v/<escaped version>.zip
 * with its .info and .mod. Symbolic links are not followed. `skipped` gets
 * what is there but cannot be imported, with the reason.
 */
async function treeVersions(root: string, skipped: (what: string, why: string) => void): Promise<TreeVersion[]> {
  const out: TreeVersion[] = [];
  const walk = async (rel: string[]): Promise<void> => {
    if (rel.length > MAX_TREE_DEPTH) return skipped(rel.join('/'), `deeper than ${MAX_TREE_DEPTH} levels`);
    const entries = await fs.promises.readdir(path.join(root, ...rel), { withFileTypes: true });
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (e.name !== '@v') {
        await walk([...rel, e.name]);
        continue;
      }
      let modPath: string;
      try {
        modPath = unescapePath(rel.join('/'));
      } catch (err) {
        skipped(rel.join('/'), errorMessage(err));
        continue;
      }
      const files = new Set((await fs.promises.readdir(path.join(root, ...rel, '@v'), { withFileTypes: true })).filter((f) => f.isFile()).map((f) => f.name));
      for (const f of [...files].sort()) {
        const ext = path.extname(f);
        if (ext !== '.zip' && ext !== '.mod') continue;
        const stem = f.slice(0, -ext.length);
        if (ext === '.mod' && files.has(`${stem}.zip`)) continue;
        let version: string;
        try {
          version = unescapeVersion(stem);
          if (!semver.isValid(version) || canonicalVersion(version) !== version) throw new Error('not a canonical version');
          checkModuleVersion(modPath, version);
        } catch (err) {
          skipped(`${modPath}@${stem}`, errorMessage(err));
          continue;
        }
        if (ext === '.mod') skipped(`${modPath}@${version}`, 'go.mod only (no zip in the tree)');
        else if (!files.has(`${stem}.mod`) || !files.has(`${stem}.info`)) skipped(`${modPath}@${version}`, 'no .info or .mod next to its zip');
        else out.push({ path: modPath, version });
      }
    }
  };
  await walk([]);
  return out;
}

/** Routes every path to the tree, with the verifier its kind of path gets (or the reason there is none). */
class TreeRouter implements SourceRouter {
  constructor(
    private readonly rules: PrivateModulesRouter,
    private readonly publicTree: FileTreeProxy | string,
    private readonly privateTree: FileTreeProxy | string,
  ) {}

  serves(): boolean {
    return true;
  }

  /** The tree with the verifier for `modPath`; throws VerificationError when nothing can vouch for it. */
  tree(modPath: string): FileTreeProxy {
    const t = this.rules.ruleFor(modPath) ? this.privateTree : this.publicTree;
    if (typeof t === 'string') throw new VerificationError(`verifying ${modPath}: ${t}`);
    return t;
  }

  async sourceFor(modPath: string): Promise<ModuleSource> {
    return new ParentProxySource(this.tree(modPath), modPath);
  }
}

/** Runs `import <dir> [--sums <go.sum>]`; returns the exit code. */
export async function runImport(args: string[], config: Config, storage: ObjectStorage, io: AdminIo): Promise<number> {
  let dir: string | undefined;
  let sumsFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--sums' && i + 1 < args.length) sumsFile = args[++i];
    else if (!args[i].startsWith('-') && dir === undefined) dir = args[i];
    else dir = '';
  }
  if (!dir) {
    io.err('usage: modproxy-admin import <GOPROXY tree directory> [--sums <go.sum>]');
    return 2;
  }
  let goSum: GoSumVerifier | undefined;
  try {
    if (sumsFile !== undefined) {
      const size = fs.statSync(sumsFile).size;
      if (size > MAX_SUMS_BYTES) throw new Error(`too large (${size} bytes; limit is ${MAX_SUMS_BYTES})`);
      goSum = new GoSumVerifier(fs.readFileSync(sumsFile, 'utf8'));
    }
    if (!fs.statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
  } catch (err) {
    io.err(`modproxy-admin import: ${sumsFile !== undefined && !goSum ? `--sums ${sumsFile}: ` : ''}${errorMessage(err)}`);
    return 2;
  }
  const skipped: string[] = [];
  const versions = await treeVersions(path.resolve(dir), (what, why) => skipped.push(`skipped ${what}: ${why}`));
  let router: TreeRouter | undefined;
  const tmpDir = await fs.promises.mkdtemp(path.join(io.tmpDir ?? os.tmpdir(), 'modproxy-import-'));
  const tree = (verifier: ModuleVerifier | undefined, missing: string) =>
    verifier ? new FileTreeProxy({ root: dir!, verifier, tmpDir }) : missing;
  const { app, close } = createAdminApp(config, storage, io, {
    sources: ({ router: rules, databaseVerifier }) => {
      const publicVerifier = goSum ? (databaseVerifier ? new GoSumThenVerifier(goSum, databaseVerifier) : goSum) : databaseVerifier;
      router = new TreeRouter(
        rules,
        tree(publicVerifier, 'no checksum database is configured (publicModules.sumDatabase): give the go.sum lines with --sums'),
        tree(goSum, 'a privateModules path is verified only against go.sum lines: give them with --sums'),
      );
      return router;
    },
  });
  let imported = 0;
  let refused = 0;
  try {
    for (const { path: modPath, version } of versions) {
      const name = `${modPath}@${version}`;
      try {
        if ((await readManifest(storage, modPath, version)) && (await readZipRecord(storage, modPath, version))) {
          io.out(`already stored ${name}`);
          continue;
        }
        // The whole version, verified before the service is asked for any of it.
        const source = await router!.sourceFor(modPath);
        const rev = await source.query(version);
        const { pin } = await source.download(rev);
        await source.writeZip(version, pin, discard());
        // The commit path: manifest, then zip, each verified again as it is read.
        await app.service.manifest(modPath, version);
        await app.service.zip(modPath, version);
        imported++;
        io.out(`imported ${name}`);
      } catch (err) {
        refused++;
        const why = err instanceof NotFoundError ? `incomplete in the tree: ${err.message}` : errorMessage(err);
        io.err(`REFUSED ${name}: ${why.replace(/\n\s*/g, '; ')}`);
      }
    }
  } finally {
    await close();
    await fs.promises.rm(tmpDir, { recursive: true, force: true });
  }
  for (const s of skipped) io.out(s);
  io.out(`imported ${imported} versions; ${refused} refused; ${skipped.length} skipped`);
  return refused === 0 ? 0 : 1;
}

/** A sink for a zip that is only being checked. */
function discard(): Writable {
  return new Writable({ write: (_chunk, _enc, cb) => cb() });
}
