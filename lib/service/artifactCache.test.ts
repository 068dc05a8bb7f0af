// The in-memory artifact cache: bounded by bytes, keyed by storage name and
// content hash, and what a hit costs (no storage read, no source call).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.js';
import { blobKey, zipRecordKey } from '../records/layout.js';
import { MemoryStorage } from '../storage/memoryStorage.js';
import { MemorySources } from '../../test/support/memorySource.js';
import { ByteLru } from '../util/lru.js';
import type { Artifact } from './artifact.js';
import { ArtifactCache } from './artifactCache.js';
import { ModuleService } from './moduleService.js';

const nullLogger = createLogger({ write: () => {} });
const M = 'example.com/m';

/** Memory storage that counts every call. */
class CountingStorage extends MemoryStorage {
  readonly calls: string[] = [];
  override read(key: string) {
    this.calls.push(`read ${key}`);
    return super.read(key);
  }
  override openRead(key: string, range?: { start: number; end?: number }) {
    this.calls.push(`openRead ${key}`);
    return super.openRead(key, range);
  }
  override stat(key: string) {
    this.calls.push(`stat ${key}`);
    return super.stat(key);
  }
  override list(prefix: string, opts?: Parameters<MemoryStorage['list']>[1]) {
    this.calls.push(`list ${prefix}`);
    return super.list(prefix, opts);
  }
}

async function bytes(a: Artifact): Promise<Buffer> {
  if (a.bytes) return Buffer.from(a.bytes);
  const chunks: Buffer[] = [];
  for await (const c of await a.open()) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function versions(n: number) {
  const v: Record<string, { time: string; mod: string; files: Record<string, string> }> = {};
  for (let i = 0; i < n; i++) {
    const mod = `module ${M}\n\n// ${'x'.repeat(100)} ${i}\n`;
    v[`v1.${i}.0`] = { time: '2021-01-01T00:00:00Z', mod, files: { 'go.mod': mod, 'a.go': `package m\n// ${'y'.repeat(2000)} ${i}\n` } };
  }
  return v;
}

let tmp: string;
let storage: CountingStorage;
let sources: MemorySources;
const service = (cache?: { memoryBytes: number; maxZipBytes: number }) => new ModuleService({ storage, sources, log: nullLogger, tmpDir: tmp, cache });

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-cache-'));
  storage = new CountingStorage();
  sources = new MemorySources({ [M]: { versions: versions(3) } });
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('ByteLru', () => {
  it('holds at most maxBytes, evicting the least recently used, and refuses what alone exceeds the bound', () => {
    const lru = new ByteLru<string>(100);
    lru.set('a', 'a', 40);
    lru.set('b', 'b', 40);
    expect(lru.get('a')).toBe('a'); // a is now the most recently used
    lru.set('c', 'c', 40);
    expect(lru.bytes).toBe(80);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe('a');
    expect(lru.get('c')).toBe('c');
    lru.set('huge', 'h', 101);
    expect(lru.get('huge')).toBeUndefined();
    expect(lru.bytes).toBeLessThanOrEqual(100);
    lru.set('a', 'a2', 10);
    expect(lru.bytes).toBe(50);
  });

  it('keeps what it was just given when everything older was read since (each read entry gets one second chance)', () => {
    const lru = new ByteLru<string>(100);
    lru.set('a', 'a', 40);
    lru.set('b', 'b', 40);
    lru.get('a');
    lru.get('b');
    lru.set('c', 'c', 40);
    // Both were read: a, the older, goes; b stays, its mark spent; c stays.
    expect([lru.get('a'), lru.get('b'), lru.get('c')]).toEqual([undefined, 'b', 'c']);
    expect(lru.bytes).toBe(80);
    expect(lru.evictions).toBe(1);
  });
});

describe('ArtifactCache', () => {
  it('shares one load among concurrent misses and does not keep absence', async () => {
    const cache = new ArtifactCache({ maxBytes: 1 << 20 });
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 5));
      return 'v';
    };
    const got = await Promise.all(Array.from({ length: 10 }, () => cache.get('k', load, () => 1)));
    expect(got).toEqual(Array(10).fill('v'));
    expect(loads).toBe(1);
    let nulls = 0;
    await cache.get('absent', async () => (nulls++, null), () => 1);
    await cache.get('absent', async () => (nulls++, null), () => 1);
    expect(nulls).toBe(2);
  });

  it('keys bodies by storage name and hash: the same hash under another name is read from that name', async () => {
    const cache = new ArtifactCache({ maxBytes: 1 << 20 });
    const reads: string[] = [];
    const read = (name: string) => async () => (reads.push(name), name === 'a' ? 'body of a' : null);
    expect(await cache.get(ArtifactCache.bodyKey('a', 'h'), read('a'), () => 9)).toBe('body of a');
    expect(await cache.get(ArtifactCache.bodyKey('b', 'h'), read('b'), () => 9)).toBeNull();
    expect(await cache.get(ArtifactCache.bodyKey('a', 'other'), read('a'), () => 9)).toBe('body of a');
    expect(reads).toEqual(['a', 'b', 'a']);
  });
});

