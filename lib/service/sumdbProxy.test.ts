// The checksum database proxy over in-memory storage and an in-process fake
// database that can be made to misbehave: what is verified and kept, what is
// refused and not kept, what is served stale, and the seed's /supported.
import { beforeEach, describe, expect, it } from 'vitest';
import { isNotFound, ProxyError } from '../errors.js';
import { createLogger } from '../log/logger.js';
import { MemoryTreeStore, SumdbClient } from '../sumdb/client.js';
import { MemoryStorage } from '../storage/memoryStorage.js';
import { aroundStorage } from '../../test/support/aroundStorage.js';
import { FakeSumdb, sumLines } from '../../test/support/fakeSumdb.js';
import { testKey } from '../../test/support/noteKey.js';
import type { Artifact } from './artifact.js';
import { SumdbProxy } from './sumdbProxy.js';
import { SumdbVerifier } from '../source/proxy/sumdbVerifier.js';

const key = testKey('fake.test');
let db: FakeSumdb;
let storage: MemoryStorage;
let clock: number;
let down: boolean;

let lastClient: SumdbClient;

function proxy(discourageDirect = false, isPrivate?: (modPath: string) => boolean): SumdbProxy {
  const fetch = db.fetcher();
  const guarded: typeof fetch = async (p, o) => {
    if (down) throw new Error('connection refused');
    return fetch(p, o);
  };
  const client = new SumdbClient({ key: key.vkey, fetch: guarded, store: new MemoryTreeStore(), tileHeight: 2 });
  lastClient = client;
  return new SumdbProxy({ databases: new Map([['fake.test', { client, fetch: guarded }]]), storage, log: createLogger({ write: () => {} }), discourageDirect, now: () => clock, isPrivate });
}

const text = (a: Artifact) => Buffer.from(a.bytes!).toString('utf8');

beforeEach(async () => {
  db = new FakeSumdb(key);
  for (let i = 0; i < 11; i++) await db.add(sumLines(`m${i}`, 'v1.0.0'));
  storage = new MemoryStorage();
  clock = 0;
  down = false;
});

