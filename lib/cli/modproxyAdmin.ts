// `modproxy-admin`: operator commands on a deployment's storage, with the
// same configuration as the server (MODPROXY_CONFIG).
//
//   modproxy-admin ls [<module path prefix>]   committed versions, one "path version" per line
//   modproxy-admin verify [<prefix>]           re-read every body, check sha256 and h1 against its record
//   modproxy-admin prefetch <go.mod|go.sum|list|path@version>...
//                                              commit versions through the server's path (admin/prefetch.ts)
//   modproxy-admin export <dir> [<prefix>]     write a GOPROXY tree (admin/transfer.ts)
//   modproxy-admin import <dir> [--sums <go.sum>]
//                                              verify and commit a GOPROXY tree's versions (admin/transfer.ts)
//   modproxy-admin gc [--delete] [--grace …]   garbage the server leaves behind (./admin/gc.ts)
//
// verify exits 1 when any body is missing or differs from its record (each
// named on stderr), 2 on usage or configuration errors.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { storageFromConfig } from '../app.js';
import { checkModuleZipFile } from '../archive/zipReader.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { hashGoMod } from '../gomod/dirhash.js';
import { readManifest, readManifestMod, readZipRecord, sha256Hex } from '../records/manifest.js';
import type { ObjectStorage } from '../storage/storage.js';
import { committedVersions } from './admin/committed.js';
import { runPrefetch } from './admin/prefetch.js';
import { runExport, runImport } from './admin/transfer.js';
import { isDeletable } from '../storage/deletableStorage.js';
import { GC_USAGE, parseGcArgs, runGc } from './admin/gc.js';

export interface AdminIo {
  out: (line: string) => void;
  err: (line: string) => void;
  tmpDir?: string;
}

/** Problems found with one version's bodies (empty when they match their records). */
async function verifyVersion(storage: ObjectStorage, modPath: string, version: string, tmpDir: string): Promise<string[]> {
  const problems: string[] = [];
  const m = await readManifest(storage, modPath, version);
  if (!m) return ['manifest unreadable'];
  try {
    const mod = await readManifestMod(storage, m);
    if (sha256Hex(mod) !== m.mod.sha256) problems.push(`go.mod sha256 differs from the manifest's ${m.mod.sha256}`);
    if (hashGoMod(mod) !== m.mod.h1) problems.push(`go.mod h1 differs from the manifest's ${m.mod.h1}`);
  } catch (err) {
    problems.push(`go.mod: ${(err as Error).message}`);
  }
  const z = await readZipRecord(storage, modPath, version);
  if (!z || 'error' in z.zip) return problems;
  const body = await storage.openRead(z.zip.blob);
  if (!body) return [...problems, `zip body ${z.zip.blob} is missing`];
  const file = path.join(tmpDir, `${crypto.randomUUID()}.zip`);
  try {
    const hash = crypto.createHash('sha256');
    body.stream.on('data', (c: Buffer) => hash.update(c));
    await pipeline(body.stream, fs.createWriteStream(file));
    const size = (await fs.promises.stat(file)).size;
    if (size !== z.zip.size) problems.push(`zip size ${size} differs from the record's ${z.zip.size}`);
    if (hash.digest('hex') !== z.zip.sha256) problems.push(`zip sha256 differs from the record's ${z.zip.sha256}`);
    try {
      const checked = await checkModuleZipFile(file, modPath, version);
      if (checked.h1 !== z.zip.h1) problems.push(`zip h1 ${checked.h1} differs from the record's ${z.zip.h1}`);
    } catch (err) {
      problems.push(`zip: ${(err as Error).message}`);
    }
  } finally {
    await fs.promises.rm(file, { force: true });
  }
  return problems;
}

/** Runs one command; returns the exit code. `config` (the server's) is needed by prefetch and import. */
export async function runAdmin(args: string[], storage: ObjectStorage, io: AdminIo, config?: Config): Promise<number> {
  const [cmd, prefix = ''] = args;
  if (cmd === 'export') return runExport(args.slice(1), storage, io);
  if ((cmd === 'prefetch' || cmd === 'import') && !config) {
    io.err(`modproxy-admin ${cmd}: needs the server's configuration (MODPROXY_CONFIG)`);
    return 2;
  }
  if (cmd === 'prefetch') return runPrefetch(args.slice(1), config!, storage, io);
  if (cmd === 'import') return runImport(args.slice(1), config!, storage, io);
  if (cmd === 'ls') {
    for (const v of await committedVersions(storage, prefix)) io.out(`${v.path} ${v.version}`);
    return 0;
  }
  if (cmd === 'verify') {
    const tmpDir = await fs.promises.mkdtemp(path.join(io.tmpDir ?? os.tmpdir(), 'modproxy-verify-'));
    let bad = 0;
    let checked = 0;
    try {
      for (const v of await committedVersions(storage, prefix)) {
        checked++;
        for (const p of await verifyVersion(storage, v.path, v.version, tmpDir)) {
          bad++;
          io.err(`MISMATCH ${v.path}@${v.version}: ${p}`);
        }
      }
    } finally {
      await fs.promises.rm(tmpDir, { recursive: true, force: true });
    }
    io.out(`verified ${checked} versions: ${bad === 0 ? 'all bodies match their records' : `${bad} problems`}`);
    return bad === 0 ? 0 : 1;
  }
  if (cmd === 'gc') {
    const opts = parseGcArgs(args.slice(1));
    if ('error' in opts) {
      io.err(`modproxy-admin gc: ${opts.error}\nusage: modproxy-admin ${GC_USAGE}`);
      return 2;
    }
    if (!isDeletable(storage)) {
      io.err(`modproxy-admin gc: the ${storage.kind} storage backend cannot delete`);
      return 2;
    }
    return runGc(storage, opts, io);
  }
  io.err(`usage: modproxy-admin ls [<module path prefix>] | verify [<module path prefix>] | ${GC_USAGE}  (configuration: MODPROXY_CONFIG)`);
  io.err('       modproxy-admin prefetch <go.mod | go.sum | list file | path@version>...');
  io.err('       modproxy-admin export <directory> [<module path prefix>] | import <directory> [--sums <go.sum>]');
  return 2;
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  let storage: ObjectStorage;
  let config: Config;
  try {
    config = loadConfig().config;
    storage = storageFromConfig(config);
  } catch (err) {
    process.stderr.write(`modproxy-admin: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  process.exitCode = await runAdmin(argv, storage, { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n') }, config);
}
