#!/usr/bin/env node
// Makes sure a go command >= 1.24 is available for the GOAUTH tests
// (test/goauth.test.ts): GOAUTH, which runs `modproxy-auth`, exists only since
// Go 1.24, while the rest of the suite runs the Go that scripts/ensure-go.mjs
// finds (Debian 12 has 1.23 at most, from bookworm-backports).
//
// Order: $MODPROXY_GO_NEW; the go that ensure-go.mjs chose, or `go` on PATH,
// or a Debian package location, if it is new enough; a copy unpacked earlier
// into the cache; else, as root on Debian, download golang-1.NN-go and
// golang-1.NN-src (the newest NN >= 24 in sid or trixie) with apt-get, using
// a private sources list and private package lists so the system's apt state
// is left as it was, and unpack them with dpkg -x (nothing is installed).
// Otherwise stop with a message saying what to install. Never skip silently.
//
// Writes node_modules/.cache/modproxy/go-newer.json ({bin, goroot, version}),
// which test/support/goTool.ts reads.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MIN_MINOR = 24;
const SUITES = ['sid', 'trixie'];
const cacheRoot = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'modproxy');

/** {bin, goroot, version, minor} of a go binary, run with GOROOT set to its own tree (the unpacked copy needs it). */
function probe(bin, goroot) {
  const env = { ...process.env, GOTOOLCHAIN: 'local', GOENV: 'off' };
  if (goroot) env.GOROOT = goroot;
  else delete env.GOROOT;
  const r = spawnSync(bin, ['env', 'GOVERSION', 'GOROOT'], { encoding: 'utf8', env });
  if (r.status !== 0) return null;
  const [version, root] = r.stdout.trim().split('\n');
  const m = /^go1\.(\d+)/.exec(version ?? '');
  return m ? { bin, goroot: root, version, minor: Number(m[1]) } : null;
}

function fromBin(bin) {
  // A go inside an unpacked Debian package needs GOROOT: the directory above bin/.
  let goroot;
  if (path.isAbsolute(bin) && fs.existsSync(bin)) {
    const dir = path.dirname(path.dirname(fs.realpathSync(bin)));
    if (fs.existsSync(path.join(dir, 'src/cmd/go'))) goroot = dir;
  }
  return probe(bin, goroot);
}

function cachedCopies() {
  if (!fs.existsSync(cacheRoot)) return [];
  const found = [];
  for (const d of fs.readdirSync(cacheRoot)) {
    const lib = path.join(cacheRoot, d, 'usr/lib');
    if (!/^go-1\.\d+/.test(d) || !fs.existsSync(lib)) continue;
    for (const g of fs.readdirSync(lib)) if (/^go-1\.\d+$/.test(g)) found.push(path.join(lib, g, 'bin/go'));
  }
  // Newest first.
  return found.sort((a, b) => minorOf(b) - minorOf(a));
}

function minorOf(p) {
  return Number(/go-1\.(\d+)/.exec(p)?.[1] ?? 0);
}

function ensureGoChoice() {
  try {
    return JSON.parse(fs.readFileSync('node_modules/.cache/modproxy/go.json', 'utf8')).bin;
  } catch {
    return undefined;
  }
}

function findNewerGo() {
  if (process.env.MODPROXY_GO_NEW) {
    const v = fromBin(process.env.MODPROXY_GO_NEW);
    if (!v || v.minor < MIN_MINOR) {
      console.error(`ensure-newer-go: MODPROXY_GO_NEW=${process.env.MODPROXY_GO_NEW} is not a go command >= 1.${MIN_MINOR} (${v ? v.version : 'it does not run'})`);
      process.exit(1);
    }
    return v;
  }
  const debian = [];
  for (let minor = 40; minor >= MIN_MINOR; minor--) debian.push(`/usr/lib/go-1.${minor}/bin/go`);
  for (const bin of [ensureGoChoice(), 'go', ...debian, '/usr/lib/go/bin/go', '/usr/local/go/bin/go', ...cachedCopies()].filter(Boolean)) {
    const v = fromBin(bin);
    if (v && v.minor >= MIN_MINOR) return v;
  }
  return null;
}

function isDebian() {
  try {
    return /^ID=debian$/m.test(fs.readFileSync('/etc/os-release', 'utf8')) && spawnSync('apt-get', ['--version']).status === 0;
  } catch {
    return false;
  }
}

