import fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_TREE_HASH,
  HASH_SIZE,
  TileHashReader,
  TlogError,
  checkDataTile,
  checkRecord,
  checkTree,
  formatRecord,
  formatTree,
  hashFromTile,
  hashToBase64,
  newTiles,
  nodeHash,
  parseDataTile,
  parseRecord,
  parseTilePath,
  parseTree,
  proveRecord,
  proveTree,
  readTileData,
  recordHash,
  splitStoredHashIndex,
  storedHashCount,
  storedHashIndex,
  storedHashesForRecordHash,
  tileForIndex,
  tilePath,
  treeHash,
  type Hash,
  type HashReader,
  type Tile,
  type TileSource,
} from './tlog.js';

// Inputs and Go's answers: test/fixtures/make-sumdb-vectors.ts.
type GoErr = { err: string };
interface TlogVectors {
  records: string[];
  sizes: string[];
  treeHashes: string[];
  proofs: { kind: 'record' | 'tree'; t: string; n: string; result: string[] | GoErr }[];
  tiles: { tile: string[]; result: { path: string; data: string } | GoErr }[];
  storedCount: string;
  newTiles: { h: string; old: string; new: string; paths: string[] | null }[];
  storedIndex: { level: string; n: string; index: string }[];
  split: { index: string; level: string; n: string }[];
  storedCounts: { n: string; count: string }[];
  tileForIndex: { index: string; h2: string[]; h8: string[] }[];
  tilePaths: { path: string; result: string[] | GoErr }[];
  formattedTilePaths: { tile: string[]; path: string }[];
  trees: { text: string; result: { n: string; hash: string } | GoErr }[];
  parsedRecords: { msg: string; result: { id: string; text: string; rest: string } | GoErr }[];
  formattedRecords: { id: string; text: string; result: string | GoErr }[];
}
const V = (
  JSON.parse(fs.readFileSync(new URL('../../test/fixtures/sumdb-vectors.json', import.meta.url), 'utf8')) as {
    tlog: TlogVectors;
  }
).tlog;

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const enc = (s: string) => new TextEncoder().encode(s);
const tileOf = (f: string[]): Tile => ({ h: Number(f[0]), l: Number(f[1]), n: BigInt(f[2]), w: Number(f[3]) });
const coords = (t: Tile) => [String(t.h), String(t.l), String(t.n), String(t.w)];

function outcome<T>(f: () => T): T | GoErr {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof TlogError)) throw e;
    return { err: e.message };
  }
}

/** The stored hashes of a log of the given records, built with our own code. */
async function buildLog(records: Uint8Array[]): Promise<Hash[]> {
  const hashes: Hash[] = [];
  const r: HashReader = { readHashes: (xs) => xs.map((x) => hashes[Number(x)]) };
  for (let i = 0; i < records.length; i++) {
    hashes.push(...(await storedHashesForRecordHash(BigInt(i), recordHash(records[i]), r)));
  }
  return hashes;
}

const records = V.records.map(enc);
const logPromise = buildLog(records);
const reader = async (): Promise<HashReader> => {
  const hashes = await logPromise;
  return { readHashes: (xs) => xs.map((x) => hashes[Number(x)]) };
};

