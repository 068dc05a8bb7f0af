// Builds the module zip for a version in one streaming pass: choose files as
// x/mod's checkFiles does, convert each blob as `git archive` would
// (.gitattributes), write it to the zip, and compute the h1: hash on the way.
//
// The go command wraps every failure here as "create zip: <reason>"
// (docs/go-rules/zip.md#when-the-zip-cannot-be-built).
import crypto from 'node:crypto';
import type { Writable } from 'node:stream';
import { ArchiveConverter } from './attributes/archive.js';
import { classifyNames, checkedFilesError, MAX_ZIP_FILE, SizeChecker, type FileError } from '../../archive/checkFiles.js';
import { UpstreamError } from '../../errors.js';
import { nativeZipWriter, type ZipEntrySource } from '../../archive/zipWriter.js';
import { hash1 } from '../../gomod/dirhash.js';
import { goModLookup } from '../../gomod/gover.js';
import { canonicalVersion, check as checkModuleVersion } from '../../gomod/module.js';
import type { ZipSourceFile } from './codeRepo.js';

/** A zip that the go command would refuse to create, with its message (without "create zip: "). */
export class ZipCreateError extends Error {
  override name = 'ZipCreateError';
}

/**
 * Building the zip would hold more file content in memory at once than this
 * deployment allows (resolve.maxBuildMemoryBytes). Not an answer about the
 * module: a 503 that is not remembered, so a larger limit serves it.
 */
export class BuildLimitError extends UpstreamError {
  override name = 'BuildLimitError';
  constructor(message: string) {
    super(message, 503);
  }
}

export interface ModuleZipInput {
  modPath: string;
  version: string;
  files: ZipSourceFile[];
  attributes: { dir: string; content: Uint8Array }[];
  readBlob: (oid: string) => Promise<Uint8Array>;
  /** A blob's size, without reading it. */
  blobSize: (oid: string) => Promise<number>;
  /** Whether reading the blob holds it whole (a delta in its pack) rather than streaming it. */
  blobIsHeld: (oid: string) => Promise<boolean>;
  /** The blob's content in pieces. */
  streamBlob: (oid: string) => AsyncIterable<Uint8Array>;
  /** Most bytes of one file that may be held in memory (files converted by .gitattributes, or stored as deltas). */
  maxHeldBytes: number;
}

export interface ModuleZipResult {
  /** The module hash, `h1:...`, as go.sum records it. */
  h1: string;
  files: number;
  /** Total uncompressed bytes. */
  size: number;
}

/** resolve.maxBuildMemoryBytes by default: fits a 1 GiB instance with room for the rest of the process. */
export const DEFAULT_MAX_BUILD_MEMORY = 256 << 20;

/** Files at least this large are streamed from their pack when stored whole, rather than read whole. */
const STREAM_BYTES = 4 << 20;

/**
 * Writes the zip to `out`. Throws ZipCreateError (and writes nothing useful)
 * when the go command would fail to create it, BuildLimitError when a file
 * would have to be held in memory beyond `maxHeldBytes`.
 *
 * Memory: files are written one at a time; a large file stored whole in its
 * pack and not converted is streamed from the pack into the zip, so only a
 * file that is converted or stored as a delta is ever held whole.
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
  const converted = (f: ZipSourceFile) => !f.data && converter.affects(f.repoPath);
  /** The file's bytes in the zip, held whole: the copied root LICENSE (raw), or a blob read and converted as git archive would. */
  const content = async (f: ZipSourceFile): Promise<Uint8Array> => {
    if (f.data) return f.data;
    const size = await input.blobSize(f.oid);
    if (size > input.maxHeldBytes) {
      throw new BuildLimitError(
        `${f.path}: holding this file (${size} bytes, ${converted(f) ? 'converted by .gitattributes' : 'stored as a delta'}) needs more memory than resolve.maxBuildMemoryBytes (${input.maxHeldBytes}) allows`,
      );
    }
    const raw = await input.readBlob(f.oid);
    return converted(f) ? converter.convert(f.repoPath, f.oid, raw) : raw;
  };
  /** The size a file has in the zip, reading (and converting) it only if conversions apply. */
  const sizeOf = async (f: ZipSourceFile): Promise<number> => (f.data ? f.data.length : converted(f) ? (await content(f)).length : input.blobSize(f.oid));

  // The vendor rule depends on the go version in the zip's own root go.mod.
  const rootGoMod = input.files.find((f) => f.path === 'go.mod' && f.kind === 'file');
  const goVersion = rootGoMod ? goModLookup(await content(rootGoMod), 'go') : '';

  const names = classifyNames(input.files, goVersion);
  const sizes = new SizeChecker();
  const tooLarge = () => new ZipCreateError(checkedFilesError(`module source tree too large (max size is ${MAX_ZIP_FILE} bytes)`, [])!);

  // Over the limit on the sizes in the pack alone (conversions only add to
  // them): the go command's answer, before anything is inflated.
  let known = 0;
  for (const f of names.candidates) if (!converted(f)) known += await sizeOf(f);
  if (known > MAX_ZIP_FILE) throw tooLarge();

  if (names.invalid.length > 0) {
    // Invalid names fail the zip, but a size error would take precedence in
    // the message; sizes need every candidate once.
    for (const f of names.candidates) sizes.add(f.path, await sizeOf(f));
    throw new ZipCreateError(checkedFilesError(sizes.sizeError, mergeInOrder(input.files, names.invalid, sizes.invalid))!);
  }

  const digests: { name: string; sha256Hex: string }[] = [];
  let total = 0;
  const prefix = `${modPath}@${version}/`;
  let deferredInvalid = false;
  const entries: ZipEntrySource[] = [];
  for (const f of names.candidates) {
    const name = prefix + f.path;
    const account = (size: number) => {
      if (!sizes.add(f.path, size)) deferredInvalid = true;
      if (sizes.sizeError) throw new ZipCreateError(sizes.sizeError);
      total += size;
    };
    const entry: ZipEntrySource = {
      name,
      read: async () => {
        const data = await content(f);
        account(data.length);
        digests.push({ name, sha256Hex: crypto.createHash('sha256').update(data).digest('hex') });
        return data;
      },
    };
    if (!converted(f) && !f.data && (await input.blobSize(f.oid)) >= STREAM_BYTES && !(await input.blobIsHeld(f.oid))) {
      entry.stream = async function* () {
        account(await input.blobSize(f.oid));
        const hash = crypto.createHash('sha256');
        for await (const piece of input.streamBlob(f.oid)) {
          hash.update(piece);
          yield piece;
        }
        digests.push({ name, sha256Hex: hash.digest('hex') });
      };
    }
    entries.push(entry);
  }

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
