// modproxy-admin prefetch, import and export, each run as the real command (a
// separate process with MODPROXY_CONFIG), on both storage backends (disk and
// the GCS double). Public modules come from a parent proxy serving the go
// command's cache/download tree and are verified against a real checksum
// database (x/mod's sumdb server); github.com/pub/Big is a privateModules path
// served from git. The go command is the judge of what is served and exported.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminProcessRaw } from './support/adminProcess.js';
import { startFileProxyServer, type FileProxyServer } from './support/fileProxyServer.js';
import { startGcsDouble, type GcsDouble } from './support/gcsDouble.js';
import { startProxyProcess, type ProxyProcess } from './support/proxyProcess.js';
import { escapedPath, makePublicFixture, PUBLIC_A, PUBLIC_B, PUBLIC_VERSIONS, type PublicFixture } from './support/publicFixture.js';
import { SumdbServer } from './support/sumdbServer.js';

const DB = 'sumdb.test';
const BUCKET = 'admin-transfer';
const DEAD = 'http://127.0.0.1:9';
let tmp: string;
let fx: PublicFixture;
let parent: FileProxyServer;
let db: SumdbServer;
let gcs: GcsDouble;
const servers: ProxyProcess[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-admin-transfer-'));
  fx = await makePublicFixture(tmp);
  parent = await startFileProxyServer(fx.downloadRoot);
  db = await SumdbServer.start({ name: DB });
  const lines = fx.goSum.trim().split('\n');
  for (let i = 0; i < lines.length; i += 2) await db.add([lines[i], lines[i + 1]]);
  gcs = await startGcsDouble();
  gcs.createBucket(BUCKET);
}, 300_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
  await parent?.close();
  await db?.close();
  await gcs?.close();
  await fx?.git.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

type Backend = 'disk' | 'gcs';

/** The server's configuration on one storage; `dead` points every upstream (git, parent, database) at a closed port. */
function config(backend: Backend, name: string, dead = false): string {
  const storage =
    backend === 'disk'
      ? ['  fs:', `    dir: "${path.join(tmp, 'storage', name)}"`]
      : ['  gcs:', `    bucket: ${BUCKET}`, `    apiEndpoint: "${gcs.url}"`, '    anonymous: true', `    prefix: "${name}/"`];
  return [
    'storage:',
    ...storage,
    'gitHub:',
    '  - host: github.com',
    `    gitBaseUrl: "${dead ? DEAD : fx.git.url}"`,
    'privateModules:',
    `  - pathPrefix: "${PUBLIC_B}"`,
    'resolve:',
    `  gitWorkDir: "${path.join(tmp, 'git', name)}"`,
    'parentProxy:',
    `  url: "${dead ? DEAD : parent.url}"`,
    '  timeoutSeconds: 20',
    'publicModules:',
    '  sumDatabase:',
    `    name: ${DB}`,
    `    url: "${dead ? DEAD : db.url}"`,
    `    publicKey: "${db.vkey}"`,
    '',
  ].join('\n');
}

/** Runs modproxy-admin as its own process (the bin's entry, through tsx). */
async function admin(configYaml: string, ...args: string[]): Promise<{ code: number; out: string[]; err: string }> {
  // Only PATH and HOME from this environment: nothing of the test runner's reaches the command.
  const r = await runAdminProcessRaw(configYaml, args, { PATH: process.env.PATH ?? '', HOME: os.homedir() }, { inheritEnv: false, timeoutMs: 240_000 });
  return { code: r.code, out: r.stdout.split('\n').filter((l) => l !== ''), err: r.stderr };
}

const sumLines = (m: string, v: string) => fx.goSum.split('\n').filter((l) => l.startsWith(`${m} ${v} `) || l.startsWith(`${m} ${v}/go.mod `));
const ALL = PUBLIC_VERSIONS.map(([m, v]) => `${m} ${v}`).sort();

/** The go command fetches every version through `goproxy` and gets direct mode's hashes. */
async function expectServed(goproxy: string, env: Record<string, string> = {}): Promise<void> {
  for (const [m, v] of PUBLIC_VERSIONS) {
    const got = await fx.runner.download(goproxy, `${m}@${v}`, { env });
    expect(got.Error, `${m}@${v}`).toBeUndefined();
    expect([got.Sum, got.GoModSum], `${m}@${v}`).toEqual([fx.direct.get(`${m}@${v}`)!.Sum, fx.direct.get(`${m}@${v}`)!.GoModSum]);
  }
}

/** A copy of the direct-mode tree in which PUBLIC_A v1.0.0's zip is a well-formed module zip of other content. */
async function tamperedTree(name: string): Promise<string> {
  const tree = path.join(tmp, name);
  fs.cpSync(fx.downloadRoot, tree, { recursive: true });
  const zipFile = path.join(tree, ...escapedPath(PUBLIC_A).split('/'), '@v', 'v1.0.0.zip');
  const zip = new JSZip();
  const prefix = `${PUBLIC_A}@v1.0.0/`;
  zip.file(prefix + 'go.mod', `module ${PUBLIC_A}\n\ngo 1.21\n`, { createFolders: false });
  zip.file(prefix + 'a.go', 'package a\n\nfunc Backdoor() {}\n', { createFolders: false });
  zip.file(prefix + 'LICENSE', 'MIT\n', { createFolders: false });
  fs.chmodSync(zipFile, 0o644);
  fs.writeFileSync(zipFile, await zip.generateAsync({ type: 'nodebuffer' }));
  return tree;
}

