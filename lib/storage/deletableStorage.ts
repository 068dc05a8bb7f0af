// Deletion: a capability apart from ObjectStorage, which the server never
// gets. Only `modproxy-admin gc` builds a DeletableStorage (app.ts's wiring
// types storage as ObjectStorage), and on GCS only an identity with
// storage.objects.delete (the optional admin account, roles/storage.objectAdmin)
// can use it; the serving account stays objectCreator + objectViewer.
import type { ObjectStorage } from './storage.js';

/** One object as a listing with metadata shows it. */
export interface ListedObject {
  key: string;
  size: number;
  created: Date;
  /**
   * What identifies this incarnation of the name: the GCS generation; on
   * disk, the file's inode and modification time. A delete conditional on it
   * leaves an object created again under the same name alone.
   */
  generation: string;
}

/** What a conditional delete did. */
export type DeleteResult = 'deleted' | 'absent' | 'changed';

export interface DeletableStorage extends ObjectStorage {
  /** Objects whose keys start with `prefix`, sorted by key, with size, creation time and generation. */
  listObjects(prefix: string): Promise<ListedObject[]>;
  /**
   * Deletes `key` if it is still the incarnation `ifGeneration` names:
   * 'changed' (nothing deleted) when the name now holds another one,
   * 'absent' when there is nothing to delete.
   */
  deleteObject(key: string, opts: { ifGeneration: string }): Promise<DeleteResult>;
}

export function isDeletable(s: ObjectStorage): s is DeletableStorage {
  const d = s as Partial<DeletableStorage>;
  return typeof d.listObjects === 'function' && typeof d.deleteObject === 'function';
}
