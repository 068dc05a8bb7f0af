// create-if-absent on the local-disk backend is atomic across processes that
// share the directory: N processes race on the same keys; each key ends up
// with exactly one winner, whose complete bytes every reader sees.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const pexec = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fsrace-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('has one winner per key across 6 processes', async () => {
  const script = path.join(dir, 'writer.mts');
  fs.writeFileSync(
    script,
    `import { FsStorage } from ${JSON.stringify(path.resolve('lib/storage/fsStorage.ts'))};
const s = new FsStorage(process.argv[2]);
const me = process.argv[3];
const out: string[] = [];
for (let i = 0; i < 40; i++) {
  // large enough bodies that a torn write would be visible
  const body = Buffer.alloc(256 * 1024, me + ':' + i + ';');
  out.push((await s.createIfAbsent('k/' + i, body)) === 'created' ? String(i) : '');
}
console.log(JSON.stringify(out));
`,
  );
  const store = path.join(dir, 'store');
  const tsx = path.resolve('node_modules/.bin/tsx');
  const runs = await Promise.all(Array.from({ length: 6 }, (_, p) => pexec(tsx, [script, store, `p${p}`])));
  const wins = runs.map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!) as string[]);
  for (let i = 0; i < 40; i++) {
    const winners = wins.map((w, p) => (w[i] !== '' ? p : -1)).filter((p) => p >= 0);
    expect(winners, `key ${i}`).toHaveLength(1);
    const data = fs.readFileSync(path.join(store, 'k', String(i)));
    expect(data.length).toBe(256 * 1024);
    expect(data.equals(Buffer.alloc(256 * 1024, `p${winners[0]}:${i};`)), `key ${i} holds the winner's complete bytes`).toBe(true);
  }
  // no temporary files left behind
  expect(fs.readdirSync(path.join(store, '.tmp'))).toEqual([]);
});
