// Benchmarks (npm run bench). Figures, not assertions:
//   (a) cold: `go mod download` of several versions of a large repository with
//       long history through a fresh modproxy, against GOPROXY=direct on the
//       same git server; the ratio modproxy / direct.
//   (b) warm: requests per second for .info, .mod and .zip hits, and the git
//       requests seen meanwhile (must be zero).
//   (c) peak RSS (VmHWM) of a modproxy process building the zip of a module
//       with >= 100 MiB of files.
//   (d) public modules: `go mod download` of several public versions through
//       a fresh modproxy (a parent proxy stand-in serving the go command's
//       cache/download tree, and x/mod's own checksum database server), against
//       the go command reading the parent directly; both verify every version
//       with the database. The ratio modproxy / parent, for modproxy on disk
//       and on the GCS double, and for a warmed process on disk (fresh
//       storage, but the process first served as many other cold versions:
//       what JIT warm-up and cached tiles are worth). With each run, the CPU
//       seconds the machine spent busy (parent directly, modproxy on disk) and
//       modproxy's own process used, from /proc.
//   (f) peak RSS (VmHWM) of a modproxy process building the zip of a module
//       holding one 400 MiB file of zeros (a 0.4 MB pack).
//   (g) peak RSS of a modproxy process while a git host streams a fetch
//       answer that never ends (refused at resolve.gitMaxPackBytes).
//   (e) hits: requests/s, p99 latency and RSS for cached .mod/.info/.zip from
//       modproxy's own server and under functions-framework, side by side
//       with a functions-framework hello world, a node:http server holding
//       the same bytes in memory, and nginx serving them as files (installed
//       with apt-get when missing and running as root). Load from
//       bench/loadgen.mjs in its own process; servers pinned to one CPU and
//       the load to another, measured in interleaved rounds (medians).
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startGitHttpServer, type GitHttpServer } from '../test/support/gitHttpServer.js';
import { GoRunner } from '../test/support/goRunner.js';
import { goTool, type GoTool } from '../test/support/goTool.js';
import { prng } from '../test/support/prng.js';
import { publicModulesConfig, testConfig } from '../test/support/proxyFixture.js';
import { startProxyProcess, type ProxyProcess } from '../test/support/proxyProcess.js';
import { startFileProxyServer } from '../test/support/fileProxyServer.js';
import { startGcsDouble } from '../test/support/gcsDouble.js';
import { startHostileGitServer } from '../test/support/hostileGitServer.js';
import { SumdbServer } from '../test/support/sumdbServer.js';

const pexec = promisify(execFile);
/** Node options for the modproxy processes of the public-module runs (BENCH_NODE_FLAGS, space-separated): to try V8 flags side by side. */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const args = new Set(process.argv.slice(2));
const only = (name: string) => args.size === 0 || args.has(name);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-bench-'));
const repos = path.join(tmp, 'repos');
fs.mkdirSync(repos, { recursive: true });
const results: Record<string, unknown> = {};
/**
 * Where the timed downloads' module caches go: `tmp`, or a folder of BENCH_MODCACHE_DIR (a tmpfs such as /dev/shm).
 * On this machine's ext4 the go command's system time, creating the caches' files, grows after any large deletion
 * (see timeDownload), which moved the parent-direct baseline of (d) from 0.5 to 1.7 s between back-to-back bench runs;
 * on a tmpfs it stayed at 0.49-0.61 s.
 */
const modCaches = process.env.BENCH_MODCACHE_DIR ? fs.mkdtempSync(path.join(process.env.BENCH_MODCACHE_DIR, 'modproxy-bench-mc-')) : tmp;

/** Writes a git fast-import stream into a new bare repository `name`. */
async function fastImport(name: string, write: (out: (s: string | Buffer) => void) => void): Promise<string> {
  const bare = path.join(repos, name);
  await pexec('git', ['init', '-q', '--bare', bare]);
  const child = spawn('git', ['-C', bare, 'fast-import', '--quiet'], { stdio: ['pipe', 'inherit', 'inherit'] });
  const chunks: Buffer[] = [];
  let size = 0;
  let drained: Promise<void> | undefined;
  const flush = async () => {
    const buf = Buffer.concat(chunks);
    chunks.length = 0;
    size = 0;
    // One shared wait for 'drain', however many flushes are behind it.
    if (!child.stdin.write(buf)) drained ??= new Promise<void>((r) => child.stdin.once('drain', () => ((drained = undefined), r())));
    await drained;
  };
  const pending: Promise<void>[] = [];
  write((s) => {
    const b = typeof s === 'string' ? Buffer.from(s) : s;
    chunks.push(b);
    size += b.length;
    if (size > 4 << 20) pending.push(flush());
  });
  await Promise.all(pending);
  await flush();
  child.stdin.end();
  await new Promise<void>((resolve, reject) => child.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`fast-import exited ${c}`)))));
  await pexec('git', ['-C', bare, 'symbolic-ref', 'HEAD', 'refs/heads/main']);
  await pexec('git', ['-C', bare, 'gc', '-q']);
  return bare;
}

const WORDS = Array.from({ length: 400 }, (_, i) => `ident${i.toString(36)}`);

function goSource(rand: () => number, pkg: string, n: number, gen: number): string {
  const lines = [`package ${pkg}\n\n`];
  const funcs = 20 + Math.floor(rand() * 120);
  for (let k = 0; k < funcs; k++) {
    const w = () => WORDS[Math.floor(rand() * WORDS.length)];
    lines.push(`// ${w()} ${w()} ${w()} ${w()} ${w()} ${w()}\nfunc F${n}_${k}(${w()} int) int { return ${w().length} + ${gen} }\n\n`);
  }
  return lines.join('');
}

