// The commit protocol (docs/consistency.md has the argument in full).
//
// A module version is committed by two small records, each created with
// create-if-absent and never overwritten or deleted:
//
//   manifest.json: .info body, go.mod (inline, or a content-addressed body),
//     and the *source pin* of the zip: what the version resolved to in its
//     source (for git: the commit and the module's directory in it);
//   zip.json: the zip made from exactly that pin (a content-addressed body
//     and its h1 hash), or the go command's reason it cannot be made.
// (Their names, and the bodies', come from ./layout.ts.)
//
// Bodies are written first under their sha256, so writing one twice is
// harmless. Readers serve only what the records name; a writer that loses a
// create race discards its own work and serves the winner's record. The zip
// record may be created after the manifest (so .info is answered without
// waiting for the zip), because the zip is a pure function of the source the
// manifest pins: any replica builds the same file set from it.
import crypto from 'node:crypto';
import { H1_FORM } from '../gomod/dirhash.js';
import type { SourcePin } from '../source/moduleSource.js';
import type { ObjectStorage } from '../storage/storage.js';
import type { ObjectBody } from '../storage/storage.js';
import { blobCopyKey, blobKey, indexKey, manifestKey, zipRecordKey } from './layout.js';

/**
 * Schema 1: git pins. Records written before pins were tagged hold
 * `{commit, dir}` without `kind`; readers take those as git pins. Git pins
 * are still written as schema 1 (with `kind`), which earlier readers read as
 * before. A record whose pin is of another kind must be written with a higher
 * schema number, so that code which knows only git pins refuses it rather
 * than misreads it.
 */
const GIT_SCHEMA = 1;
/** Schema 2: proxy pins (`{kind: 'proxy', modH1, zipH1}`), from a parent GOPROXY. */
const PROXY_SCHEMA = 2;
const KNOWN_SCHEMAS = new Set([GIT_SCHEMA, PROXY_SCHEMA]);
/** go.mod files up to this size live inside the manifest. */
const INLINE_MOD_LIMIT = 64 * 1024;

export interface ManifestMod {
  sha256: string;
  size: number;
  /** go.sum's `/go.mod h1:` hash. */
  h1: string;
  /** base64 bytes when small enough to inline. */
  data?: string;
  /** Storage key of the body otherwise. */
  blob?: string;
}

export interface Manifest {
  schema: number;
  path: string;
  version: string;
  /** The exact .info body. */
  info: string;
  mod: ManifestMod;
  source: SourcePin;
  committedAt: string;
}

export type ZipBody = { sha256: string; size: number; h1: string; files: number; blob: string };

export interface ZipRecord {
  schema: number;
  path: string;
  version: string;
  source: SourcePin;
  zip: ZipBody | { error: string };
  committedAt: string;
}

