// The client against an in-process database (test/support/fakeSumdb.ts) that
// can be made to misbehave in every way; test/sumdb.test.ts runs it against
// Go's own server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSumdb, sumLines, type Answer } from '../../test/support/fakeSumdb.js';
import { testKey, type TestKey } from '../../test/support/noteKey.js';
import {
  MemoryTreeStore,
  SUM_GOLANG_ORG_KEY,
  SumdbClient,
  SumdbError,
  SumdbForkError,
  SumdbHttpStatusError,
  SumdbNotFoundError,
  SumdbStoreError,
  SumdbTransportError,
  SumdbVerificationError,
  httpSumdbFetch,
  vouchedHash,
  type SumdbClientOptions,
  type SumdbFetch,
  type TreeStore,
} from './client.js';
import { openNote, parseVerifierKey } from './note.js';
import { formatRecord, formatTree, parseTree } from './tlog.js';

const enc = (s: string) => new TextEncoder().encode(s);
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

let key: TestKey;
function setup(n = 10, opts: Partial<SumdbClientOptions> = {}) {
  key ??= testKey('fake.test');
  const db = new FakeSumdb(key);
  const store = new MemoryTreeStore();
  const client = new SumdbClient({ key: key.vkey, fetch: db.fetcher(), store, ...opts });
  return {
    db,
    store,
    client,
    async fill(count = n, from = 0, seed = '') {
      for (let i = from; i < from + count; i++) await db.add(sumLines(`m${i}`, 'v1.0.0', `m${i}${seed}`));
    },
  };
}

async function failure(p: Promise<unknown>): Promise<SumdbError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SumdbError) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

function treeOf(note: Uint8Array | null) {
  if (!note) return null;
  return parseTree(openNote(note, [parseVerifierKey(key.vkey)]).text);
}

describe('configuration', () => {
  it('knows sum.golang.org\'s key (its key hash checks out)', () => {
    const c = new SumdbClient({ key: SUM_GOLANG_ORG_KEY, fetch: async () => new Uint8Array(), store: new MemoryTreeStore() });
    expect(c.name).toBe('sum.golang.org');
  });

  it('refuses a bad key or tile height at construction', () => {
    const base = { fetch: async () => new Uint8Array(), store: new MemoryTreeStore() };
    expect(() => new SumdbClient({ ...base, key: 'sum.golang.org+033de0ae+AAAA' })).toThrow(/bad verifier key/);
    expect(() => new SumdbClient({ ...base, key: SUM_GOLANG_ORG_KEY, tileHeight: 0 })).toThrow(/tile height/);
    expect(() => new SumdbClient({ ...base, key: SUM_GOLANG_ORG_KEY, tileHeight: 31 })).toThrow(/tile height/);
  });
});