/** A repository of realistic size: many packages, thousands of files, a long history, tags along the way. */
async function bigHistoryRepo(name: string, files: number, commits: number, tagEvery: number): Promise<string[]> {
  const rand = prng(42);
  const tags: string[] = [];
  const modPath = `github.com/bench/${name}`;
  await fastImport(`bench/${name}`, (out) => {
    const data = (s: string | Buffer) => {
      const b = typeof s === 'string' ? Buffer.from(s) : s;
      out(`data ${b.length}\n`);
      out(b);
      out('\n');
    };
    const t0 = 1577836800;
    for (let c = 0; c < commits; c++) {
      const ts = t0 + c * 3600;
      out(`commit refs/heads/main\nmark :${c + 1}\nauthor Bench <b@example.com> ${ts} +0000\ncommitter Bench <b@example.com> ${ts} +0000\n`);
      data(`commit ${c}`);
      if (c > 0) out(`from :${c}\n`);
      if (c === 0) {
        out('M 100644 inline go.mod\n');
        data(`module ${modPath}\n\ngo 1.21\n`);
        out('M 100644 inline LICENSE\n');
        data('Benchmark license\n');
        for (let i = 0; i < files; i++) {
          out(`M 100644 inline pkg${i % 60}/sub${i % 7}/f${i}.go\n`);
          data(goSource(rand, `sub${i % 7}`, i, c));
        }
      } else {
        for (let k = 0; k < 6; k++) {
          const i = Math.floor(rand() * files);
          out(`M 100644 inline pkg${i % 60}/sub${i % 7}/f${i}.go\n`);
          data(goSource(rand, `sub${i % 7}`, i, c));
        }
      }
      out('\n');
      if ((c + 1) % tagEvery === 0) {
        const tag = `v1.${(c + 1) / tagEvery - 1}.0`;
        tags.push(tag);
        out(`reset refs/tags/${tag}\nfrom :${c + 1}\n\n`);
      }
    }
  });
  return tags;
}

/** A one-version module of `files` Go files (for the public-modules run). */
async function smallModuleRepo(name: string, files: number): Promise<void> {
  const rand = prng(name.length * 7919 + files);
  await fastImport(`bench/${name}`, (out) => {
    const data = (s: string) => {
      const b = Buffer.from(s);
      out(`data ${b.length}\n`);
      out(b);
      out('\n');
    };
    out(`commit refs/heads/main\nmark :1\nauthor Bench <b@example.com> 1577836800 +0000\ncommitter Bench <b@example.com> 1577836800 +0000\n`);
    data(`module ${name}`);
    out('M 100644 inline go.mod\n');
    data(`module github.com/bench/${name}\n\ngo 1.21\n`);
    for (let i = 0; i < files; i++) {
      out(`M 100644 inline p${i % 10}/f${i}.go\n`);
      data(goSource(rand, `p${i % 10}`, i, 0));
    }
    out('\nreset refs/tags/v1.0.0\nfrom :1\n\n');
  });
}

/** A module with >= 100 MiB of moderately compressible files. */
async function largeModuleRepo(name: string, mib: number): Promise<void> {
  const rand = prng(7);
  await fastImport(`bench/${name}`, (out) => {
    const data = (b: Buffer) => {
      out(`data ${b.length}\n`);
      out(b);
      out('\n');
    };
    out(`commit refs/heads/main\nmark :1\nauthor Bench <b@example.com> 1577836800 +0000\ncommitter Bench <b@example.com> 1577836800 +0000\n`);
    data(Buffer.from('large module'));
    out('M 100644 inline go.mod\n');
    data(Buffer.from(`module github.com/bench/${name}\n\ngo 1.21\n`));
    const fileSize = 512 * 1024;
    const count = Math.ceil((mib << 20) / fileSize);
    for (let i = 0; i < count; i++) {
      const b = Buffer.alloc(fileSize);
      // text-like: random letters with spaces and newlines (compresses about 2:1)
      for (let k = 0; k < fileSize; k++) {
        const r = rand();
        b[k] = r < 0.02 ? 10 : r < 0.15 ? 32 : 97 + Math.floor(r * 1000) % 26;
      }
      out(`M 100644 inline data/d${i % 16}/blob${i}.txt\n`);
      data(b);
    }
    out('\nreset refs/tags/v1.0.0\nfrom :1\n\n');
  });
}

/** A module holding one file of `mib` MiB of zeros: a tiny pack, a large module. */
async function zerosModuleRepo(name: string, mib: number): Promise<void> {
  await fastImport(`bench/${name}`, (out) => {
    out(`commit refs/heads/main\nmark :1\nauthor Bench <b@example.com> 1577836800 +0000\ncommitter Bench <b@example.com> 1577836800 +0000\n`);
    out('data 5\nzeros\n');
    const mod = Buffer.from(`module github.com/bench/${name}\n\ngo 1.21\n`);
    out(`M 100644 inline go.mod\ndata ${mod.length}\n`);
    out(mod);
    out('\n');
    out(`M 100644 inline zeros.bin\ndata ${mib << 20}\n`);
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < mib; i++) out(chunk);
    out('\n\nreset refs/tags/v1.0.0\nfrom :1\n\n');
  });
}

async function startBenchProxy(git: GitHttpServer, dir: string): Promise<ProxyProcess> {
  return startProxyProcess(testConfig(dir, { 'github.com': git.url }, ['github.com/bench']));
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeDownload(runner: GoRunner, goproxy: string, queries: string[], env: Record<string, string> = {}): Promise<{ ms: number; sums: string[]; busyS: number; go?: { userS: number; sysS: number } }> {
  const cache = path.join(modCaches, `mc-${crypto.randomUUID()}`);
  fs.mkdirSync(cache);
  const timeFile = path.join(tmp, `go-time-${crypto.randomUUID()}`);
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  const r = await runner.run(goproxy, cache, ['mod', 'download', '-json', ...queries], { ...env, [GO_TIME_FILE]: timeFile });
  const ms = performance.now() - t0;
  const busyS = machineBusySeconds() - busy0;
  // The module cache stays until the bench ends (with `tmp`). Deleted here, its thousands of files made the next
  // download slow on this machine's ext4 (no journal), which skips recently deleted inodes one by one when it creates
  // a file (find_inode_bit, recently_deleted: 80% of the next go command's time in perf, 4 s of system time).
  // The go command's own user and system CPU seconds, when it ran under /usr/bin/time (timedGo).
  const times = fs.existsSync(timeFile) ? fs.readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number) : [];
  const go = times.length === 2 && times.every(Number.isFinite) ? { userS: times[0], sysS: times[1] } : undefined;
  if (r.code !== 0) throw new Error(`go mod download failed: ${r.stdout}\n${r.stderr}`);
  const sums = r.stdout
    .split(/\n(?=\{)/)
    .map((s) => (JSON.parse(s) as { Version: string; Sum: string }))
    .map((j) => `${j.Version} ${j.Sum}`);
  return { ms, sums, busyS, go };
}

/** The variable naming where the go command's CPU times go (read by the wrapper timedGo writes). */
const GO_TIME_FILE = 'MODPROXY_BENCH_GO_TIME';

/**
 * The go command run under GNU time (`/usr/bin/time`, when the machine has it), which writes its user and system
 * CPU seconds to the file named by $MODPROXY_BENCH_GO_TIME: the go command's time in the kernel, creating the files
 * of the module cache, varied from 0.16 to 5 s for one and the same download here (see timeDownload), and with it
 * the ratios.
 */
function timedGo(): GoTool | undefined {
  if (!fs.existsSync('/usr/bin/time')) return undefined;
  const go = goTool();
  const wrapper = path.join(tmp, 'go-timed');
  fs.writeFileSync(wrapper, `#!/bin/sh\nif [ -n "$${GO_TIME_FILE}" ]; then exec /usr/bin/time -o "$${GO_TIME_FILE}" -f "%U %S" ${JSON.stringify(go.bin)} "$@"; fi\nexec ${JSON.stringify(go.bin)} "$@"\n`, { mode: 0o755 });
  return { ...go, bin: wrapper };
}

/** Closed-loop load: `concurrency` clients for `seconds`, keep-alive. */
async function load(url: string, concurrency: number, seconds: number): Promise<{ rps: number; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  let errors = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      http
        .get(url, { agent }, (res) => {
          if (res.statusCode !== 200) errors++;
          res.resume();
          res.on('end', () => resolve());
        })
        .on('error', () => {
          errors++;
          resolve();
        });
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        await one();
        done++;
      }
    }),
  );
  agent.destroy();
  return { rps: done / ((performance.now() - t0) / 1000), errors };
}

