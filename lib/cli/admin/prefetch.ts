// `modproxy-admin prefetch`: warms the cache with the versions a go.mod, a
// go.sum or a list names, through the server's commit path (adminApp.ts):
// each version is asked of the module service as a client's .info/.mod/.zip
// request would ask it, so it comes from the source the configuration routes
// it to (git for privateModules, the parent proxy verified against the
// checksum database for the rest) and is committed exactly as served.
//
//   go.mod   every require directive (path and version);
//   go.sum   every version with a zip line, and every version with only a
//            "/go.mod" line as go.mod only (the zip then follows as the
//            server builds it after any .mod request); what is committed is
//            then compared with the go.sum hashes (MISMATCH on stderr);
//   a list   one "path@version" (or "path version") per line, # comments;
//            any query the go command accepts after @ (v1.2.3, a branch,
//            latest);
//   path@version arguments, as a list.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../config/schema.js';
import { errorMessage } from '../../errors.js';
import { parseRequires } from '../../gomod/modfile/rule.js';
import { canonicalVersion } from '../../gomod/module.js';
import * as semver from '../../gomod/semver.js';
import { fields } from '../../gomod/unicode.js';
import { readZipRecord } from '../../records/manifest.js';
import type { ObjectStorage } from '../../storage/storage.js';
import { Limiter } from '../../util/limiter.js';
import type { AdminIo } from '../modproxyAdmin.js';
import { createAdminApp } from './adminApp.js';

/** Versions committed at once: each holds at most one zip in flight. */
const PREFETCH_CONCURRENCY = 4;
/** The largest go.mod, go.sum or list file read. */
const MAX_INPUT_BYTES = 64 << 20;

export interface PrefetchTarget {
  path: string;
  /** A canonical version, or any query (branch, latest) from a list. */
  query: string;
  /** Only .info and .mod (a go.sum "/go.mod"-only line). */
  modOnly?: boolean;
  /** The go.sum hashes to compare the committed version with. */
  sums?: { mod?: string; zip?: string };
}

export function targetsFromGoMod(data: Uint8Array): PrefetchTarget[] {
  return parseRequires(data).map((r) => ({ path: r.path, query: r.version }));
}

export function targetsFromGoSum(text: string): PrefetchTarget[] {
  const byVersion = new Map<string, PrefetchTarget>();
  for (const [i, raw] of text.split('\n').entries()) {
    const f = fields(raw);
    if (f.length === 0) continue;
    if (f.length !== 3 || !f[2].startsWith('h1:')) throw new Error(`go.sum line ${i + 1}: expected "<path> <version>[/go.mod] h1:<hash>"`);
    const isMod = f[1].endsWith('/go.mod');
    const version = isMod ? f[1].slice(0, -'/go.mod'.length) : f[1];
    const key = `${f[0]} ${version}`;
    const t = byVersion.get(key) ?? { path: f[0], query: version, modOnly: true, sums: {} };
    if (isMod) t.sums!.mod = f[2];
    else {
      t.sums!.zip = f[2];
      t.modOnly = false;
    }
    byVersion.set(key, t);
  }
  return [...byVersion.values()];
}

export function targetsFromList(text: string): PrefetchTarget[] {
  const out: PrefetchTarget[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const at = line.lastIndexOf('@');
    const f = at > 0 ? [line.slice(0, at), line.slice(at + 1)] : line.split(/\s+/);
    if (f.length !== 2 || f[0] === '' || f[1] === '' || /\s/.test(f[0] + f[1])) throw new Error(`line ${i + 1}: expected "<module path>@<version>"`);
    out.push({ path: f[0], query: f[1] });
  }
  return out;
}

/** The targets one argument names: a go.mod, a go.sum, a list file, or path@version itself. */
export function targetsFromArgument(arg: string, readFile: (file: string) => Buffer = readCapped): PrefetchTarget[] {
  const base = path.basename(arg);
  if (arg.includes('@') && !fs.existsSync(arg)) return targetsFromList(arg);
  const data = readFile(arg);
  try {
    if (base === 'go.mod' || base.endsWith('.mod')) return targetsFromGoMod(data);
    if (base === 'go.sum' || base.endsWith('.sum')) return targetsFromGoSum(data.toString('utf8'));
    return targetsFromList(data.toString('utf8'));
  } catch (err) {
    throw new Error(`${arg}: ${(err as Error).message}`);
  }
}

function readCapped(file: string): Buffer {
  const size = fs.statSync(file).size;
  if (size > MAX_INPUT_BYTES) throw new Error(`${file}: too large (${size} bytes; limit is ${MAX_INPUT_BYTES})`);
  return fs.readFileSync(file);
}

/** Runs `prefetch <go.mod|go.sum|list|path@version>...`; returns the exit code. */
export async function runPrefetch(args: string[], config: Config, storage: ObjectStorage, io: AdminIo): Promise<number> {
  if (args.length === 0) {
    io.err('usage: modproxy-admin prefetch <go.mod | go.sum | list file | path@version>...');
    return 2;
  }
  let targets: PrefetchTarget[];
  try {
    targets = args.flatMap((a) => targetsFromArgument(a));
  } catch (err) {
    io.err(`modproxy-admin prefetch: ${(err as Error).message}`);
    return 2;
  }
  const { app, close } = createAdminApp(config, storage, io);
  const service = app.service;
  const limiter = new Limiter(PREFETCH_CONCURRENCY);
  let failed = 0;
  try {
    const results = await Promise.all(
      targets.map((t) =>
        limiter.run(async (): Promise<{ ok: string } | { problems: string[] }> => {
          const name = `${t.path}@${t.query}`;
          try {
            let version = t.query;
            if (!semver.isValid(version) || canonicalVersion(version) !== version) {
              // A query (branch, latest): what .info resolves it to, committed as the server commits it.
              const info = await service.info(t.path, t.query);
              version = (JSON.parse(Buffer.from(info.bytes!).toString('utf8')) as { Version: string }).Version;
            }
            const m = await service.manifest(t.path, version);
            if (!t.modOnly) await service.zip(t.path, version);
            const problems: string[] = [];
            if (t.sums?.mod !== undefined && t.sums.mod !== m.mod.h1) problems.push(`MISMATCH ${t.path}@${version}/go.mod: committed ${m.mod.h1}, go.sum ${t.sums.mod}`);
            if (t.sums?.zip !== undefined) {
              const z = await readZipRecord(storage, t.path, version);
              const h1 = z && !('error' in z.zip) ? z.zip.h1 : undefined;
              if (h1 !== t.sums.zip) problems.push(`MISMATCH ${t.path}@${version}: committed ${h1 ?? 'no zip'}, go.sum ${t.sums.zip}`);
            }
            if (problems.length > 0) return { problems };
            return { ok: `prefetched ${t.path}@${version}${t.modOnly ? ' (go.mod)' : ''}${version !== t.query ? ` (${t.query})` : ''}` };
          } catch (err) {
            return { problems: [`FAILED ${name}: ${errorMessage(err)}`] };
          }
        }),
      ),
    );
    for (const r of results) {
      if ('ok' in r) io.out(r.ok);
      else {
        failed++;
        for (const p of r.problems) io.err(p);
      }
    }
  } finally {
    await close();
  }
  io.out(`prefetched ${targets.length - failed} of ${targets.length} versions`);
  return failed === 0 ? 0 : 1;
}
