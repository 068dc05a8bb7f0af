// The commit protocol (see docs/consistency.md).
//
// A module version is committed by one small manifest object, created with
// create-if-absent. Bodies (zip, large go.mod) are written first as immutable,
// content-addressed objects, so writing them twice is harmless. The manifest
// is never overwritten or deleted; readers serve only what a manifest names;
// a writer that loses the create race discards its own work and serves the
// winner's manifest. Hence every replica serves the same bytes forever.
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

export type ManifestZip =
  | { sha256: string; size: number; h1: string; files: number; blob: string }
  | { error: string };

export interface Manifest {
  schema: number;
  path: string;
  version: string;
  /** The exact .info body. */
  info: string;
  mod: ManifestMod;
  zip: ManifestZip;
  committedAt: string;
}

export function manifestKey(modPath: string, version: string): string {
  return `manifests/${escapePath(modPath)}/@v/${escapeVersion(version)}.json`;
}

export function blobKey(sha256Hex: string): string {
  return `blobs/sha256/${sha256Hex.slice(0, 2)}/${sha256Hex}`;
}

export async function readManifest(storage: ObjectStorage, modPath: string, version: string): Promise<Manifest | null> {
  const data = await storage.read(manifestKey(modPath, version));
  if (!data) return null;
  const m = JSON.parse(Buffer.from(data).toString('utf8')) as Manifest;
  if (m.schema !== MANIFEST_SCHEMA || m.path !== modPath || m.version !== version) {
    throw new Error(`manifest for ${modPath}@${version} is corrupt or of an unknown schema`);
  }
  return m;
}

/** The go.mod bytes a manifest names. */
export async function readManifestMod(storage: ObjectStorage, m: Manifest): Promise<Uint8Array> {
  if (m.mod.data !== undefined) return Buffer.from(m.mod.data, 'base64');
  const body = m.mod.blob ? await storage.read(m.mod.blob) : null;
  if (!body) throw new Error(`go.mod body ${m.mod.blob} of ${m.path}@${m.version} is missing from storage`);
  return body;
}

export interface VersionArtifacts {
  path: string;
  version: string;
  info: string;
  mod: { data: Uint8Array; h1: string };
  zip: { file: string; sha256: string; size: number; h1: string; files: number } | { error: string };
}

export interface CommitResult {
  manifest: Manifest;
  /** False when another writer committed first; its manifest is returned. */
  won: boolean;
}

/** Hooks for crash tests: called before and after each write of the commit path. */
export type CommitHook = (point: string) => void | Promise<void>;

export async function commitVersion(storage: ObjectStorage, a: VersionArtifacts, hook?: CommitHook): Promise<CommitResult> {
  const key = manifestKey(a.path, a.version);
  const existing = await readManifest(storage, a.path, a.version);
  if (existing) return { manifest: existing, won: false };

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

  let zip: ManifestZip;
  if ('error' in a.zip) {
    zip = { error: a.zip.error };
  } else {
    const blob = blobKey(a.zip.sha256);
    await hook?.('before-zip-blob');
    await storage.createIfAbsent(blob, { file: a.zip.file }, { contentType: 'application/zip' });
    await hook?.('after-zip-blob');
    zip = { sha256: a.zip.sha256, size: a.zip.size, h1: a.zip.h1, files: a.zip.files, blob };
  }

  const manifest: Manifest = {
    schema: MANIFEST_SCHEMA,
    path: a.path,
    version: a.version,
    info: a.info,
    mod,
    zip,
    committedAt: new Date().toISOString(),
  };
  await hook?.('before-manifest');
  const result = await storage.createIfAbsent(key, Buffer.from(JSON.stringify(manifest)), { contentType: 'application/json' });
  await hook?.('after-manifest');
  if (result === 'created') return { manifest, won: true };
  const winner = await readManifest(storage, a.path, a.version);
  if (!winner) throw new Error(`manifest ${key} exists but cannot be read`);
  return { manifest: winner, won: false };
}

export function sha256Hex(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}