export function sha256Hex(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

type VersionRecord = { schema: number; path: string; version: string; source: SourcePin };

async function readRecord<T extends VersionRecord>(storage: ObjectStorage, key: string, modPath: string, version: string): Promise<T | null> {
  const data = await storage.read(key);
  if (!data) return null;
  const r = JSON.parse(Buffer.from(data).toString('utf8')) as T;
  if (!KNOWN_SCHEMAS.has(r.schema) || r.path !== modPath || r.version !== version || typeof r.source !== 'object' || r.source === null) {
    throw new Error(`${key} is corrupt or of an unknown schema`);
  }
  // Untagged pins come from before pins were tagged: all of them are git pins.
  const src = r.source as { kind?: string; commit?: unknown; dir?: unknown; modH1?: unknown; zipH1?: unknown };
  if (r.schema === GIT_SCHEMA) {
    if (src.kind === undefined) r.source = { kind: 'git', commit: src.commit as string, dir: src.dir as string };
    if (r.source.kind !== 'git') throw new Error(`${key} is corrupt or of an unknown schema`);
  } else {
    // Each pin kind lives under its own schema number only.
    if (src.kind !== 'proxy' || typeof src.modH1 !== 'string' || !H1_FORM.test(src.modH1) || typeof src.zipH1 !== 'string' || !H1_FORM.test(src.zipH1)) {
      throw new Error(`${key} is corrupt or of an unknown schema`);
    }
  }
  return r;
}

/**
 * The storage keys of the bodies a stored record names (its go.mod blob, its
 * zip blob), for `modproxy-admin gc`. Throws for a record it cannot read
 * with certainty (corrupt, or of a schema this code does not know, which
 * might name bodies elsewhere): gc then deletes no body at all.
 */
export function bodiesNamedBy(key: string, data: Uint8Array): string[] {
  let r: { schema?: unknown; mod?: { blob?: unknown }; zip?: { blob?: unknown } };
  try {
    r = JSON.parse(Buffer.from(data).toString('utf8')) as typeof r;
  } catch {
    throw new Error(`${key} is not JSON`);
  }
  if (typeof r !== 'object' || r === null || !KNOWN_SCHEMAS.has(r.schema as number)) throw new Error(`${key} is corrupt or of an unknown schema`);
  const named: string[] = [];
  for (const blob of [r.mod?.blob, r.zip?.blob]) {
    if (blob === undefined) continue;
    if (typeof blob !== 'string') throw new Error(`${key} names a body by a non-string`);
    named.push(blob);
  }
  return named;
}

/** The schema number a record with this pin is written with. */
function schemaFor(pin: SourcePin): number {
  switch (pin.kind) {
    case 'git':
      return GIT_SCHEMA;
    case 'proxy':
      return PROXY_SCHEMA;
  }
}

export function readManifest(storage: ObjectStorage, modPath: string, version: string): Promise<Manifest | null> {
  return readRecord<Manifest>(storage, manifestKey(modPath, version), modPath, version);
}

export function readZipRecord(storage: ObjectStorage, modPath: string, version: string): Promise<ZipRecord | null> {
  return readRecord<ZipRecord>(storage, zipRecordKey(modPath, version), modPath, version);
}

/** The go.mod bytes a manifest names. */
export async function readManifestMod(storage: ObjectStorage, m: Manifest): Promise<Uint8Array> {
  if (m.mod.data !== undefined) return Buffer.from(m.mod.data, 'base64');
  const body = m.mod.blob ? await storage.read(m.mod.blob) : null;
  if (!body) throw new Error(`go.mod body ${m.mod.blob} of ${m.path}@${m.version} is missing from storage`);
  return body;
}

/**
 * The oldest existing body a commit names instead of writing its own. With
 * `modproxy-admin gc` this is what keeps a body a build is about to name
 * from being deleted: gc deletes only unnamed bodies created longer ago than
 * its grace period (at least GC_MIN_GRACE_MS), and a commit names a body
 * only if it created it itself or found it younger than this — so a body gc
 * may delete is one no commit can still be about to name, provided a commit
 * names its body within GC_MIN_GRACE_MS - BLOB_REUSE_MAX_AGE_MS (one record
 * create, normally well under a second). lib/cli/admin/gc.ts has the rest.
 */
export const BLOB_REUSE_MAX_AGE_MS = 60 * 60_000;
/** The shortest grace period gc accepts: an hour more than the reuse age above. */
export const GC_MIN_GRACE_MS = 2 * BLOB_REUSE_MAX_AGE_MS;

/**
 * Stores a body under its sha256 and returns the key to name it by: the
 * content-addressed key when this writer created it or found it recent,
 * otherwise a fresh copy's key (an old body that no record names may be
 * deleted by gc at any moment; see BLOB_REUSE_MAX_AGE_MS).
 */
async function storeBlob(storage: ObjectStorage, sha256: string, body: ObjectBody, contentType: string, now: () => number): Promise<string> {
  const key = blobKey(sha256);
  for (let attempt = 0; attempt < 3; attempt++) {
    if ((await storage.createIfAbsent(key, body, { contentType })) === 'created') return key;
    const info = await storage.stat(key);
    if (info === null) continue; // deleted since: create it again
    if (now() - info.created.getTime() < BLOB_REUSE_MAX_AGE_MS) return key;
    break;
  }
  const copy = blobCopyKey(sha256, crypto.randomUUID());
  await storage.createIfAbsent(copy, body, { contentType });
  return copy;
}

/** Hooks for crash tests: called before and after each write of the commit path. */
export type CommitHook = (point: string) => void | Promise<void>;

export interface CommitResult<T> {
  record: T;
  /** False when another writer committed first; its record is returned. */
  won: boolean;
  /**
   * The index entry of a won manifest commit, being written: it does not hold
   * up the answer. A failure leaves the version committed all the same, only
   * missing from /index.
   */
  indexWritten?: Promise<void>;
}

/** Creates `key` unless it exists; either way returns the record that is now there. */
async function createRecord<T extends VersionRecord>(
  storage: ObjectStorage,
  key: string,
  record: T,
  hook: CommitHook | undefined,
  point: string,
): Promise<CommitResult<T>> {
  await hook?.(`before-${point}`);
  const result = await storage.createIfAbsent(key, Buffer.from(JSON.stringify(record)), { contentType: 'application/json' });
  await hook?.(`after-${point}`);
  if (result === 'created') return { record, won: true };
  const winner = await readRecord<T>(storage, key, record.path, record.version);
  if (!winner) throw new Error(`${key} exists but cannot be read`);
  return { record: winner, won: false };
}

export interface ManifestInput {
  path: string;
  version: string;
  info: string;
  mod: { data: Uint8Array; h1: string };
  source: SourcePin;
}

export async function commitManifest(storage: ObjectStorage, a: ManifestInput, hook?: CommitHook): Promise<CommitResult<Manifest>> {
  const modSha = sha256Hex(a.mod.data);
  const mod: ManifestMod = { sha256: modSha, size: a.mod.data.length, h1: a.mod.h1 };
  if (a.mod.data.length <= INLINE_MOD_LIMIT) {
    // No read first: the create itself tells whether another writer won, and reads the winner back.
    mod.data = Buffer.from(a.mod.data).toString('base64');
  } else {
    // A blob is written only for a version not committed yet.
    const existing = await readManifest(storage, a.path, a.version);
    if (existing) return { record: existing, won: false };
    await hook?.('before-mod-blob');
    mod.blob = await storeBlob(storage, modSha, a.mod.data, 'text/plain; charset=utf-8', Date.now);
    await hook?.('after-mod-blob');
  }
  const manifest: Manifest = {
    schema: schemaFor(a.source),
    path: a.path,
    version: a.version,
    info: a.info,
    mod,
    source: a.source,
    committedAt: new Date().toISOString(),
  };
  const result: CommitResult<Manifest> = await createRecord(storage, manifestKey(a.path, a.version), manifest, hook, 'manifest');
  // Only the writer that won lists the version in the index, so each version is listed once.
  if (result.won) {
    result.indexWritten = storage.createIfAbsent(indexKey(new Date(manifest.committedAt), a.path, a.version), Buffer.from(''), { contentType: 'text/plain' }).then(() => undefined);
  }
  return result;
}

export interface ZipInput {
  path: string;
  version: string;
  source: SourcePin;
  zip: { file: string; sha256: string; size: number; h1: string; files: number } | { error: string };
}

export async function commitZip(storage: ObjectStorage, a: ZipInput, hook?: CommitHook): Promise<CommitResult<ZipRecord>> {
  const existing = await readZipRecord(storage, a.path, a.version);
  if (existing) return { record: existing, won: false };
  let zip: ZipRecord['zip'];
  if ('error' in a.zip) {
    zip = { error: a.zip.error };
  } else {
    await hook?.('before-zip-blob');
    const blob = await storeBlob(storage, a.zip.sha256, { file: a.zip.file }, 'application/zip', Date.now);
    await hook?.('after-zip-blob');
    zip = { sha256: a.zip.sha256, size: a.zip.size, h1: a.zip.h1, files: a.zip.files, blob };
  }
  const record: ZipRecord = { schema: schemaFor(a.source), path: a.path, version: a.version, source: a.source, zip, committedAt: new Date().toISOString() };
  return createRecord(storage, zipRecordKey(a.path, a.version), record, hook, 'zip-record');
}