describe.each<Backend>(['disk', 'gcs'])('on %s storage', (backend) => {
  it('prefetch commits what a go.mod, a go.sum and a list name; a server on the same storage serves them with every upstream gone', async () => {
    const cfg = config(backend, `prefetch-${backend}`);
    const dir = path.join(tmp, `prefetch-${backend}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'go.mod'), `module example.com/app\n\ngo 1.21\n\nrequire (\n\t${PUBLIC_A} v1.0.0 // indirect\n)\n`);
    fs.writeFileSync(path.join(dir, 'go.sum'), sumLines(PUBLIC_B, 'v0.1.0').join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'modules.txt'), `# public, through the parent\n${PUBLIC_A}@v1.1.0\n`);

    const fromMod = await admin(cfg, 'prefetch', path.join(dir, 'go.mod'));
    expect(fromMod, fromMod.err).toMatchObject({ code: 0, out: [`prefetched ${PUBLIC_A}@v1.0.0`, 'prefetched 1 of 1 versions'] });
    // From git (a privateModules path), compared with go.sum's hashes once committed.
    const fromSum = await admin(cfg, 'prefetch', path.join(dir, 'go.sum'));
    expect(fromSum, fromSum.err).toMatchObject({ code: 0, out: [`prefetched ${PUBLIC_B}@v0.1.0`, 'prefetched 1 of 1 versions'] });
    const fromList = await admin(cfg, 'prefetch', path.join(dir, 'modules.txt'));
    expect(fromList, fromList.err).toMatchObject({ code: 0, out: [`prefetched ${PUBLIC_A}@v1.1.0`, 'prefetched 1 of 1 versions'] });
    const missing = await admin(cfg, 'prefetch', `${PUBLIC_A}@v9.9.9`);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`FAILED ${PUBLIC_A}@v9.9.9`);

    // A go.sum that disagrees with what was committed (verified) is reported, not obeyed.
    const wrong = `h1:${'A'.repeat(43)}=`;
    fs.writeFileSync(path.join(dir, 'wrong.sum'), `${PUBLIC_A} v1.1.0 ${wrong}\n${sumLines(PUBLIC_A, 'v1.1.0')[1]}\n`);
    const mismatch = await admin(cfg, 'prefetch', path.join(dir, 'wrong.sum'));
    expect(mismatch.code).toBe(1);
    expect(mismatch.err).toContain(`MISMATCH ${PUBLIC_A}@v1.1.0: committed ${fx.direct.get(`${PUBLIC_A}@v1.1.0`)!.Sum}, go.sum ${wrong}`);

    const ls = await admin(cfg, 'ls');
    expect(ls.code).toBe(0);
    expect(ls.out.sort()).toEqual(ALL);

    const server = await startProxyProcess(config(backend, `prefetch-${backend}`, true));
    servers.push(server);
    await expectServed(server.url);
  }, 300_000);

  it('import refuses a version whose zip does not verify and stores nothing of it; a good tree is imported, private paths with --sums only', async () => {
    const cfg = config(backend, `import-${backend}`);
    const bad = await admin(cfg, 'import', await tamperedTree(`tree-bad-${backend}`));
    expect(bad.code, bad.err).toBe(1);
    expect(bad.err).toMatch(new RegExp(`REFUSED ${PUBLIC_A}@v1\\.0\\.0: .*checksum mismatch`));
    expect(bad.err).toMatch(new RegExp(`REFUSED ${PUBLIC_B}@v0\\.1\\.0: .*--sums`));
    expect(bad.out).toContain(`imported ${PUBLIC_A}@v1.1.0`);
    expect((await admin(cfg, 'ls')).out).toEqual([`${PUBLIC_A} v1.1.0`]);

    // go.sum vouches for the private path (and for the public ones first).
    fs.writeFileSync(path.join(tmp, `import-${backend}.sum`), fx.goSum);
    const good = await admin(cfg, 'import', fx.downloadRoot, '--sums', path.join(tmp, `import-${backend}.sum`));
    expect(good.code, good.err).toBe(0);
    expect(good.out).toEqual(expect.arrayContaining([`imported ${PUBLIC_A}@v1.0.0`, `imported ${PUBLIC_B}@v0.1.0`, `already stored ${PUBLIC_A}@v1.1.0`]));
    expect((await admin(cfg, 'ls')).out.sort()).toEqual(ALL);
    const verify = await admin(cfg, 'verify');
    expect(verify.code, verify.err).toBe(0);

    const server = await startProxyProcess(config(backend, `import-${backend}`, true));
    servers.push(server);
    await expectServed(server.url);
  }, 300_000);

  it('export writes a tree the go command downloads from (GOPROXY=file://), verified by the checksum database', async () => {
    const cfg = config(backend, `import-${backend}`);
    const out = path.join(tmp, `export-${backend}`);
    const r = await admin(cfg, 'export', out);
    expect(r, r.err).toMatchObject({ code: 0, out: [`exported 3 versions to ${out}`] });
    expect(fs.readFileSync(path.join(out, 'github.com', 'pub', 'a', '@v', 'list'), 'utf8')).toBe('v1.0.0\nv1.1.0\n');
    expect(fs.readFileSync(path.join(out, 'github.com', 'pub', '!big', '@v', 'v0.1.0.ziphash'), 'utf8')).toBe(fx.direct.get(`${PUBLIC_B}@v0.1.0`)!.Sum);
    await expectServed(`file://${out}`, { GOSUMDB: `${db.vkey} ${db.url}` });
    // And a tree exported again, of one module only, adds nothing it should not.
    const again = await admin(cfg, 'export', out, PUBLIC_A);
    expect(again).toMatchObject({ code: 0, out: [`exported 2 versions to ${out}`] });
  }, 300_000);
});
