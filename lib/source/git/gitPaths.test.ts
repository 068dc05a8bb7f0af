// verifyPath against the real `git archive`: for each name, a commit whose
// tree holds it (written with fast-import, which does not check paths, as a
// hostile repository would be), archived by git; git's verdict must be ours.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPath, type EntryKind } from './gitPaths.js';

const pexec = promisify(execFile);

const PATHS = [
  '.git/config',
  '.GIT/hooks/x',
  '.Git',
  'sub/.git',
  'a/.git/b',
  '.git ',
  '.git. ./x',
  '.git.x',
  '.gitx/y',
  'git~1',
  'GIT~1/x',
  'git~2',
  'git~1x',
  'a\\.git',
  'a\\git~1\\b',
  '.git:stream',
  '.gitmodules',
  '.GITMODULES',
  'gitmod~1',
  'gi7eba~1',
  '.gitmodules ',
  '.gitattributes',
  '.gitignore',
  'x/.',
  'x/..',
  'a/../b',
  '.../x',
  '..x',
  '.x/.y',
  'ok/file.go',
  'é/.git',
];

let tmp: string;
let bare: string;
/** Commit per (path, kind). */
const commits = new Map<string, string>();

function key(p: string, kind: EntryKind): string {
  return `${kind} ${p}`;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-gitpaths-'));
  bare = path.join(tmp, 'r.git');
  await pexec('git', ['init', '-q', '--bare', bare]);
  let stream = '';
  let mark = 0;
  const refs: string[] = [];
  for (const p of PATHS) {
    for (const kind of ['file', 'symlink'] as const) {
      mark++;
      const mode = kind === 'symlink' ? '120000' : '100644';
      stream += `commit refs/heads/c${mark}\nmark :${mark}\nauthor A <a@x> 1577836800 +0000\ncommitter A <a@x> 1577836800 +0000\ndata 1\nc\n`;
      stream += `M ${mode} inline "${p.replaceAll('\\', '\\\\')}"\ndata 6\ntarget\n\n`;
      refs.push(key(p, kind));
    }
  }
  const child = spawn('git', ['-C', bare, 'fast-import', '--quiet'], { stdio: ['pipe', 'inherit', 'inherit'] });
  child.stdin.end(stream);
  await new Promise((resolve) => child.on('exit', resolve));
  for (let i = 0; i < refs.length; i++) commits.set(refs[i], (await pexec('git', ['-C', bare, 'rev-parse', `refs/heads/c${i + 1}`])).stdout.trim());
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function gitAccepts(commit: string): Promise<boolean> {
  try {
    await pexec('git', ['-C', bare, '-c', 'core.autocrlf=input', '-c', 'core.eol=lf', 'archive', '--format=zip', '--prefix=prefix/', commit], {
      encoding: 'buffer',
      env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', HOME: tmp },
    });
    return true;
  } catch (err) {
    expect(String((err as { stderr: Buffer }).stderr)).toContain('invalid path');
    return false;
  }
}

describe('verifyPath agrees with git archive', () => {
  for (const p of PATHS) {
    for (const kind of ['file', 'symlink'] as const) {
      it(`${kind} ${JSON.stringify(p)}`, async () => {
        // fast-import stores the path as given, split at "/" into trees.
        expect(verifyPath(p, kind)).toBe(await gitAccepts(commits.get(key(p, kind))!));
      });
    }
  }
});
