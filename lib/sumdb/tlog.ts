// The transparency log behind a checksum database (RFC 6962 Merkle trees,
// stored and served as tiles), as the go command understands it.
//
// Record i of the log has hash SHA-256(0x00 || data); an interior node has
// SHA-256(0x01 || left || right); a tree of n records is split into a left
// subtree of the largest power of two smaller than n and the rest. Every hash
// the log ever computes is kept once, in a dense "stored hash index" order
// (record n's hash, then the hashes of the subtrees it completes), and served
// in tiles: a tile of height H at level L, number N, holds the W ≤ 2^H
// consecutive hashes of tree level L·H starting at N·2^H. The data tiles
// (level -1, path element "data") hold the records themselves.
//
// Sizes and indexes are bigints: a log may hold up to 2^63 records and none of
// the arithmetic here is allowed to round.
import crypto from 'node:crypto';
import { decodeStdBase64 } from './note.js';

export const HASH_SIZE = 32;
/** A 32-byte SHA-256 hash. */
export type Hash = Uint8Array;

/** Largest tree size the format allows (Go's int64). */
export const MAX_TREE_SIZE = (1n << 63n) - 1n;

export class TlogError extends Error {
  override name = 'TlogError';
  constructor(
    /** 'proof' when a proof or tile does not check out; 'malformed' for unparsable input; 'input' for impossible arguments. */
    readonly code: 'proof' | 'malformed' | 'input',
    message: string,
  ) {
    super(message);
  }
}

function proofFailed(): TlogError {
  return new TlogError('proof', 'invalid transparency proof');
}

export function hashEqual(a: Hash, b: Hash): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export function hashToBase64(h: Hash): string {
  return Buffer.from(h).toString('base64');
}

/** Parses the base64 form of a hash; throws TlogError('malformed'). */
export function parseHash(s: string): Hash {
  const h = decodeStdBase64(s);
  if (h === null || h.length !== HASH_SIZE) throw new TlogError('malformed', 'malformed hash');
  return h;
}

export function recordHash(data: Uint8Array): Hash {
  return new Uint8Array(crypto.createHash('sha256').update(Uint8Array.of(0)).update(data).digest());
}

export function nodeHash(left: Hash, right: Hash): Hash {
  return new Uint8Array(crypto.createHash('sha256').update(Uint8Array.of(1)).update(left).update(right).digest());
}

/** The hash of the empty tree: SHA-256 of nothing. */
export const EMPTY_TREE_HASH: Hash = new Uint8Array(crypto.createHash('sha256').digest());

/** k = the largest power of two strictly below n (n ≥ 2), and its log₂. */
function maxPow2(n: bigint): [bigint, number] {
  let l = 0;
  while (1n << BigInt(l + 1) < n) l++;
  return [1n << BigInt(l), l];
}

function trailingOnes(n: bigint): number {
  let c = 0;
  while ((n & 1n) === 1n) {
    c++;
    n >>= 1n;
  }
  return c;
}

// ---------------------------------------------------------------------------
// Stored hash indexes

/** Where hash n of a tree level is kept in the dense storage order. */
export function storedHashIndex(level: number, n: bigint): bigint {
  // The level-L node n is stored just after the level-(L-1) node 2n+1, its
  // right child; go down to that record's level-0 position, then count.
  for (let l = level; l > 0; l--) n = 2n * n + 1n;
  let i = 0n;
  for (let m = n; m > 0n; m >>= 1n) i += m;
  return i + BigInt(level);
}

/** The inverse of storedHashIndex: the level and number of the hash at index. */
export function splitStoredHashIndex(index: bigint): [number, bigint] {
  // Record n's hashes start at storedHashIndex(0, n) < 2n, so n ≥ index/2;
  // step forward record by record (each stores 1 + its trailing ones).
  let n = index / 2n;
  let at = storedHashIndex(0, n);
  if (at > index) throw new Error('tlog: bad index arithmetic');
  for (;;) {
    const next = at + 1n + BigInt(trailingOnes(n));
    if (next > index) break;
    n++;
    at = next;
  }
  const level = Number(index - at);
  return [level, n >> BigInt(level)];
}

/** How many hashes a log of n records has stored. */
export function storedHashCount(n: bigint): bigint {
  if (n === 0n) return 0n;
  let count = storedHashIndex(0, n - 1n) + 1n;
  count += BigInt(trailingOnes(n - 1n));
  return count;
}

