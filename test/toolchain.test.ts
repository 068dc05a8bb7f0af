// Go toolchain switching through modproxy: a go.mod's `toolchain` line (or
// GOTOOLCHAIN) makes the go command download golang.org/toolchain@v0.0.1-
// go1.X.Y.GOOS-GOARCH from GOPROXY, verify it with the checksum database, and
// run the Go inside. With modproxy as the only GOPROXY entry that module is
// one more public version, but the largest a team meets: a whole Go
// distribution, thousands of files and hundreds of MB.
//
// The parent serves a toolchain module made the way Go's release builds them
// (a root go.mod of golang.org/toolchain, every other go.mod renamed _go.mod,
// written here by Python's zipfile: an independent zip writer) from the newest
// go command this machine has (scripts/ensure-newer-go.mjs). The older go
// command switches to it, reading the parent directly and through modproxy,
// with a real checksum database holding the module's hashes as x/mod's
// dirhash computes them (the go command's own code, built as an oracle).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readZipRecord } from '../lib/records/manifest.js';
import { FsStorage } from '../lib/storage/fsStorage.js';
import { startFileProxyServer, type FileProxyServer } from './support/fileProxyServer.js';
import { GoRunner } from './support/goRunner.js';
import { goTool, newerGoTool } from './support/goTool.js';
import { publicModulesConfig, startProxy, testConfig } from './support/proxyFixture.js';
import { SumdbServer } from './support/sumdbServer.js';
import { XmodOracle } from './support/xmodOracle.js';

const pexec = promisify(execFile);
const TOOLCHAIN = 'golang.org/toolchain';
const DB = 'toolchain.test';

let tmp: string;
let parent: FileProxyServer;
let db: SumdbServer;
let runner: GoRunner;
/** The Go inside the module ("go1.27.3") and the module's version ("v0.0.1-go1.27.3.linux-amd64"). */
let goVersion: string;
let version: string;

/**
 * Writes the toolchain module zip of the Go distribution at `goroot` to `out`:
 * what the release puts in one (bin, pkg/tool, src, lib, misc, VERSION, go.env),
 * under the module's prefix, with every go.mod but the module's own renamed
 * _go.mod (the go command renames them back after the download).
 */
async function writeToolchainZip(goroot: string, prefix: string, out: string): Promise<number> {
  const script = `
import os, sys, zipfile
root, prefix, out = sys.argv[1], sys.argv[2], sys.argv[3]
n = 0
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED, compresslevel=1) as z:
    z.writestr(prefix + 'go.mod', 'module golang.org/toolchain\\n')
    n += 1
    for top in ['VERSION', 'go.env', 'bin', 'pkg/tool', 'pkg/include', 'src', 'lib', 'misc']:
        start = os.path.realpath(os.path.join(root, top))
        if os.path.isfile(start):
            z.write(start, prefix + top)
            n += 1
            continue
        for d, dirs, files in os.walk(start):
            dirs.sort()
            for f in sorted(files):
                p = os.path.join(d, f)
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                rel = top + '/' + os.path.relpath(p, start).replace(os.sep, '/')
                if f == 'go.mod':
                    rel = rel[:-len('go.mod')] + '_go.mod'
                z.write(p, prefix + rel)
                n += 1
print(n)
`;
  try {
    const { stdout } = await pexec('python3', ['-c', script, goroot, prefix, out], { maxBuffer: 1 << 20, timeout: 300_000 });
    return Number(stdout.trim());
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') throw new Error('test/toolchain.test.ts needs python3 to write the toolchain zip (Debian: apt-get install python3)');
    throw err;
  }
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-toolchain-'));
  const newer = newerGoTool();
  goVersion = newer.version;
  const { stdout } = await pexec(goTool().bin, ['env', 'GOOS', 'GOARCH'], { env: { ...process.env, GOTOOLCHAIN: 'local' } });
  const [goos, goarch] = stdout.trim().split('\n');
  version = `v0.0.1-${goVersion}.${goos}-${goarch}`;

  const dir = path.join(tmp, 'parent', TOOLCHAIN, '@v');
  fs.mkdirSync(dir, { recursive: true });
  const files = await writeToolchainZip(newer.goroot, `${TOOLCHAIN}@${version}/`, path.join(dir, `${version}.zip`));
  expect(files).toBeGreaterThan(5000);
  fs.writeFileSync(path.join(dir, `${version}.mod`), `module ${TOOLCHAIN}\n`);
  fs.writeFileSync(path.join(dir, `${version}.info`), JSON.stringify({ Version: version, Time: '2026-10-19T22:20:36Z' }));
  fs.writeFileSync(path.join(dir, 'list'), `${version}\n`);
  parent = await startFileProxyServer(path.join(tmp, 'parent'));

  // The hashes the go command computes (x/mod's dirhash, as the oracle runs it), which the database then vouches
  // for. (The go command downloads no toolchain without a checksum database, so it cannot compute them itself.)
  const oracle = await XmodOracle.start();
  let zipSum: string;
  let modSum: string;
  try {
    const zip = await oracle.value<{ h1?: string; hashErr?: string; checkErr?: string }>('zip.HashAndCheckFile', path.join(dir, `${version}.zip`), TOOLCHAIN, version);
    expect(zip.checkErr ?? zip.hashErr).toBeUndefined();
    zipSum = zip.h1!;
    modSum = await oracle.value<string>('dirhash.Hash1', ['go.mod'], [Buffer.from(`module ${TOOLCHAIN}\n`)]);
  } finally {
    await oracle.close();
  }
  db = await SumdbServer.start({ name: DB });
  await db.bulk('example.com/before', 0, 40);
  await db.add([`${TOOLCHAIN} ${version} ${zipSum}`, `${TOOLCHAIN} ${version}/go.mod ${modSum}`]);
  runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: {} });
}, 600_000);

