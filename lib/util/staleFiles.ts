// Temporary files a crash left behind, in directories that replicas on one
// host may share: a file there may be another process's write in flight, so
// only files untouched for hours are taken for leftovers. No write takes
// nearly as long (a git fetch, a storage create).
import fs from 'node:fs';
import path from 'node:path';

/** How long a temporary file stays untouched before it is taken for a crash's leftover. */
export const STALE_TEMP_MS = 6 * 60 * 60 * 1000;

/**
 * Removes the files of `dir` whose names start with `prefix` and that have
 * been untouched for STALE_TEMP_MS at `now`. Synchronous: it runs once, when
 * a process opens the directory, and looks at the few names there.
 */
export function removeStaleFiles(dir: string, now: number, prefix = ''): void {
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const file = path.join(dir, name);
    try {
      if (now - fs.statSync(file).mtimeMs > STALE_TEMP_MS) fs.rmSync(file, { force: true });
    } catch {
      // gone already (another replica swept it): nothing to do
    }
  }
}

/** Directories swept by this process (sweepStaleFilesOnce). */
const swept = new Set<string>();

/**
 * removeStaleFiles, once per process and directory, for components opened
 * many times over one spool directory (a parent proxy per mod root). A
 * directory not made yet has nothing to sweep; a sweep that cannot read the
 * directory leaves it to the writes that follow, which say why.
 */
export function sweepStaleFilesOnce(dir: string, now = Date.now()): void {
  const key = path.resolve(dir);
  if (swept.has(key)) return;
  swept.add(key);
  try {
    removeStaleFiles(key, now);
  } catch {
    // absent or unreadable: see above
  }
}
