// Differential-test oracle: the real Go implementation of golang.org/x/mod
// (and of the go command's gover helpers), driven over JSON lines.
//
// start() copies the toolchain's vendored x/mod plus internal/gover and
// cmd/go/internal/gover/gomod.go into a fresh temporary directory, adds our
// own test/support/xmod-oracle/main.go, builds it offline with a private
// GOPATH/GOMODCACHE/GOCACHE and spawns it. close() kills it and removes the
// directory, so no Go source is ever left behind or committed.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goTool, offlineGoBuild, type GoTool } from './goTool.js';

/** An argument: strings that are not well-formed UTF-16 and byte arrays travel as {"b": base64}. */
export type OracleArg = string | number | boolean | null | Uint8Array | OracleArg[];

export interface OracleError {
  msg: string;
  /** Go's %T of the error, e.g. "*module.InvalidPathError". */
  type: string;
  path?: string;
  version?: string;
  kind?: string;
  pseudo?: boolean;
  err?: OracleError;
}

export interface OracleResponse<T = unknown> {
  r?: T;
  err?: OracleError;
  panic?: string;
}

export type OracleRequest = [op: string, ...args: OracleArg[]];

/**
 * How result strings that Go could not send as UTF-8 are turned into JS strings:
 * 'wtf8' maps the 3-byte encoding of a surrogate back to a lone surrogate (the
 * inverse of how lone surrogates are sent); 'go' decodes like Go's
 * []rune(string), each invalid byte becoming U+FFFD.
 */
export type BytesAs = 'wtf8' | 'go';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Encodes a JS string as WTF-8: UTF-8, with a lone surrogate as its 3-byte generalised form. */
export function wtf8Encode(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Uint8Array.from(out);
}

/** Decodes bytes; see BytesAs. Written independently of lib/gomod on purpose. */
export function decodeBytes(b: Uint8Array, mode: BytesAs): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let need = 0;
    let lo = 0x80;
    let hi = 0xbf;
    let cp = 0;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      cp = c & 0x0f;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed && mode === 'go') hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      cp = c & 0x07;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else {
      out += '\ufffd';
      i++;
      continue;
    }
    let ok = i + need < b.length;
    for (let k = 1; ok && k <= need; k++) {
      const d = b[i + k];
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (d < min || d > max) ok = false;
      else cp = (cp << 6) | (d & 0x3f);
    }
    if (!ok) {
      out += '\ufffd';
      i++;
      continue;
    }
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}

function isWellFormed(s: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

function encodeArg(a: OracleArg): unknown {
  if (a instanceof Uint8Array) return { b: Buffer.from(a).toString('base64') };
  if (Array.isArray(a)) return a.map(encodeArg);
  if (typeof a === 'string' && !isWellFormed(a)) return { b: Buffer.from(wtf8Encode(a)).toString('base64') };
  return a;
}

function decodeValue(v: unknown, mode: BytesAs): unknown {
  if (Array.isArray(v)) return v.map((x) => decodeValue(x, mode));
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'b' && typeof o.b === 'string') {
      return decodeBytes(Buffer.from(o.b, 'base64'), mode);
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = decodeValue(o[k], mode);
    return out;
  }
  return v;
}

interface Pending {
  resolve: (line: string) => void;
  reject: (e: Error) => void;
}