describe('ModuleService with the cache', () => {
  it('answers a hit of .info, .mod and .zip without storage or source calls once cached', async () => {
    const s = service();
    const first: Record<string, Buffer> = {};
    for (const ext of ['info', 'mod', 'zip'] as const) first[ext] = await bytes(await s[ext](M, 'v1.0.0'));
    await s.idle();
    // The first hit after the commit reads storage once; from then on nothing.
    for (const ext of ['info', 'mod', 'zip'] as const) await s[ext](M, 'v1.0.0');
    storage.calls.length = 0;
    sources.calls.length = 0;
    for (let i = 0; i < 3; i++) {
      for (const ext of ['info', 'mod', 'zip'] as const) expect(await bytes(await s[ext](M, 'v1.0.0'))).toEqual(first[ext]);
    }
    expect(storage.calls).toEqual([]);
    expect(sources.calls).toEqual([]);
  });

  it('reads storage on every hit when the cache is off (memoryBytes 0)', async () => {
    const s = service({ memoryBytes: 0, maxZipBytes: 1 << 20 });
    await s.mod(M, 'v1.0.0');
    await s.idle();
    storage.calls.length = 0;
    await s.mod(M, 'v1.0.0');
    await s.zip(M, 'v1.0.0');
    expect(storage.calls.length).toBeGreaterThan(0);
  });

  it('never serves a cached body for a record naming another storage object, even with the same hash', async () => {
    const s = service();
    const good = await s.zip(M, 'v1.0.0');
    await bytes(good);
    await s.idle();
    // A (corrupt) record of v1.1.0 naming v1.0.0's hash under a name storage does not hold.
    await s.mod(M, 'v1.1.0');
    await s.idle();
    const key = zipRecordKey(M, 'v1.1.0');
    const rec = JSON.parse(Buffer.from((await storage.read(key))!).toString()) as { zip: { blob: string; sha256: string; size: number } };
    rec.zip = { ...rec.zip, sha256: good.sha256, size: good.size, blob: blobKey('0'.repeat(64)) };
    storage.objects.set(key, Buffer.from(JSON.stringify(rec)));
    const fresh = new ModuleService({ storage, sources, log: nullLogger, tmpDir: tmp });
    await bytes(await fresh.zip(M, 'v1.0.0')); // v1.0.0's body is cached under its own name
    await expect(fresh.zip(M, 'v1.1.0')).rejects.toThrow(/storage lost/);
  });

  it('holds no more than cache.memoryBytes however many versions are served', async () => {
    sources = new MemorySources({ [M]: { versions: versions(30) } });
    const bound = 8 * 1024;
    const s = service({ memoryBytes: bound, maxZipBytes: 4096 });
    for (let i = 0; i < 30; i++) {
      for (const ext of ['info', 'mod', 'zip'] as const) await s[ext](M, `v1.${i}.0`);
      expect(s.cachedBytes).toBeLessThanOrEqual(bound);
    }
    await s.idle();
    expect(s.cachedBytes).toBeGreaterThan(0);
  });

  it('counts the answers the HTTP layer remembers in the same bound, at the full size of the body they hold', async () => {
    sources = new MemorySources({ [M]: { versions: versions(30) } });
    const bound = 8 * 1024;
    const s = service({ memoryBytes: bound, maxZipBytes: 4096 });
    for (let i = 0; i < 30; i++) {
      for (const ext of ['info', 'mod', 'zip'] as const) {
        const a = await s[ext](M, `v1.${i}.0`);
        s.answers.set(`/${M}/@v/v1.${i}.0.${ext}`, { held: a }, a);
      }
      expect(s.cachedBytes).toBeLessThanOrEqual(bound);
    }
    // The oldest answers were let go with the bodies; the newest is kept.
    expect(s.answers.get(`/${M}/@v/v1.0.0.zip`)).toBeUndefined();
    expect(s.answers.get(`/${M}/@v/v1.29.0.mod`)).toBeDefined();
    await s.idle();
  });
});
