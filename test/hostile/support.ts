// Hostile repositories for tests: written with `git fast-import`, which
// stores whatever trees and paths it is given (git's own index refuses .git
// paths), into bare repositories served by the loopback git server.
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const pexec = promisify(execFile);

/** Streams a fast-import script (written by `write`) into a new bare repository `<root>/<name>` with HEAD on main. */
export async function fastImport(root: string, name: string, write: (out: (s: string | Buffer) => void) => void | Promise<void>): Promise<string> {
  const bare = path.join(root, name);
  fs.mkdirSync(path.dirname(bare), { recursive: true });
  await pexec('git', ['init', '-q', '--bare', bare]);
  // The script is written to a file first and given to git as its standard
  // input: read from a Node pipe (a socket), fast-import is ten times slower.
  const script = `${bare}.fast-import`;
  const fd = fs.openSync(script, 'w');
  try {
    await write((s) => fs.writeSync(fd, typeof s === 'string' ? Buffer.from(s) : s));
  } finally {
    fs.closeSync(fd);
  }
  const input = fs.openSync(script, 'r');
  try {
    const child = spawn('git', ['-C', bare, 'fast-import', '--quiet'], { stdio: [input, 'inherit', 'inherit'] });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code !== 0) throw new Error(`git fast-import exited ${code}`);
  } finally {
    fs.closeSync(input);
    fs.rmSync(script, { force: true });
  }
  await pexec('git', ['-C', bare, 'symbolic-ref', 'HEAD', 'refs/heads/main']);
  return bare;
}

/** fast-import commands for one commit on main with the given files (paths as fast-import takes them), tagged `tag`. */
export function oneCommit(files: Record<string, string | Buffer>, opts: { tag?: string; time?: number } = {}): (string | Buffer)[] {
  const t = opts.time ?? 1577836800;
  const out: (string | Buffer)[] = [`commit refs/heads/main\nauthor A <a@example.com> ${t} +0000\ncommitter A <a@example.com> ${t} +0000\ndata 6\ncommit\n`];
  for (const [p, content] of Object.entries(files)) {
    const b = typeof content === 'string' ? Buffer.from(content) : content;
    out.push(`M 100644 inline ${quote(p)}\ndata ${b.length}\n`, b, '\n');
  }
  out.push('\n');
  if (opts.tag) out.push(`reset refs/tags/${opts.tag}\nfrom refs/heads/main\n\n`);
  return out;
}

/** fast-import's C-style quoting for paths with spaces, quotes or backslashes. */
function quote(p: string): string {
  return /[ "\\]/.test(p) ? `"${p.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"` : p;
}

/**
 * The go command's text without what is local to one run: where its cache
 * clone is (" in <dir>" after a git command line), and line breaks.
 */
export function normalizeGoError(s: string): string {
  return s
    .replace(/ in \/\S+(?=: (exit status|signal))/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Writes one object into a bare repository as a loose object; returns its id. */
export function writeLooseObject(bare: string, type: 'blob' | 'tree' | 'commit', body: Buffer): string {
  const raw = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
  const oid = crypto.createHash('sha1').update(raw).digest('hex');
  const dir = path.join(bare, 'objects', oid.slice(0, 2));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, oid.slice(2)), zlib.deflateSync(raw, { level: 1 }));
  return oid;
}

/** A raw tree object from entries in the order given (callers sort them as git does). */
export function treeObject(entries: { mode: string; name: string; oid: string }[]): Buffer {
  return Buffer.concat(entries.map((e) => Buffer.concat([Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.oid, 'hex')])));
}

/**
 * A repository whose v1.0.0 has go.mod at the top and one Go file `depth`
 * directories down (d/d/.../x.go), written object by object (fast-import
 * takes minutes for such a path).
 */
export async function deepTreeRepo(root: string, name: string, modPath: string, depth: number): Promise<string> {
  const bare = path.join(root, name);
  fs.mkdirSync(path.dirname(bare), { recursive: true });
  await pexec('git', ['init', '-q', '--bare', bare]);
  let tree = writeLooseObject(bare, 'tree', treeObject([{ mode: '100644', name: 'x.go', oid: writeLooseObject(bare, 'blob', Buffer.from('package x\n')) }]));
  for (let i = 1; i < depth; i++) tree = writeLooseObject(bare, 'tree', treeObject([{ mode: '40000', name: 'd', oid: tree }]));
  const goMod = writeLooseObject(bare, 'blob', Buffer.from(`module ${modPath}\n`));
  const top = writeLooseObject(bare, 'tree', treeObject([{ mode: '40000', name: 'd', oid: tree }, { mode: '100644', name: 'go.mod', oid: goMod }]));
  const who = 'A <a@example.com> 1577836800 +0000';
  const commit = writeLooseObject(bare, 'commit', Buffer.from(`tree ${top}\nauthor ${who}\ncommitter ${who}\n\ndeep\n`));
  await pexec('git', ['-C', bare, 'update-ref', 'refs/heads/main', commit]);
  await pexec('git', ['-C', bare, 'update-ref', 'refs/tags/v1.0.0', commit]);
  await pexec('git', ['-C', bare, 'symbolic-ref', 'HEAD', 'refs/heads/main']);
  return bare;
}

/**
 * A linear history of `commits` commits on main (one small file changed by
 * each), with tag v0.1.0 on the first commit and `go.mod` from the start.
 * Returns the hash of commit number `pick` (1-based).
 */
export async function longHistoryRepo(root: string, name: string, modPath: string, commits: number, pick: number): Promise<string> {
  const bare = await fastImport(root, name, (out) => {
    const t0 = 1577836800;
    for (let c = 1; c <= commits; c++) {
      const ts = t0 + c * 60;
      let s = `commit refs/heads/main\nmark :${c}\nauthor A <a@example.com> ${ts} +0000\ncommitter A <a@example.com> ${ts} +0000\ndata 0\n`;
      if (c > 1) s += `from :${c - 1}\n`;
      if (c === 1) s += `M 100644 inline go.mod\ndata ${Buffer.byteLength(`module ${modPath}\n`)}\nmodule ${modPath}\n`;
      const body = `${c}\n`;
      s += `M 100644 inline n.txt\ndata ${body.length}\n${body}\n`;
      if (c === 1) s += `reset refs/tags/v0.1.0\nfrom :1\n\n`;
      out(s);
    }
  });
  return (await pexec('git', ['-C', bare, 'rev-parse', `main~${commits - pick}`])).stdout.trim();
}
