import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { encodedText, LineBatch, type EncodedLine } from './lineBatch.js';

const encoded = (text: string): EncodedLine => {
  const bytes = Buffer.from(text, 'utf8');
  return { maxBytes: bytes.length, encode: (buf, at) => at + bytes.copy(buf, at) };
};

function collecting(opts: { batchBytes?: number; batchMs?: number } = {}) {
  const writes: Buffer[] = [];
  const batch = new LineBatch({ out: (b) => writes.push(b), ...opts });
  return { batch, writes, text: () => writes.map((w) => w.toString('utf8')) };
}

it('writes the lines of a short while at once, text and encoded lines in the order they came', async () => {
  const { batch, text } = collecting();
  batch.text('a');
  // A turn of the event loop is not enough to write them: more lines may come.
  await new Promise((r) => setImmediate(r));
  batch.encoded(encoded('b'));
  batch.text('c');
  expect(text()).toEqual([]);
  await new Promise((r) => setTimeout(r, 60));
  expect(text()).toEqual(['a\nb\nc\n']);
  batch.text('d');
  await new Promise((r) => setTimeout(r, 60));
  expect(text()).toEqual(['a\nb\nc\n', 'd\n']);
});

it('writes a batch once it is full, so what it holds stays bounded; a line longer than a batch goes alone, in order', () => {
  const { batch, text } = collecting({ batchBytes: 16 });
  batch.text('0123456');
  batch.encoded(encoded('abcdef'));
  expect(text()).toEqual([]);
  // 7 + 1 + 6 + 1 bytes held: the next line does not fit behind them.
  batch.text('x');
  expect(text()).toEqual(['0123456\nabcdef\n']);
  batch.text('a line longer than any batch');
  batch.encoded(encoded('an encoded line longer than a batch'));
  batch.text('y');
  batch.flush();
  expect(text()).toEqual(['0123456\nabcdef\n', 'x\n', 'a line longer than any batch\n', 'an encoded line longer than a batch\n', 'y\n']);
});

it('encodes text as UTF-8, as a write of the string would (a lone surrogate becomes U+FFFD)', () => {
  const { batch, writes } = collecting({ batchBytes: 64 });
  const line = 'é \u2028 \u{1F600} \ud800 end';
  batch.text(line);
  batch.flush();
  expect(writes[0].equals(Buffer.from(line + '\n', 'utf8'))).toBe(true);
  expect(encodedText(encoded(line))).toBe(Buffer.from(line, 'utf8').toString('utf8'));
});

it('never touches a batch again once it is handed out (a pipe may still be writing it)', () => {
  const { batch, writes } = collecting({ batchBytes: 10 });
  batch.text('aaaaaa');
  batch.text('bbbbbb');
  const first = Buffer.from(writes[0]);
  for (let i = 0; i < 10; i++) batch.text('cccccc');
  expect(writes[0].equals(first)).toBe(true);
  expect(writes.map((w) => w.toString())).toEqual(['aaaaaa\n', 'bbbbbb\n', ...Array.from({ length: 9 }, () => 'cccccc\n')]);
  batch.flush();
  expect(writes).toHaveLength(12);
});

it('writes what it holds when the process exits', () => {
  const module = path.resolve('lib/log/lineBatch.ts');
  const script = `import { LineBatch } from ${JSON.stringify(module)};
const b = new LineBatch({ batchMs: 60_000 });
b.text('held 1');
b.text('held é');
process.exit(0);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('held 1\nheld é\n');
});
