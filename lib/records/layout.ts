// The storage layout: the one place that builds and parses object names.
// Everything else (the commit protocol, leases, listings, tests) asks here.
//
//   versions/<escaped path>/@v/<escaped version>/manifest.json   version record
//   versions/<escaped path>/@v/<escaped version>/zip.json        zip record
//   blobs/sha256/<first 2 hex>/<64 hex>                          content-addressed body
//   blobs/sha256/<first 2 hex>/<64 hex>.<uuid>                   a fresh copy of one (manifest.ts: storeBlob)
//   leases/<escaped path>/@v/<escaped version>/<step>/<seq>      advisory lease
//   probes/<YYYY-MM-DD>/<HHMM>-<process uuid>                     readiness write probe (lifecycle rule or modproxy-admin gc)
//   index/<YYYY-MM>/<commit time, ISO 8601 UTC>/<escaped path>@<escaped version>  commit index (/index)
//   sumdb/<database name>/tree/<size, 20 digits>                 verified tree head
//   sumdb/<database name>/lookup/…, sumdb/<database name>/tile/… verified database answers (proxied)
//
// Paths and versions are case-escaped as in proxy URLs ("!x" for "X"), so
// names are the same on case-insensitive disks and safe in object stores.
// docs/consistency.md explains what each record promises.
import { escapePath, escapeVersion, unescapePath, unescapeVersion } from '../gomod/module.js';

export const VERSIONS_ROOT = 'versions/';
export const BLOBS_ROOT = 'blobs/';
export const LEASES_ROOT = 'leases/';

export type RecordKind = 'manifest' | 'zip';
export type BuildStep = 'manifest' | 'zip';

const RECORD_FILE: Record<RecordKind, string> = { manifest: 'manifest.json', zip: 'zip.json' };

/** The prefix under which every record of a module lives. */
export function moduleRecordsPrefix(modPath: string): string {
  return `${VERSIONS_ROOT}${escapePath(modPath)}/@v/`;
}

export function recordKey(modPath: string, version: string, kind: RecordKind): string {
  return `${moduleRecordsPrefix(modPath)}${escapeVersion(version)}/${RECORD_FILE[kind]}`;
}

export function manifestKey(modPath: string, version: string): string {
  return recordKey(modPath, version, 'manifest');
}

export function zipRecordKey(modPath: string, version: string): string {
  return recordKey(modPath, version, 'zip');
}

/** What a record's name says: its module, version and kind; null for names this layout does not make. */
export function parseRecordKey(key: string): { path: string; version: string; kind: RecordKind } | null {
  if (!key.startsWith(VERSIONS_ROOT)) return null;
  const rest = key.slice(VERSIONS_ROOT.length);
  const at = rest.lastIndexOf('/@v/');
  if (at < 0) return null;
  const tail = rest.slice(at + '/@v/'.length).split('/');
  if (tail.length !== 2) return null;
  const kind = (Object.keys(RECORD_FILE) as RecordKind[]).find((k) => RECORD_FILE[k] === tail[1]);
  if (!kind) return null;
  try {
    return { path: unescapePath(rest.slice(0, at)), version: unescapeVersion(tail[0]), kind };
  } catch {
    return null;
  }
}

/** The name of a body by its sha256 (lowercase hex). */
export function blobKey(sha256Hex: string): string {
  return `${BLOBS_ROOT}sha256/${sha256Hex.slice(0, 2)}/${sha256Hex}`;
}

/**
 * A second copy of a body, written when the content-addressed one exists but
 * is too old to name safely (lib/records/manifest.ts, BLOB_REUSE_MAX_AGE_MS).
 */
export function blobCopyKey(sha256Hex: string, copyId: string): string {
  if (!/^[0-9a-f-]{36}$/.test(copyId)) throw new Error('blob copy id must be a UUID');
  return `${blobKey(sha256Hex)}.${copyId}`;
}

const LEASE_SEQ_DIGITS = 8;

/** The name of the lease on one build step of a module version. */
export function leaseName(modPath: string, version: string, step: BuildStep): string {
  return `${escapePath(modPath)}/@v/${escapeVersion(version)}/${step}`;
}

/** The prefix under which the numbered objects of lease `name` live. */
export function leaseObjectsPrefix(name: string): string {
  return `${LEASES_ROOT}${name}/`;
}