describe('hashes', () => {
  it('record, node and empty-tree hashes follow RFC 6962', () => {
    expect(b64(EMPTY_TREE_HASH)).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    expect(recordHash(new Uint8Array(0))).toEqual(unb64('bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0='));
    const a = recordHash(enc('a'));
    const b = recordHash(enc('b'));
    expect(nodeHash(a, b)).not.toEqual(nodeHash(b, a));
  });

  it('stored hash indexes agree with Go', () => {
    for (const { level, n, index } of V.storedIndex) expect(storedHashIndex(Number(level), BigInt(n)), `${level},${n}`).toBe(BigInt(index));
    for (const { index, level, n } of V.split) expect(splitStoredHashIndex(BigInt(index)), index).toEqual([Number(level), BigInt(n)]);
    for (const { n, count } of V.storedCounts) expect(storedHashCount(BigInt(n)), n).toBe(BigInt(count));
    for (const { index, h2, h8 } of V.tileForIndex) {
      expect(coords(tileForIndex(2, BigInt(index))), index).toEqual(h2);
      expect(coords(tileForIndex(8, BigInt(index))), index).toEqual(h8);
    }
  });

  it('split inverts storedHashIndex', () => {
    for (let level = 0; level < 12; level++) {
      for (const n of [0n, 1n, 2n, 3n, 17n, 1000n, 123456789n, 1n << 40n]) {
        expect(splitStoredHashIndex(storedHashIndex(level, n))).toEqual([level, n]);
      }
    }
  });

  it('a log built here stores what Go stores and has the same tree hashes', async () => {
    const hashes = await logPromise;
    expect(BigInt(hashes.length)).toBe(BigInt(V.storedCount));
    expect(storedHashCount(BigInt(records.length))).toBe(BigInt(hashes.length));
    const r = await reader();
    for (let i = 0; i < V.sizes.length; i++) {
      expect(b64(await treeHash(BigInt(V.sizes[i]), r)), `size ${V.sizes[i]}`).toBe(V.treeHashes[i]);
    }
  });
});

describe('proofs', () => {
  it('record and tree proofs are the ones Go makes, and check', async () => {
    const r = await reader();
    const hashAt = (n: string) => unb64(V.treeHashes[V.sizes.indexOf(n)] ?? '');
    for (const { kind, t, n, result } of V.proofs) {
      const T = BigInt(t);
      const N = BigInt(n);
      const proof = kind === 'record' ? await proveRecord(T, N, r) : await proveTree(T, N, r);
      expect(proof.map(b64), `${kind} ${t} ${n}`).toEqual(result);
      const th = await treeHash(T, r);
      if (V.sizes.includes(t)) expect(th).toEqual(hashAt(t));
      if (kind === 'record') checkRecord(proof, T, th, N, recordHash(records[Number(n)]));
      else checkTree(proof, T, th, N, await treeHash(N, r));
    }
  });

  it('every altered proof fails', async () => {
    const r = await reader();
    for (const { kind, t, n } of V.proofs) {
      const T = BigInt(t);
      const N = BigInt(n);
      const th = await treeHash(T, r);
      const proof = kind === 'record' ? await proveRecord(T, N, r) : await proveTree(T, N, r);
      const leaf = kind === 'record' ? recordHash(records[Number(n)]) : await treeHash(N, r);
      const check = (p: Hash[], t2 = T, th2 = th, n2 = N, h2 = leaf) =>
        kind === 'record' ? checkRecord(p, t2, th2, n2, h2) : checkTree(p, t2, th2, n2, h2);
      const variants: Hash[][] = [];
      proof.forEach((_, i) => {
        const p = proof.map((h) => h.slice());
        p[i][i % 32] ^= 1;
        variants.push(p);
        variants.push(proof.filter((_, j) => j !== i));
      });
      variants.push([...proof, EMPTY_TREE_HASH]);
      variants.push([EMPTY_TREE_HASH, ...proof]);
      if (proof.length > 1) variants.push([...proof].reverse());
      variants.push(proof.map((h) => h.subarray(0, 31)));
      for (const p of variants) {
        if (isDeepStrictEqual(p, proof)) continue;
        expect(() => check(p), `${kind} ${t} ${n}`).toThrow(TlogError);
      }
      const flipped = th.slice();
      flipped[0] ^= 0x80;
      expect(() => check(proof, T, flipped)).toThrow(/invalid transparency proof/);
      const badLeaf = leaf.slice();
      badLeaf[31] ^= 1;
      expect(() => check(proof, T, th, N, badLeaf)).toThrow(/invalid transparency proof/);
      if (kind === 'record' && N + 1n < T) expect(() => check(proof, T, th, N + 1n)).toThrow(TlogError);
    }
  });

  it('refuses impossible arguments', () => {
    const h = EMPTY_TREE_HASH;
    expect(() => checkRecord([], 0n, h, 0n, h)).toThrow(/invalid inputs/);
    expect(() => checkRecord([], 5n, h, 5n, h)).toThrow(/invalid inputs/);
    expect(() => checkRecord([], 5n, h, -1n, h)).toThrow(/invalid inputs/);
    expect(() => checkTree([], 5n, h, 6n, h)).toThrow(/invalid inputs/);
    expect(() => checkTree([], 5n, h, 0n, h)).toThrow(/invalid inputs/);
    expect(() => checkRecord(Array.from({ length: 65 }, () => h), 1n << 62n, h, 3n, h)).toThrow(/invalid transparency proof/);
  });
});

