// A real checksum database for tests: the toolchain's own golang.org/x/mod
// sumdb server, driven by our test/support/sumdb-server/main.go.
//
// The binary is built like the xmod oracle's (see xmodOracle.ts): the
// toolchain's vendored x/mod is copied into a fresh temporary directory next to
// a copy of main.go and built offline with a private GOPATH/GOMODCACHE/GOCACHE;
// the binary is kept in node_modules/.cache (never committed) and the
// temporary directory is removed. The server listens on 127.0.0.1 only and
// exits when its stdin closes, so a crashed test leaves nothing running.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goTool, offlineGoBuild } from './goTool.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface SumdbServerOptions {
  /** Sign with this key (PRIVATE+KEY+…) instead of a fresh one: a second database with the same identity. */
  skey?: string;
  /** Name of the generated key (default "sumdb.test"). */
  name?: string;
}

export class SumdbServer {
  private stderr = '';
  private exited = false;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    /** Base URL, http://127.0.0.1:port. */
    readonly url: string,
    /** The verifier key, <name>+<hash>+<key>. */
    readonly vkey: string,
    /** The signer key (secret in real life; here, to start a fork). */
    readonly skey: string,
  ) {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      if (this.stderr.length < 1 << 16) this.stderr += c;
    });
    child.on('exit', () => (this.exited = true));
  }

  static async start(opts: SumdbServerOptions = {}): Promise<SumdbServer> {
    const bin = sumdbServerBinary();
    const args: string[] = [];
    if (opts.skey) args.push('-skey', opts.skey);
    if (opts.name) args.push('-name', opts.name);
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let errText = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (errText += c));
    const hello = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`sumdb-server did not start in time: ${errText}`));
      }, 20_000);
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (c: string) => {
        out += c;
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(out.slice(0, nl));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`sumdb-server exited (${code}): ${errText}`));
      });
    });
    child.stderr.removeAllListeners('data');
    const h = JSON.parse(hello) as { url: string; vkey: string; skey: string };
    return new SumdbServer(child, h.url, h.vkey, h.skey);
  }

  /** Adds records: go.sum lines, one record per module version, in order. Returns the ids and the new tree size. */
  async add(lines: string[]): Promise<{ ids: number[]; size: number }> {
    const r = await this.post('/_control/add', lines.join('\n') + '\n');
    const j = JSON.parse(r) as { ids: string[]; size: string };
    return { ids: j.ids.map(Number), size: Number(j.size) };
  }

  /** Adds one record for path@version whose text is `text`, verbatim. Returns its id and the new size. */
  async record(path: string, version: string, text: string): Promise<{ id: number; size: number }> {
    const j = JSON.parse(await this.post(`/_control/record?${new URLSearchParams({ module: `${path}@${version}` })}`, text)) as { ids: string[]; size: string };
    return { id: Number(j.ids[0]), size: Number(j.size) };
  }

  /**
   * Adds count made-up records at once: module `${prefix}/m${i}` v1.0.0 for
   * i = from…from+count-1, hashes as bulkLines says. Returns the first id and the new size.
   */
  async bulk(prefix: string, from: number, count: number): Promise<{ first: number; size: number }> {
    const q = new URLSearchParams({ prefix, from: String(from), count: String(count) });
    const j = JSON.parse(await this.post(`/_control/bulk?${q}`, '')) as { first: string; size: string };
    return { first: Number(j.first), size: Number(j.size) };
  }

  /** Makes lookups of these module versions ("path@version") answer 410 Gone. */
  async gone(list: string[]): Promise<void> {
    await this.post('/_control/gone', list.join('\n') + '\n');
  }

  /** Asks the Go implementation a question (see main.go's oracle). */
  async oracle<T = unknown>(req: Record<string, unknown>): Promise<T> {
    return JSON.parse(await this.post('/_oracle', JSON.stringify(req))) as T;
  }

  /** GETs a path of the database: status and body. */
  async get(p: string): Promise<{ status: number; body: Uint8Array }> {
    const res = await fetch(this.url + p, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
  }

  private async post(p: string, body: string): Promise<string> {
    const res = await fetch(this.url + p, { method: 'POST', body, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`sumdb-server ${p}: ${res.status} ${text}`);
    return text;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  }

  /** What the server wrote to stderr (panics of the Go test server show up here). */
  get log(): string {
    return this.stderr;
  }
}

/** The built helper, cached per toolchain and main.go. */
export function sumdbServerBinary(): string {
  const go = goTool();
  const key = crypto
    .createHash('sha256')
    .update(`${go.version}\0${go.goroot}\0`)
    .update(fs.readFileSync(path.join(here, 'sumdb-server/main.go')))
    .digest('hex')
    .slice(0, 16);
  const cacheDir = path.resolve('node_modules/.cache/modproxy/sumdb-server');
  const cached = path.join(cacheDir, `sumdb-server-${key}`);
  if (fs.existsSync(cached)) return cached;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sumdb-server-'));
  try {
    const built = build(go.bin, go.goroot, tmp);
    fs.mkdirSync(cacheDir, { recursive: true });
    // Concurrent test files may build at once: copy under a unique name, rename into place.
    const part = `${cached}.${process.pid}.${crypto.randomUUID()}`;
    fs.copyFileSync(built, part);
    fs.chmodSync(part, 0o755);
    fs.renameSync(part, cached);
    return cached;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function build(goBin: string, goroot: string, tmp: string): string {
  const xmodSrc = path.join(goroot, 'src/cmd/vendor/golang.org/x/mod');
  if (!fs.existsSync(path.join(xmodSrc, 'sumdb/server.go'))) throw new Error(`no vendored x/mod sumdb at ${xmodSrc}`);
  const xmod = path.join(tmp, 'xmod');
  fs.cpSync(xmodSrc, xmod, { recursive: true });
  fs.writeFileSync(path.join(xmod, 'go.mod'), 'module golang.org/x/mod\n\ngo 1.18\n');
  const main = path.join(tmp, 'server');
  fs.mkdirSync(main);
  fs.copyFileSync(path.join(here, 'sumdb-server/main.go'), path.join(main, 'main.go'));
  fs.writeFileSync(
    path.join(main, 'go.mod'),
    'module modproxy.test/sumdbserver\n\ngo 1.22\n\nrequire golang.org/x/mod v0.0.0\n\nreplace golang.org/x/mod => ../xmod\n',
  );
  const bin = path.join(tmp, 'sumdb-server');
  offlineGoBuild(goBin, main, bin, tmp, 'sumdb-server');
  return bin;
}

/** The go.sum lines of made-up record i of SumdbServer.bulk. */
export function bulkLines(prefix: string, i: number): [string, string] {
  const h = (s: string) => 'h1:' + crypto.createHash('sha256').update(s).digest('base64');
  return [`${prefix}/m${i} v1.0.0 ${h(`zip ${i}`)}`, `${prefix}/m${i} v1.0.0/go.mod ${h(`mod ${i}`)}`];
}
