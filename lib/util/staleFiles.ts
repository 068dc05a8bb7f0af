// Temporary files a crash left behind, in directories that replicas on one
// host may share: a file there may be another process's write in flight, so
// only files untouched for hours are taken for leftovers. No write takes
// nearly as long (a git fetch, a storage create).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** How long a temporary file stays untouched before it is taken for a crash's leftover. */
export const STALE_TEMP_MS = 6 * 60 * 60 * 1000;

/**
 * Removes the regular files of `dir` whose names are ours (start with
 * `names`, or match it) and that have been untouched for STALE_TEMP_MS at
 * `now`. Anything else is left alone: the directory may be one the operator
 * or a test shares with other programs. Synchronous: it runs once, when a
 * process opens the directory, and looks at the few names there.
 */
export function removeStaleFiles(dir: string, now: number, names: string | RegExp): void {
  for (const name of fs.readdirSync(dir)) {
    if (typeof names === 'string' ? !name.startsWith(names) : !names.test(name)) continue;
    const file = path.join(dir, name);
    try {
      // lstat: a link is not ours to follow, nor to remove.
      const st = fs.lstatSync(file);
      if (st.isFile() && now - st.mtimeMs > STALE_TEMP_MS) fs.rmSync(file, { force: true });
    } catch {
      // gone already (another replica swept it): nothing to do
    }
  }
}

/** The name of a spool file: a random UUID and `.zip` (moduleService.ts, parentProxy.ts). */
export const SPOOL_ZIP_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.zip$/;

/** A new spool file's name (SPOOL_ZIP_NAME). */
export const spoolZipName = (): string => `${crypto.randomUUID()}.zip`;

/** Directories swept by this process (sweepStaleFilesOnce). */
const swept = new Set<string>();

/**
 * removeStaleFiles, once per process and directory, for components opened
 * many times over one spool directory (a parent proxy per mod root). A
 * directory not made yet has nothing to sweep; a sweep that cannot read the
 * directory leaves it to the writes that follow, which say why.
 */
export function sweepStaleFilesOnce(dir: string, names: string | RegExp, now = Date.now()): void {
  const key = path.resolve(dir);
  if (swept.has(key)) return;
  swept.add(key);
  try {
    removeStaleFiles(key, now, names);
  } catch {
    // absent or unreadable: see above
  }
}