export function leaseObjectKey(name: string, seq: number): string {
  return `${leaseObjectsPrefix(name)}${String(seq).padStart(LEASE_SEQ_DIGITS, '0')}`;
}

/** The sequence number in a lease object's name (0 for names that carry none). */
export function leaseObjectSeq(key: string): number {
  const n = Number(key.slice(key.lastIndexOf('/') + 1));
  return Number.isInteger(n) && n > 0 ? n : 0;
}

export const SUMDB_ROOT = 'sumdb/';
const TREE_SIZE_DIGITS = 20;

function checkDatabaseName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) throw new Error(`checksum database name ${JSON.stringify(name)} cannot name storage objects`);
  return name;
}

/** The prefix under which the verified tree heads of a checksum database live. */
export function sumdbTreesPrefix(dbName: string): string {
  return `${SUMDB_ROOT}${checkDatabaseName(dbName)}/tree/`;
}

/** The name of a verified tree head of `size` records (zero-padded, so names sort as sizes do). */
export function sumdbTreeKey(dbName: string, size: bigint): string {
  if (size < 0n || size.toString().length > TREE_SIZE_DIGITS) throw new Error(`tree size ${size} out of range`);
  return `${sumdbTreesPrefix(dbName)}${size.toString().padStart(TREE_SIZE_DIGITS, '0')}`;
}

/** The tree size a tree-head name carries, or null for names this layout does not make. */
export function parseSumdbTreeKey(key: string): bigint | null {
  const m = /^sumdb\/[^/]+\/tree\/(\d{20})$/.exec(key);
  return m ? BigInt(m[1]) : null;
}

/**
 * The name of a checksum database answer kept forever by the proxy: a lookup
 * (`lookup/<escaped path>@<escaped version>`) or a complete tile
 * (`tile/<H>/<L or data>/…`), as the database names it.
 */
export function sumdbAnswerKey(dbName: string, remotePath: string): string {
  if (!/^(lookup|tile)\/[A-Za-z0-9!._~@+\/-]{1,512}$/.test(remotePath) || remotePath.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`checksum database path ${JSON.stringify(remotePath.slice(0, 100))} cannot name a storage object`);
  }
  return `${SUMDB_ROOT}${checkDatabaseName(dbName)}/${remotePath}`;
}

export const PROBES_ROOT = 'probes/';

/**
 * The object /readyz creates to show that storage takes writes: storage is
 * append-only, so one name per process and minute (at most 1440 a day per
 * replica, a few bytes each); a lifecycle rule on `probes/` deletes them.
 */
export function probeKey(at: Date, processId: string): string {
  if (!/^[0-9a-f-]{36}$/.test(processId)) throw new Error('probe process id must be a UUID');
  const iso = at.toISOString();
  return `${PROBES_ROOT}${iso.slice(0, 10)}/${iso.slice(11, 13)}${iso.slice(14, 16)}-${processId}`;
}

export const INDEX_ROOT = 'index/';

/** The prefix of the index entries of one month ("2026-11"): listings stay bounded by a month's commits. */
export function indexMonthPrefix(month: string): string {
  if (!/^\d{4}-\d{2}$/.test(month)) throw new Error(`bad index month ${JSON.stringify(month)}`);
  return `${INDEX_ROOT}${month}/`;
}

/**
 * The index entry of a committed version: names sort by commit time
 * (toISOString is fixed-width), then module and version, so a listing with
 * startAfter reads the index in commit order from any instant.
 */
export function indexKey(committedAt: Date, modPath: string, version: string): string {
  const iso = committedAt.toISOString();
  return `${indexMonthPrefix(iso.slice(0, 7))}${iso}/${escapePath(modPath)}@${escapeVersion(version)}`;
}

/** Where a listing of the index from `since` (inclusive) starts: every entry at or after it sorts after this. */
export function indexStartAfter(since: Date): string {
  const iso = since.toISOString();
  return `${indexMonthPrefix(iso.slice(0, 7))}${iso}`;
}

/** What an index entry's name says; null for names this layout does not make. */
export function parseIndexKey(key: string): { timestamp: string; path: string; version: string } | null {
  const m = /^index\/\d{4}-\d{2}\/(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\/(.+)@([^@/]+)$/.exec(key);
  if (!m) return null;
  try {
    return { timestamp: m[1], path: unescapePath(m[2]), version: unescapeVersion(m[3]) };
  } catch {
    return null;
  }
}