describe('tiles', () => {
  it('tile data are Go\'s', async () => {
    const r = await reader();
    for (const { tile, result } of V.tiles) {
      const t = tileOf(tile);
      const want = result as { path: string; data: string };
      expect(tilePath(t)).toBe(want.path);
      expect(b64(await readTileData(t, r)), want.path).toBe(want.data);
    }
  });

  it('new tiles, tile paths and their parsing agree with Go', () => {
    for (const v of V.newTiles) {
      expect(newTiles(Number(v.h), BigInt(v.old), BigInt(v.new)).map(tilePath), `${v.h} ${v.old} ${v.new}`).toEqual(v.paths ?? []);
    }
    for (const { tile, path } of V.formattedTilePaths) expect(tilePath(tileOf(tile))).toBe(path);
    for (const { path, result } of V.tilePaths) {
      expect(outcome(() => coords(parseTilePath(path))), path).toEqual(Array.isArray(result) ? result : { err: result.err });
    }
  });

  it('parses what it formats', () => {
    for (const t of [
      { h: 8, l: 0, n: 0n, w: 256 },
      { h: 8, l: 2, n: 999n, w: 7 },
      { h: 8, l: -1, n: 1000n, w: 256 },
      { h: 1, l: 63, n: (1n << 62n) + 12345n, w: 1 },
    ]) {
      expect(parseTilePath(tilePath(t))).toEqual(t);
    }
    expect(() => parseTilePath('tile/8/0/' + 'x100/'.repeat(60) + '000')).toThrow(/malformed tile path/);
  });

  it('hashFromTile reads a subtree hash out of a wider tile, and refuses the wrong tile', async () => {
    const r = await reader();
    const t: Tile = { h: 2, l: 0, n: 1n, w: 4 };
    const data = await readTileData(t, r);
    // Records 4..7 at height 2: level 1 node 2 (records 4, 5) is inside the
    // tile; level 2 node 1 (records 4..7) is an entry of the tile above.
    expect(hashFromTile(t, data, storedHashIndex(1, 2n))).toEqual(nodeHash(recordHash(records[4]), recordHash(records[5])));
    const up: Tile = { h: 2, l: 1, n: 0n, w: 4 };
    expect(hashFromTile(up, await readTileData(up, r), storedHashIndex(2, 1n))).toEqual(await treeHashOf(4, 8));
    expect(() => hashFromTile(t, data, storedHashIndex(2, 1n))).toThrow(/is in tile\/2\/1\/000.p\/2/);
    expect(() => hashFromTile(t, data, storedHashIndex(0, 8n))).toThrow(/is in tile\/2\/0\/002/);
    expect(() => hashFromTile(t, data.subarray(0, 64), storedHashIndex(0, 4n))).toThrow(/too short/);
  });
});

