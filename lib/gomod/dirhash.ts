// Port of golang.org/x/mod/sumdb/dirhash's Hash1, the "h1:" hash recorded in
// go.sum and the checksum database, given each file's SHA-256 up front.
//
// h1 is "h1:" + base64(sha256(summary)), where the summary has one line
// "<hex sha256 of content>  <name>\n" per file, sorted by name the way Go's
// sort.Strings does: byte-wise over UTF-8, which differs from JS's UTF-16
// order for astral characters versus U+E000..U+FFFF.
import crypto from 'node:crypto';
import { encodeUTF8 } from './unicode.js';

export interface FileDigest {
  /** The name as hashed (for a module zip: the full "module@version/" path). */
  name: string;
  /** Lower-case hex SHA-256 of the file's content. */
  sha256Hex: string;
}

/** The form of every hash hash1 and hashGoMod return ("h1:" and the base64 of a SHA-256). */
export const H1_FORM = /^h1:[A-Za-z0-9+/]{43}=$/;

/**
 * hash1 is dirhash.Hash1 over the given files. Duplicate names are hashed
 * once per occurrence, as in Go. Throws if a name contains a newline.
 */
export function hash1(files: Iterable<FileDigest>): string {
  const entries = Array.from(files, (f) => ({ f, key: Buffer.from(encodeUTF8(f.name)) }));
  entries.sort((a, b) => Buffer.compare(a.key, b.key));
  const summary = crypto.createHash('sha256');
  for (const { f, key } of entries) {
    if (f.name.includes('\n')) throw new Error('dirhash: filenames with newlines are not supported');
    summary.update(`${f.sha256Hex}  `);
    summary.update(key);
    summary.update('\n');
  }
  return 'h1:' + summary.digest('base64');
}

/**
 * hashGoMod is the go.sum "<module> <version>/go.mod h1:..." hash: hash1 over
 * the single file name "go.mod" holding data.
 */
export function hashGoMod(data: Uint8Array): string {
  return hash1([{ name: 'go.mod', sha256Hex: crypto.createHash('sha256').update(data).digest('hex') }]);
}
