// `modproxy-admin gc [--delete] [--grace <duration>]`: deletes what the
// server leaves behind and never reads again. Dry run by default (it prints
// what it would delete, with sizes and the total); --delete deletes.
//
// Garbage, and only this (lib/records/layout.ts names every kind):
//   - bodies (blobs/…) that no record names, created longer ago than the
//     grace period: left by a build that crashed between body and record,
//     or that lost a commit race with different bytes;
//   - lease objects (leases/…) superseded by a later one of the same lease,
//     or of a lease whose last holder let go or expired longer ago than the
//     grace period; a live lease is never touched (lib/records/lease.ts);
//   - readiness probes (probes/<day>/<minute>-<process>) older than the grace
//     period: each is written once, in its minute, and never read.
// Records (versions/), bodies records name, the commit index (index/) and
// the checksum database's memory (sumdb/) are kept forever.
//
// Why gc never deletes a body a concurrent build is about to name:
//   1. A build names a body (in its record) only if it created that body
//      itself, or found it younger than BLOB_REUSE_MAX_AGE_MS (1 h); an older
//      one it copies under a fresh name instead (lib/records/manifest.ts).
//      It then creates its record at once (one create call).
//   2. gc lists bodies first, then — after that listing is complete — lists
//      and reads the records. A body is a candidate only if it was created
//      more than the grace period (≥ GC_MIN_GRACE_MS = 2 h) before the body
//      listing, and no record read afterwards names it.
//   3. So a build that names a candidate body decided to do so within 1 h of
//      its creation, and created its record (soon after) before the body
//      listing began: the record listing, which starts later, sees the record
//      (GCS listings are strongly consistent; so is a directory), and the
//      body is not a candidate. The one assumption is that a build creates
//      its record within an hour of checking its body, which the storage
//      budget and the client's retry deadline keep to minutes.
//   4. Each delete is conditional on the generation gc listed (GCS
//      ifGenerationMatch): a body deleted and created again meanwhile (by an
//      overlapping gc run and a build) is left alone.
// A record that cannot be read with certainty (corrupt, or of a schema this
// code does not know) stops the deletion of every body: fail closed.
import type { DeletableStorage, ListedObject } from '../../storage/deletableStorage.js';
import { BLOBS_ROOT, LEASES_ROOT, leaseObjectSeq, parseRecordKey, PROBES_ROOT, VERSIONS_ROOT } from '../../records/layout.js';
import { bodiesNamedBy, GC_MIN_GRACE_MS } from '../../records/manifest.js';
import { Limiter } from '../../util/limiter.js';

export const DEFAULT_GRACE_MS = 48 * 60 * 60_000;
/** Records read at once (each is one small read). */
const RECORD_READS = 16;

export interface GcOptions {
  delete: boolean;
  graceMs: number;
}

export interface GcIo {
  out: (line: string) => void;
  err: (line: string) => void;
  now?: () => number;
}

export const GC_USAGE = 'gc [--delete] [--grace <N>m|h|d]  (dry run unless --delete; grace default 48h, at least 2h)';

/** The options of `gc`, or what is wrong with its arguments. */
export function parseGcArgs(args: string[]): GcOptions | { error: string } {
  const opts: GcOptions = { delete: false, graceMs: DEFAULT_GRACE_MS };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--delete') opts.delete = true;
    else if (a === '--dry-run') opts.delete = false;
    else if (a === '--grace' || a.startsWith('--grace=')) {
      const v = a === '--grace' ? args[++i] : a.slice('--grace='.length);
      const ms = parseDuration(v ?? '');
      if (ms === null) return { error: `--grace: ${JSON.stringify(v ?? '')} is not a duration like 90m, 48h or 7d` };
      if (ms < GC_MIN_GRACE_MS) return { error: `--grace: at least ${GC_MIN_GRACE_MS / 3_600_000}h (a build may name a body up to an hour old; see lib/cli/admin/gc.ts)` };
      opts.graceMs = ms;
    } else return { error: `unknown argument ${JSON.stringify(a)}` };
  }
  return opts;
}

