// The pack reader against git itself: every object of a packed repository
// with deltas (long history, similar blobs, a big file) reads back exactly as
// `git cat-file` prints it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { applyDelta, ObjectReader } from './packReader.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'packreader-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: { PATH: process.env.PATH, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@x', GIT_CONFIG_GLOBAL: '/dev/null' }, maxBuffer: 1 << 28 });

it('reads every packed object as git cat-file does', () => {
  git('init', '-q', '-b', 'main');
  let text = 'line\n'.repeat(200);
  for (let i = 0; i < 30; i++) {
    text = text.replace(`line\n`, `line ${i}\n`) + `added ${i}\n`;
    fs.writeFileSync(path.join(dir, 'f.txt'), text);
    fs.writeFileSync(path.join(dir, `g${i % 3}.txt`), text.split('').reverse().join(''));
    if (i === 10) fs.writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(3 << 20, 7));
    git('add', '-A');
    git('commit', '-qm', `c${i}`);
  }
  git('tag', '-a', '-m', 'annotated', 'v1');
  git('gc', '-q', '--aggressive');
  // The object store never holds loose objects; neither does this repository.
  expect(git('count-objects').toString()).toMatch(/^0 objects/);

  const gitdir = path.join(dir, '.git');
  const reader = new ObjectReader(gitdir, 1 << 20);
  reader.refresh();
  const all = git('cat-file', '--batch-all-objects', '--batch-check').toString().trim().split('\n');
  expect(all.length).toBeGreaterThan(100);
  for (const line of all) {
    const [oid, type] = line.split(' ');
    const obj = reader.read(oid);
    expect(obj.type, oid).toBe(type);
    expect(obj.data.equals(git('cat-file', type, oid)), `${type} ${oid}`).toBe(true);
    expect(reader.has(oid)).toBe(true);
  }
  // A second read of the same id is answered from the cache.
  const head = git('rev-parse', 'HEAD').toString().trim();
  expect(reader.read(head)).toBe(reader.read(head));
  expect(reader.has('0'.repeat(40))).toBe(false);
  expect(() => reader.read('0'.repeat(40))).toThrow(/not found/);
});

it('applies copy and insert instructions, including the 0x10000 copy size', () => {
  const base = Buffer.alloc(0x10000 + 10, 1);
  // source size, target size, copy(offset 0, size 0 => 0x10000), insert "ab"
  const varint = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      out.push(b);
    } while (n > 0);
    return out;
  };
  const delta = Buffer.from([...varint(base.length), ...varint(0x10000 + 2), 0x80, 2, 0x61, 0x62]);
  const out = applyDelta(base, delta);
  expect(out.length).toBe(0x10002);
  expect(out.subarray(0x10000).toString()).toBe('ab');
});

it('indexPackFile builds the same index git index-pack does', async () => {
  const { indexPackFile } = await import('./packFetch.js');
  const packDir = path.join(dir, '.git', 'objects', 'pack');
  const pack = fs.readdirSync(packDir).find((f) => f.endsWith('.pack'))!;
  const theirs = fs.readFileSync(path.join(packDir, pack.replace(/\.pack$/, '.idx')));
  // In one piece, and with every object over 1 KiB streamed (the path of objects too large to inflate whole).
  for (const smallObjectBytes of [undefined, 1024]) {
    const ours = await indexPackFile(path.join(packDir, pack), { cacheBytes: 1 << 20, smallObjectBytes });
    expect(ours.checksum).toBe(pack.replace(/^pack-|\.pack$/g, ''));
    expect(ours.idx.equals(theirs), `smallObjectBytes ${smallObjectBytes}`).toBe(true);
  }
});
