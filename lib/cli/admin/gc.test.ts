// gc's ordering argument at the storage seam: a record committed while gc
// runs — after it listed the bodies — is seen, so the body it names is kept.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { blobKey, zipRecordKey } from '../../records/layout.js';
import { sha256Hex } from '../../records/manifest.js';
import { FsStorage } from '../../storage/fsStorage.js';
import type { ListedObject } from '../../storage/deletableStorage.js';
import { parseGcArgs, runGc } from './gc.js';

const DAY = 86_400_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Disk storage on which another writer commits a record right after gc has listed the bodies. */
class CommitDuringGc extends FsStorage {
  afterBodiesListed?: () => Promise<void>;
  override async listObjects(prefix: string): Promise<ListedObject[]> {
    const listed = await super.listObjects(prefix);
    const hook = prefix === 'blobs/' ? this.afterBodiesListed : undefined;
    this.afterBodiesListed = undefined;
    await hook?.();
    return listed;
  }
}

function aged(dir: string, key: string, ms: number): void {
  const t = new Date(Date.now() - ms);
  fs.utimesSync(path.join(dir, ...key.split('/')), t, t);
}

it('keeps a body whose record is committed after gc listed the bodies', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gc-order-'));
  dirs.push(dir);
  const s = new CommitDuringGc(dir);
  const body = Buffer.from('zip bytes');
  const key = blobKey(sha256Hex(body));
  await s.createIfAbsent(key, body);
  aged(dir, key, 3 * DAY);
  const other = blobKey(sha256Hex(Buffer.from('really unnamed')));
  await s.createIfAbsent(other, Buffer.from('really unnamed'));
  aged(dir, other, 3 * DAY);
  s.afterBodiesListed = async () => {
    const record = { schema: 1, path: 'example.com/m', version: 'v1.0.0', source: { kind: 'git', commit: 'a'.repeat(40), dir: '' }, zip: { sha256: sha256Hex(body), size: body.length, h1: 'h1:x', files: 1, blob: key }, committedAt: new Date().toISOString() };
    await s.createIfAbsent(zipRecordKey('example.com/m', 'v1.0.0'), Buffer.from(JSON.stringify(record)));
  };
  const out: string[] = [];
  const err: string[] = [];
  expect(await runGc(s, { delete: true, graceMs: 2 * DAY }, { out: (l) => out.push(l), err: (l) => err.push(l) })).toBe(0);
  expect(err).toEqual([]);
  expect(out.filter((l) => l.startsWith('deleted ')).map((l) => l.split(' ')[1])).toEqual([other]);
  expect(await s.stat(key)).not.toBeNull();
});

it('parses its arguments: dry run and 48h by default, at least 2h', () => {
  expect(parseGcArgs([])).toEqual({ delete: false, graceMs: 2 * DAY });
  expect(parseGcArgs(['--delete', '--grace', '7d'])).toEqual({ delete: true, graceMs: 7 * DAY });
  expect(parseGcArgs(['--grace=90m'])).toMatchObject({ error: expect.stringMatching(/at least 2h/) });
  expect(parseGcArgs(['--grace', 'soon'])).toMatchObject({ error: expect.stringMatching(/not a duration/) });
  expect(parseGcArgs(['--force'])).toMatchObject({ error: expect.stringMatching(/unknown argument/) });
});