function parseDuration(s: string): number | null {
  const m = /^(\d{1,6})(m|h|d)$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

interface Garbage {
  object: ListedObject;
  why: string;
}

/** Bodies no record names, created before `cutoff`. Lists bodies before records: see the argument above. */
async function unnamedBodies(storage: DeletableStorage, cutoff: number): Promise<{ garbage: Garbage[]; named: number; young: number }> {
  const bodies = await storage.listObjects(BLOBS_ROOT);
  const named = new Set<string>();
  const limiter = new Limiter(RECORD_READS);
  const records = await storage.list(VERSIONS_ROOT);
  await Promise.all(
    records.map((key) =>
      limiter.run(async () => {
        if (!parseRecordKey(key)) throw new Error(`${key}: not a record this layout makes; deleting no body`);
        const data = await storage.read(key);
        if (!data) throw new Error(`${key} was listed but cannot be read; deleting no body`);
        for (const b of bodiesNamedBy(key, data)) named.add(b);
      }),
    ),
  );
  const garbage: Garbage[] = [];
  let young = 0;
  let kept = 0;
  for (const o of bodies) {
    if (named.has(o.key)) kept++;
    else if (o.created.getTime() > cutoff) young++;
    else garbage.push({ object: o, why: 'body no record names' });
  }
  return { garbage, named: kept, young };
}

/** Lease objects no lease reader needs any more (see lib/records/lease.ts for what a reader reads). */
async function staleLeases(storage: DeletableStorage, cutoff: number, io: GcIo): Promise<Garbage[]> {
  const byLease = new Map<string, ListedObject[]>();
  for (const o of await storage.listObjects(LEASES_ROOT)) {
    const name = o.key.slice(0, o.key.lastIndexOf('/'));
    let list = byLease.get(name);
    if (!list) byLease.set(name, (list = []));
    list.push(o);
  }
  const garbage: Garbage[] = [];
  for (const [name, objects] of byLease) {
    objects.sort((a, b) => leaseObjectSeq(a.key) - leaseObjectSeq(b.key));
    const latest = objects[objects.length - 1];
    // A reader reads only the latest object of a lease: the others are superseded.
    for (const o of objects.slice(0, -1)) if (o.created.getTime() <= cutoff) garbage.push({ object: o, why: 'superseded lease object' });
    if (latest.created.getTime() > cutoff) continue;
    const data = await storage.read(latest.key);
    if (!data) continue; // gone since listed
    let body: { expiresAt?: unknown; released?: unknown };
    try {
      body = JSON.parse(Buffer.from(data).toString('utf8')) as typeof body;
    } catch {
      io.err(`keeping ${latest.key}: not a lease body (${name})`);
      continue;
    }
    // Released leases carry their release time in expiresAt: either way, not held since then.
    if (typeof body.expiresAt === 'number' && body.expiresAt <= cutoff) garbage.push({ object: latest, why: `lease ${body.released === true ? 'released' : 'expired'} ${new Date(body.expiresAt).toISOString()}` });
  }
  return garbage;
}

const PROBE_NAME = /^probes\/\d{4}-\d{2}-\d{2}\/\d{4}-[0-9a-f-]{36}$/;

async function oldProbes(storage: DeletableStorage, cutoff: number): Promise<Garbage[]> {
  return (await storage.listObjects(PROBES_ROOT)).filter((o) => PROBE_NAME.test(o.key) && o.created.getTime() <= cutoff).map((object) => ({ object, why: 'readiness probe' }));
}

/** Runs gc; returns the exit code (0, or 1 when anything failed). */
export async function runGc(storage: DeletableStorage, opts: GcOptions, io: GcIo): Promise<number> {
  const now = (io.now ?? Date.now)();
  const cutoff = now - opts.graceMs;
  let failures = 0;
  const garbage: Garbage[] = [];
  let bodySummary = '';
  try {
    const bodies = await unnamedBodies(storage, cutoff);
    garbage.push(...bodies.garbage);
    bodySummary = `; kept ${bodies.named} bodies records name and ${bodies.young} unnamed ones younger than the grace period`;
  } catch (err) {
    failures++;
    io.err(`gc: bodies: ${(err as Error).message}`);
  }
  for (const [what, find] of [
    ['leases', () => staleLeases(storage, cutoff, io)],
    ['probes', () => oldProbes(storage, cutoff)],
  ] as const) {
    try {
      garbage.push(...(await find()));
    } catch (err) {
      failures++;
      io.err(`gc: ${what}: ${(err as Error).message}`);
    }
  }
  let count = 0;
  let bytes = 0;
  for (const { object: o, why } of garbage) {
    const line = `${o.key} ${o.size} bytes (${why}; created ${o.created.toISOString()})`;
    if (!opts.delete) {
      io.out(`would delete ${line}`);
    } else {
      let result;
      try {
        result = await storage.deleteObject(o.key, { ifGeneration: o.generation });
      } catch (err) {
        failures++;
        io.err(`gc: could not delete ${o.key}: ${(err as Error).message}${/\b403\b/.test((err as Error).message) ? ' (deleting needs storage.objects.delete: run gc as the admin identity; the serving one has no delete by design)' : ''}`);
        continue;
      }
      if (result !== 'deleted') {
        io.out(`skipped ${o.key}: ${result === 'changed' ? 'created again since it was listed' : 'already gone'}`);
        continue;
      }
      io.out(`deleted ${line}`);
    }
    count++;
    bytes += o.size;
  }
  const graceHours = Math.round((opts.graceMs / 3_600_000) * 100) / 100;
  io.out(
    opts.delete
      ? `gc: deleted ${count} objects, ${bytes} bytes (grace ${graceHours}h${bodySummary})`
      : `gc (dry run): would delete ${count} objects, ${bytes} bytes (grace ${graceHours}h${bodySummary}); run with --delete to delete them`,
  );
  if (failures > 0) io.err(`gc: ${failures} errors`);
  return failures > 0 ? 1 : 0;
}
