// lib/sumdb against the reference implementation: the toolchain's own
// golang.org/x/mod sumdb server (test/support/sumdb-server), on loopback.
// Lookups, a growing log, forks, wrong keys and tampering, end to end; and
// note/tlog compared with Go's answers on generated and mutated inputs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryTreeStore,
  SumdbClient,
  SumdbError,
  SumdbForkError,
  SumdbHttpStatusError,
  SumdbNotFoundError,
  SumdbTransportError,
  SumdbVerificationError,
  httpSumdbFetch,
  type SumdbFetch,
  type TreeStore,
} from '../lib/sumdb/client.js';
import { NoteError, keyHashHex, openNote, parseVerifierKey } from '../lib/sumdb/note.js';
import {
  TlogError,
  checkRecord,
  checkTree,
  hashToBase64,
  parseRecord,
  parseTilePath,
  parseTree,
  tilePath,
} from '../lib/sumdb/tlog.js';
import { FakeSumdb } from './support/fakeSumdb.js';
import { testKey } from './support/noteKey.js';
import { prng } from './support/prng.js';
import { SumdbServer, bulkLines } from './support/sumdbServer.js';

const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const enc = (s: string) => new TextEncoder().encode(s);
const h1 = (s: string) => 'h1:' + Buffer.from(enc(s.padEnd(32, '.').slice(0, 32))).toString('base64');