describe('lookup', () => {
  it('returns the two go.sum lines once the record is proven, and remembers the tree', async () => {
    const { db, store, client, fill } = setup();
    await fill(300);
    for (const i of [0, 1, 255, 256, 299]) {
      const r = await client.lookup(`example.com/m${i}`, 'v1.0.0');
      expect(r.lines).toEqual(sumLines(`m${i}`, 'v1.0.0'));
      expect(vouchedHash(r.lines, `example.com/m${i}`, 'v1.0.0')).toBe(r.lines[0].split(' ')[2]);
      expect(vouchedHash(r.lines, `example.com/m${i}`, 'v1.0.0/go.mod')).toBe(r.lines[1].split(' ')[2]);
      expect(r.recordId).toBe(BigInt(i));
      expect(r.tree.n).toBe(300n);
    }
    expect(store.sizes()).toEqual([300n]);
    expect((await client.verifiedTree())?.n).toBe(300n);
    // Tiles asked for: /tile/8/… only, never data tiles.
    expect(db.requests.filter((p) => p.startsWith('/tile/')).every((p) => /^\/tile\/8\/[01]\//.test(p))).toBe(true);
  });

  it('asks for each tile of a tree once, partial tiles included, and still proves every lookup', async () => {
    const { db, client, fill } = setup();
    await fill(300);
    for (const i of [3, 5, 260, 270, 299]) await client.lookup(`example.com/m${i}`, 'v1.0.0');
    const tiles = db.requests.filter((p) => p.startsWith('/tile/'));
    // Tree 300: full tile 0/000, partial 0/001.p/44 and 1/000.p/1; each asked for once.
    expect(new Set(tiles).size).toBe(tiles.length);
    expect(tiles).toContain('/tile/8/0/001.p/44');
    // The database grows: the wider partial tile replaces the narrower one, and both trees' lookups still prove.
    await fill(10, 300);
    db.requests.length = 0;
    const r = await client.lookup('example.com/m305', 'v1.0.0');
    expect(r.tree.n).toBe(310n);
    expect(db.requests).toContain('/tile/8/0/001.p/54');
    db.requests.length = 0;
    expect((await client.lookup('example.com/m301', 'v1.0.0')).tree.n).toBe(310n);
    expect(db.requests.filter((p) => p.startsWith('/tile/'))).toEqual([]);
    // A cached partial tile that does not prove against the head (here: the database tampers with it from now on,
    // and a fresh client shares nothing) is refused, never served from memory.
    db.tamper = (p, a) => (p === '/tile/8/0/001.p/54' ? { ...a, body: Buffer.from(a.body).fill(7, 0, 32) } : a);
    const other = new SumdbClient({ key: key.vkey, fetch: db.fetcher(), store: new MemoryTreeStore() });
    expect(await failure(other.lookup('example.com/m309', 'v1.0.0'))).toBeInstanceOf(SumdbVerificationError);
  });

  it('escapes the path and version in the request', async () => {
    const { db, client } = setup();
    await db.add([
      'example.com/Upper/Case v1.0.0-RC h1:' + Buffer.alloc(32, 1).toString('base64'),
      'example.com/Upper/Case v1.0.0-RC/go.mod h1:' + Buffer.alloc(32, 2).toString('base64'),
    ]);
    const r = await client.lookup('example.com/Upper/Case', 'v1.0.0-RC');
    expect(r.lines[0]).toMatch(/^example.com\/Upper\/Case v1.0.0-RC h1:/);
    expect(db.requests[0]).toBe('/lookup/example.com/!upper/!case@v1.0.0-!r!c');
  });

  it('tells "not in the database" (404, 410) from everything else', async () => {
    const { db, client, fill } = setup();
    await fill(3);
    db.markGone('example.com/m1@v1.0.0');
    const e404 = await failure(client.lookup('example.com/none', 'v1.0.0'));
    expect(e404).toBeInstanceOf(SumdbNotFoundError);
    expect((e404 as SumdbNotFoundError).status).toBe(404);
    expect(e404.kind).toBe('not-found');
    const e410 = await failure(client.lookup('example.com/m1', 'v1.0.0'));
    expect(e410).toBeInstanceOf(SumdbNotFoundError);
    expect((e410 as SumdbNotFoundError).status).toBe(410);
    db.tamper = (p, a) => (p.startsWith('/lookup/') ? { status: 500, body: enc('oops') } : a);
    const e500 = await failure(client.lookup('example.com/m2', 'v1.0.0'));
    expect(e500).toBeInstanceOf(SumdbTransportError);
    expect(e500.message).toMatch(/status 500/);
    expect(e500.kind).toBe('upstream');
  });

  it('refuses arguments it cannot ask about', async () => {
    const { client } = setup();
    await expect(client.lookup('example.com/m', 'v1.0.0/go.mod')).rejects.toThrow(/module version/);
    await expect(client.lookup('not a path', 'v1.0.0')).rejects.toThrow(/malformed module path/);
    await expect(client.lookup('example.com/m', 'v1.0.0!')).rejects.toThrow(/disallowed version string/);
  });

  it('reads a proven record as the go command does: the first h1 line of each kind decides, other lines pass', async () => {
    const { db, client } = setup();
    const [zip, mod] = sumLines('m', 'v1.0.0');
    const [zipX, modX] = sumLines('m', 'v1.0.0', 'x');
    const hash = (line: string) => line.split(' ')[2];
    // [record text, the zip's hash, the go.mod's hash] (undefined: the record vouches for nothing, so anything goes).
    const cases: [string, string | undefined, string | undefined][] = [
      [`${zip}\n${mod}\n`, hash(zip), hash(mod)],
      [`${zip}\n`, hash(zip), undefined],
      [`${mod}\n`, undefined, hash(mod)],
      [`${zipX}\n${zip}\n${mod}\n${modX}\n`, hash(zipX), hash(mod)],
      [`example.com/m v1.0.0 h2:future\n${sumLines('other', 'v1.0.0').join('\n')}\n${mod}\n`, undefined, hash(mod)],
      [`${sumLines('m', 'v1.0.1').join('\n')}\n`, undefined, undefined],
      [`${zip} extra\nexample.com/m v1.0.0/go.mod h1:short\n`, `${hash(zip)} extra`, 'h1:short'],
      ['example.com/m  v1.0.0 h1:two-spaces\nexample.com/m v1.0.0/go.mod  h1:two-spaces\n', undefined, undefined],
    ];
    for (const [i, [text, wantZip, wantMod]] of cases.entries()) {
      const version = `v1.${i + 1}.0`;
      await db.addRecord(`example.com/m@${version}`, enc(text.replaceAll('v1.0.0', version)));
      const r = await client.lookup('example.com/m', version);
      expect(r.lines, text).toEqual(text.replaceAll('v1.0.0', version).split('\n').slice(0, -1));
      expect([vouchedHash(r.lines, 'example.com/m', version), vouchedHash(r.lines, 'example.com/m', `${version}/go.mod`)], text).toEqual([wantZip, wantMod]);
    }
  });

  it('refuses a tree head not signed by the configured key', async () => {
    const { db, store, fill } = setup();
    await fill(5);
    const client = new SumdbClient({ key: testKey('fake.test').vkey, fetch: db.fetcher(), store });
    const e = await failure(client.lookup('example.com/m1', 'v1.0.0'));
    expect(e).toBeInstanceOf(SumdbVerificationError);
    expect(e.message).toMatch(/no verifiable signatures/);
    expect(store.sizes()).toEqual([]);
  });

  it('refuses a tampered record, tree head, tile, or record number', async () => {
    const { db, store, client, fill } = setup();
    await fill(300);
    const flip = (b: Uint8Array, at: number) => {
      const x = b.slice();
      x[at] ^= 1;
      return x;
    };
    const cases: [string, (p: string, a: Answer) => Answer, RegExp][] = [
      ['record text', (p, a) => (p.startsWith('/lookup/') ? { ...a, body: flip(a.body, 40) } : a), /invalid transparency proof/],
      [
        'tree hash',
        (p, a) => {
          if (!p.startsWith('/lookup/')) return a;
          // Another hash under the original signature.
          const s = Buffer.from(a.body).toString('utf8');
          const forged = s.replace(/(go\.sum database tree\n\d+\n)[^\n]+/, `$1${Buffer.alloc(32, 5).toString('base64')}`);
          return { ...a, body: enc(forged) };
        },
        /invalid signature for key fake.test/,
      ],
      ['level-0 tile', (p, a) => (p.startsWith('/tile/8/0/') ? { ...a, body: flip(a.body, 100) } : a), /downloaded inconsistent tile/],
      ['level-1 tile', (p, a) => (p.startsWith('/tile/8/1/') ? { ...a, body: flip(a.body, 0) } : a), /downloaded inconsistent tile/],
      ['short tile', (p, a) => (p.startsWith('/tile/') ? { ...a, body: a.body.subarray(1) } : a), /bytes, want/],
      ['long tile', (p, a) => (p.startsWith('/tile/') ? { ...a, body: concat(a.body, new Uint8Array(1)) } : a), /larger than|bytes, want/],
      [
        'record number',
        (p, a) => {
          if (!p.startsWith('/lookup/')) return a;
          const s = Buffer.from(a.body).toString('latin1');
          return { ...a, body: new Uint8Array(Buffer.from(s.replace(/^\d+/, (d) => String(Number(d) + 1)), 'latin1')) };
        },
        /invalid transparency proof/,
      ],
      [
        'record number past the tree',
        (p, a) => {
          if (!p.startsWith('/lookup/')) return a;
          const s = Buffer.from(a.body).toString('latin1');
          return { ...a, body: new Uint8Array(Buffer.from(s.replace(/^\d+/, '300'), 'latin1')) };
        },
        /not in the signed tree of size 300/,
      ],
      [
        'negative record number',
        (p, a) => {
          if (!p.startsWith('/lookup/')) return a;
          const s = Buffer.from(a.body).toString('latin1');
          return { ...a, body: new Uint8Array(Buffer.from(s.replace(/^\d+/, '-1'), 'latin1')) };
        },
        /record -1 is not in the signed tree/,
      ],
      ['garbage', (p, a) => (p.startsWith('/lookup/') ? { ...a, body: enc('<html>hello</html>') } : a), /malformed record/],
      ['no tree head', (p, a) => (p.startsWith('/lookup/') ? { ...a, body: formatRecord(7n, enc(sumLines('m7', 'v1.0.0').join('\n') + '\n')) } : a), /malformed note/],
    ];
    for (const [what, tamper, msg] of cases) {
      db.tamper = tamper;
      // A client of its own for each case: one that has authenticated a tile keeps it, and would not ask again.
      const fresh = new SumdbClient({ key: key.vkey, fetch: db.fetcher(), store });
      const e = await failure(fresh.lookup('example.com/m7', 'v1.0.0'));
      expect(e, what).toBeInstanceOf(SumdbVerificationError);
      expect(e.message, what).toMatch(msg);
    }
    expect(store.sizes()).toEqual([]);
    db.tamper = (_p, a) => a;
    expect((await client.lookup('example.com/m7', 'v1.0.0')).recordId).toBe(7n);
  });

  it('refuses a signed tree whose tiles cannot exist (a huge size) quickly', async () => {
    const { db, client, fill } = setup();
    await fill(3);
    const huge = key.sign(formatTree({ n: (1n << 62n) + 3n, hash: new Uint8Array(32).fill(9) }));
    db.headOverride = huge;
    const started = Date.now();
    const e = await failure(client.lookup('example.com/m1', 'v1.0.0'));
    expect(e).toBeInstanceOf(SumdbTransportError); // the tiles it needs are not there (404)
    expect(Date.now() - started).toBeLessThan(5000);
    db.tamper = (p, a) => (p.startsWith('/tile/') ? { status: 200, body: new Uint8Array(Number(p.match(/\.p\/(\d+)$/)?.[1] ?? 256) * 32) } : a);
    const e2 = await failure(client.lookup('example.com/m1', 'v1.0.0'));
    expect(e2).toBeInstanceOf(SumdbVerificationError);
    expect(db.requests.filter((p) => p.startsWith('/tile/')).length).toBeLessThan(200);
  });
});

describe('the stored tree head', () => {
  it('moves forward with consistency proofs as the database grows', async () => {
    const { db, store, client, fill } = setup();
    await fill(1);
    await client.lookup('example.com/m0', 'v1.0.0');
    for (const [from, count] of [
      [1, 1],
      [2, 5],
      [7, 250],
      [257, 300],
    ]) {
      await fill(count, from);
      expect((await client.latest()).n).toBe(BigInt(from + count));
    }
    expect(store.sizes()).toEqual([1n, 2n, 7n, 257n, 557n]);
    // A lookup answer carrying an older (but consistent) head is fine and does not move the store back.
    db.headOverride = await db.signedHead(300);
    expect((await client.lookup('example.com/m5', 'v1.0.0')).tree.n).toBe(300n);
    expect(treeOf(await store.latest())?.n).toBe(557n);
  });

  it('detects a fork: a larger tree that does not extend the verified one', async () => {
    const a = setup();
    await a.fill(100);
    await a.client.lookup('example.com/m1', 'v1.0.0');
    // Another history under the same key, restarted with different records.
    const b = new FakeSumdb(key);
    for (let i = 0; i < 120; i++) await b.add(sumLines(`m${i}`, 'v1.0.0', i === 50 ? 'forged' : `m${i}`));
    const replica = new SumdbClient({ key: key.vkey, fetch: b.fetcher(), store: a.store });
    const e = await failure(replica.lookup('example.com/m1', 'v1.0.0'));
    expect(e).toBeInstanceOf(SumdbForkError);
    const fork = e as SumdbForkError;
    expect(fork.message).toMatch(/tree of size 120 does not contain the tree of size 100/);
    expect([fork.olderSize, fork.newerSize]).toEqual([100n, 120n]);
    expect(treeOf(fork.olderNote)?.n).toBe(100n);
    expect(treeOf(fork.newerNote)?.n).toBe(120n);
    await expect(replica.latest()).rejects.toBeInstanceOf(SumdbForkError);
    expect(a.store.sizes()).toEqual([100n]);
  });

  it('detects a fork of the same size, and a smaller tree that is not a prefix', async () => {
    const a = setup();
    await a.fill(100);
    await a.client.latest();
    const b = new FakeSumdb(key);
    for (let i = 0; i < 100; i++) await b.add(sumLines(`m${i}`, 'v1.0.0', i === 99 ? 'forged' : `m${i}`));
    const replica = new SumdbClient({ key: key.vkey, fetch: b.fetcher(), store: a.store });
    const same = await failure(replica.latest());
    expect(same).toBeInstanceOf(SumdbForkError);
    expect(same.message).toMatch(/two different trees of size 100/);

    // A smaller head from a database that does serve the larger tree's tiles.
    const c = new FakeSumdb(key);
    for (let i = 0; i < 100; i++) await c.add(sumLines(`m${i}`, 'v1.0.0', `m${i}`));
    const forged = new FakeSumdb(key);
    for (let i = 0; i < 60; i++) await forged.add(sumLines(`m${i}`, 'v1.0.0', i === 3 ? 'forged' : `m${i}`));
    c.headOverride = await forged.signedHead();
    const replica2 = new SumdbClient({ key: key.vkey, fetch: c.fetcher(), store: a.store });
    const smaller = await failure(replica2.latest());
    expect(smaller).toBeInstanceOf(SumdbForkError);
    expect(smaller.message).toMatch(/tree of size 100 does not contain the tree of size 60/);
  });

  it('reads the store once for lookups under a head it has checked, and still checks any other head', async () => {
    const { db, store, fill } = setup();
    await fill(20);
    let reads = 0;
    const counted: TreeStore = { latest: () => (reads++, store.latest()), record: (n, note) => store.record(n, note) };
    const c = new SumdbClient({ key: key.vkey, fetch: db.fetcher(), store: counted });
    await c.lookup('example.com/m1', 'v1.0.0');
    const first = reads;
    for (let i = 2; i < 12; i++) await c.lookup(`example.com/m${i}`, 'v1.0.0');
    expect(reads).toBe(first);
    // A different head of the same size is a fork, whatever was checked before.
    const forged = new FakeSumdb(key);
    for (let i = 0; i < 20; i++) await forged.add(sumLines(`m${i}`, 'v1.0.0', i === 15 ? 'forged' : `m${i}`));
    db.headOverride = await forged.signedHead();
    expect(await failure(c.lookup('example.com/m12', 'v1.0.0'))).toBeInstanceOf(SumdbVerificationError);
    expect(await failure(c.latest())).toBeInstanceOf(SumdbForkError);
    expect(reads).toBeGreaterThan(first);
  });

  it('is shared by replicas: concurrent clients over one store keep one history', async () => {
    const { db, store, fill } = setup();
    await fill(10);
    const clients = Array.from({ length: 4 }, () => new SumdbClient({ key: key.vkey, fetch: db.fetcher(), store }));
    const work: Promise<unknown>[] = [];
    for (let round = 0; round < 5; round++) {
      await fill(7, 10 + round * 7);
      for (const [i, c] of clients.entries()) work.push(c.lookup(`example.com/m${(round * 7 + i) % 10}`, 'v1.0.0'), c.latest());
    }
    await Promise.all(work);
    expect(store.sizes().at(-1)).toBe(45n);
  });

  it('re-verifies what the store holds and reports store failures as such', async () => {
    const { db, fill } = setup();
    await fill(3);
    const garbage: TreeStore = { latest: async () => enc('not a note'), record: async (_n, note) => note };
    const c1 = new SumdbClient({ key: key.vkey, fetch: db.fetcher(), store: garbage });
    const e1 = await failure(c1.lookup('example.com/m1', 'v1.0.0'));
    expect(e1).toBeInstanceOf(SumdbStoreError);
    expect(e1.kind).toBe('unavailable');

    const broken: TreeStore = {
      latest: async () => {
        throw new Error('disk on fire');
      },
      record: async (_n, note) => note,
    };
    const e2 = await failure(new SumdbClient({ key: key.vkey, fetch: db.fetcher(), store: broken }).latest());
    expect(e2).toBeInstanceOf(SumdbStoreError);
    expect(e2.message).toMatch(/disk on fire/);

    // A store that claims another tree of the same size was recorded first.
    const other = new FakeSumdb(key);
    await other.add(sumLines('x', 'v1.0.0'));
    await other.add(sumLines('y', 'v1.0.0'));
    await other.add(sumLines('z', 'v1.0.0'));
    const first = await other.signedHead();
    const racing: TreeStore = { latest: async () => null, record: async () => first };
    const e3 = await failure(new SumdbClient({ key: key.vkey, fetch: db.fetcher(), store: racing }).latest());
    expect(e3).toBeInstanceOf(SumdbForkError);
    expect(e3.message).toMatch(/two different trees of size 3/);

    // A store that never shows what was recorded.
    const fickle: TreeStore = { latest: async () => null, record: async (_s, note) => note };
    const e4 = await failure(new SumdbClient({ key: key.vkey, fetch: db.fetcher(), store: fickle }).latest());
    expect(e4).toBeInstanceOf(SumdbStoreError);
    expect(e4.message).toMatch(/kept changing/);
  });
});

describe('transport', () => {
  it('falls back to the full tile when a partial one is gone', async () => {
    const { db: db2, client: client2, fill: fill2 } = setup();
    await fill2(300);
    db2.tamper = (p, a) => (p === '/tile/8/0/001.p/44' ? { status: 404, body: enc('no') } : a);
    // 001.p/44 gone and the full tile 001 does not exist yet either: a transport failure.
    const e = await failure(client2.lookup('example.com/m299', 'v1.0.0'));
    expect(e).toBeInstanceOf(SumdbTransportError);
    expect(e.message).toMatch(/tile\/8\/0\/001: status 404/);
    await fill2(212, 300);
    db2.requests.length = 0;
    // Now the tree is 512; a head of size 300 still needs 001.p/44, served from the full tile.
    db2.headOverride = await db2.signedHead(300);
    const fresh = new SumdbClient({ key: key.vkey, fetch: db2.fetcher(), store: new MemoryTreeStore() });
    expect((await fresh.lookup('example.com/m299', 'v1.0.0')).recordId).toBe(299n);
    expect(db2.requests).toContain('/tile/8/0/001.p/44');
    expect(db2.requests).toContain('/tile/8/0/001');
  });

  it('bounds answers and gives up on a database that does not answer', async () => {
    const { db, fill } = setup();
    await fill(3);
    const hang: SumdbFetch = (path, { signal }) =>
      path === '/latest' ? new Promise(() => undefined) : db.fetcher()(path, { maxBytes: 1 << 20, signal });
    const slow = new SumdbClient({ key: key.vkey, fetch: hang, store: new MemoryTreeStore(), limits: { requestTimeoutMs: 200 } });
    const started = Date.now();
    const e = await failure(slow.latest());
    expect(e).toBeInstanceOf(SumdbTransportError);
    expect(e.message).toMatch(/no answer within 200 ms/);
    expect(Date.now() - started).toBeLessThan(3000);

    const big: SumdbFetch = async () => new Uint8Array(70 * 1024);
    const e2 = await failure(new SumdbClient({ key: key.vkey, fetch: big, store: new MemoryTreeStore() }).latest());
    expect(e2).toBeInstanceOf(SumdbVerificationError);
    expect(e2.message).toMatch(/larger than 65536 bytes/);

    const throws: SumdbFetch = async () => {
      throw new Error('ECONNREFUSED');
    };
    const e3 = await failure(new SumdbClient({ key: key.vkey, fetch: throws, store: new MemoryTreeStore() }).latest());
    expect(e3).toBeInstanceOf(SumdbTransportError);
    expect(e3.message).toMatch(/ECONNREFUSED/);
  });

  it('shares one request between concurrent lookups of the same version', async () => {
    const { db, client, fill } = setup();
    await fill(3);
    const rs = await Promise.all([1, 2, 3].map(() => client.lookup('example.com/m2', 'v1.0.0')));
    expect(new Set(rs.map((r) => r.lines[0])).size).toBe(1);
    expect(db.requests.filter((p) => p.startsWith('/lookup/'))).toHaveLength(1);
  });
});

describe('httpSumdbFetch', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function serve(handler: http.RequestListener): Promise<string> {
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('reads bodies within the bound, and reports statuses, sizes and redirects', async () => {
    const url = await serve((req, res) => {
      if (req.url === '/ok') return res.end('hello');
      if (req.url === '/missing') return res.writeHead(404).end('no');
      if (req.url === '/declared') return res.writeHead(200, { 'content-length': '100000' }).end('x'.repeat(100000));
      if (req.url === '/streamed') {
        res.writeHead(200);
        res.write('x'.repeat(40000));
        res.write('x'.repeat(40000));
        return res.end();
      }
      if (req.url === '/redirect') return res.writeHead(302, { location: '/ok' }).end();
      if (req.url === '/lookup/example.com/missing@v1.0.0') return res.writeHead(404).end('not found');
      if (req.url === '/lookup/example.com/gone@v1.0.0') return res.writeHead(410).end('gone');
      res.writeHead(500).end();
    });
    const f = httpSumdbFetch(url + '/');
    const opts = { maxBytes: 64 * 1024, signal: AbortSignal.timeout(5000) };
    expect(Buffer.from(await f('/ok', opts)).toString()).toBe('hello');
    await expect(f('/missing', opts)).rejects.toMatchObject({ status: 404 });
    await expect(f('/missing', opts)).rejects.toBeInstanceOf(SumdbHttpStatusError);
    await expect(f('/declared', opts)).rejects.toThrow(/more than 65536/);
    await expect(f('/streamed', opts)).rejects.toThrow(/more than 65536/);
    await expect(f('/redirect', opts)).rejects.toThrow();

    // Through the client: 404 and 410 on a lookup are "not found", other statuses transport failures.
    const client = new SumdbClient({ key: testKey('x.test').vkey, fetch: f, store: new MemoryTreeStore() });
    await expect(client.lookup('example.com/missing', 'v1.0.0')).rejects.toBeInstanceOf(SumdbNotFoundError);
    await expect(client.lookup('example.com/gone', 'v1.0.0')).rejects.toBeInstanceOf(SumdbNotFoundError);
    await expect(client.lookup('example.com/x', 'v1.0.0')).rejects.toBeInstanceOf(SumdbTransportError); // 500
    await expect(client.latest()).rejects.toBeInstanceOf(SumdbTransportError); // 500
  });
});
