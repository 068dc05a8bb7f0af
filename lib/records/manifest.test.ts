import { describe, expect, it } from 'vitest';
import { hashGoMod } from '../gomod/dirhash.js';
import { MemoryStorage } from '../storage/memoryStorage.js';
import { blobKey, manifestKey } from './layout.js';
import { BLOB_REUSE_MAX_AGE_MS, commitManifest, readManifest, sha256Hex } from './manifest.js';

const M = 'example.com/m';
const MOD = Buffer.from(`module ${M}\n`);
const H1 = hashGoMod(MOD);
const ZIP_H1 = 'h1:' + Buffer.alloc(32, 7).toString('base64');

describe('manifest schemas', () => {
  it('writes proxy pins with schema 2 and git pins with schema 1, and reads both', async () => {
    const s = new MemoryStorage();
    const info = '{"Version":"v1.0.0","Time":"2020-01-01T00:00:00Z"}';
    const proxy = await commitManifest(s, { path: M, version: 'v1.0.0', info, mod: { data: MOD, h1: H1 }, source: { kind: 'proxy', modH1: H1, zipH1: ZIP_H1 } });
    expect(proxy.record.schema).toBe(2);
    expect((await readManifest(s, M, 'v1.0.0'))?.source).toEqual({ kind: 'proxy', modH1: H1, zipH1: ZIP_H1 });
    const git = await commitManifest(s, { path: M, version: 'v1.1.0', info, mod: { data: MOD, h1: H1 }, source: { kind: 'git', commit: 'a'.repeat(40), dir: '' } });
    expect(git.record.schema).toBe(1);
    expect((await readManifest(s, M, 'v1.1.0'))?.source).toEqual({ kind: 'git', commit: 'a'.repeat(40), dir: '' });
  });

  it('refuses a pin under the wrong schema, a malformed proxy pin and unknown schemas', async () => {
    const s = new MemoryStorage();
    const put = async (v: string, record: object) =>
      s.createIfAbsent(manifestKey(M, v), Buffer.from(JSON.stringify({ path: M, version: v, info: '{}', mod: {}, committedAt: '', ...record })));
    await put('v1.0.0', { schema: 1, source: { kind: 'proxy', modH1: H1, zipH1: ZIP_H1 } });
    await put('v1.0.1', { schema: 2, source: { kind: 'git', commit: 'a'.repeat(40), dir: '' } });
    await put('v1.0.2', { schema: 2, source: { kind: 'proxy', modH1: H1, zipH1: 'h1:short' } });
    await put('v1.0.3', { schema: 3, source: { kind: 'proxy', modH1: H1, zipH1: ZIP_H1 } });
    for (const v of ['v1.0.0', 'v1.0.1', 'v1.0.2', 'v1.0.3']) {
      await expect(readManifest(s, M, v)).rejects.toThrow(/corrupt or of an unknown schema/);
    }
  });
});

describe('naming bodies that already exist (the gc reuse rule)', () => {
  const big = Buffer.from(`module ${M}\n// ${'x'.repeat(70 * 1024)}\n`);
  const input = (v: string) => ({ path: M, version: v, info: '{}', mod: { data: big, h1: hashGoMod(big) }, source: { kind: 'git' as const, commit: 'a'.repeat(40), dir: '' } });

  it('names a recent body it finds, and a fresh copy of an old one (which gc may be deleting)', async () => {
    const s = new MemoryStorage();
    const first = await commitManifest(s, input('v1.0.0'));
    expect(first.record.mod.blob).toBe(blobKey(sha256Hex(big)));
    // A recent body with the same bytes: named as it is.
    expect((await commitManifest(s, input('v1.0.1'))).record.mod.blob).toBe(blobKey(sha256Hex(big)));
    // Older than the reuse age: another name, so gc's grace argument holds.
    s.created.set(blobKey(sha256Hex(big)), new Date(Date.now() - BLOB_REUSE_MAX_AGE_MS - 1000));
    const later = await commitManifest(s, input('v1.0.2'));
    expect(later.record.mod.blob).toMatch(new RegExp(`^${blobKey(sha256Hex(big))}\\.[0-9a-f-]{36}$`));
    expect(Buffer.from((await s.read(later.record.mod.blob!))!).equals(big)).toBe(true);
  });
});
