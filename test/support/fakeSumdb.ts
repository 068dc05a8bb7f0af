// An in-process checksum database for unit tests of lib/sumdb/client.ts: a
// log built with lib/sumdb/tlog, tree heads signed with a Node Ed25519 key,
// and the same paths as a real one (/latest, /lookup/…, /tile/…). It exists to
// be misbehaved: every answer goes through `tamper`, and a test may swap the
// signed head or the records at will. (The real thing, Go's own server, is
// exercised in test/sumdb.test.ts; this one is checked against it there too.)
import crypto from 'node:crypto';
import type { TestKey } from './noteKey.js';
import { SumdbHttpStatusError, type SumdbFetch } from '../../lib/sumdb/client.js';
import {
  formatRecord,
  formatTree,
  parseTilePath,
  readTileData,
  recordHash,
  storedHashesForRecordHash,
  treeHash,
  type Hash,
  type HashReader,
  type Tree,
} from '../../lib/sumdb/tlog.js';
import { escapePath, escapeVersion } from '../../lib/gomod/module.js';

export type Answer = { status: number; body: Uint8Array };

export class FakeSumdb {
  readonly records: Uint8Array[] = [];
  readonly hashes: Hash[] = [];
  private readonly ids = new Map<string, number>();
  private readonly gone = new Set<string>();
  /** Every path asked for, in order. */
  readonly requests: string[] = [];
  /** Rewrites an answer before it is sent (tests' hook for misbehaviour). */
  tamper: (path: string, a: Answer) => Answer | Promise<Answer> = (_p, a) => a;
  /** When set, /latest and lookups carry this signed head instead of the current one. */
  headOverride: Uint8Array | null = null;

  constructor(readonly key: TestKey) {}

  private reader(): HashReader {
    return { readHashes: (xs) => xs.map((x) => this.hashes[Number(x)]) };
  }

  /** Appends one record per module version found in the go.sum lines; returns their ids. */
  async add(lines: string[]): Promise<number[]> {
    const groups = new Map<string, string>();
    for (const line of lines) {
      const [p, v] = line.split(' ');
      const key = `${p}@${v.replace(/\/go\.mod$/, '')}`;
      groups.set(key, (groups.get(key) ?? '') + line + '\n');
    }
    const out: number[] = [];
    for (const [key, text] of groups) out.push(await this.addRecord(key, new TextEncoder().encode(text)));
    return out;
  }

  /** Appends raw record text, findable under key "path@version" (any text, for hostile tests). */
  async addRecord(key: string, text: Uint8Array): Promise<number> {
    const id = this.records.length;
    const more = await storedHashesForRecordHash(BigInt(id), recordHash(text), this.reader());
    this.records.push(text);
    this.hashes.push(...more);
    this.ids.set(key, id);
    return id;
  }

  markGone(key: string): void {
    this.gone.add(key);
  }

  async tree(size = this.records.length): Promise<Tree> {
    return { n: BigInt(size), hash: await treeHash(BigInt(size), this.reader()) };
  }

  /** The signed head of the tree of the first size records (default: all). */
  async signedHead(size = this.records.length): Promise<Uint8Array> {
    return this.key.sign(formatTree(await this.tree(size)));
  }

  async serve(path: string): Promise<Answer> {
    this.requests.push(path);
    return this.tamper(path, await this.answer(path));
  }

  private async answer(path: string): Promise<Answer> {
    const text = (s: string, status = 200): Answer => ({ status, body: new TextEncoder().encode(s) });
    if (path === '/latest') return { status: 200, body: this.headOverride ?? (await this.signedHead()) };
    if (path.startsWith('/lookup/')) {
      const mv = path.slice('/lookup/'.length);
      let key: string | undefined;
      for (const k of this.ids.keys()) {
        const at = k.lastIndexOf('@');
        if (`${escapePath(k.slice(0, at))}@${escapeVersion(k.slice(at + 1))}` === mv) key = k;
      }
      for (const k of this.gone) {
        const at = k.lastIndexOf('@');
        if (`${escapePath(k.slice(0, at))}@${escapeVersion(k.slice(at + 1))}` === mv) return text('gone\n', 410);
      }
      if (key === undefined) return text('not found\n', 404);
      const id = this.ids.get(key)!;
      const head = this.headOverride ?? (await this.signedHead());
      return { status: 200, body: new Uint8Array(Buffer.concat([formatRecord(BigInt(id), this.records[id]), head])) };
    }
    if (path.startsWith('/tile/')) {
      let t;
      try {
        t = parseTilePath(path.slice(1));
      } catch {
        return text('bad tile path\n', 400);
      }
      const start = Number(t.n) * 2 ** t.h;
      if (t.l === -1) {
        if (start + t.w > this.records.length) return text('not found\n', 404);
        const parts = [];
        for (let i = 0; i < t.w; i++) parts.push(formatRecord(BigInt(start + i), this.records[start + i]));
        return { status: 200, body: new Uint8Array(Buffer.concat(parts)) };
      }
      // Level l holds hashes of subtrees of 2^(l·h) records.
      const have = Math.floor(this.records.length / 2 ** (t.l * t.h));
      if (start + t.w > have) return text('not found\n', 404);
      return { status: 200, body: await readTileData(t, this.reader()) };
    }
    return text('not found\n', 404);
  }

  /** A SumdbFetch served by this database. */
  fetcher(): SumdbFetch {
    return async (path) => {
      const a = await this.serve(path);
      if (a.status !== 200) throw new SumdbHttpStatusError(a.status, `${path}: ${a.status}`);
      return a.body;
    };
  }
}

/** Made-up go.sum lines for module example.com/<name> at version. */
export function sumLines(name: string, version: string, seed = name): [string, string] {
  const h = (s: string) => 'h1:' + crypto.createHash('sha256').update(s).digest('base64');
  const p = `example.com/${name}`;
  return [`${p} ${version} ${h(`zip ${seed} ${version}`)}`, `${p} ${version}/go.mod ${h(`mod ${seed} ${version}`)}`];
}
