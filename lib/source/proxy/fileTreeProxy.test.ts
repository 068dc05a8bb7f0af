import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FileTreeProxy } from './fileTreeProxy.js';
import { NoVerifier } from './verifier.js';

let tmp: string;
let tree: FileTreeProxy;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'file-tree-proxy-'));
  const v = path.join(tmp, 'tree', 'example.com', 'm', '@v');
  fs.mkdirSync(v, { recursive: true });
  fs.writeFileSync(path.join(v, 'v1.0.0.mod'), 'module example.com/m\n');
  fs.writeFileSync(path.join(v, 'v1.0.0.zip'), Buffer.alloc(100));
  fs.writeFileSync(path.join(tmp, 'secret'), 'outside the tree');
  fs.symlinkSync(path.join(tmp, 'secret'), path.join(v, 'v1.1.0.mod'));
  fs.mkdirSync(path.join(v, 'v1.2.0.mod'));
  tree = new FileTreeProxy({ root: path.join(tmp, 'tree'), verifier: new NoVerifier(), tmpDir: path.join(tmp, 'spool'), limits: { mod: 64, zip: 50 } });
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

it('reads files below its root; absent ones are not found', async () => {
  expect(Buffer.from(await tree.getBytes('example.com/m/@v/v1.0.0.mod', 'm', 'mod')).toString()).toBe('module example.com/m\n');
  await expect(tree.getBytes('example.com/m/@v/v9.0.0.mod', 'm', 'mod')).rejects.toMatchObject({ kind: 'not-found' });
  await expect(tree.getBytes('example.com/x/@v/v1.0.0.mod', 'm', 'mod')).rejects.toMatchObject({ kind: 'not-found' });
});

it('refuses paths that leave the root, symbolic links, directories and files over the cap', async () => {
  await expect(tree.getBytes('../secret', 'm', 'mod')).rejects.toThrow(/invalid path/);
  await expect(tree.getBytes('example.com/m/@v/v1.1.0.mod', 'm', 'mod')).rejects.toMatchObject({ kind: 'upstream' });
  await expect(tree.getBytes('example.com/m/@v/v1.2.0.mod', 'm', 'mod')).rejects.toThrow(/not a regular file/);
  fs.mkdirSync(path.join(tmp, 'spool'), { recursive: true });
  await expect(tree.getFile('example.com/m/@v/v1.0.0.zip', 'm', path.join(tmp, 'spool', 'z'))).rejects.toThrow(/too large/);
});