afterAll(async () => {
  await parent?.close().catch(() => {});
  await db?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** `go version` and `go env GOROOT` under GOTOOLCHAIN=<the newer Go>, with a fresh module cache: the switch. */
async function switchTo(goproxy: string, gosumdb: string): Promise<{ code: number; out: string }> {
  const cache = path.join(tmp, `modcache-${Math.random().toString(36).slice(2)}`);
  fs.mkdirSync(cache);
  try {
    const env = { GOTOOLCHAIN: goVersion, GOSUMDB: gosumdb };
    const v = await runner.run(goproxy, cache, ['version'], env);
    if (v.code !== 0) return { code: v.code, out: v.stderr.trim() };
    const root = await runner.run(goproxy, cache, ['env', 'GOROOT'], env);
    return { code: root.code, out: `${v.stdout.trim()}\n${path.relative(cache, root.stdout.trim())}` };
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
}

it('switches the go command to a toolchain it downloads through modproxy alone, verified with the database through modproxy', async () => {
  const want = { code: 0, out: `go version ${goVersion} ${os.platform()}/${os.arch() === 'x64' ? 'amd64' : os.arch()}\n${TOOLCHAIN}@${version}` };
  // Reading the parent and the database directly.
  expect(await switchTo(parent.url, `${db.vkey} ${db.url}`)).toEqual(want);

  const extra = publicModulesConfig(parent.url, { name: DB, url: db.url, vkey: db.vkey }).join('\n');
  const proxy = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': 'http://127.0.0.1:9' }, ['github.com/priv'], extra), { tmpDir: path.join(tmp, 'proxy-tmp') });
  try {
    // GOSUMDB without a URL: the go command reaches the database only through modproxy.
    expect(await switchTo(proxy.url, db.vkey)).toEqual(want);
    await proxy.app.service.idle();
    const record = await readZipRecord(new FsStorage(path.join(tmp, 'proxy', 'storage')), TOOLCHAIN, version);
    expect(record?.source).toMatchObject({ kind: 'proxy' });
    // Once stored, a second client switches without the parent.
    await parent.close();
    expect(await switchTo(proxy.url, db.vkey)).toEqual(want);
  } finally {
    await proxy.close();
  }
}, 600_000);