export class XmodOracle {
  private buffer = '';
  private readonly pending: Pending[] = [];
  private stderr = '';
  private exited: Error | undefined;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly tmp: string,
  ) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onData(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (this.stderr += chunk));
    child.on('exit', (code, signal) => {
      this.exited = new Error(`xmod oracle exited (code ${code}, signal ${signal}): ${this.stderr}`);
      for (const p of this.pending.splice(0)) p.reject(this.exited);
    });
  }

  /**
   * Builds (a few seconds) and starts the oracle, with the default go command
   * or another (newerGoTool(), where the newest Go's behaviour differs). Pair
   * with close() in afterAll.
   */
  static async start(go: GoTool = goTool()): Promise<XmodOracle> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xmod-oracle-'));
    try {
      const bin = cachedOracle(go.bin, go.goroot, go.version, tmp);
      const child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'pipe'] });
      return new XmodOracle(child, tmp);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const p = this.pending.shift();
      if (p) p.resolve(line);
    }
  }

  /** Sends all requests at once (pipelined) and returns the responses in order. */
  async callMany<T = unknown>(reqs: OracleRequest[], bytesAs: BytesAs = 'wtf8'): Promise<OracleResponse<T>[]> {
    if (this.exited) throw this.exited;
    const lines = reqs.map(([op, ...args]) => JSON.stringify({ op, args: args.map(encodeArg) }) + '\n');
    const answers = reqs.map(
      () => new Promise<string>((resolve, reject) => this.pending.push({ resolve, reject })),
    );
    // Write in chunks so a huge batch doesn't become one giant string.
    for (let i = 0; i < lines.length; i += 1000) this.child.stdin.write(lines.slice(i, i + 1000).join(''));
    const raw = await Promise.all(answers);
    return raw.map((line) => decodeValue(JSON.parse(line), bytesAs) as OracleResponse<T>);
  }

  async call<T = unknown>(op: string, ...args: OracleArg[]): Promise<OracleResponse<T>> {
    const [r] = await this.callMany<T>([[op, ...args]]);
    return r;
  }

  /** Like call, but for ops that cannot fail: returns r, throwing on err/panic. */
  async value<T = unknown>(op: string, ...args: OracleArg[]): Promise<T> {
    const r = await this.call<T>(op, ...args);
    if (r.err || r.panic !== undefined) throw new Error(`${op}: unexpected ${JSON.stringify(r)}`);
    return r.r as T;
  }

  async close(): Promise<void> {
    if (!this.exited) {
      const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.stdin.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
    }
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Lays out the temporary modules and builds the oracle binary; returns its path. */
/**
 * The oracle binary, built once per toolchain and main.go and kept in
 * node_modules/.cache (never committed), so the test files that use it do not
 * each spend seconds compiling it.
 */
function cachedOracle(goBin: string, goroot: string, goVersion: string, tmp: string): string {
  const key = crypto
    .createHash('sha256')
    .update(`${goVersion}\0${goroot}\0`)
    .update(fs.readFileSync(path.join(here, 'xmod-oracle/main.go')))
    .digest('hex')
    .slice(0, 16);
  const cacheDir = path.resolve('node_modules/.cache/modproxy/xmod-oracle');
  const cached = path.join(cacheDir, `xmod-oracle-${key}`);
  if (fs.existsSync(cached)) return cached;
  const built = buildOracle(goBin, goroot, tmp);
  fs.mkdirSync(cacheDir, { recursive: true });
  // Concurrent test files may build at once: copy under a unique name, rename into place.
  const part = `${cached}.${process.pid}.${crypto.randomUUID()}`;
  fs.copyFileSync(built, part);
  fs.chmodSync(part, 0o755);
  fs.renameSync(part, cached);
  return cached;
}

function buildOracle(goBin: string, goroot: string, tmp: string): string {
  const xmodSrc = path.join(goroot, 'src/cmd/vendor/golang.org/x/mod');
  if (!fs.existsSync(xmodSrc)) throw new Error(`no vendored x/mod at ${xmodSrc}`);

  // 1. golang.org/x/mod, as vendored in this toolchain.
  const xmod = path.join(tmp, 'xmod');
  fs.cpSync(xmodSrc, xmod, { recursive: true });
  // Its go line as the toolchain's vendor/modules.txt records it (newer x/mod needs newer language features).
  const modules = fs.readFileSync(path.join(goroot, 'src/cmd/vendor/modules.txt'), 'utf8');
  const goLine = /^# golang\.org\/x\/mod .*\n## explicit; go (\S+)$/m.exec(modules)?.[1] ?? '1.18';
  fs.writeFileSync(path.join(xmod, 'go.mod'), `module golang.org/x/mod\n\ngo ${goLine}\n`);
  // strToFold is unexported; this shim (ours, generated) exports it unchanged.
  fs.writeFileSync(
    path.join(xmod, 'zip', 'zz_oracle_export.go'),
    'package zip\n\n// OracleStrToFold exposes strToFold to the test oracle.\nfunc OracleStrToFold(s string) string { return strToFold(s) }\n',
  );

  // 2. The oracle's main module with copies of the gover packages (which are
  // internal to the toolchain and cannot be imported from outside it).
  const main = path.join(tmp, 'oracle');
  fs.mkdirSync(path.join(main, 'gover'), { recursive: true });
  fs.mkdirSync(path.join(main, 'cmdgover'), { recursive: true });
  fs.copyFileSync(path.join(goroot, 'src/internal/gover/gover.go'), path.join(main, 'gover/gover.go'));
  fs.copyFileSync(path.join(goroot, 'src/cmd/go/internal/gover/gomod.go'), path.join(main, 'cmdgover/gomod.go'));
  fs.copyFileSync(path.join(here, 'xmod-oracle/main.go'), path.join(main, 'main.go'));
  fs.writeFileSync(
    path.join(main, 'go.mod'),
    [
      'module modproxy.test/xmodoracle',
      '',
      'go 1.22',
      '',
      'require golang.org/x/mod v0.0.0',
      '',
      'replace golang.org/x/mod => ../xmod',
      '',
    ].join('\n'),
  );

  const bin = path.join(tmp, 'xmod-oracle');
  offlineGoBuild(goBin, main, bin, tmp, 'the xmod oracle', goroot);
  return bin;
}

// ---------------------------------------------------------------------------
// Helpers for differential tests

/** A small seeded PRNG (mulberry32), so random cases are reproducible. */
/** The suite's seeded PRNG. */
export { prng as rng } from './prng.js';

export function pick<T>(next: () => number, list: readonly T[]): T {
  return list[Math.floor(next() * list.length)];
}

/** A random string of 0..maxLen pieces drawn from alphabet (pieces may be multi-character). */
export function randomString(next: () => number, alphabet: readonly string[] | string, maxLen: number): string {
  const pieces = typeof alphabet === 'string' ? Array.from(alphabet) : alphabet;
  const n = Math.floor(next() * (maxLen + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += pick(next, pieces);
  return s;
}

/** The outcome of calling our implementation, in the oracle's terms. */
export type Outcome = { r: unknown } | { err: string } | { panic: string };

/** Runs f and records its value or the message it threw. */
export function outcome(f: () => unknown, isPanic: (e: Error) => boolean = () => false): Outcome {
  try {
    const r = f();
    return { r: r === undefined ? null : r };
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    return isPanic(e) ? { panic: e.message } : { err: e.message };
  }
}

/** JSON with object keys sorted, so Go's (sorted) maps compare equal to our objects. */
export function stableStringify(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}

function goOutcome(resp: OracleResponse): Outcome {
  if (resp.panic !== undefined) return { panic: resp.panic };
  if (resp.err) return { err: resp.err.msg };
  return { r: resp.r === undefined ? null : resp.r };
}

export interface DiffOptions {
  bytesAs?: BytesAs;
  /** Tells which of our errors stand for a Go panic (default: none). */
  isPanic?: (e: Error) => boolean;
}

/** Running totals of differential cases per op, printed by reportCounts. */
export const caseCounts = new Map<string, number>();

/**
 * Sends every case to the oracle's op and runs ours on the same arguments;
 * returns the (up to 20) cases whose outcomes differ, for expect(...).toEqual([]).
 */
export async function differential<A extends OracleArg[]>(
  oracle: XmodOracle,
  op: string,
  cases: A[],
  ours: (...args: A) => unknown,
  opts: DiffOptions = {},
): Promise<{ args: A; go: Outcome; ours: Outcome }[]> {
  const resps = await oracle.callMany(
    cases.map((c) => [op, ...c] as OracleRequest),
    opts.bytesAs,
  );
  caseCounts.set(op, (caseCounts.get(op) ?? 0) + cases.length);
  const bad: { args: A; go: Outcome; ours: Outcome }[] = [];
  for (let i = 0; i < cases.length && bad.length < 20; i++) {
    const go = goOutcome(resps[i]);
    const mine = outcome(() => ours(...cases[i]), opts.isPanic);
    if (stableStringify(go) !== stableStringify(mine)) bad.push({ args: cases[i], go, ours: mine });
  }
  return bad;
}

/** Prints the per-op differential case counts gathered so far (call in afterAll). */
export function reportCounts(file: string): void {
  const lines = [...caseCounts].map(([op, n]) => `  ${op}: ${n}`);
  console.info(`differential cases checked in ${file}:\n${lines.join('\n')}`);
}
