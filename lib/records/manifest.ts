// The commit protocol (docs/consistency.md has the argument in full).
//
// A module version is committed by two small records, each created with
// create-if-absent and never overwritten or deleted:
//
//   versions/<escaped path>/@v/<escaped version>/manifest.json
//     .info body, go.mod (inline, or a content-addressed body), and the
//     *source* of the zip: the commit and module directory it resolved to;
//   versions/<escaped path>/@v/<escaped version>/zip.json
//     the zip built from exactly that source (a content-addressed body and
//     its h1 hash), or the go command's reason it cannot be built.
//
// Bodies are written first under their sha256, so writing one twice is
// harmless. Readers serve only what the records name; a writer that loses a
// create race discards its own work and serves the winner's record. The zip
// record may be created after the manifest (so .info is answered without
// waiting for the zip), because the zip is a pure function of the source the
// manifest pins: any replica builds the same file set from it.
import crypto from 'node:crypto';
import { escapePath, escapeVersion } from '../gomod/module.js';
import type { ObjectStorage } from '../storage/storage.js';

export const MANIFEST_SCHEMA = 1;
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

export interface ZipSource {
  /** The full commit hash the version resolved to. */
  commit: string;
  /** The module's directory in that commit ("" for the repository root). */
  dir: string;
}

export interface Manifest {
  schema: number;
  path: string;
  version: string;
  /** The exact .info body. */
  info: string;
  mod: ManifestMod;
  source: ZipSource;
  committedAt: string;
}

export type ZipBody = { sha256: string; size: number; h1: string; files: number; blob: string };

export interface ZipRecord {
  schema: number;
  path: string;
  version: string;
  source: ZipSource;
  zip: ZipBody | { error: string };
  committedAt: string;
}

function versionDir(modPath: string, version: string): string {
  return `versions/${escapePath(modPath)}/@v/${escapeVersion(version)}`;
}

export function manifestKey(modPath: string, version: string): string {
  return `${versionDir(modPath, version)}/manifest.json`;
}

export function zipRecordKey(modPath: string, version: string): string {
  return `${versionDir(modPath, version)}/zip.json`;
}

export function blobKey(sha256Hex: string): string {
  return `blobs/sha256/${sha256Hex.slice(0, 2)}/${sha256Hex}`;
}

export function sha256Hex(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

async function readRecord<T extends { schema: number; path: string; version: string }>(
  storage: ObjectStorage,
  key: string,
  modPath: string,
  version: string,
): Promise<T | null> {
  const data = await storage.read(key);
  if (!data) return null;
  const r = JSON.parse(Buffer.from(data).toString('utf8')) as T;
  if (r.schema !== MANIFEST_SCHEMA || r.path !== modPath || r.version !== version) {
    throw new Error(`${key} is corrupt or of an unknown schema`);
  }
  return r;
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

/** Hooks for crash tests: called before and after each write of the commit path. */
export type CommitHook = (point: string) => void | Promise<void>;

export interface CommitResult<T> {
  record: T;
  /** False when another writer committed first; its record is returned. */
  won: boolean;
}

/** Creates `key` unless it exists; either way returns the record that is now there. */
async function createRecord<T extends { schema: number; path: string; version: string }>(
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
  source: ZipSource;
}

export async function commitManifest(storage: ObjectStorage, a: ManifestInput, hook?: CommitHook): Promise<CommitResult<Manifest>> {
  const existing = await readManifest(storage, a.path, a.version);
  if (existing) return { record: existing, won: false };
  const modSha = sha256Hex(a.mod.data);
  const mod: ManifestMod = { sha256: modSha, size: a.mod.data.length, h1: a.mod.h1 };
  if (a.mod.data.length <= INLINE_MOD_LIMIT) {
    mod.data = Buffer.from(a.mod.data).toString('base64');
  } else {
    mod.blob = blobKey(modSha);
    await hook?.('before-mod-blob');
    await storage.createIfAbsent(mod.blob, a.mod.data, { contentType: 'text/plain; charset=utf-8' });
    await hook?.('after-mod-blob');
  }
  const manifest: Manifest = {
    schema: MANIFEST_SCHEMA,
    path: a.path,
    version: a.version,
    info: a.info,
    mod,
    source: a.source,
    committedAt: new Date().toISOString(),
  };
  return createRecord(storage, manifestKey(a.path, a.version), manifest, hook, 'manifest');
}

export interface ZipInput {
  path: string;
  version: string;
  source: ZipSource;
  zip: { file: string; sha256: string; size: number; h1: string; files: number } | { error: string };
}

export async function commitZip(storage: ObjectStorage, a: ZipInput, hook?: CommitHook): Promise<CommitResult<ZipRecord>> {
  const existing = await readZipRecord(storage, a.path, a.version);
  if (existing) return { record: existing, won: false };
  let zip: ZipRecord['zip'];
  if ('error' in a.zip) {
    zip = { error: a.zip.error };
  } else {
    const blob = blobKey(a.zip.sha256);
    await hook?.('before-zip-blob');
    await storage.createIfAbsent(blob, { file: a.zip.file }, { contentType: 'application/zip' });
    await hook?.('after-zip-blob');
    zip = { sha256: a.zip.sha256, size: a.zip.size, h1: a.zip.h1, files: a.zip.files, blob };
  }
  const record: ZipRecord = { schema: MANIFEST_SCHEMA, path: a.path, version: a.version, source: a.source, zip, committedAt: new Date().toISOString() };
  return createRecord(storage, zipRecordKey(a.path, a.version), record, hook, 'zip-record');
}
