// x/mod zip.checkFiles, split in two phases so a module zip can be built in a
// single streaming pass (docs/go-rules/zip.md#file-rules):
//
//   classifyNames: everything that depends only on names and file kinds —
//     nested modules, vendor rules, .hg_archival.txt, CheckFilePath, go.mod
//     case, case-fold collisions, symlinks;
//   SizeChecker:   what depends on sizes (known only after reading and
//     converting each file) — the 500 MiB total and 16 MiB go.mod/LICENSE.
//
// Applying both in input order gives exactly checkFiles' valid/invalid/omitted
// lists and its error, because size checks come last for each file.
import { checkFilePath, quote as goQuoteString } from '../gomod/module.js';
import { strToFold } from '../gomod/unicode.js';
import { compareGoVersions, goLang } from '../gomod/gover.js';

export const MAX_ZIP_FILE = 500 << 20;
export const MAX_GO_MOD = 16 << 20;
export const MAX_LICENSE = 16 << 20;

export interface NamedFile {
  path: string;
  kind: 'file' | 'symlink';
}

export interface FileError {
  path: string;
  message: string;
}

export interface NameClassification<F extends NamedFile> {
  /** Files that pass every name check, in input order (size checks still pending). */
  candidates: F[];
  invalid: FileError[];
  omitted: FileError[];
}

/**
 * isVendoredPackage as x/mod ≥ v0.22 decides it: the pre-1.24 rule (with its
 * historical offset bug, kept for checksum stability) unless the module's go.mod
 * says go ≥ 1.24, which also drops vendor/modules.txt.
 */
export function isVendoredPackage(name: string, goVersion: string): boolean {
  const go124 = goVersion !== '' && compareGoVersions(goVersion, '1.24') >= 0;
  if (go124 && name === 'vendor/modules.txt') return true;
  let i = 0;
  if (name.startsWith('vendor/')) {
    i += 'vendor/'.length;
  } else {
    const j = name.indexOf('/vendor/');
    if (j < 0) return false;
    // Before Go 1.24 the offset skipped only len("/vendor/") from the start
    // (golang.org/issue/37397); fixed for go ≥ 1.24 modules only.
    i = go124 ? j + '/vendor/'.length : i + '/vendor/'.length;
  }
  return name.slice(i).includes('/');
}

/** path.Clean for slash-separated paths. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const s = (rooted ? '/' : '') + out.join('/');
  return s === '' ? '.' : s;
}

function splitDir(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i + 1);
}


/** x/mod collisionChecker: case-fold collisions and file/directory clashes. */
export class CollisionChecker {
  private seen = new Map<string, { path: string; isDir: boolean }>();
  /**
   * Directories whose whole chain of parents checked clean. x/mod checks the
   * parents again for every file, always with the same (clean) result; here a
   * check stops at the first such directory, so a deep tree costs its depth
   * once rather than once per file, and no recursion follows the depth.
   */
  private cleanDirs = new Set<string>();

  check(p: string, isDir: boolean): string | undefined {
    const visited: string[] = [];
    for (let cur = p, dir = isDir; ; dir = true) {
      if (dir && this.cleanDirs.has(cur)) break;
      const fold = strToFold(cur);
      const other = this.seen.get(fold);
      if (other) {
        if (cur !== other.path) return `case-insensitive file name collision: ${goQuoteString(other.path)} and ${goQuoteString(cur)}`;
        if (dir !== other.isDir) return `entry ${goQuoteString(cur)} is both a file and a directory`;
        if (!dir) return `multiple entries for file ${goQuoteString(cur)}`;
      } else {
        this.seen.set(fold, { path: cur, isDir: dir });
      }
      if (dir) visited.push(cur);
      const i = cur.lastIndexOf('/');
      if (i <= 0) break;
      cur = cur.slice(0, i);
    }
    for (const d of visited) this.cleanDirs.add(d);
    return undefined;
  }
}

/**
 * The name-dependent part of checkFiles. `goVersion` is the `go` directive of
 * the module's root go.mod as it appears in the zip ("" if none or unparsable).
 */