/** Runs bench/loadgen.mjs in its own process against `url`. */
async function loadgen(url: string, connections: number, seconds: number, pin: string[] = []): Promise<{ rps: number; requests: number; errors: number; p99ms: number; busy: number }> {
  const argv = [process.execPath, path.resolve('bench/loadgen.mjs'), url, String(connections), String(seconds)];
  const [cmd, ...rest] = [...pin, ...argv];
  const { stdout } = await pexec(cmd, rest, { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as { rps: number; requests: number; errors: number; p99ms: number; busy: number };
}

/** Current resident set size (VmRSS) of a process, bytes. */
function rssOf(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuSecondsOf(pid: number | undefined): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** CPU seconds of a process and its children (nginx's master and worker), from /proc; NaN elsewhere. */
function processTreeCpuSeconds(pid: number | undefined, depth = 2): number {
  let children: number[] = [];
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // no children file (older kernels): the process alone
  }
  return cpuSecondsOf(pid) + (depth > 0 ? children.reduce((n, c) => n + processTreeCpuSeconds(c, depth - 1), 0) : 0);
}

/** CPU seconds the whole machine has spent busy (not idle or waiting for I/O) so far, from /proc/stat; NaN elsewhere. */
function machineBusySeconds(): number {
  try {
    const [user, nice, system, , , irq, softirq, steal] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** USER_HZ: the unit of /proc's CPU times (100 on every Linux this runs on). */
const CLOCK_TICKS = 100;

type Spawned = { url: string; pid: number | undefined; stop: () => Promise<void> };

/** Spawns a server process and waits until `probe` answers. */
async function spawnServer(cmd: string, argv: string[], env: Record<string, string>, probe: string, cwd?: string, stdoutFile?: string): Promise<Spawned> {
  const out = stdoutFile ? fs.openSync(stdoutFile, 'w') : 'ignore';
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', out, 'pipe'], detached: true, cwd });
  if (typeof out === 'number') fs.closeSync(out);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited: ${err}`);
    try {
      if ((await fetch(probe)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${cmd} did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url: new URL(probe).origin,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM');
      const t = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * GCS double requests, as "<total> for <versions> versions: <count> <kind>, …": kinds are uploads, downloads
 * (alt=media), metadata reads, lists and deletes, each with how many the double answered 404 or 412.
 */
function storageCallsText(requests: Array<{ method: string; path: string; query: string; status: number }>, versions: number): string {
  const kinds = new Map<string, { n: number; missing: number }>();
  for (const r of requests) {
    const kind = r.path.startsWith('/upload/')
      ? 'upload'
      : r.method === 'DELETE'
        ? 'delete'
        : /(^|&)alt=media(&|$)/.test(r.query)
          ? 'download'
          : /\/o$/.test(r.path)
            ? 'list'
            : 'metadata';
    const k = kinds.get(kind) ?? { n: 0, missing: 0 };
    k.n++;
    if (r.status === 404 || r.status === 412) k.missing++;
    kinds.set(kind, k);
  }
  const parts = [...kinds].map(([kind, k]) => `${k.n} ${kind}${k.missing ? ` (${k.missing} answered 404/412)` : ''}`);
  return `${requests.length} for ${versions} versions: ${parts.join(', ')}`;
}

async function freePort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** nginx's binary: installed, or installed now with apt-get when running as root on Debian; else undefined. */
async function findNginx(): Promise<string | undefined> {
  const which = async () => {
    for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']) if (fs.existsSync(p)) return p;
    return undefined;
  };
  const found = await which();
  if (found || process.getuid?.() !== 0 || !fs.existsSync('/usr/bin/apt-get')) return found;
  for (const pkg of ['nginx-light', 'nginx']) {
    try {
      await pexec('apt-get', ['install', '-y', '-q', '--no-install-recommends', pkg], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 16 << 20 });
      return await which();
    } catch {
      // try the next name (or apt-get update first)
      await pexec('apt-get', ['update', '-q'], { maxBuffer: 16 << 20 }).catch(() => undefined);
    }
  }
  return which();
}

/**
 * CPUs for the hit runs: every server on one CPU and the load generator on
 * another (taskset), when there are two CPUs or more and taskset exists.
 * Unpinned, the scheduler places the two processes differently from run to
 * run, and on this 2-vCPU machine the same server measured ±30% within the
 * hour. Pinned, rounds still differ (the ratios' range is printed with each
 * median), but every server meets the same CPU placement.
 */
async function hitCpus(): Promise<{ server: string[]; load: string[] } | undefined> {
  if (os.cpus().length < 2) return undefined;
  try {
    await pexec('taskset', ['-c', '0', 'true']);
  } catch {
    return undefined;
  }
  const last = String(os.cpus().length - 1);
  return { server: ['taskset', '-c', last], load: ['taskset', '-c', '0'] };
}

/**
 * (e) hits: the same cached .mod, .info and .zip from modproxy's own server
 * (on disk, and on the GCS double as deployed), from modproxy under
 * functions-framework, from a node:http server holding
 * the bytes in memory, and from nginx serving them as files; plus a
 * functions-framework hello-world function (the ceiling under FF). The load
 * generator (bench/loadgen.mjs) runs in its own process.
 *
 * A modproxy process first builds and commits the version (once on disk,
 * once on the GCS double), then exits; every
 * server then starts on storage that holds it, so both modproxy entries start
 * in the same state ("after the same versions were cached"). All servers run
 * at once (idle when not measured) on the same pinned CPU, and are measured
 * in rounds that interleave them (the order turning each round): a slow
 * moment of the machine falls on every server alike. Figures are medians over
 * the rounds; ratios are the medians of each round's ratio.
 */
async function hitsScenario(git: GitHttpServer): Promise<void> {
  const conns = Number(process.env.BENCH_HIT_CONNECTIONS ?? 32);
  const secs = Number(process.env.BENCH_HIT_SECONDS ?? 2);
  const rounds = Number(process.env.BENCH_HIT_ROUNDS ?? 5);
  // Processes of one build differ: two of the same server measured up to 0.1 apart in one run.
  const processes = Number(process.env.BENCH_HIT_PROCESSES ?? 2);
  await smallModuleRepo('hits', Number(process.env.BENCH_HIT_FILES ?? 130));
  const dir = path.join(tmp, 'proxy-hits');
  const config = testConfig(dir, { 'github.com': git.url }, ['github.com/bench']);
  const rel = '/github.com/bench/hits/@v/v1.0.0';
  const exts = ['mod', 'info', 'zip'] as const;
  const cpus = await hitCpus();
  const pinned = (cmd: string, argv: string[]): [string, string[]] => (cpus ? [cpus.server[0], [...cpus.server.slice(1), cmd, ...argv]] : [cmd, argv]);
  // modproxy's lean server exactly as `npm start` and Cloud Run run it (dist/functions/server.js).
  await pexec('npm', ['run', 'build'], { maxBuffer: 16 << 20 });
  // The same server on GCS (the double, in this process), as deployed: a request that reaches storage runs
  // under the storage budget's async context (lib/storage/requestBudget.ts); hits do not.
  const gcs = await startGcsDouble();
  gcs.createBucket('bench-hits');
  const gcsConfig = config.replace(/^storage:\n  fs:\n    dir: .*$/m, `storage:\n  gcs:\n    bucket: bench-hits\n    apiEndpoint: "${gcs.url}"\n    anonymous: true`);
  const bodies: Record<string, Buffer> = {};
  const primedIn = async (primed: string) => {
    const port = await freePort();
    const primer = await spawnServer(process.execPath, ['dist/functions/server.js'], { PORT: String(port), MODPROXY_CONFIG: primed }, `http://127.0.0.1:${port}/healthz`);
    try {
      for (const ext of exts) {
        const r = await fetch(`${primer.url}${rel}.${ext}`);
        if (r.status !== 200) throw new Error(`${ext}: ${r.status} ${await r.text()}`);
        const body = Buffer.from(await r.arrayBuffer());
        if (bodies[ext] && !bodies[ext].equals(body)) throw new Error(`${ext}: the GCS build differs from the disk build`);
        bodies[ext] = body;
      }
    } finally {
      await primer.stop();
    }
  };
  try {
    await primedIn(config);
    await primedIn(gcsConfig);
  } catch (err) {
    await gcs.close();
    throw err;
  }
  const gitBefore = git.requests.length;
  const load = os.loadavg()[0];
  console.log(
    `(e) hits: .mod ${bodies.mod.length} B, .info ${bodies.info.length} B, .zip ${(bodies.zip.length / 1024).toFixed(0)} KiB; ${conns} connections, ${rounds} interleaved rounds of ${secs} s per server process and artifact, ${processes} processes of each Node server after a 1 s warm-up, load generator in its own process; ${cpus ? `servers on CPU ${cpus.server[2]}, load generator on CPU 0 (taskset)` : 'not pinned (no taskset or one CPU)'}; ${os.cpus().length} CPUs, load average ${load.toFixed(2)}`,
  );

  type Server = { name: string; instances: Spawned[]; paths: Partial<Record<(typeof exts)[number] | 'hello', string>> };
  const servers: Server[] = [];
  const proxyPaths = { mod: `${rel}.mod`, info: `${rel}.info`, zip: `${rel}.zip` };
  /** `processes` processes of one Node server, each on a port of its own (`start(port)`). */
  const nodeProcesses = async (start: (port: number) => Promise<Spawned>): Promise<Spawned[]> => {
    const out: Spawned[] = [];
    for (let i = 0; i < processes; i++) out.push(await start(await freePort()));
    return out;
  };
  try {
    servers.push({
      name: 'modproxy (own server)',
      instances: await nodeProcesses((port) => spawnServer(...pinned(process.execPath, ['dist/functions/server.js']), { PORT: String(port), MODPROXY_CONFIG: config }, `http://127.0.0.1:${port}/healthz`)),
      paths: proxyPaths,
    });
    servers.push({
      name: 'modproxy (own server, GCS)',
      instances: await nodeProcesses((port) => spawnServer(...pinned(process.execPath, ['dist/functions/server.js']), { PORT: String(port), MODPROXY_CONFIG: gcsConfig }, `http://127.0.0.1:${port}/healthz`)),
      paths: proxyPaths,
    });
    const ffMain = path.resolve('node_modules/@google-cloud/functions-framework/build/src/main.js');
    servers.push({
      name: 'modproxy (functions-framework)',
      instances: await nodeProcesses((port) => spawnServer(...pinned(process.execPath, [ffMain, '--target=goproxy', `--source=${process.cwd()}`]), { PORT: String(port), MODPROXY_CONFIG: config }, `http://127.0.0.1:${port}/healthz`)),
      paths: proxyPaths,
    });
    const hello = path.join(tmp, 'hello-fn');
    fs.mkdirSync(hello, { recursive: true });
    fs.writeFileSync(path.join(hello, 'package.json'), '{"main":"index.js"}\n');
    fs.writeFileSync(path.join(hello, 'index.js'), "exports.hello = (req, res) => { res.send('hello world'); };\n");
    servers.push({
      name: 'functions-framework hello world',
      instances: await nodeProcesses((port) => spawnServer(...pinned(process.execPath, [ffMain, '--target=hello', `--source=${hello}`]), { PORT: String(port) }, `http://127.0.0.1:${port}/`)),
      paths: { hello: '/' },
    });

    // node:http from memory: the same bytes and content types, no logic at all.
    const files = path.join(tmp, 'hit-files');
    fs.mkdirSync(path.join(files, path.dirname(rel)), { recursive: true });
    for (const ext of exts) fs.writeFileSync(path.join(files, `${rel}.${ext}`), bodies[ext]);
    const nodeScript = path.join(tmp, 'memserver.mjs');
    fs.writeFileSync(
      nodeScript,
      `import http from 'node:http'; import fs from 'node:fs'; import path from 'node:path';
const types = { mod: 'text/plain; charset=utf-8', info: 'application/json', zip: 'application/zip' };
const bodies = new Map();
for (const ext of Object.keys(types)) bodies.set(${JSON.stringify(rel)} + '.' + ext, { body: fs.readFileSync(path.join(${JSON.stringify(files)}, ${JSON.stringify(rel)} + '.' + ext)), type: types[ext] });
http.createServer((req, res) => { const b = bodies.get(req.url); if (!b) { res.writeHead(404); res.end(); return; } res.writeHead(200, { 'content-type': b.type, 'content-length': b.body.length }); res.end(b.body); }).listen(Number(process.env.PORT), '127.0.0.1');
`,
    );
    servers.push({
      name: 'node:http from memory',
      instances: await nodeProcesses((port) => spawnServer(...pinned(process.execPath, [nodeScript]), { PORT: String(port) }, `http://127.0.0.1:${port}${rel}.mod`)),
      paths: proxyPaths,
    });

    const nginx = await findNginx();
    if (!nginx) {
      console.log('    nginx: not installed: apt-get install nginx-light (or nginx), then run again');
    } else {
      const ngDir = path.join(tmp, 'nginx');
      fs.mkdirSync(ngDir, { recursive: true });
      const ngPort = await freePort();
      fs.writeFileSync(
        path.join(ngDir, 'nginx.conf'),
        `${process.getuid?.() === 0 ? `user ${os.userInfo().username};\n` : ''}worker_processes 1;\ndaemon off;\npid ${ngDir}/nginx.pid;\nerror_log ${ngDir}/error.log;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  keepalive_requests 1000000;\n  client_body_temp_path ${ngDir}/body; proxy_temp_path ${ngDir}/proxy; fastcgi_temp_path ${ngDir}/fcgi; uwsgi_temp_path ${ngDir}/uwsgi; scgi_temp_path ${ngDir}/scgi;\n  types { text/plain mod; application/json info; application/zip zip; }\n  server { listen 127.0.0.1:${ngPort}; root ${files}; }\n}\n`,
      );
      // One process: no target is set against nginx; its figures are context.
      servers.push({ name: 'nginx (files, 1 worker)', instances: [await spawnServer(...pinned(nginx, ['-c', path.join(ngDir, 'nginx.conf'), '-p', ngDir]), {}, `http://127.0.0.1:${ngPort}${rel}.mod`)], paths: proxyPaths });
    }

    const loadOn = (url: string, seconds: number) => loadgen(url, conns, seconds, cpus?.load);
    // Every process of every server, measured one after another; the order turns each round.
    const units = servers.flatMap((sv) => sv.instances.map((spawned, index) => ({ sv, spawned, index })));
    // A short warm-up of every path first (JIT, connection pools), not measured.
    for (const u of units) for (const p of Object.values(u.sv.paths)) await loadOn(`${u.spawned.url}${p}`, 1);
    /** One measurement: one process of a server under load for `secs`; CPU µs per request from /proc, and how busy the load generator was. */
    type Measured = { rps: number; p99ms: number; errors: number; cpuUsPerRequest: number; loadgenBusy: number };
    /** runs[server][artifact][round][process]. */
    const runs: Record<string, Record<string, Measured[][]>> = {};
    for (let round = 0; round < rounds; round++) {
      const order = units.map((_, i) => units[(i + round) % units.length]);
      for (const k of [...exts, 'hello'] as const) {
        for (const { sv, spawned, index } of order) {
          const p = sv.paths[k];
          if (!p) continue;
          const cpu0 = processTreeCpuSeconds(spawned.pid);
          const r = await loadOn(`${spawned.url}${p}`, secs);
          const cpuUsPerRequest = ((processTreeCpuSeconds(spawned.pid) - cpu0) * 1e6) / Math.max(1, r.requests);
          ((((runs[sv.name] ??= {})[k] ??= [])[round] ??= [])[index] = { rps: r.rps, p99ms: r.p99ms, errors: r.errors, cpuUsPerRequest, loadgenBusy: r.busy });
        }
      }
    }
    const rss: Record<string, number> = Object.fromEntries(servers.map((sv) => [sv.name, Math.max(...sv.instances.map((x) => rssOf(x.pid)))]));

    /** A server's rate in one round: the mean over its processes. */
    const roundRate = (ms: Measured[]) => ms.reduce((n, m) => n + m.rps, 0) / ms.length;
    const cell = (name: string, k: string) => {
      const rs = runs[name]?.[k];
      if (!rs) return undefined;
      const all = rs.flat();
      return {
        rps: Math.round(median(rs.map(roundRate))),
        p99ms: Number(median(all.map((r) => r.p99ms)).toFixed(2)),
        errors: all.reduce((n, r) => n + r.errors, 0),
        cpuUsPerRequest: Number(median(all.map((r) => r.cpuUsPerRequest)).toFixed(1)),
        /** Each process's median rate: how far processes of one build differ. */
        processRps: rs[0].map((_, i) => Math.round(median(rs.map((round) => round[i].rps)))),
      };
    };
    type Cell = NonNullable<ReturnType<typeof cell>>;
    const rows: Record<string, Record<string, Cell>> = {};
    for (const sv of servers) rows[sv.name] = Object.fromEntries(Object.keys(sv.paths).map((k) => [k, cell(sv.name, k)!]));
    console.log(`    ${'server'.padEnd(34)} ${exts.map((e) => `.${e} req/s (p99 ms, CPU µs/req)`.padEnd(34)).join('')} RSS`);
    for (const [name, row] of Object.entries(rows)) {
      const cells = (row.hello ? ['hello'] : exts).map((k) => {
        const c = row[k];
        return `${c.rps} (${c.p99ms}, ${c.cpuUsPerRequest})${c.errors ? ` ${c.errors} errors` : ''}`.padEnd(34);
      });
      console.log(`    ${name.padEnd(34)} ${cells.join('')} ${mib(rss[name])}`);
    }
    for (const [name, row] of Object.entries(rows)) {
      if (Object.values(row)[0].processRps.length > 1) console.log(`      ${name}, each process's median req/s: ${Object.entries(row).map(([k, c]) => `${k} ${c.processRps.join(' / ')}`).join('; ')}`);
    }
    // The load generator has a CPU of its own; when it is saturated, it rather than the server sets the pace.
    // Shown per server: a ratio is only as good as its two sides.
    const loadgenBusiest: Record<string, Record<string, number>> = Object.fromEntries(
      Object.entries(runs).map(([name, byK]) => [name, Object.fromEntries(Object.entries(byK).map(([k, rounds]) => [k, Math.max(...rounds.flat().map((r) => r.loadgenBusy))]))]),
    );
    console.log(`    the load generator's CPU at most (1 = saturated: it, not the server, set the pace):`);
    for (const [name, byK] of Object.entries(loadgenBusiest)) console.log(`      ${name}: ${Object.entries(byK).map(([k, b]) => `${k} ${b.toFixed(2)}`).join(', ')}`);
    /** The median over the rounds of one server's rate over another's, measured in the same round (each the mean of its processes). */
    const roundRatios = (a: string, ka: string, b: string, kb: string): number[] | undefined => {
      const ra = runs[a]?.[ka];
      const rb = runs[b]?.[kb];
      if (!ra || !rb) return undefined;
      return ra.map((r, i) => roundRate(r) / roundRate(rb[i]));
    };
    const ratios: Record<string, number> = {};
    const spread: Record<string, string> = {};
    for (const ext of exts) {
      const pairs: Array<[string, string, string, string, string]> = [
        [`own/node ${ext}`, 'modproxy (own server)', ext, 'node:http from memory', ext],
        [`own-gcs/node ${ext}`, 'modproxy (own server, GCS)', ext, 'node:http from memory', ext],
        [`ff/hello ${ext}`, 'modproxy (functions-framework)', ext, 'functions-framework hello world', 'hello'],
        [`own/nginx ${ext}`, 'modproxy (own server)', ext, 'nginx (files, 1 worker)', ext],
      ];
      for (const [label, a, ka, b, kb] of pairs) {
        const each = roundRatios(a, ka, b, kb);
        if (each === undefined) continue;
        ratios[label] = Number(median(each).toFixed(2));
        spread[label] = `${Math.min(...each).toFixed(2)}–${Math.max(...each).toFixed(2)}`;
      }
    }
    console.log(`    ratios (median of the rounds; range): ${Object.entries(ratios).map(([k, v]) => `${k} ${v} (${spread[k]})`).join(', ')}`);
    // The same comparison from CPU time: node:http's CPU per request over ours, per round (independent of how fast the load generator turns requests around).
    const cpuRatios: Record<string, number> = {};
    const meanCpu = (ms: Measured[]) => ms.reduce((n, m) => n + m.cpuUsPerRequest, 0) / ms.length;
    for (const ext of exts) {
      const base = runs['node:http from memory']?.[ext];
      for (const [label, name] of [['own/node', 'modproxy (own server)'], ['own-gcs/node', 'modproxy (own server, GCS)']]) {
        const own = runs[name]?.[ext];
        if (!own || !base) continue;
        cpuRatios[`${label} ${ext}`] = Number(median(own.map((r, i) => meanCpu(base[i]) / meanCpu(r))).toFixed(2));
      }
    }
    console.log(`    by CPU per request (node:http's over ours, median of the rounds): ${Object.entries(cpuRatios).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    const gitDuring = git.requests.length - gitBefore;
    console.log(`    git requests during the hit phase: ${gitDuring}`);
    results.hits = { connections: conns, seconds: secs, rounds, processes, pinned: !!cpus, loadAverage: load, cpus: os.cpus().length, sizes: { mod: bodies.mod.length, info: bodies.info.length, zip: bodies.zip.length }, rows, runs, rssBytes: rss, ratios, ratioRanges: spread, cpuRatios, loadgenBusiest, gitRequests: gitDuring };
  } finally {
    for (const sv of servers) for (const x of sv.instances) await x.stop().catch(() => undefined);
    await gcs.close();
  }
}

/**
 * Peak RSS (VmHWM) of a fresh modproxy process building the zip of
 * github.com/bench/<name>@v1.0.0 (sizeMiB of files), against the documented
 * bound 2 × size + 200 MiB. `label` names the run, %s standing for the size.
 */
async function zipPeakRss(git: GitHttpServer, name: string, sizeMiB: number, label: string): Promise<Record<string, number>> {
  const proxy = await startBenchProxy(git, path.join(tmp, `proxy-${name}`));
  const before = proxy.peakRss();
  const t0 = performance.now();
  const res = await fetch(`${proxy.url}/github.com/bench/${name}/@v/v1.0.0.zip`);
  const body = Buffer.from(await res.arrayBuffer());
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`zip: ${res.status} ${body.toString()}`);
  const peak = proxy.peakRss();
  await proxy.stop();
  const uncompressed = sizeMiB << 20;
  const bound = 2 * uncompressed + (200 << 20);
  console.log(
    `${label.replace('%s', mib(uncompressed))}: zip ${mib(body.length)}, built in ${(ms / 1000).toFixed(1)} s; peak RSS ${mib(peak)} (process start ${mib(before)}); bound 2×size+200 MiB = ${mib(bound)} → ${peak <= bound ? 'within' : 'OVER'}`,
  );
  return { uncompressedBytes: uncompressed, zipBytes: body.length, peakRssBytes: peak, startRssBytes: before, boundBytes: bound, seconds: ms / 1000 };
}

async function main() {
  const git = await startGitHttpServer({ projectRoot: repos });
  const runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: { 'https://github.com/': `${git.url}/` }, go: timedGo() });
  try {
    if (only('cold') || only('warm')) {
      const files = Number(process.env.BENCH_FILES ?? 3000);
      const commits = Number(process.env.BENCH_COMMITS ?? 2000);
      let t = performance.now();
      const tags = await bigHistoryRepo('history', files, commits, 200);
      const gen = performance.now() - t;
      const { stdout: size } = await pexec('du', ['-sb', path.join(repos, 'bench/history')]);
      const versions = tags.filter((_, i) => i % 2 === 1).slice(0, 5);
      const queries = versions.map((v) => `github.com/bench/history@v${v.slice(1)}`);
      console.log(`repository: ${files} files, ${commits} commits, ${tags.length} tags, packed ${mib(Number(size.split('\t')[0]))} (generated in ${(gen / 1000).toFixed(1)} s)`);
      console.log(`downloading ${versions.join(' ')}`);

      const direct: number[] = [];
      const proxied: number[] = [];
      let proxyForWarm: ProxyProcess | undefined;
      const runs = Number(process.env.BENCH_RUNS ?? 3);
      for (let run = 0; run < runs; run++) {
        // Each run writes hundreds of MB (module caches, zips); flush them so
        // writeback of one run does not slow the next.
        await pexec('sync');
        const d = await timeDownload(runner, 'direct', queries);
        await pexec('sync');
        direct.push(d.ms);
        const proxy = await startBenchProxy(git, path.join(tmp, `proxy-cold-${run}`));
        const p = await timeDownload(runner, proxy.url, queries);
        proxied.push(p.ms);
        if (JSON.stringify(d.sums) !== JSON.stringify(p.sums)) throw new Error(`hash mismatch: direct ${d.sums} proxy ${p.sums}`);
        console.log(`  run ${run + 1}: direct ${(d.ms / 1000).toFixed(2)} s, modproxy (fresh) ${(p.ms / 1000).toFixed(2)} s, peak RSS ${mib(proxy.peakRss())}`);
        if (run === runs - 1) proxyForWarm = proxy;
        else await proxy.stop();
      }
      const ratio = median(proxied) / median(direct);
      results.cold = { versions: versions.length, files, commits, directMedianS: median(direct) / 1000, modproxyMedianS: median(proxied) / 1000, ratio };
      console.log(`(a) cold: median direct ${(median(direct) / 1000).toFixed(2)} s, modproxy ${(median(proxied) / 1000).toFixed(2)} s, ratio modproxy/direct = ${ratio.toFixed(2)}`);

      if (only('warm') && proxyForWarm) {
        const base = `${proxyForWarm.url}/github.com/bench/history/@v/${versions[0]}`;
        const gitBefore = git.requests.length;
        const warm: Record<string, unknown> = {};
        for (const ext of ['info', 'mod', 'zip']) {
          const r = await load(`${base}.${ext}`, 16, 5);
          warm[ext] = { rps: Math.round(r.rps), errors: r.errors };
          console.log(`(b) warm ${ext}: ${Math.round(r.rps)} req/s (16 clients, keep-alive), ${r.errors} errors`);
        }
        const zipSize = (await fetch(`${base}.zip`)).headers.get('content-length');
        warm.zipBytes = Number(zipSize);
        warm.gitRequestsDuringWarm = git.requests.length - gitBefore;
        console.log(`(b) git requests during the warm phase: ${git.requests.length - gitBefore} (zip is ${mib(Number(zipSize))})`);
        results.warm = warm;
      }
      await proxyForWarm?.stop();
    }

    if (only('public')) {
      await pexec('npm', ['run', 'build'], { maxBuffer: 16 << 20 });
      const count = Number(process.env.BENCH_PUBLIC_MODULES ?? 8);
      const names = Array.from({ length: count }, (_, i) => `pub${i}`);
      for (const n of names) await smallModuleRepo(n, 400);
      const queries = names.map((n) => `github.com/bench/${n}@v1.0.0`);
      // As many other versions, which a warmed modproxy process downloads before the timed ones.
      const warmNames = Array.from({ length: count }, (_, i) => `warm${i}`);
      for (const n of warmNames) await smallModuleRepo(n, 400);
      const warmQueries = warmNames.map((n) => `github.com/bench/${n}@v1.0.0`);
      // Direct mode fills a module cache: its cache/download tree is the parent, its go.sum lines the database.
      const seed = path.join(tmp, 'public-seed');
      fs.mkdirSync(seed);
      const filled = await runner.run('direct', seed, ['mod', 'download', '-json', ...queries, ...warmQueries]);
      if (filled.code !== 0) throw new Error(`direct download failed: ${filled.stderr}`);
      const parent = await startFileProxyServer(path.join(seed, 'cache', 'download'));
      const db = await SumdbServer.start({ name: 'sumdb.bench' });
      const gcs = await startGcsDouble();
      try {
        for (const chunk of filled.stdout.split(/\n(?=\{)/)) {
          const d = JSON.parse(chunk) as { Path: string; Version: string; Sum: string; GoModSum: string };
          await db.add([`${d.Path} ${d.Version} ${d.Sum}`, `${d.Path} ${d.Version}/go.mod ${d.GoModSum}`]);
        }
        const viaParent: number[] = [];
        const viaProxy: number[] = [];
        const viaProxyGcs: number[] = [];
        const viaProxyWarm: number[] = [];
        // CPU seconds per timed download: the whole machine's (parent directly, modproxy on disk), and modproxy's own
        // process (fresh on disk, fresh on the GCS double, warmed on disk). They say whether the machine's CPUs,
        // rather than waiting, set the pace, and what a fresh process's first versions cost over a warmed one's.
        const cpu = { machineParent: [] as number[], machineProxy: [] as number[], proxyFs: [] as number[], proxyGcs: [] as number[], proxyWarm: [] as number[] };
        /** The go command's own CPU per timed download (user/system seconds), when measured: parent directly, modproxy fresh on disk. */
        const goCpu = { parent: [] as string[], proxyFs: [] as string[] };
        /** The GCS double's requests per timed download on it (what a cold public version costs in storage calls). */
        const gcsCalls: string[] = [];
        const goText = (t: { go?: { userS: number; sysS: number } }) => (t.go ? `${t.go.userS.toFixed(2)}/${t.go.sysS.toFixed(2)} s` : 'not measured');
        // The same run with the production store's protocol: GCS (test/support/gcsDouble.ts, in memory, on loopback)
        // instead of the local disk, whose durable commits (fsync, mkdir) dominate a cold public .info here.
        const runs = Number(process.env.BENCH_RUNS ?? 3);
        for (let run = 0; run < runs; run++) {
          const d = await timeDownload(runner, parent.url, queries, { GOSUMDB: `${db.vkey} ${db.url}` });
          viaParent.push(d.ms);
          cpu.machineParent.push(d.busyS);
          goCpu.parent.push(goText(d));
          const dir = path.join(tmp, `proxy-public-${run}`);
          const extra = publicModulesConfig(parent.url, { name: 'sumdb.bench', url: db.url, vkey: db.vkey }).join('\n');
          // modproxy as `npm start` runs it (built: dist/functions/server.js), a fresh process on fresh storage.
          // BENCH_TRACE keeps each run's request log (with latencies) in the temporary directory.
          const fsConfig = testConfig(dir, { 'github.com': git.url }, ['github.com/private-only'], extra);
          const bucket = `bench-public-${run}`;
          gcs.createBucket(bucket);
          const gcsConfig = fsConfig.replace(/^storage:\n  fs:\n    dir: .*$/m, `storage:\n  gcs:\n    bucket: ${bucket}\n    apiEndpoint: "${gcs.url}"\n    anonymous: true`);
          const timeProxy = async (config: string, label: string, cpuOfProxy: number[], warm = false): Promise<number> => {
            const port = await freePort();
            const trace = process.env.BENCH_TRACE ? path.join(os.tmpdir(), `bench-public-trace-${label}-${run}.log`) : undefined;
            const proxy = await spawnServer(process.execPath, [...NODE_FLAGS, 'dist/functions/server.js'], { PORT: String(port), MODPROXY_CONFIG: config }, `http://127.0.0.1:${port}/healthz`, undefined, trace);
            try {
              // Warmed: the process has served other cold versions (JIT-compiled, tiles in memory); the timed ones are still cold.
              if (warm) await timeDownload(runner, proxy.url, warmQueries, { GOSUMDB: db.vkey });
              // The go command verifies through modproxy's /sumdb/ (GOSUMDB names the database, no URL).
              const cpu0 = cpuSecondsOf(proxy.pid);
              const gcs0 = gcs.requests.length;
              const p = await timeDownload(runner, proxy.url, queries, { GOSUMDB: db.vkey });
              cpuOfProxy.push(cpuSecondsOf(proxy.pid) - cpu0);
              if (label === 'gcs') gcsCalls.push(storageCallsText(gcs.requests.slice(gcs0), count));
              if (label === 'fs') {
                cpu.machineProxy.push(p.busyS);
                goCpu.proxyFs.push(goText(p));
              }
              if (JSON.stringify(d.sums) !== JSON.stringify(p.sums)) throw new Error(`hash mismatch (${label}): parent ${d.sums} proxy ${p.sums}`);
              return p.ms;
            } finally {
              await proxy.stop();
            }
          };
          viaProxy.push(await timeProxy(fsConfig, 'fs', cpu.proxyFs));
          viaProxyGcs.push(await timeProxy(gcsConfig, 'gcs', cpu.proxyGcs));
          viaProxyWarm.push(await timeProxy(testConfig(path.join(tmp, `proxy-public-warm-${run}`), { 'github.com': git.url }, ['github.com/private-only'], extra), 'fs-warm', cpu.proxyWarm, true));
          const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
          console.log(`  run ${run + 1}: parent directly ${s(d.ms)}, modproxy (fresh, disk) ${s(viaProxy[run])}, modproxy (fresh, GCS double) ${s(viaProxyGcs[run])}, modproxy (fresh storage, warmed process, disk) ${s(viaProxyWarm[run])}`);
          console.log(`    GCS double requests during the timed download: ${gcsCalls[run]}`);
          console.log(
            `    CPU: machine busy ${cpu.machineParent[run].toFixed(2)} s (parent directly), ${cpu.machineProxy[run].toFixed(2)} s (modproxy, disk); modproxy's process ${cpu.proxyFs[run].toFixed(2)} s (fresh, disk), ${cpu.proxyGcs[run].toFixed(2)} s (fresh, GCS double), ${cpu.proxyWarm[run].toFixed(2)} s (warmed, disk); the go command's own user/system ${goCpu.parent[run]} (parent directly), ${goCpu.proxyFs[run]} (modproxy, disk)`,
          );
        }
        const ratio = median(viaProxy) / median(viaParent);
        const ratioGcs = median(viaProxyGcs) / median(viaParent);
        const ratioWarm = median(viaProxyWarm) / median(viaParent);
        results.public = {
          versions: count,
          parentMedianS: median(viaParent) / 1000,
          modproxyMedianS: median(viaProxy) / 1000,
          ratio,
          modproxyGcsMedianS: median(viaProxyGcs) / 1000,
          ratioGcs,
          modproxyWarmMedianS: median(viaProxyWarm) / 1000,
          ratioWarm,
          cpuSecondsMedian: Object.fromEntries(Object.entries(cpu).map(([k, xs]) => [k, median(xs)])),
          goUserSystemSeconds: goCpu,
          gcsRequests: gcsCalls,
        };
        console.log(
          `(d) public modules (${count} versions, verified with the checksum database): median parent ${(median(viaParent) / 1000).toFixed(2)} s, modproxy on disk ${(median(viaProxy) / 1000).toFixed(2)} s (ratio ${ratio.toFixed(2)}), modproxy on the GCS double ${(median(viaProxyGcs) / 1000).toFixed(2)} s (ratio ${ratioGcs.toFixed(2)}), warmed process on disk ${(median(viaProxyWarm) / 1000).toFixed(2)} s (ratio ${ratioWarm.toFixed(2)})`,
        );
      } finally {
        await gcs.close();
        await db.close();
        await parent.close();
      }
    }

    if (only('hits')) await hitsScenario(git);

    if (only('rss')) {
      const sizeMiB = Number(process.env.BENCH_LARGE_MIB ?? 120);
      await largeModuleRepo('large', sizeMiB);
      results.rss = await zipPeakRss(git, 'large', sizeMiB, '(c) large module: %s of files');
    }
    if (only('endless')) {
      // A git host whose fetch answer never ends: the pack is spilled to disk and refused at resolve.gitMaxPackBytes.
      await smallModuleRepo('endless', 10);
      const hostile = await startHostileGitServer({ projectRoot: repos });
      hostile.fault = (r) => (r.command === 'fetch' ? { endlessPack: {} } : undefined);
      const proxy = await startProxyProcess(testConfig(path.join(tmp, 'proxy-endless'), { 'github.com': hostile.url }, ['github.com/bench']));
      try {
        const before = proxy.peakRss();
        const t0 = performance.now();
        const res = await fetch(`${proxy.url}/github.com/bench/endless/@v/v1.0.0.info`);
        const text = (await res.text()).trim();
        const ms = performance.now() - t0;
        const peak = proxy.peakRss();
        results.endless = { status: res.status, peakRssBytes: peak, startRssBytes: before, seconds: ms / 1000 };
        console.log(`(g) endless fetch answer: ${res.status} after ${(ms / 1000).toFixed(1)} s (${text.slice(0, 120)}); peak RSS ${mib(peak)} (process start ${mib(before)})`);
      } finally {
        await proxy.stop();
        await hostile.close();
      }
    }
    if (only('zeros')) {
      const sizeMiB = Number(process.env.BENCH_ZEROS_MIB ?? 400);
      await zerosModuleRepo('zeros', sizeMiB);
      results.zeros = await zipPeakRss(git, 'zeros', sizeMiB, '(f) %s of zeros in one file');
    }
  } finally {
    await git.close();
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(modCaches, { recursive: true, force: true });
  }
  const out = path.resolve('bench/results.json');
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, ...results }, null, 2) + '\n');
  console.log(`results written to ${out}`);
}

await main();
