// The versions storage holds (one manifest each), for the admin commands.
import { parseRecordKey, VERSIONS_ROOT } from '../../records/layout.js';
import type { ObjectStorage } from '../../storage/storage.js';

/** Every committed version whose module path starts with `prefix`, in storage's listing order. */
export async function committedVersions(storage: ObjectStorage, prefix: string): Promise<Array<{ path: string; version: string }>> {
  const out: Array<{ path: string; version: string }> = [];
  for (const key of await storage.list(VERSIONS_ROOT)) {
    const r = parseRecordKey(key);
    if (r?.kind === 'manifest' && r.path.startsWith(prefix)) out.push({ path: r.path, version: r.version });
  }
  return out;
}