/** Hash of records [lo, hi) computed directly (hi - lo a power of two). */
async function treeHashOf(lo: number, hi: number): Promise<Hash> {
  let level = records.slice(lo, hi).map(recordHash);
  while (level.length > 1) {
    const next: Hash[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(nodeHash(level[i], level[i + 1]));
    level = next;
  }
  return level[0];
}

/** A tile source serving the log of the first `size` records, optionally misbehaving. */
function source(
  hashes: Hash[],
  size: number,
  h: number,
  opts: { tamper?: (t: Tile, d: Uint8Array) => Uint8Array; cache?: Map<string, Uint8Array> } = {},
): TileSource & { asked: string[]; freshCalls: number } {
  const r: HashReader = { readHashes: (xs) => xs.map((x) => hashes[Number(x)]) };
  const src = {
    height: h,
    asked: [] as string[],
    freshCalls: 0,
    async readTiles(tiles: Tile[], o: { fresh: boolean }) {
      if (o.fresh) src.freshCalls++;
      return Promise.all(
        tiles.map(async (t) => {
          const cached = !o.fresh ? opts.cache?.get(tilePath(t)) : undefined;
          if (cached) return cached;
          src.asked.push(tilePath(t));
          const start = t.n << BigInt(t.h);
          const have = BigInt(size) >> BigInt(t.l * t.h);
          if (start + BigInt(t.w) > have) throw new Error(`tile ${tilePath(t)} beyond tree ${size}`);
          const d = await readTileData(t, r);
          return opts.tamper ? opts.tamper(t, d) : d;
        }),
      );
    },
  };
  return src;
}

describe('TileHashReader', () => {
  it('returns authenticated hashes for trees of many sizes and tile heights', async () => {
    const hashes = await logPromise;
    const direct = await reader();
    for (const h of [1, 2, 3, 8]) {
      for (const size of [1, 2, 3, 4, 5, 7, 8, 9, 63, 64, 65, 255, 256, 257, 300]) {
        const tree = { n: BigInt(size), hash: await treeHash(BigInt(size), direct) };
        const thr = new TileHashReader(tree, source(hashes, size, h));
        expect(await treeHash(BigInt(size), thr)).toEqual(tree.hash);
        const ids = [0, size - 1, Math.floor(size / 2)].map(BigInt);
        const got = await thr.readHashes(ids.map((n) => storedHashIndex(0, n)));
        expect(got).toEqual(ids.map((n) => recordHash(records[Number(n)])));
        for (const n of ids) {
          const proof = await proveRecord(tree.n, n, thr);
          checkRecord(proof, tree.n, tree.hash, n, recordHash(records[Number(n)]));
        }
        if (size > 1) {
          const old = BigInt(Math.ceil(size / 3));
          checkTree(await proveTree(tree.n, old, thr), tree.n, tree.hash, old, await treeHash(old, direct));
        }
      }
    }
  });

  it('refuses any altered tile, and indexes outside the tree', async () => {
    const hashes = await logPromise;
    const size = 300;
    const tree = { n: BigInt(size), hash: await treeHash(BigInt(size), await reader()) };
    for (const h of [2, 8]) {
      const plan = new Set<string>();
      const probe = source(hashes, size, h);
      await new TileHashReader(tree, probe).readHashes([storedHashIndex(0, 0n), storedHashIndex(0, 299n), storedHashIndex(3, 17n)]);
      for (const p of probe.asked) plan.add(p);
      for (const victim of plan) {
        const bad = source(hashes, size, h, {
          tamper: (t, d) => {
            if (tilePath(t) !== victim) return d;
            const x = d.slice();
            x[d.length - 1] ^= 1;
            return x;
          },
        });
        const thr = new TileHashReader(tree, bad);
        await expect(
          thr.readHashes([storedHashIndex(0, 0n), storedHashIndex(0, 299n), storedHashIndex(3, 17n)]),
          victim,
        ).rejects.toThrow(/downloaded inconsistent tile/);
      }
      const short = source(hashes, size, h, { tamper: (_t, d) => d.subarray(0, d.length - 1) });
      await expect(new TileHashReader(tree, short).readHashes([0n])).rejects.toThrow(/bytes, want/);
    }
    const thr = new TileHashReader(tree, source(hashes, size, 8));
    await expect(thr.readHashes([storedHashIndex(0, 300n)])).rejects.toThrow(/not in tree/);
    await expect(thr.readHashes([-1n])).rejects.toThrow(/not in tree/);
  });

  it('a stale cached tile costs one fresh read, not a wrong answer', async () => {
    const hashes = await logPromise;
    const tree = { n: 300n, hash: await treeHash(300n, await reader()) };
    const cache = new Map([['tile/8/0/000', new Uint8Array(256 * HASH_SIZE)]]);
    const src = source(hashes, 300, 8, { cache });
    const thr = new TileHashReader(tree, src);
    expect(await thr.readHashes([storedHashIndex(0, 5n)])).toEqual([recordHash(records[5])]);
    expect(src.freshCalls).toBe(1);
  });

  it('does not trust a tree hash the tiles do not support', async () => {
    const hashes = await logPromise;
    const tree = { n: 300n, hash: EMPTY_TREE_HASH };
    await expect(new TileHashReader(tree, source(hashes, 300, 8)).readHashes([0n])).rejects.toThrow(/inconsistent tile/);
  });
});

describe('tree heads and records', () => {
  it('parse as Go parses them', () => {
    for (const { text, result } of V.trees) {
      const ours = outcome(() => {
        const t = parseTree(text);
        return { n: String(t.n), hash: hashToBase64(t.hash) };
      });
      expect(ours, JSON.stringify(text)).toEqual('err' in result ? { err: result.err } : result);
    }
    for (const { msg, result } of V.parsedRecords) {
      const ours = outcome(() => {
        const r = parseRecord(unb64(msg));
        return { id: String(r.id), text: b64(r.text), rest: b64(r.rest) };
      });
      expect(ours, msg).toEqual('err' in result ? { err: result.err } : result);
    }
    for (const { id, text, result } of V.formattedRecords) {
      const ours = outcome(() => b64(formatRecord(BigInt(id), enc(text))));
      expect(ours, JSON.stringify(text)).toEqual(typeof result === 'string' ? result : { err: result.err });
    }
  });

  it('formatTree and parseTree round-trip; oversized texts are refused', () => {
    const t = { n: 12345678901234n, hash: recordHash(enc('x')) };
    expect(parseTree(formatTree(t))).toEqual(t);
    expect(() => parseTree(formatTree(t) + 'x'.repeat(1_000_001))).toThrow(/malformed tree note/);
  });
});

describe('data tiles', () => {
  it('hold the records in order and match the level-0 hash tile', async () => {
    const r = await reader();
    const t: Tile = { h: 2, l: -1, n: 3n, w: 4 };
    const data = new Uint8Array(Buffer.concat([12, 13, 14, 15].map((i) => formatRecord(BigInt(i), records[i]))));
    const hashTile = await readTileData({ ...t, l: 0 }, r);
    const got = checkDataTile(t, data, hashTile);
    expect(got.map((x) => x.id)).toEqual([12n, 13n, 14n, 15n]);
    expect(got.map((x) => x.text)).toEqual([12, 13, 14, 15].map((i) => records[i]));
    expect(tilePath(t)).toBe('tile/2/data/003');
  });

  it('refuse wrong ids, missing or extra records, and records that do not match their hashes', async () => {
    const r = await reader();
    const t: Tile = { h: 2, l: -1, n: 3n, w: 4 };
    const rec = (i: number, text = records[i]) => formatRecord(BigInt(i), text);
    const join = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
    const hashTile = await readTileData({ ...t, l: 0 }, r);
    expect(() => parseDataTile(t, join([rec(12), rec(13), rec(15), rec(14)]))).toThrow(/record 15 where 14 belongs/);
    expect(() => parseDataTile(t, join([rec(12), rec(13), rec(14)]))).toThrow(/malformed record/);
    expect(() => parseDataTile(t, join([rec(12), rec(13), rec(14), rec(15), rec(16)]))).toThrow(/data after the last record/);
    expect(() => checkDataTile(t, join([rec(12), rec(13), rec(14, enc('forged\n')), rec(15)]), hashTile)).toThrow(
      /record 14 does not match its hash/,
    );
    expect(() => parseDataTile({ ...t, l: 0 }, join([rec(12)]))).toThrow(/not a data tile/);
  });
});
