/**
 * Emulation of the content conversions that
 *
 *   git -c core.autocrlf=input -c core.eol=lf archive --format=zip <commit> -- <dir>
 *
 * (git 2.39, as run by the go command in its bare cache repository, with
 * `* -export-subst -export-ignore` appended to $GIT_DIR/info/attributes)
 * applies to every regular file, so that modproxy can build byte-identical
 * module zips from raw blobs without running git.
 *
 * How git gets there (archive.c, attr.c, convert.c, dir.c, wildmatch.c):
 *
 * - `git archive` loads the *whole* commit tree into a temporary index and
 *   switches the attribute machinery to GIT_ATTR_INDEX, so attributes come
 *   from the `.gitattributes` blobs of the archived commit (root file included
 *   even when only `-- sub` is archived), never from a work tree.
 * - Each regular file goes through convert_to_working_tree(), which applies,
 *   in this order: `ident` expansion, LF->CRLF conversion, re-encoding to
 *   `working-tree-encoding`, then the smudge filter of `filter=<driver>`.
 * - The go command's repository configures no filter driver, so `filter=`
 *   never changes content (a driver named in an attribute but absent from
 *   config is silently ignored).
 * - `export-subst` and `export-ignore` are disabled by the info/attributes
 *   line, so `$Format:...$` is never expanded and no file is dropped.
 * - Blobs larger than core.bigFileThreshold (512 MiB) are streamed raw,
 *   without any conversion (archive.c write_archive_entry()).
 * - Symlinks are written as their raw target: only regular files are
 *   converted (archive.c object_file_to_archive()). Callers must not pass
 *   symlink blobs to {@link ArchiveConverter.convert}.
 *
 * This file is the archive.c part (which blobs are converted, and the order
 * of the steps); the steps are ported one git source per file:
 * - attr.ts: attr.c, reading and looking up the attributes, with the dir.c
 *   pattern matching it relies on;
 * - wildmatch.ts: wildmatch.c, the glob matcher behind those patterns;
 * - convert.ts: convert.c, the attributes' meaning, `ident` and eol;
 * - encodings.ts and charsets.ts: working-tree-encoding (utf8.c on top of
 *   glibc's iconv, and the tables that describe that iconv).
 *
 * Deliberately not emulated:
 * - Attribute files outside the commit ($(prefix)/etc/gitattributes,
 *   core.attributesFile, ~/.config/git/attributes) and filter drivers in
 *   the host's git config: they belong to a machine, not to the module.
 * - core.ignorecase: false in the go command's bare repository on Linux, so
 *   matching is case sensitive.
 * - working-tree-encoding relies on the host's iconv. This reproduces glibc
 *   (2.36, little-endian host) for the Unicode encodings, ISO-8859-1, ASCII
 *   and the charsets in LEGACY_CHARSETS; any other name glibc knows (UCS-4,
 *   UTF-7, EBCDIC, ISO-2022-*, BIG5, EUC-KR, "//TRANSLIT" suffixes, ...)
 *   raises UnsupportedConversionError instead of guessing.
 */

import { AttrStack, toByteString, type AttrValue, type GitattributesFile } from './attr.js';
import { convAttrsFrom, crlfToWorktree, identToWorktree, outputsCrlf, type ConvAttrs } from './convert.js';
import { encodeToWorktree } from './encodings.js';

/**
 * Thrown when git itself would abort the archive (so the go command fails to
 * build the zip). git 2.39 dies with "true/false are no valid
 * working-tree-encodings" for a bare `working-tree-encoding` attribute.
 */
export class GitArchiveFatalError extends Error {
  override name = 'GitArchiveFatalError';
}

/** Sizes above core.bigFileThreshold are streamed by git archive unconverted. */
export const BIG_FILE_THRESHOLD = 512 * 1024 * 1024;

export class ArchiveConverter {
  private readonly attrs: AttrStack;

  /** @param files every `.gitattributes` blob in the archived commit's tree
   *  (see {@link AttrStack}). */
  constructor(files: GitattributesFile[]) {
    this.attrs = new AttrStack(files);
  }

  /** false when no attribute could change this path's bytes, so callers can stream it untouched */
  affects(path: string): boolean {
    const ca = this.convAttrs(path);
    if (ca.fatal !== undefined) return true;
    return ca.ident || outputsCrlf(ca.crlfAction) || ca.encoding !== null;
  }

  /** bytes git archive would write for this blob at repo-relative `path` ('/'-separated) */
  convert(path: string, blobOid: string, content: Uint8Array): Uint8Array {
    if (content.length > BIG_FILE_THRESHOLD) return content;
    const ca = this.convAttrs(path);
    if (ca.fatal !== undefined) throw new GitArchiveFatalError(ca.fatal);
    // convert.c convert_to_working_tree_ca_internal(): ident, crlf, encoding,
    // then the (never configured) smudge filter.
    let out = content;
    if (ca.ident) out = identToWorktree(out, blobOid);
    out = crlfToWorktree(out, ca.crlfAction);
    if (ca.encoding !== null) out = encodeToWorktree(out, ca.encoding);
    return out;
  }

  /** The git attribute values in effect for `path` (for tests and diagnostics).
   *  Absent names are unspecified. */
  attributes(path: string): Map<string, AttrValue> {
    return this.attrs.collect(toByteString(path));
  }

  private convAttrs(path: string): ConvAttrs {
    return convAttrsFrom(this.attrs.collect(toByteString(path)));
  }
}