describe('SumdbProxy', () => {
  it('answers /supported for the databases it proxies, and /sumdb/supported as go-mod-proxy does', async () => {
    expect((await proxy().serve('fake.test/supported')).size).toBe(0);
    await expect(proxy().serve('other.test/supported')).rejects.toSatisfy(isNotFound);
    await expect(proxy(false).serve('supported')).rejects.toMatchObject({ kind: 'gone' });
    expect((await proxy(true).serve('supported')).immutable).toBe(false);
  });

  it('never asks the database about a private path: 404 naming GONOSUMDB, nothing kept', async () => {
    const p = proxy(false, (m) => m === 'example.com/Private' || m.startsWith('example.com/Private/'));
    for (const path of ['example.com/!private/lib@v1.0.0', 'example.com/!private@v0.0.0-20200101000000-abcdefabcdef']) {
      const err = await p.serve(`fake.test/lookup/${path}`).catch((e: unknown) => e);
      expect(isNotFound(err), path).toBe(true);
      expect((err as Error).message).toMatch(/example.com\/Private.* is a private module here .*GONOSUMDB/);
    }
    expect(db.requests).toEqual([]);
    expect(await storage.list('sumdb/')).toEqual([]);
    // Other paths, escaped alike, are looked up as before.
    expect(text(await p.serve('fake.test/lookup/example.com/m3@v1.0.0'))).toContain('example.com/m3 v1.0.0 h1:');
  });

  it('keeps verified lookups and tiles, and serves them with the database gone', async () => {
    const p = proxy();
    const lookup = await p.serve('fake.test/lookup/example.com/m3@v1.0.0');
    expect(lookup.immutable).toBe(true);
    expect(text(lookup)).toContain('example.com/m3 v1.0.0 h1:');
    const tile = await p.serve('fake.test/tile/2/0/001');
    expect(tile.size).toBe(4 * 32);
    const partial = await p.serve('fake.test/tile/2/1/000.p/2');
    expect(partial.size).toBe(2 * 32);
    expect((await storage.list('sumdb/fake.test/')).sort()).toEqual(
      ['sumdb/fake.test/lookup/example.com/m3@v1.0.0', 'sumdb/fake.test/tile/2/0/001', 'sumdb/fake.test/tile/2/1/000.p/2'].sort(),
    );
    down = true;
    const again = proxy();
    expect(text(await again.serve('fake.test/lookup/example.com/m3@v1.0.0'))).toBe(text(lookup));
    expect(Buffer.from((await again.serve('fake.test/tile/2/0/001')).bytes!)).toEqual(Buffer.from(tile.bytes!));
  });

  it('serves a lookup its client verified moments ago without asking the database again', async () => {
    const p = proxy();
    const verified = await lastClient.lookup('example.com/m5', 'v1.0.0');
    const asked = db.requests.length;
    expect(Buffer.from((await p.serve('fake.test/lookup/example.com/m5@v1.0.0')).bytes!)).toEqual(Buffer.from(verified.body));
    expect(db.requests.length).toBe(asked);
  });

  it('keeps the lookup that verified a module, so the client’s /lookup is a storage read with the database gone', async () => {
    const p = proxy();
    const verifier = new SumdbVerifier(lastClient, (l) => p.keepLookup('fake.test', l));
    const kept: string[] = [];
    const counting = new SumdbVerifier(lastClient, (l) => kept.push(`${l.path}@${l.version}`));
    await verifier.zipH1For('example.com/m4', 'v1.0.0');
    await p.idle();
    expect(await storage.list('sumdb/fake.test/lookup/')).toEqual(['sumdb/fake.test/lookup/example.com/m4@v1.0.0']);
    down = true;
    expect(text(await proxy().serve('fake.test/lookup/example.com/m4@v1.0.0'))).toContain('example.com/m4 v1.0.0/go.mod h1:');
    // One answer is handed on once, however many hashes are asked of it.
    down = false;
    await counting.zipH1For('example.com/m6', 'v1.0.0');
    await counting.verifyMod('example.com/m6', 'v1.0.0', new TextEncoder().encode('x')).catch(() => {});
    expect(kept).toEqual(['example.com/m6@v1.0.0']);
    // A database this proxy does not serve is not kept.
    p.keepLookup('other.test', await lastClient.lookup('example.com/m7', 'v1.0.0'));
    await p.idle();
    expect(await storage.list('sumdb/other.test/')).toEqual([]);
  });

  it('serves kept answers from memory, as storage holds them (the winner of a racing create)', async () => {
    const p = proxy();
    const reads: string[] = [];
    const read = storage.read.bind(storage);
    storage.read = (k) => (reads.push(k), read(k));
    // Another replica kept its own copy of m8's lookup first (a different signed tree head, say).
    const theirs = Buffer.from('their copy of the lookup\n');
    await storage.createIfAbsent('sumdb/fake.test/lookup/example.com/m8@v1.0.0', theirs);
    p.keepLookup('fake.test', await lastClient.lookup('example.com/m8', 'v1.0.0'));
    p.keepLookup('fake.test', await lastClient.lookup('example.com/m9', 'v1.0.0'));
    await p.idle();
    reads.length = 0;
    const asked = db.requests.length;
    expect(Buffer.from((await p.serve('fake.test/lookup/example.com/m8@v1.0.0')).bytes!)).toEqual(theirs);
    expect(text(await p.serve('fake.test/lookup/example.com/m9@v1.0.0'))).toContain('example.com/m9 v1.0.0 h1:');
    expect(reads).toEqual([]);
    expect(db.requests.length).toBe(asked);
    // A tile: fetched, verified and kept once, then served from memory.
    const tile = await p.serve('fake.test/tile/2/0/001');
    reads.length = 0;
    const afterTile = db.requests.length;
    expect(Buffer.from((await p.serve('fake.test/tile/2/0/001')).bytes!)).toEqual(Buffer.from(tile.bytes!));
    expect(reads).toEqual([]);
    expect(db.requests.length).toBe(afterTile);
  });

  it('keeps a lookup that verified a module with one create, no read before it', async () => {
    const calls: string[] = [];
    const p = proxy();
    const counted = () =>
      new SumdbProxy({
        databases: new Map([['fake.test', { client: lastClient, fetch: db.fetcher() }]]),
        storage: aroundStorage(storage, (what, call) => (calls.push(what), call())),
        log: createLogger({ write: () => {} }),
        discourageDirect: false,
      });
    const first = counted();
    first.keepLookup('fake.test', await lastClient.lookup('example.com/m2', 'v1.0.0'));
    await first.idle();
    expect(calls).toEqual(['create sumdb/fake.test/lookup/example.com/m2@v1.0.0']);
    // Already kept (by another replica, say): the create finds it and the stored copy is read back and served.
    calls.length = 0;
    const again = counted();
    again.keepLookup('fake.test', await lastClient.lookup('example.com/m2', 'v1.0.0'));
    await again.idle();
    expect(calls).toEqual(['create sumdb/fake.test/lookup/example.com/m2@v1.0.0', 'read sumdb/fake.test/lookup/example.com/m2@v1.0.0']);
    expect(text(await p.serve('fake.test/lookup/example.com/m2@v1.0.0'))).toContain('example.com/m2 v1.0.0 h1:');
  });

  it('refuses a tampered lookup or tile and keeps nothing of it', async () => {
    db.tamper = (path, a) => (path.startsWith('/lookup/') ? { ...a, body: Buffer.from(Buffer.from(a.body).toString().replace('h1:', 'h1:A')) } : a);
    await expect(proxy().serve('fake.test/lookup/example.com/m3@v1.0.0')).rejects.toBeInstanceOf(ProxyError);
    db.tamper = (path, a) => (path === '/tile/2/0/001' ? { ...a, body: Buffer.alloc(a.body.length, 7) } : a);
    await expect(proxy().serve('fake.test/tile/2/0/001')).rejects.toMatchObject({ kind: 'upstream' });
    expect(await storage.list('sumdb/')).toEqual([]);
  });

  it('answers an unknown module as not found, and a malformed path as a bad request', async () => {
    await expect(proxy().serve('fake.test/lookup/example.com/nope@v1.0.0')).rejects.toSatisfy(isNotFound);
    await expect(proxy().serve('fake.test/lookup/no-at-sign')).rejects.toMatchObject({ kind: 'bad-request' });
    await expect(proxy().serve('fake.test/tile/2/0/x1')).rejects.toMatchObject({ kind: 'bad-request' });
  });

  it('caches /latest briefly, and serves it stale while the database is down', async () => {
    const p = proxy();
    const first = text(await p.serve('fake.test/latest'));
    expect(first.split('\n')[1]).toBe('11');
    await db.add(sumLines('later', 'v1.0.0'));
    expect(text(await p.serve('fake.test/latest'))).toBe(first);
    clock += 61_000;
    expect(text(await p.serve('fake.test/latest')).split('\n')[1]).toBe('12');
    down = true;
    clock += 61_000;
    expect(text(await p.serve('fake.test/latest')).split('\n')[1]).toBe('12');
    clock += 3_600_000;
    await expect(p.serve('fake.test/latest')).rejects.toBeInstanceOf(Error);
  });
});
