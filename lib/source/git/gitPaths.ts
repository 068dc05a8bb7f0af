// git's own checks on the paths of a tree, as `git archive` applies them
// (docs/go-rules/zip.md#what-git-archive-refuses).
//
// Before writing anything, `git archive` loads the *whole* commit tree into a
// temporary index (archive.c write_archive_entries(): unpack_trees), and every
// entry added to an index must pass verify_path() (read-cache.c). A tree that
// holds `.git/config`, `.GIT/hooks/x`, a file named `.git`, or names that NTFS
// would read as `.git` (`.git `, `.git.`, `git~1`) makes the archive fail with
// "invalid path '<path>'", so the go command never creates that zip. Ported
// from git 2.39 with the defaults of a Linux build: core.protectNTFS on (the
// default everywhere since 2.24.1), core.protectHFS off (on only for macOS).
//
// Paths are JavaScript strings of the tree's names; every character these
// checks compare is ASCII, and a non-ASCII character compares unequal to all
// of them, as its bytes do in git.

/** Index mode of a tree entry, as verify_path() distinguishes them. */
export type EntryKind = 'file' | 'symlink' | 'gitlink';

/** read-cache.c verify_path(): whether git accepts `path` as an index entry. */
export function verifyPath(path: string, kind: EntryKind): boolean {
  const symlink = kind === 'symlink';
  let i = 0;
  let c: string | undefined;
  // Every component start, including the first, is checked as "after a separator".
  for (let atStart = true; ; ) {
    if (atStart) {
      if (isNtfsDotgit(path, i)) return false;
      if (symlink && isNtfsDotGeneric(path, i, 'gitmodules', 'gi7eba')) return false;
      c = path[i++];
      if ((c === '.' && !verifyDotfile(path, i, symlink)) || c === '/') return false;
      // A trailing separator is allowed for sparse directory entries only.
      if (c === undefined) return false;
      atStart = false;
    } else if (c === '\\') {
      if (isNtfsDotgit(path, i)) return false;
      if (symlink && isNtfsDotGeneric(path, i, 'gitmodules', 'gi7eba')) return false;
    }
    c = path[i++];
    if (c === undefined) return true;
    if (c === '/') atStart = true;
  }
}

/**
 * read-cache.c verify_dotfile(), `rest` starting after a component's leading
 * ".": refuses ".", "..", ".git" in any case, and for symbolic links also
 * ".gitmodules" in any case.
 */
function verifyDotfile(s: string, i: number, symlink: boolean): boolean {
  const c = s[i];
  if (c === undefined || c === '/') return false;
  if (c === 'g' || c === 'G') {
    if (s[i + 1] !== 'i' && s[i + 1] !== 'I') return true;
    if (s[i + 2] !== 't' && s[i + 2] !== 'T') return true;
    const after = s[i + 3];
    if (after === undefined || after === '/') return false;
    if (symlink && asciiLower(s.slice(i + 3, i + 10)) === 'modules') {
      const end = s[i + 10];
      if (end === undefined || end === '/') return false;
    }
    return true;
  }
  if (c === '.') {
    const next = s[i + 1];
    if (next === undefined || next === '/') return false;
  }
  return true;
}

/**
 * path.c is_ntfs_dotgit(): ".git" or its short name "git~1" (any case),
 * followed only by spaces and periods up to the end of the component (a
 * separator, a backslash, or an NTFS stream ":").
 */
function isNtfsDotgit(s: string, i: number): boolean {
  let c = s[i++];
  if (c === '.') {
    if (((c = s[i++]) !== 'g' && c !== 'G') || ((c = s[i++]) !== 'i' && c !== 'I') || ((c = s[i++]) !== 't' && c !== 'T')) return false;
  } else if (c === 'g' || c === 'G') {
    if (((c = s[i++]) !== 'i' && c !== 'I') || ((c = s[i++]) !== 't' && c !== 'T') || s[i++] !== '~' || s[i++] !== '1') return false;
  } else {
    return false;
  }
  for (;;) {
    c = s[i++];
    if (c === undefined || c === '/' || c === '\\' || c === ':') return true;
    if (c !== '.' && c !== ' ') return false;
  }
}

/**
 * path.c is_ntfs_dot_generic(): ".<name>" or one of its NTFS short names
 * (the first six characters with "~1".."~4", or the fall-back hash form),
 * followed only by spaces and periods up to the end or an NTFS stream ":".
 */
function isNtfsDotGeneric(s: string, start: number, dotgitName: string, shortPrefix: string): boolean {
  const at = (k: number) => s[start + k];
  const onlySpacesAndPeriods = (k: number): boolean => {
    for (;;) {
      const c = at(k++);
      if (c === undefined || c === ':') return true;
      if (c !== ' ' && c !== '.') return false;
    }
  };
  if (at(0) === '.' && asciiLower(s.slice(start + 1, start + 1 + dotgitName.length)) === dotgitName) {
    return onlySpacesAndPeriods(dotgitName.length + 1);
  }
  const d7 = at(7);
  if (asciiLower(s.slice(start, start + 6)) === dotgitName.slice(0, 6) && at(6) === '~' && d7 !== undefined && d7 >= '1' && d7 <= '4') {
    return onlySpacesAndPeriods(8);
  }
  let sawTilde = false;
  for (let k = 0; k < 8; k++) {
    const c = at(k);
    if (c === undefined) return false;
    if (sawTilde) {
      if (c < '0' || c > '9') return false;
    } else if (c === '~') {
      const d = at(++k);
      if (d === undefined || d < '1' || d > '9') return false;
      sawTilde = true;
    } else if (k >= 6) {
      return false;
    } else if (c.charCodeAt(0) >= 0x80) {
      return false;
    } else if (asciiLower(c) !== shortPrefix[k]) {
      return false;
    }
  }
  return onlySpacesAndPeriods(8);
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 32));
}

/**
 * The deepest tree nesting `git archive` walks. git 2.43 and later stop
 * beyond it with "exceeded maximum allowed tree depth" (core.maxTreeDepth,
 * 2048 by default outside MSVC builds; tree-walk.c traverse_trees()); older
 * versions recurse until the stack overflows, and the go command reports
 * "signal: segmentation fault" (git 2.39 at 10,000 levels). Either way the go
 * command fails, so modproxy refuses any tree nested deeper, with the newer
 * text.
 */
export const MAX_TREE_DEPTH = 2048;

/** archive-zip.c: a zip entry name (with the "prefix/" the go command asks for) longer than this fails. */
export const MAX_ZIP_PATH = 0xffff;