/** Downloads and unpacks the newest golang-1.NN-go (NN >= 24) from sid/trixie into the cache; returns its go binary. */
function download() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-newer-go-'));
  try {
    const lists = path.join(work, 'lists');
    fs.mkdirSync(path.join(lists, 'partial'), { recursive: true });
    fs.mkdirSync(path.join(work, 'cache/archives/partial'), { recursive: true });
    const sources = path.join(work, 'sources.list');
    fs.writeFileSync(sources, SUITES.map((s) => `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${s} main\n`).join(''));
    // Only these files and directories are read and written: the system's
    // sources, package lists and caches stay untouched, and nothing is installed.
    const apt = [
      `-o=Dir::Etc::sourcelist=${sources}`,
      '-o=Dir::Etc::sourceparts=-',
      `-o=Dir::State::Lists=${lists}`,
      `-o=Dir::Cache=${path.join(work, 'cache')}`,
      '-o=APT::Sandbox::User=root',
      '-o=Debug::NoLocking=1',
    ];
    console.error(`ensure-newer-go: reading the package lists of ${SUITES.join(' and ')} from deb.debian.org (privately, in ${work}) ...`);
    execFileSync('apt-get', [...apt, '-qq', 'update'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const names = execFileSync('apt-cache', [...apt, 'pkgnames', 'golang-1.'], { encoding: 'utf8' })
      .split('\n')
      .map((n) => /^golang-1\.(\d+)-go$/.exec(n.trim()))
      .filter((m) => m && Number(m[1]) >= MIN_MINOR)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a);
    if (names.length === 0) throw new Error(`no golang-1.NN-go with NN >= ${MIN_MINOR} in ${SUITES.join(' or ')}`);
    const minor = names[0];
    const pkgs = [`golang-1.${minor}-go`, `golang-1.${minor}-src`];
    const version = execFileSync('apt-cache', [...apt, 'show', '--no-all-versions', pkgs[0]], { encoding: 'utf8' }).match(/^Version: (\S+)$/m)?.[1] ?? 'unknown';
    console.error(`ensure-newer-go: downloading ${pkgs.join(' and ')} ${version} (unpacked into ${cacheRoot}, not installed) ...`);
    const debs = path.join(work, 'debs');
    fs.mkdirSync(debs);
    execFileSync('apt-get', [...apt, '-qq', 'download', ...pkgs], { cwd: debs, stdio: ['ignore', 'ignore', 'inherit'] });
    const unpacked = path.join(work, 'unpacked');
    for (const deb of fs.readdirSync(debs).filter((f) => f.endsWith('.deb'))) execFileSync('dpkg', ['-x', path.join(debs, deb), unpacked]);
    const bin = path.join(unpacked, `usr/lib/go-1.${minor}/bin/go`);
    if (!fromBin(bin)) throw new Error(`the unpacked ${bin} does not run`);
    // Move into place in one step, so a concurrent run sees all of it or none.
    fs.mkdirSync(cacheRoot, { recursive: true });
    const dest = path.join(cacheRoot, `go-1.${minor}-${version.replace(/[^A-Za-z0-9.+~-]/g, '_')}`);
    try {
      fs.renameSync(unpacked, dest);
    } catch (err) {
      if (!fs.existsSync(path.join(dest, `usr/lib/go-1.${minor}/bin/go`))) throw err; // else another run got there first
    }
    return path.join(dest, `usr/lib/go-1.${minor}/bin/go`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

let found = findNewerGo();
if (!found && typeof process.getuid === 'function' && process.getuid() === 0 && isDebian()) {
  try {
    found = fromBin(download());
  } catch (err) {
    console.error(`ensure-newer-go: the download failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
if (!found || found.minor < MIN_MINOR) {
  console.error(
    [
      `The GOAUTH tests (test/goauth.test.ts) need a go command >= 1.${MIN_MINOR}, and none was found.`,
      'Provide one, then run the tests again:',
      `  any system:  install Go >= 1.${MIN_MINOR} from https://go.dev/dl/ and set MODPROXY_GO_NEW=/path/to/go/bin/go`,
      '  Debian:      run `npm test` (or `node scripts/ensure-newer-go.mjs`) as root: it downloads golang-1.NN-go and',
      '               golang-1.NN-src from sid/trixie with apt-get download and unpacks them into',
      `               ${cacheRoot} with dpkg -x, without installing them or changing apt's sources`,
    ].join('\n'),
  );
  process.exit(1);
}
fs.mkdirSync('node_modules/.cache/modproxy', { recursive: true });
fs.writeFileSync('node_modules/.cache/modproxy/go-newer.json', JSON.stringify({ bin: found.bin, goroot: found.goroot, version: found.version }));
console.error(`ensure-newer-go: using ${found.bin} (${found.version}, GOROOT ${found.goroot})`);