type GoErr = { err: string; type?: string };
const servers: SumdbServer[] = [];
async function start(opts?: Parameters<typeof SumdbServer.start>[0]): Promise<SumdbServer> {
  const s = await SumdbServer.start(opts);
  servers.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

function client(db: SumdbServer, store: TreeStore = new MemoryTreeStore(), fetch: SumdbFetch = httpSumdbFetch(db.url)) {
  return new SumdbClient({ key: db.vkey, fetch, store, limits: { requestTimeoutMs: 10_000 } });
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

describe('lookups against Go\'s server', () => {
  const prefix = 'example.com/bulk';
  let db: SumdbServer;
  const named = [
    ['github.com/Azure/azure-sdk-for-go', 'v68.0.0+incompatible'],
    ['golang.org/x/mod', 'v0.20.0'],
    ['example.com/pseudo', 'v0.0.0-20240101000000-0123456789ab'],
    ['example.com/Upper/Case/v2', 'v2.1.0-RC.1'],
  ] as const;

  beforeAll(async () => {
    db = await start();
    // 65,536 + 10 records: hash tiles at levels 0, 1 and 2.
    await db.bulk(prefix, 0, 65_546);
    await db.add(named.flatMap(([p, v]) => [`${p} ${v} ${h1(`zip ${p}`)}`, `${p} ${v}/go.mod ${h1(`mod ${p}`)}`]));
  });

  it('verify, for records across all tile levels', async () => {
    const store = new MemoryTreeStore();
    const c = client(db, store);
    for (const i of [0, 1, 255, 256, 65_535, 65_536, 65_545]) {
      const r = await c.lookup(`${prefix}/m${i}`, 'v1.0.0');
      expect(r.lines).toEqual(bulkLines(prefix, i));
      expect(r.recordId).toBe(BigInt(i));
      expect(r.tree.n).toBe(65_550n);
    }
    for (const [i, [p, v]] of named.entries()) {
      const r = await c.lookup(p, v);
      expect(r.lines).toEqual([`${p} ${v} ${h1(`zip ${p}`)}`, `${p} ${v}/go.mod ${h1(`mod ${p}`)}`]);
      expect(r.recordId).toBe(65_546n + BigInt(i));
    }
    expect(store.sizes()).toEqual([65_550n]);
    // Go's server cuts tiles of any height; so does the client.
    const h4 = new SumdbClient({ key: db.vkey, fetch: httpSumdbFetch(db.url), store: new MemoryTreeStore(), tileHeight: 4 });
    for (const i of [5, 4097, 65_545]) expect((await h4.lookup(`${prefix}/m${i}`, 'v1.0.0')).recordId).toBe(BigInt(i));
  });

  it('tell a missing (404) and a gone (410) record from failures', async () => {
    const c = client(db);
    const e = await failure(c.lookup('example.com/never', 'v1.0.0'));
    expect(e).toBeInstanceOf(SumdbNotFoundError);
    expect((e as SumdbNotFoundError).status).toBe(404);
    await db.gone([`${prefix}/m3@v1.0.0`]);
    const g = await failure(c.lookup(`${prefix}/m3`, 'v1.0.0'));
    expect(g).toBeInstanceOf(SumdbNotFoundError);
    expect((g as SumdbNotFoundError).status).toBe(410);
    // The server's own 400 for a version it cannot parse is not "not found".
    const bad = await failure(c.lookup(`${prefix}/m4`, 'master'));
    expect(bad).toBeInstanceOf(SumdbTransportError);
    expect(bad.message).toMatch(/status 400/);
  });

  it('refuse a database signing with another key', async () => {
    const other = testKey(db.vkey.split('+')[0]);
    const c = new SumdbClient({ key: other.vkey, fetch: httpSumdbFetch(db.url), store: new MemoryTreeStore() });
    const e = await failure(c.lookup(`${prefix}/m1`, 'v1.0.0'));
    expect(e).toBeInstanceOf(SumdbVerificationError);
    expect(e.message).toMatch(/no verifiable signatures/);
    await expect(c.latest()).rejects.toBeInstanceOf(SumdbVerificationError);
  });

  it('refuse tampered lookup answers and tiles', async () => {
    const real = httpSumdbFetch(db.url);
    const tampering =
      (when: (p: string) => boolean, change: (b: Uint8Array) => Uint8Array): SumdbFetch =>
      async (p, o) => {
        const body = await real(p, o);
        return when(p) ? change(body) : body;
      };
    const flip = (at: (b: Uint8Array) => number) => (b: Uint8Array) => {
      const x = b.slice();
      x[at(b)] ^= 1;
      return x;
    };
    const swapHash = (b: Uint8Array) => {
      // Another go.sum hash for the zip, the rest untouched.
      const s = Buffer.from(b).toString('utf8');
      return enc(s.replace(/ h1:[^\n]+/, ` ${h1('forged')}`));
    };
    const cases: [string, SumdbFetch, RegExp][] = [
      ['record hash', tampering((p) => p.startsWith('/lookup/'), swapHash), /invalid transparency proof/],
      ['record id', tampering((p) => p.startsWith('/lookup/'), (b) => enc(Buffer.from(b).toString('utf8').replace(/^\d+/, '2'))), /invalid transparency proof/],
      ['signature', tampering((p) => p.startsWith('/lookup/'), flip((b) => b.length - 10)), /invalid signature|malformed note/],
      ['tree size', tampering((p) => p.startsWith('/lookup/'), (b) => enc(Buffer.from(b).toString('utf8').replace(/tree\n65550\n/, 'tree\n65551\n'))), /invalid signature/],
      ['level-0 tile', tampering((p) => p.startsWith('/tile/8/0/'), flip((b) => b.length - 1)), /downloaded inconsistent tile/],
      ['level-1 tile', tampering((p) => p.startsWith('/tile/8/1/'), flip(() => 0)), /downloaded inconsistent tile/],
      ['level-2 tile', tampering((p) => p.startsWith('/tile/8/2/'), flip(() => 31)), /downloaded inconsistent tile/],
      ['truncated tile', tampering((p) => p.startsWith('/tile/'), (b) => b.subarray(0, b.length - 32)), /bytes, want/],
    ];
    for (const [what, fetch, msg] of cases) {
      const store = new MemoryTreeStore();
      const e = await failure(client(db, store, fetch).lookup(`${prefix}/m300`, 'v1.0.0'));
      expect(e, what).toBeInstanceOf(SumdbVerificationError);
      expect(e.message, what).toMatch(msg);
      expect(store.sizes(), what).toEqual([]);
    }
  });

  it('gives up on oversized answers and on a server that is gone', async () => {
    const real = httpSumdbFetch(db.url);
    const padded: SumdbFetch = async (p, o) => {
      const body = await real(p, { ...o, maxBytes: 1 << 20 });
      return p === '/latest' ? new Uint8Array(Buffer.concat([body, Buffer.alloc(70_000, 0x41)])) : body;
    };
    const e = await failure(client(db, new MemoryTreeStore(), padded).latest());
    expect(e).toBeInstanceOf(SumdbVerificationError);
    expect(e.message).toMatch(/larger than/);

    const gone = await start();
    const c = client(gone);
    await gone.close();
    const t = await failure(c.latest());
    expect(t).toBeInstanceOf(SumdbTransportError);
  });
});

describe('a growing database', () => {
  it('is followed, each new head proven consistent with the stored one', async () => {
    const db = await start();
    const store = new MemoryTreeStore();
    const c = client(db, store);
    const sizes: bigint[] = [];
    let next = 0;
    for (const count of [1, 1, 2, 5, 120, 127, 1, 300, 3]) {
      await db.bulk('example.com/grow', next, count);
      next += count;
      const t = await c.latest();
      expect(t.n).toBe(BigInt(next));
      sizes.push(t.n);
      // An old record still verifies against the new tree.
      const r = await c.lookup('example.com/grow/m0', 'v1.0.0');
      expect(r.tree.n).toBe(BigInt(next));
    }
    expect(store.sizes()).toEqual(sizes);

    // A restarted client (or another replica) continues from the stored head.
    await db.bulk('example.com/grow', next, 50);
    const again = client(db, store);
    expect((await again.lookup('example.com/grow/m559', 'v1.0.0')).recordId).toBe(559n);
    expect(store.sizes().at(-1)).toBe(610n);
  });

  it('uses a full tile when the partial one is not served any more', async () => {
    const db = await start();
    await db.bulk('example.com/p', 0, 300);
    const real = httpSumdbFetch(db.url);
    const lookupPath = '/lookup/example.com/p/m299@v1.0.0';
    // A lookup answer from when the tree had 300 records (as a cache might replay it)…
    const old = await real(lookupPath, { maxBytes: 1 << 16, signal: AbortSignal.timeout(5000) });
    await db.bulk('example.com/p', 300, 212); // 512: level-0 tiles 000 and 001 complete
    // …checked when the database serves only the complete level-0 tiles.
    const asked: string[] = [];
    const fetch: SumdbFetch = async (p, o) => {
      asked.push(p);
      if (p === lookupPath) return old;
      if (/^\/tile\/8\/0\/.*\.p\/\d+$/.test(p)) throw new SumdbHttpStatusError(404, 'gone');
      return real(p, o);
    };
    const store = new MemoryTreeStore();
    const c = client(db, store, fetch);
    const r = await c.lookup('example.com/p/m299', 'v1.0.0');
    expect([r.recordId, r.tree.n]).toEqual([299n, 300n]);
    expect(asked).toContain('/tile/8/0/001.p/44');
    expect(asked).toContain('/tile/8/0/001');
    expect((await c.latest()).n).toBe(512n);
    expect(store.sizes()).toEqual([300n, 512n]);
  });
});

describe('a forked database', () => {
  let a: SumdbServer;
  let store: MemoryTreeStore;
  beforeAll(async () => {
    a = await start();
    await a.bulk('example.com/f', 0, 500);
    store = new MemoryTreeStore();
    await client(a, store).lookup('example.com/f/m10', 'v1.0.0');
  });

  it('is detected when it shows a larger tree with another history, and named with both sizes', async () => {
    // Same key, restarted with a different record 250.
    const b = await start({ skey: a.skey });
    expect(b.vkey).toBe(a.vkey);
    await b.bulk('example.com/f', 0, 250);
    await b.add([`example.com/f/m250 v1.0.0 ${h1('forged zip')}`, `example.com/f/m250 v1.0.0/go.mod ${h1('forged mod')}`]);
    await b.bulk('example.com/f', 251, 400);
    const replica = client(b, store);
    const e = await failure(replica.lookup('example.com/f/m10', 'v1.0.0'));
    expect(e).toBeInstanceOf(SumdbForkError);
    expect(e.message).toMatch(/SECURITY ERROR/);
    expect(e.message).toMatch(/tree of size 651 does not contain the tree of size 500/);
    const fork = e as SumdbForkError;
    expect([fork.olderSize, fork.newerSize]).toEqual([500n, 651n]);
    await expect(replica.latest()).rejects.toBeInstanceOf(SumdbForkError);
    // The verified head did not move, and the honest database is still fine.
    expect(store.sizes()).toEqual([500n]);
    await a.bulk('example.com/f', 500, 1);
    expect((await client(a, store).latest()).n).toBe(501n);
  });

  it('is detected when it shows a tree of the same size with another history', async () => {
    const size = Number(store.sizes().at(-1));
    const b = await start({ skey: a.skey });
    await b.bulk('example.com/g', 0, size);
    const e = await failure(client(b, store).latest());
    expect(e).toBeInstanceOf(SumdbForkError);
    expect(e.message).toMatch(new RegExp(`two different trees of size ${size}`));
  });

  it('is refused when it shows a smaller tree it cannot prove is a prefix', async () => {
    const b = await start({ skey: a.skey });
    await b.bulk('example.com/h', 0, 20);
    const e = await failure(client(b, store).lookup('example.com/h/m1', 'v1.0.0'));
    // Its tree (20) would have to be proven a prefix of the verified one
    // (500 or more) from that tree's tiles, which Go's test server never had.
    expect(e).toBeInstanceOf(SumdbTransportError);
    expect(e.message).toMatch(/consistency of tree 20 with tree 50\d/);
    expect(store.sizes().every((n) => n >= 500n)).toBe(true);
  });
});

describe('the TypeScript fake database', () => {
  it('serves byte for byte what Go\'s server serves (same key, same records)', async () => {
    const db = await start();
    const fake = new FakeSumdb(testKey('', db.skey));
    await db.bulk('example.com/same', 0, 270);
    for (let i = 0; i < 270; i++) await fake.add(bulkLines('example.com/same', i));
    for (const p of ['/latest', '/lookup/example.com/same/m7@v1.0.0', '/tile/8/0/000', '/tile/8/0/001.p/14', '/tile/8/1/000.p/1', '/tile/8/data/001.p/14']) {
      const go = await db.get(p);
      const ours = await fake.serve(p);
      expect(go.status, p).toBe(200);
      expect(Buffer.from(ours.body).equals(Buffer.from(go.body)), p).toBe(true);
    }
  });
});

describe('note and tlog compared with Go', () => {
  let db: SumdbServer;
  beforeAll(async () => {
    db = await start();
  });

  it('the committed vectors are still Go\'s answers', async () => {
    const v = JSON.parse(fs.readFileSync(new URL('./fixtures/sumdb-vectors.json', import.meta.url), 'utf8'));
    for (const { vkey, result } of v.verifierKeys) expect(await db.oracle({ op: 'verifier', text: vkey }), vkey).toEqual(result);
    const groups = new Map<string, { vkeys: string[]; msgs: string[]; results: unknown[] }>();
    for (const n of v.notes) {
      const k = JSON.stringify(n.vkeys);
      if (!groups.has(k)) groups.set(k, { vkeys: n.vkeys, msgs: [], results: [] });
      groups.get(k)!.msgs.push(n.msg);
      groups.get(k)!.results.push(n.result);
    }
    for (const g of groups.values()) expect(await db.oracle({ op: 'open', vkeys: g.vkeys, msgs: g.msgs })).toEqual(g.results);
    const t = v.tlog;
    const tree = await db.oracle<{ hashes: string[]; proofs: unknown[]; tiles: unknown[] }>({
      op: 'tree',
      records: t.records.map((r: string) => b64(r)),
      sizes: t.sizes,
      pairs: t.proofs.map((p: { kind: string; t: string; n: string }) => [p.kind, p.t, p.n]),
      tiles: t.tiles.map((x: { tile: string[] }) => x.tile),
    });
    expect(tree.hashes).toEqual(t.treeHashes);
    expect(tree.proofs).toEqual(t.proofs.map((p: { result: unknown }) => p.result));
    expect(tree.tiles).toEqual(t.tiles.map((x: { result: unknown }) => x.result));
    expect(await db.oracle({ op: 'parse-tile-paths', paths: t.tilePaths.map((x: { path: string }) => x.path) })).toEqual(
      t.tilePaths.map((x: { result: unknown }) => x.result),
    );
    expect(await db.oracle({ op: 'parse-tree', msgs: t.trees.map((x: { text: string }) => b64(x.text)) })).toEqual(
      t.trees.map((x: { result: unknown }) => x.result),
    );
    expect(await db.oracle({ op: 'parse-record', msgs: t.parsedRecords.map((x: { msg: string }) => x.msg) })).toEqual(
      t.parsedRecords.map((x: { result: unknown }) => x.result),
    );
  });

  it('openNote agrees with note.Open on randomly mutated notes', async () => {
    const next = prng(7);
    const keys = await Promise.all(['rand.test', 'other.test'].map((name) => db.oracle<{ skey: string; vkey: string }>({ op: 'genkey', name })));
    const texts = ['go.sum database tree\n42\n' + b64(new Uint8Array(32).fill(3)) + '\n', 'a\n\nb\n', '\n', 'é—\n', '\ufeffa\n'];
    const bases: Uint8Array[] = [];
    for (const text of texts) {
      for (const skeys of [[keys[0].skey], [keys[1].skey, keys[0].skey]]) {
        const r = await db.oracle<{ msg: string }>({ op: 'sign', text, skeys });
        bases.push(unb64(r.msg));
      }
    }
    const pieces = ['\n', '\n\n', ' ', '— ', '+', '=', '\r', '\t', '\u0085', '\u00a0', '\x00', '\x7f', 'A', '—', '\ufeff'].map(enc);
    const msgs: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++) {
      let m = bases[Math.floor(next() * bases.length)];
      const edits = 1 + Math.floor(next() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * (m.length + 1));
        const kind = Math.floor(next() * 4);
        if (kind === 0 && m.length > 0) {
          m = m.slice();
          m[Math.min(at, m.length - 1)] ^= 1 << Math.floor(next() * 8);
        } else if (kind === 1) {
          m = new Uint8Array(Buffer.concat([m.subarray(0, at), m.subarray(at + 1 + Math.floor(next() * 3))]));
        } else if (kind === 2) {
          m = new Uint8Array(Buffer.concat([m.subarray(0, at), pieces[Math.floor(next() * pieces.length)], m.subarray(at)]));
        } else {
          const j = Math.floor(next() * bases.length);
          const line = bases[j].subarray(bases[j].lastIndexOf(0x0a, bases[j].length - 2) + 1);
          m = new Uint8Array(Buffer.concat([m, line]));
        }
      }
      msgs.push(m);
    }
    for (const vkeys of [[keys[0].vkey], [keys[0].vkey, keys[1].vkey]]) {
      const go = await db.oracle<({ text: string; sigs: unknown[]; unverified: unknown[] } | GoErr)[]>({
        op: 'open',
        vkeys,
        msgs: msgs.map(b64),
      });
      const verifiers = vkeys.map((k) => parseVerifierKey(k));
      const bad: unknown[] = [];
      let accepted = 0;
      msgs.forEach((m, i) => {
        let ours: unknown;
        try {
          const n = openNote(m, verifiers);
          const sig = (s: { name: string; keyHash: number; base64: string }) => ({ name: s.name, hash: keyHashHex(s.keyHash), b64: s.base64 });
          // The text as decoded (what is parsed), not its bytes: a decoder that dropped a byte order mark would differ.
          ours = { text: b64(enc(n.text)), sigs: n.sigs.map(sig), unverified: n.unverifiedSigs.map(sig) };
          accepted++;
        } catch (e) {
          if (!(e instanceof NoteError)) throw e;
          ours = { err: e.message };
        }
        const want = 'err' in go[i] ? { err: (go[i] as GoErr).err } : go[i];
        if (!isDeepStrictEqual(ours, want) && bad.length < 10) bad.push({ msg: b64(m), ours, want });
      });
      expect(bad).toEqual([]);
      expect(accepted).toBeGreaterThan(50); // the mutations are not all fatal
    }
  });

  it('tile paths, tree heads and records parse as Go parses them, on random inputs', async () => {
    const next = prng(11);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
    const paths: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const parts = ['tile', pick(['8', '1', '30', '31', '0', '08', '+8', '-1', '']), pick(['0', '1', '2', 'data', '-1', '00', '63', '64', 'x'])];
      const n = 1 + Math.floor(next() * 4);
      for (let k = 0; k < n; k++) parts.push((k < n - 1 ? pick(['x', 'x', '', 'y']) : pick(['', '', 'x'])) + pick(['000', '001', '999', '1000', '12', '-01', '+01', 'abc']));
      let p = parts.join('/');
      if (next() < 0.4) p += pick(['.p/1', '.p/255', '.p/256', '.p/0', '.p/', '.p/01', '.p/-1', '.p']);
      paths.push(p);
    }
    const goPaths = await db.oracle<(string[] | GoErr)[]>({ op: 'parse-tile-paths', paths });
    paths.forEach((p, i) => {
      let ours: unknown;
      try {
        const t = parseTilePath(p);
        ours = [String(t.h), String(t.l), String(t.n), String(t.w)];
        expect(tilePath(t)).toBe(p);
      } catch (e) {
        if (!(e instanceof TlogError)) throw e;
        ours = { err: e.message };
      }
      const g = goPaths[i];
      expect(ours, p).toEqual(Array.isArray(g) ? g : { err: g.err });
    });

    const hash = b64(new Uint8Array(32).fill(1));
    const treeTexts: string[] = [];
    const recordMsgs: string[] = [];
    for (let i = 0; i < 800; i++) {
      const n = pick(['0', '1', '12', '012', '-1', '+1', ' 1', '1 ', '9223372036854775807', '9223372036854775808', '', 'x']);
      const h = pick([hash, hash.slice(1), hash + '=', hash.replace('=', ''), '', b64(new Uint8Array(31)), b64(new Uint8Array(33))]);
      const tail = pick(['\n', '', '\nmore\n', '\n\n', '\r\n']);
      treeTexts.push(pick(['go.sum database tree\n', 'go.sum database tree\r\n', 'go.sum database tree v2\n']) + n + '\n' + h + tail);
      const text = pick(['a\n', 'a\nb\n', '\n', '', 'a', 'a\n\n', 'a\tb\n', 'é\n', '\u0085\n']);
      recordMsgs.push(b64(n + pick(['\n', '\r\n', ' \n', '']) + text + pick(['\n', '', '\nrest', '\n\n'])));
    }
    const goTrees = await db.oracle<({ n: string; hash: string } | GoErr)[]>({ op: 'parse-tree', msgs: treeTexts.map((t) => b64(t)) });
    treeTexts.forEach((t, i) => {
      let ours: unknown;
      try {
        const tr = parseTree(t);
        ours = { n: String(tr.n), hash: hashToBase64(tr.hash) };
      } catch (e) {
        ours = { err: (e as Error).message };
      }
      const g = goTrees[i];
      expect(ours, JSON.stringify(t)).toEqual('err' in g ? { err: g.err } : g);
    });
    const goRecords = await db.oracle<({ id: string; text: string; rest: string } | GoErr)[]>({ op: 'parse-record', msgs: recordMsgs });
    recordMsgs.forEach((m, i) => {
      let ours: unknown;
      try {
        const r = parseRecord(unb64(m));
        ours = { id: String(r.id), text: b64(r.text), rest: b64(r.rest) };
      } catch (e) {
        ours = { err: (e as Error).message };
      }
      const g = goRecords[i];
      expect(ours, Buffer.from(m, 'base64').toString()).toEqual('err' in g ? { err: g.err } : g);
    });
  });

  it('checkRecord and checkTree accept and refuse exactly what Go does', async () => {
    const next = prng(5);
    const records = Array.from({ length: 40 }, (_, i) => b64(`r${i}\n`));
    const pairs: string[][] = [];
    for (let i = 0; i < 60; i++) {
      const t = 1 + Math.floor(next() * 40);
      pairs.push(['record', String(t), String(Math.floor(next() * t))]);
      pairs.push(['tree', String(t), String(1 + Math.floor(next() * t))]);
    }
    const sizes = Array.from({ length: 41 }, (_, i) => String(i));
    const g = await db.oracle<{ hashes: string[]; proofs: string[][] }>({ op: 'tree', records, sizes, pairs, tiles: [] });
    const leaf = (n: number) => b64(recordHashOf(records[n]));
    let checked = 0;
    for (const [i, [kind, t, n]] of pairs.entries()) {
      const proof = g.proofs[i];
      const variants: { proof: string[]; t: string; n: string; th: string; h: string }[] = [];
      const th = g.hashes[Number(t)];
      const h = kind === 'record' ? leaf(Number(n)) : g.hashes[Number(n)];
      variants.push({ proof, t, n, th, h });
      if (proof.length > 0) variants.push({ proof: proof.slice(1), t, n, th, h });
      variants.push({ proof: [...proof, th], t, n, th, h });
      variants.push({ proof, t: String(Number(t) + 1), n, th, h });
      variants.push({ proof, t, n: String(Math.max(0, Number(n) - 1)), th, h });
      variants.push({ proof, t, n, th: g.hashes[0], h });
      for (const x of variants) {
        const go = await db.oracle<{ ok?: boolean; err?: string }>({ op: kind === 'record' ? 'check-record' : 'check-tree', ...x });
        let ours: { ok?: boolean; err?: string };
        try {
          (kind === 'record' ? checkRecord : checkTree)(x.proof.map(unb64), BigInt(x.t), unb64(x.th), BigInt(x.n), unb64(x.h));
          ours = { ok: true };
        } catch (e) {
          ours = { err: (e as Error).message.replace('checkRecord', 'CheckRecord').replace('checkTree', 'CheckTree') };
        }
        expect(ours, `${kind} ${JSON.stringify(x)}`).toEqual(go.ok ? { ok: true } : { err: go.err });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(600);
  });
});

function recordHashOf(b64Data: string): Uint8Array {
  // Go's RecordHash, recomputed here independently of lib/sumdb.
  return new Uint8Array(crypto.createHash('sha256').update(Buffer.of(0)).update(Buffer.from(b64Data, 'base64')).digest());
}
