import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { targetsFromArgument, targetsFromGoMod, targetsFromGoSum, targetsFromList } from './prefetch.js';

it('takes every require directive of a go.mod, in line and block form', () => {
  const mod = 'module example.com/app\n\ngo 1.21\n\nrequire example.com/a v1.2.3\n\nrequire (\n\t"example.com/b" v0.1.0 // indirect\n\texample.com/c/v2 v2.0.0\n)\n\nreplace example.com/a => ../a\n';
  expect(targetsFromGoMod(Buffer.from(mod))).toEqual([
    { path: 'example.com/a', query: 'v1.2.3' },
    { path: 'example.com/b', query: 'v0.1.0' },
    { path: 'example.com/c/v2', query: 'v2.0.0' },
  ]);
  expect(() => targetsFromGoMod(Buffer.from('module example.com/app\nrequire example.com/a\n'))).toThrow(/usage: require/);
});

it('takes go.sum versions whole, or go.mod only when only their go.mod line is there', () => {
  const h = (c: string) => `h1:${c.repeat(43)}=`;
  const sum = `example.com/a v1.0.0 ${h('a')}\nexample.com/a v1.0.0/go.mod ${h('b')}\nexample.com/b v0.1.0/go.mod ${h('c')}\n`;
  expect(targetsFromGoSum(sum)).toEqual([
    { path: 'example.com/a', query: 'v1.0.0', modOnly: false, sums: { zip: h('a'), mod: h('b') } },
    { path: 'example.com/b', query: 'v0.1.0', modOnly: true, sums: { mod: h('c') } },
  ]);
  expect(() => targetsFromGoSum('example.com/a v1.0.0\n')).toThrow(/go.sum line 1/);
  // The go command's strings.Fields: U+0085 separates fields, U+FEFF is part of one.
  expect(targetsFromGoSum(`example.com/a\u0085v1.0.0/go.mod ${h('b')}\n`)).toEqual([
    { path: 'example.com/a', query: 'v1.0.0', modOnly: true, sums: { mod: h('b') } },
  ]);
  expect(targetsFromGoSum(`\ufeffexample.com/a v1.0.0/go.mod ${h('b')}\n`)[0].path).toBe('\ufeffexample.com/a');
});

it('reads lists of path@version or "path version", with comments, and path@version arguments', () => {
  expect(targetsFromList('# warm these\nexample.com/a@v1.0.0\n\nexample.com/b latest # newest\n')).toEqual([
    { path: 'example.com/a', query: 'v1.0.0' },
    { path: 'example.com/b', query: 'latest' },
  ]);
  expect(() => targetsFromList('example.com/a\n')).toThrow(/line 1/);
  expect(targetsFromArgument('example.com/a@main')).toEqual([{ path: 'example.com/a', query: 'main' }]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefetch-args-'));
  try {
    fs.writeFileSync(path.join(dir, 'deps.sum'), '');
    expect(targetsFromArgument(path.join(dir, 'deps.sum'))).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
