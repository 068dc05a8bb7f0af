// Builds the module zip for a version in one streaming pass: choose files as
// x/mod's checkFiles does, convert each blob as `git archive` would
// (.gitattributes), write it to the zip, and compute the h1: hash on the way.
//
// The go command wraps every failure here as "create zip: <reason>"
// (docs/go-rules/zip.md#when-the-zip-cannot-be-built).
import crypto from 'node:crypto';
import type { Writable } from 'node:stream';
import { ArchiveConverter } from './attributes/archive.js';
import { classifyNames, checkedFilesError, SizeChecker, type FileError } from '../../archive/checkFiles.js';
import { nativeZipWriter, type ZipEntrySource } from '../../archive/zipWriter.js';
import { hash1 } from '../../gomod/dirhash.js';
import { goModLookup } from '../../gomod/gover.js';
import { canonicalVersion, check as checkModuleVersion } from '../../gomod/module.js';
import type { ZipSourceFile } from './codeRepo.js';

/** A zip that the go command would refuse to create, with its message (without "create zip: "). */
export class ZipCreateError extends Error {
  override name = 'ZipCreateError';
}

export interface ModuleZipInput {
  modPath: string;
  version: string;
  files: ZipSourceFile[];
  attributes: { dir: string; content: Uint8Array }[];
  readBlob: (oid: string) => Promise<Uint8Array>;
}

export interface ModuleZipResult {
  /** The module hash, `h1:...`, as go.sum records it. */
  h1: string;
  files: number;
  /** Total uncompressed bytes. */
  size: number;
}

/**
 * Writes the zip to `out`. Throws ZipCreateError (and writes nothing useful)
 * when the go command would fail to create it.
 */
export async function buildModuleZip(input: ModuleZipInput, out: Writable): Promise<ModuleZipResult> {
  const { modPath, version } = input;
  const canonical = canonicalVersion(version);
  if (canonical !== version) throw new ZipCreateError(`version ${JSON.stringify(version)} is not canonical (should be ${JSON.stringify(canonical)})`);
  try {
    checkModuleVersion(modPath, version);
  } catch (err) {
    throw new ZipCreateError((err as Error).message);
  }

  const converter = new ArchiveConverter(input.attributes);
  const content = async (f: ZipSourceFile): Promise<Uint8Array> => {
    if (f.data) return f.data; // the copied root LICENSE: raw blob, no conversion
    const raw = await input.readBlob(f.oid);
    return converter.affects(f.repoPath) ? converter.convert(f.repoPath, f.oid, raw) : raw;
  };

  // The vendor rule depends on the go version in the zip's own root go.mod.
  const rootGoMod = input.files.find((f) => f.path === 'go.mod' && f.kind === 'file');
  const goVersion = rootGoMod ? goModLookup(await content(rootGoMod), 'go') : '';

  const names = classifyNames(input.files, goVersion);
  const sizes = new SizeChecker();

  if (names.invalid.length > 0) {
    // Invalid names fail the zip, but a size error would take precedence in
    // the message; sizes need every candidate read once.
    for (const f of names.candidates) sizes.add(f.path, (await content(f)).length);
    throw new ZipCreateError(checkedFilesError(sizes.sizeError, mergeInOrder(input.files, names.invalid, sizes.invalid))!);
  }

  const digests: { name: string; sha256Hex: string }[] = [];
  let total = 0;
  const prefix = `${modPath}@${version}/`;
  let deferredInvalid = false;
  const entries: ZipEntrySource[] = names.candidates.map((f) => ({
    name: prefix + f.path,
    read: async () => {
      const data = await content(f);
      if (!sizes.add(f.path, data.length)) deferredInvalid = true;
      if (sizes.sizeError) throw new ZipCreateError(sizes.sizeError);
      total += data.length;
      digests.push({ name: prefix + f.path, sha256Hex: crypto.createHash('sha256').update(data).digest('hex') });
      return data;
    },
  }));

  await nativeZipWriter(entries, out);
  if (deferredInvalid) throw new ZipCreateError(checkedFilesError(sizes.sizeError, sizes.invalid)!);
  return { h1: hash1(digests), files: digests.length, size: total };
}

/** Invalid entries in input order, as checkFiles reports them. */
function mergeInOrder(files: { path: string }[], a: FileError[], b: FileError[]): FileError[] {
  const byPath = new Map<string, FileError>();
  for (const e of [...a, ...b]) if (!byPath.has(e.path)) byPath.set(e.path, e);
  const out: FileError[] = [];
  for (const f of files) {
    const e = byPath.get(f.path);
    if (e) {
      out.push(e);
      byPath.delete(f.path);
    }
  }
  return out;
}