/** Reads stored hashes by index; must return exactly one hash per index. */
export interface HashReader {
  readHashes(indexes: bigint[]): Promise<Hash[]> | Hash[];
}

async function readExactly(r: HashReader, indexes: bigint[]): Promise<Hash[]> {
  const hashes = await r.readHashes(indexes);
  if (hashes.length !== indexes.length) {
    throw new TlogError('proof', `hash reader returned ${hashes.length} hashes for ${indexes.length} indexes`);
  }
  for (const h of hashes) if (h.length !== HASH_SIZE) throw new TlogError('proof', 'hash reader returned a malformed hash');
  return hashes;
}

/** The hashes to store when appending record n (data's hash given), reading up to log₂ n earlier ones. */
export async function storedHashesForRecordHash(n: bigint, h: Hash, r: HashReader): Promise<Hash[]> {
  const completes = trailingOnes(n);
  const indexes: bigint[] = [];
  // Left siblings of the subtrees this record completes, lowest level last.
  for (let i = completes - 1; i >= 0; i--) indexes.push(storedHashIndex(i, (n >> BigInt(i)) - 1n));
  const old = completes > 0 ? await readExactly(r, indexes) : [];
  const out = [h];
  for (let i = 0; i < completes; i++) {
    h = nodeHash(old[completes - 1 - i], h);
    out.push(h);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Tree hashes and proofs

/** Indexes of the complete subtrees that together cover records [lo, hi), left to right. */
function subTreeIndexes(lo: bigint, hi: bigint, out: bigint[]): bigint[] {
  while (lo < hi) {
    const [k, level] = maxPow2(hi - lo + 1n);
    if ((lo & (k - 1n)) !== 0n) throw new Error('tlog: bad subtree arithmetic');
    out.push(storedHashIndex(level, lo >> BigInt(level)));
    lo += k;
  }
  return out;
}

/** Combines the leading hashes for subTreeIndexes(lo, hi) into that range's hash; returns it and how many were used. */
function subTreeHash(lo: bigint, hi: bigint, hashes: Hash[], at: number): [Hash, number] {
  let count = 0;
  for (let x = lo; x < hi; count++) x += maxPow2(hi - x + 1n)[0];
  if (count === 0 || hashes.length - at < count) throw new Error('tlog: bad subtree arithmetic');
  let h = hashes[at + count - 1];
  for (let i = count - 2; i >= 0; i--) h = nodeHash(hashes[at + i], h);
  return [h, at + count];
}

/** The root hash of the tree of the first n records. */
export async function treeHash(n: bigint, r: HashReader): Promise<Hash> {
  if (n < 0n) throw new TlogError('input', 'tlog: negative tree size');
  if (n === 0n) return EMPTY_TREE_HASH;
  const indexes = subTreeIndexes(0n, n, []);
  const hashes = await readExactly(r, indexes);
  const [h, used] = subTreeHash(0n, n, hashes, 0);
  if (used !== hashes.length) throw new Error('tlog: bad index arithmetic in treeHash');
  return h;
}

function recordProofIndexes(lo: bigint, hi: bigint, n: bigint, out: bigint[]): bigint[] {
  if (lo + 1n === hi) return out;
  const [k] = maxPow2(hi - lo);
  if (n < lo + k) {
    recordProofIndexes(lo, lo + k, n, out);
    subTreeIndexes(lo + k, hi, out);
  } else {
    subTreeIndexes(lo, lo + k, out);
    recordProofIndexes(lo + k, hi, n, out);
  }
  return out;
}

function recordProofFrom(lo: bigint, hi: bigint, n: bigint, hashes: Hash[], at: number): [Hash[], number] {
  if (lo + 1n === hi) return [[], at];
  const [k] = maxPow2(hi - lo);
  let proof: Hash[];
  let sibling: Hash;
  if (n < lo + k) {
    [proof, at] = recordProofFrom(lo, lo + k, n, hashes, at);
    [sibling, at] = subTreeHash(lo + k, hi, hashes, at);
  } else {
    [sibling, at] = subTreeHash(lo, lo + k, hashes, at);
    [proof, at] = recordProofFrom(lo + k, hi, n, hashes, at);
  }
  proof.push(sibling);
  return [proof, at];
}

/** The proof (RFC 6962 audit path) that the tree of size t contains record n. */
export async function proveRecord(t: bigint, n: bigint, r: HashReader): Promise<Hash[]> {
  if (t < 0n || n < 0n || n >= t) throw new TlogError('input', 'tlog: invalid inputs in proveRecord');
  const indexes = recordProofIndexes(0n, t, n, []);
  if (indexes.length === 0) return [];
  const hashes = await readExactly(r, indexes);
  const [proof, used] = recordProofFrom(0n, t, n, hashes, 0);
  if (used !== hashes.length) throw new Error('tlog: bad index arithmetic in proveRecord');
  return proof;
}

/** The root implied by proof p for leaf n (hash leaf) in records [lo, hi); p is consumed from its end. */
function runRecordProof(p: Hash[], end: number, lo: bigint, hi: bigint, n: bigint, leaf: Hash): Hash {
  if (lo + 1n === hi) {
    if (end !== 0) throw proofFailed(); // no spare hashes allowed
    return leaf;
  }
  if (end === 0) throw proofFailed();
  const [k] = maxPow2(hi - lo);
  if (n < lo + k) return nodeHash(runRecordProof(p, end - 1, lo, lo + k, n, leaf), p[end - 1]);
  return nodeHash(p[end - 1], runRecordProof(p, end - 1, lo + k, hi, n, leaf));
}

/** Checks that p proves the tree of size t with root th has record n with hash h; throws TlogError. */
export function checkRecord(p: Hash[], t: bigint, th: Hash, n: bigint, h: Hash): void {
  if (t < 0n || n < 0n || n >= t) throw new TlogError('input', 'tlog: invalid inputs in checkRecord');
  if (p.length > 64 || p.some((x) => x.length !== HASH_SIZE)) throw proofFailed();
  if (!hashEqual(runRecordProof(p, p.length, 0n, t, n, h), th)) throw proofFailed();
}

function treeProofIndexes(lo: bigint, hi: bigint, n: bigint, out: bigint[]): bigint[] {
  if (n === hi) return lo === 0n ? out : subTreeIndexes(lo, hi, out);
  const [k] = maxPow2(hi - lo);
  if (n <= lo + k) {
    treeProofIndexes(lo, lo + k, n, out);
    subTreeIndexes(lo + k, hi, out);
  } else {
    subTreeIndexes(lo, lo + k, out);
    treeProofIndexes(lo + k, hi, n, out);
  }
  return out;
}

function treeProofFrom(lo: bigint, hi: bigint, n: bigint, hashes: Hash[], at: number): [Hash[], number] {
  if (n === hi) {
    if (lo === 0n) return [[], at];
    const [h, next] = subTreeHash(lo, hi, hashes, at);
    return [[h], next];
  }
  const [k] = maxPow2(hi - lo);
  let proof: Hash[];
  let other: Hash;
  if (n <= lo + k) {
    [proof, at] = treeProofFrom(lo, lo + k, n, hashes, at);
    [other, at] = subTreeHash(lo + k, hi, hashes, at);
  } else {
    [other, at] = subTreeHash(lo, lo + k, hashes, at);
    [proof, at] = treeProofFrom(lo + k, hi, n, hashes, at);
  }
  proof.push(other);
  return [proof, at];
}

/** The proof (RFC 6962 consistency proof) that the tree of size t extends the tree of size n. */
export async function proveTree(t: bigint, n: bigint, r: HashReader): Promise<Hash[]> {
  if (t < 1n || n < 1n || n > t) throw new TlogError('input', 'tlog: invalid inputs in proveTree');
  const indexes = treeProofIndexes(0n, t, n, []);
  if (indexes.length === 0) return [];
  const hashes = await readExactly(r, indexes);
  const [proof, used] = treeProofFrom(0n, t, n, hashes, 0);
  if (used !== hashes.length) throw new Error('tlog: bad index arithmetic in proveTree');
  return proof;
}

/** The [old, new] hashes of records [lo, hi) implied by proof p (consumed from its end) and old tree hash. */
function runTreeProof(p: Hash[], end: number, lo: bigint, hi: bigint, n: bigint, old: Hash): [Hash, Hash] {
  if (n === hi) {
    if (lo === 0n) {
      if (end !== 0) throw proofFailed();
      return [old, old];
    }
    if (end !== 1) throw proofFailed();
    return [p[0], p[0]];
  }
  if (end === 0) throw proofFailed();
  const [k] = maxPow2(hi - lo);
  const x = p[end - 1];
  if (n <= lo + k) {
    const [oh, th] = runTreeProof(p, end - 1, lo, lo + k, n, old);
    return [oh, nodeHash(th, x)];
  }
  const [oh, th] = runTreeProof(p, end - 1, lo + k, hi, n, old);
  return [nodeHash(x, oh), nodeHash(x, th)];
}

/** Checks that p proves the tree of size t with root th extends the tree of size n with root h; throws TlogError. */
export function checkTree(p: Hash[], t: bigint, th: Hash, n: bigint, h: Hash): void {
  if (t < 1n || n < 1n || n > t) throw new TlogError('input', 'tlog: invalid inputs in checkTree');
  if (p.length > 128 || p.some((x) => x.length !== HASH_SIZE)) throw proofFailed();
  const [h2, th2] = runTreeProof(p, p.length, 0n, t, n, h);
  if (!hashEqual(th2, th) || !hashEqual(h2, h)) throw proofFailed();
}

// ---------------------------------------------------------------------------
// Tree heads and records

export interface Tree {
  n: bigint;
  hash: Hash;
}

const TREE_PREFIX = 'go.sum database tree\n';

export function formatTree(tree: Tree): string {
  return `${TREE_PREFIX}${tree.n}\n${hashToBase64(tree.hash)}\n`;
}

/** Parses a tree head note text; lines after the third are ignored (room for future fields). */
export function parseTree(text: string): Tree {
  const bad = () => new TlogError('malformed', 'malformed tree note');
  if (!text.startsWith(TREE_PREFIX) || text.length > 1_000_000) throw bad();
  const lines = text.split('\n');
  if (lines.length < 4) throw bad(); // at least three newlines
  if (!/^(0|[1-9][0-9]{0,18})$/.test(lines[1])) throw bad();
  const n = BigInt(lines[1]);
  if (n > MAX_TREE_SIZE) throw bad();
  const hash = decodeStdBase64(lines[2]);
  if (hash === null || hash.length !== HASH_SIZE) throw bad();
  return { n, hash };
}

// (Only validity is asked of it; ignoreBOM as everywhere a Go string is decoded.)
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Record text: valid UTF-8, no control characters but newline, no blank line, ending in newline. */
export function isValidRecordText(text: Uint8Array): boolean {
  if (text.length === 0 || text[text.length - 1] !== 0x0a) return false;
  for (let i = 0; i < text.length; i++) {
    const b = text[i];
    if (b < 0x20 && b !== 0x0a) return false;
    if (b === 0x0a && i > 0 && text[i - 1] === 0x0a) return false;
  }
  try {
    utf8.decode(text);
  } catch {
    return false;
  }
  return true;
}

/** A record as served in lookup answers and data tiles: its id, its text, a blank line. */
export function formatRecord(id: bigint, text: Uint8Array): Uint8Array {
  if (!isValidRecordText(text)) throw new TlogError('malformed', 'malformed record data');
  const head = Buffer.from(`${id}\n`);
  return Uint8Array.from(Buffer.concat([head, text, Buffer.from('\n')]));
}

export interface ParsedRecord {
  id: bigint;
  text: Uint8Array;
  /** What follows the record's terminating blank line. */
  rest: Uint8Array;
}

/** Parses one record at the start of msg (see formatRecord); throws TlogError('malformed'). */
export function parseRecord(msg: Uint8Array): ParsedRecord {
  const bad = () => new TlogError('malformed', 'malformed record data');
  const nl = msg.indexOf(0x0a);
  if (nl < 0) throw bad();
  const idText = Buffer.from(msg.subarray(0, nl)).toString('latin1');
  // Go's ParseInt: optional sign, decimal digits, within int64.
  if (!/^[+-]?[0-9]+$/.test(idText)) throw bad();
  const id = BigInt(idText);
  if (id > MAX_TREE_SIZE || id < -MAX_TREE_SIZE - 1n) throw bad();
  const body = msg.subarray(nl + 1);
  let end = -1;
  for (let i = 0; i + 1 < body.length; i++) {
    if (body[i] === 0x0a && body[i + 1] === 0x0a) {
      end = i;
      break;
    }
  }
  if (end < 0) throw bad();
  const text = body.subarray(0, end + 1);
  if (!isValidRecordText(text)) throw bad();
  return { id, text, rest: body.subarray(end + 2) };
}

// ---------------------------------------------------------------------------
// Tiles

export interface Tile {
  /** Height, 1..30. */
  h: number;
  /** Level in the tiling; -1 for data tiles. */
  l: number;
  /** Number within the level. */
  n: bigint;
  /** Width: how many hashes (or records), 1..2^h. */
  w: number;
}

/** The tile of height h and least width holding stored hash index, and where in its data that hash's subtree lies. */
function tileFor(h: number, index: bigint): { tile: Tile; start: number; end: number } {
  const [level, n0] = splitStoredHashIndex(index);
  const l = Math.floor(level / h);
  const inner = level - l * h; // level within the tile
  const H = BigInt(h);
  const I = BigInt(inner);
  const tn = (n0 << I) >> H;
  const within = n0 - ((tn << H) >> I); // position at that level within the tile
  const w = Number((within + 1n) << I);
  return {
    tile: { h, l, n: tn, w },
    start: Number(within << I) * HASH_SIZE,
    end: Number((within + 1n) << I) * HASH_SIZE,
  };
}

/** The tile of height h ≥ 1 and least width that holds the given stored hash index. */
export function tileForIndex(h: number, index: bigint): Tile {
  if (!(h >= 1 && h <= 30)) throw new TlogError('input', `invalid tile height ${h}`);
  return tileFor(h, index).tile;
}

/** The hash of a complete subtree whose 2^k leaves' hashes are concatenated in data. */
function tileHash(data: Uint8Array): Hash {
  if (data.length === HASH_SIZE) return data.slice();
  if (data.length === 0 || data.length % HASH_SIZE !== 0) throw new Error('tlog: bad tile arithmetic');
  const half = data.length / 2;
  return nodeHash(tileHash(data.subarray(0, half)), tileHash(data.subarray(half)));
}

/** The hash at a stored index, computed from the data of tile t (which must hold it). */
export function hashFromTile(t: Tile, data: Uint8Array, index: bigint): Hash {
  if (t.h < 1 || t.h > 30 || t.l < 0 || t.l >= 64 || t.w < 1 || t.w > 2 ** t.h) {
    throw new TlogError('input', `invalid tile ${tilePath(t)}`);
  }
  if (data.length < t.w * HASH_SIZE) throw new TlogError('proof', `data len ${data.length} too short for tile ${tilePath(t)}`);
  const { tile, start, end } = tileFor(t.h, index);
  if (t.l !== tile.l || t.n !== tile.n || t.w < tile.w) {
    throw new TlogError('input', `index ${index} is in ${tilePath(tile)} not ${tilePath(t)}`);
  }
  return tileHash(data.subarray(start, end));
}

/** The tiles to publish when a log of size oldSize grows to newSize. */
export function newTiles(h: number, oldSize: bigint, newSize: bigint): Tile[] {
  if (!(h >= 1 && h <= 30)) throw new TlogError('input', `invalid tile height ${h}`);
  const H = BigInt(h);
  const out: Tile[] = [];
  for (let level = 0; newSize >> (H * BigInt(level)) > 0n; level++) {
    const shift = H * BigInt(level);
    const oldN = oldSize >> shift;
    const newN = newSize >> shift;
    if (oldN === newN) continue;
    for (let n = oldN >> H; n < newN >> H; n++) out.push({ h, l: level, n, w: 2 ** h });
    const n = newN >> H;
    const w = Number(newN - (n << H));
    if (w > 0) out.push({ h, l: level, n, w });
  }
  return out;
}

/** The data of hash tile t (w hashes of level l·h from n·2^h on), read from stored hashes: what a log serves. */
export async function readTileData(t: Tile, r: HashReader): Promise<Uint8Array> {
  if (t.l < 0) throw new TlogError('input', 'readTileData: not a hash tile');
  const start = t.n << BigInt(t.h);
  const indexes: bigint[] = [];
  for (let i = 0; i < t.w; i++) indexes.push(storedHashIndex(t.h * t.l, start + BigInt(i)));
  const hashes = await readExactly(r, indexes);
  const out = new Uint8Array(t.w * HASH_SIZE);
  hashes.forEach((h, i) => out.set(h, i * HASH_SIZE));
  return out;
}

/** The tile's path: tile/H/L/NNN[.p/W], N in groups of three digits ("x001/x234/067"), L "data" for -1. */
export function tilePath(t: Tile): string {
  let n = t.n;
  let nStr = String(n % 1000n).padStart(3, '0');
  while (n >= 1000n) {
    n /= 1000n;
    nStr = `x${String(n % 1000n).padStart(3, '0')}/${nStr}`;
  }
  const p = t.w !== 2 ** t.h ? `.p/${t.w}` : '';
  const l = t.l === -1 ? 'data' : String(t.l);
  return `tile/${t.h}/${l}/${nStr}${p}`;
}

/** Parses a tile path (the canonical form only); throws TlogError('malformed'). */
export function parseTilePath(p: string): Tile {
  const bad = () => new TlogError('malformed', `malformed tile path ${JSON.stringify(p)}`);
  if (p.length > 256) throw bad();
  let f = p.split('/');
  if (f.length < 4 || f[0] !== 'tile') throw bad();
  const num = (s: string) => (/^[+-]?[0-9]{1,9}$/.test(s) ? Number(s) : NaN);
  const h = num(f[1]);
  const isData = f[2] === 'data';
  let l = isData ? 0 : num(f[2]);
  if (!(h >= 1 && h <= 30) || !(l >= 0)) throw bad();
  let w = 2 ** h;
  const dotP = f[f.length - 2];
  if (dotP.endsWith('.p')) {
    const ww = num(f[f.length - 1]);
    if (!(ww > 0 && ww < w)) throw bad();
    w = ww;
    f = [...f.slice(0, f.length - 2), dotP.slice(0, -2)];
  }
  let n = 0n;
  for (const s of f.slice(3)) {
    const nn = num(s.startsWith('x') ? s.slice(1) : s);
    if (!(nn >= 0 && nn < 1000)) throw bad();
    n = n * 1000n + BigInt(nn);
    if (n > MAX_TREE_SIZE) throw bad(); // beyond int64, as the go command refuses too
  }
  if (isData) l = -1;
  const t: Tile = { h, l, n, w };
  // Only the canonical spelling is accepted (this also bounds n and l).
  if (tilePath(t) !== p) throw bad();
  return t;
}

/** The records of a data tile (level -1): W records numbered from N·2^H, in order. Throws TlogError('malformed'). */
export function parseDataTile(t: Tile, data: Uint8Array): ParsedRecord[] {
  if (t.l !== -1) throw new TlogError('input', `${tilePath(t)} is not a data tile`);
  const first = t.n << BigInt(t.h);
  const out: ParsedRecord[] = [];
  let rest = data;
  for (let i = 0; i < t.w; i++) {
    const rec = parseRecord(rest);
    if (rec.id !== first + BigInt(i)) {
      throw new TlogError('malformed', `${tilePath(t)}: record ${rec.id} where ${first + BigInt(i)} belongs`);
    }
    out.push(rec);
    rest = rec.rest;
  }
  if (rest.length !== 0) throw new TlogError('malformed', `${tilePath(t)}: data after the last record`);
  return out;
}

/**
 * Checks a data tile against the level-0 hash tile with the same coordinates
 * (whose hashes are exactly the records' hashes); throws TlogError('proof').
 */
export function checkDataTile(t: Tile, data: Uint8Array, hashTileData: Uint8Array): ParsedRecord[] {
  const records = parseDataTile(t, data);
  if (hashTileData.length < t.w * HASH_SIZE) throw new TlogError('proof', `hash tile too short for ${tilePath(t)}`);
  records.forEach((rec, i) => {
    if (!hashEqual(recordHash(rec.text), hashTileData.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE))) {
      throw new TlogError('proof', `${tilePath(t)}: record ${rec.id} does not match its hash`);
    }
  });
  return records;
}

/** Fetches hash tiles; each answer must be exactly w·32 bytes. */
export interface TileSource {
  readonly height: number;
  /** The data of each tile. With fresh, nothing may come from a cache. */
  readTiles(tiles: Tile[], opts: { fresh: boolean }): Promise<Uint8Array[]>;
  /** Called with tiles that have just been authenticated against a tree hash. */
  saveTiles?(tiles: Tile[], data: Uint8Array[]): void;
}

function tileKey(t: Tile): string {
  return tilePath(t);
}

/** t's k-th ancestor tile in a tree of size n (width trimmed to the tree), or null when there is none. */
function tileParent(t: Tile, k: number, n: bigint): Tile | null {
  const l = t.l + k;
  const H = BigInt(t.h);
  const tn = t.n >> BigInt(k * t.h);
  let w = 2 ** t.h;
  const max = n >> (BigInt(l) * H);
  const start = tn << H;
  if (start + BigInt(w) >= max) {
    if (start >= max) return null;
    w = Number(max - start);
  }
  return { h: t.h, l, n: tn, w };
}

/**
 * A HashReader for the tree of a signed tree head that reads tiles and
 * believes nothing it has not authenticated: the tiles covering the tree's
 * complete subtrees must hash to the tree hash, and every other tile must
 * hash to the entry its parent tile (itself authenticated) holds for it. So
 * every hash it returns is proven to be part of that tree.
 */
export class TileHashReader implements HashReader {
  constructor(
    private readonly tree: Tree,
    private readonly source: TileSource,
  ) {}

  async readHashes(indexes: bigint[]): Promise<Hash[]> {
    try {
      return await this.read(indexes, false);
    } catch (e) {
      // A tile served from a cache may predate a fork; ask once more without the cache.
      if (e instanceof TlogError && e.code === 'proof') return await this.read(indexes, true);
      throw e;
    }
  }

  private async read(indexes: bigint[], fresh: boolean): Promise<Hash[]> {
    const h = this.source.height;
    const N = this.tree.n;
    const tiles: Tile[] = [];
    const order = new Map<string, number>();
    const add = (t: Tile): number => {
      const k = tileKey(t);
      const have = order.get(k);
      if (have !== undefined) return have;
      order.set(k, tiles.length);
      tiles.push(t);
      return tiles.length - 1;
    };

    // First the tiles that hold the tree's complete subtrees: they are
    // authenticated by recomputing the tree hash.
    const roots = subTreeIndexes(0n, N, []);
    const rootTile = roots.map((x) => {
      const t = tileParent(tileForIndex(h, x), 0, N);
      if (t === null) throw new Error('tlog: bad tile arithmetic');
      return add(t);
    });
    const rootCount = tiles.length;

    // Then, for each wanted index, its tile and any ancestors up to one that
    // is already planned, parents before children.
    const indexTile = indexes.map((x) => {
      if (x < 0n || x >= storedHashIndex(0, N)) throw new TlogError('input', 'indexes not in tree');
      const base = tileForIndex(h, x);
      let k = 0;
      for (; ; k++) {
        const p = tileParent(base, k, N);
        if (p !== null && order.has(tileKey(p))) break;
        if (p === null || k > 64) throw new Error('tlog: bad tile arithmetic');
      }
      let at = order.get(tileKey(tileParent(base, k, N)!))!;
      for (k--; k >= 0; k--) {
        const p = tileParent(base, k, N)!;
        if (p.w !== 2 ** p.h) throw new Error('tlog: bad tile arithmetic (a tile with a parent must be full)');
        at = add(p);
      }
      return at;
    });

    const data = await this.source.readTiles(tiles, { fresh });
    if (data.length !== tiles.length) throw new TlogError('proof', 'tile source returned the wrong number of tiles');
    tiles.forEach((t, i) => {
      if (data[i].length !== t.w * HASH_SIZE) {
        throw new TlogError('proof', `${tilePath(t)}: ${data[i].length} bytes, want ${t.w * HASH_SIZE}`);
      }
    });

    // Authenticate the root tiles against the tree hash…
    let th = hashFromTile(tiles[rootTile[roots.length - 1]], data[rootTile[roots.length - 1]], roots[roots.length - 1]);
    for (let i = roots.length - 2; i >= 0; i--) {
      th = nodeHash(hashFromTile(tiles[rootTile[i]], data[rootTile[i]], roots[i]), th);
    }
    if (!hashEqual(th, this.tree.hash)) throw new TlogError('proof', 'downloaded inconsistent tile');

    // …and every other tile against its (earlier, authenticated) parent.
    for (let i = rootCount; i < tiles.length; i++) {
      const t = tiles[i];
      const p = tileParent(t, 1, N);
      const j = p === null ? undefined : order.get(tileKey(p));
      if (p === null || j === undefined || j >= i) throw new Error('tlog: bad tile arithmetic (lost parent)');
      const want = hashFromTile(p, data[j], storedHashIndex(p.l * p.h, t.n));
      if (!hashEqual(want, tileHash(data[i]))) throw new TlogError('proof', 'downloaded inconsistent tile');
    }
    this.source.saveTiles?.(tiles, data);

    return indexes.map((x, i) => hashFromTile(tiles[indexTile[i]], data[indexTile[i]], x));
  }
}