export function classifyNames<F extends NamedFile>(files: F[], goVersion: string): NameClassification<F> {
  const result: NameClassification<F> = { candidates: [], invalid: [], omitted: [] };
  const errPaths = new Set<string>();
  const addError = (path: string, omitted: boolean, message: string) => {
    if (errPaths.has(path)) return;
    errPaths.add(path);
    (omitted ? result.omitted : result.invalid).push({ path, message });
  };

  const haveGoMod = new Set<string>();
  for (const f of files) {
    const base = f.path.slice(f.path.lastIndexOf('/') + 1);
    // strings.EqualFold(base, "go.mod"); only a regular file marks a module boundary.
    if (strToFold(base) === 'go.mod' && f.kind === 'file') haveGoMod.add(splitDir(f.path));
  }
  // Answers per directory ("a/b/"), so files in a deep tree do not walk their parents again and again.
  const dirInSubmodule = new Map<string, boolean>();
  const inSubmodule = (p: string): boolean => {
    const pending: string[] = [];
    let answer = false;
    for (;;) {
      const dir = splitDir(p);
      if (dir === '') break;
      const known = dirInSubmodule.get(dir);
      if (known !== undefined) {
        answer = known;
        break;
      }
      pending.push(dir);
      if (haveGoMod.has(dir)) {
        answer = true;
        break;
      }
      p = dir.slice(0, -1);
    }
    // Every directory passed on the way up shares the answer of the one where the walk stopped.
    for (const d of pending) dirInSubmodule.set(d, answer);
    return answer;
  };

  const lang = goVersion === '' ? '' : goLang(goVersion);
  const collisions = new CollisionChecker();
  for (const f of files) {
    const p = f.path;
    if (p !== cleanPath(p)) {
      addError(p, false, 'file path is not clean');
      continue;
    }
    if (p.startsWith('/')) {
      addError(p, false, 'file path is not relative');
      continue;
    }
    if (isVendoredPackage(p, lang)) {
      addError(p, true, 'file is in vendor directory');
      continue;
    }
    if (inSubmodule(p)) {
      addError(p, true, 'file is in another module');
      continue;
    }
    if (p === '.hg_archival.txt') {
      addError(p, true, "file is inserted by 'hg archive' and is always omitted");
      continue;
    }
    try {
      checkFilePath(p);
    } catch (err) {
      addError(p, false, (err as Error).message);
      continue;
    }
    if (p.toLowerCase() === 'go.mod' && p !== 'go.mod') {
      addError(p, false, 'go.mod files must have lowercase names');
      continue;
    }
    const collision = collisions.check(p, false);
    if (collision) {
      addError(p, false, collision);
      continue;
    }
    if (f.kind === 'symlink') {
      addError(p, true, 'file is a symbolic link');
      continue;
    }
    result.candidates.push(f);
  }
  return result;
}

/** The size-dependent part of checkFiles, fed one candidate at a time in order. */
export class SizeChecker {
  private remaining = MAX_ZIP_FILE;
  sizeError: string | undefined;
  readonly invalid: FileError[] = [];

  /** Returns true when the file stays valid. */
  add(path: string, size: number): boolean {
    if (size >= 0 && size <= this.remaining) this.remaining -= size;
    else this.sizeError ??= `module source tree too large (max size is ${MAX_ZIP_FILE} bytes)`;
    if (path === 'go.mod' && size > MAX_GO_MOD) {
      this.invalid.push({ path, message: `go.mod file too large (max size is ${MAX_GO_MOD} bytes)` });
      return false;
    }
    if (path === 'LICENSE' && size > MAX_LICENSE) {
      this.invalid.push({ path, message: `LICENSE file too large (max size is ${MAX_LICENSE} bytes)` });
      return false;
    }
    return true;
  }
}

/** CheckedFiles.Err: the size error wins; otherwise every invalid file, one per line. */
export function checkedFilesError(sizeError: string | undefined, invalid: FileError[]): string | undefined {
  if (sizeError) return sizeError;
  if (invalid.length > 0) return invalid.map((e) => `${e.path}: ${e.message}`).join('\n');
  return undefined;
}
