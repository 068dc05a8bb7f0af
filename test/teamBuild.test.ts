// What a team does on day one, with modproxy as its only GOPROXY entry: a
// program that imports a private module (from git, through modproxy) which
// itself needs a public module, and two other public modules (from the parent
// proxy, verified with the checksum database through modproxy), one of them
// at a version its newest release retracts, in a module it deprecates. `go mod tidy`,
// `go mod verify`, `go build` and `go list -m -u all` run as a developer runs them, and once more in
// direct mode (git for everything, the database asked directly): the go.mod,
// the go.sum and the program's output must be the same.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FsStorage } from '../lib/storage/fsStorage.js';
import { startFileProxyServer, type FileProxyServer } from './support/fileProxyServer.js';
import { publicModulesConfig, startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { makePublicFixture, PUBLIC_A, PUBLIC_B, type PublicFixture } from './support/publicFixture.js';
import { RepoBuilder } from './support/repoBuilder.js';
import { SumdbServer } from './support/sumdbServer.js';

const DB = 'team.test';
const PRIVATE = 'github.com/priv/lib';
const RETRACTING = 'github.com/pub/old';
let tmp: string;
let fx: PublicFixture;
let parent: FileProxyServer;
let db: SumdbServer;
let proxy: ProxyFixture;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-team-'));
  fx = await makePublicFixture(tmp);
  // The private module, on the same git host as the public ones' sources (github.com), under privateModules.
  const lib = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'priv/lib');
  await lib.write({
    'go.mod': `module ${PRIVATE}\n\ngo 1.21\n\nrequire ${PUBLIC_A} v1.1.0\n`,
    'go.sum': fx.goSum.split('\n').filter((l) => l.startsWith(`${PUBLIC_A} v1.1.0`)).join('\n') + '\n',
    'lib.go': `package lib\n\nimport a "${PUBLIC_A}"\n\nfunc Hello() string {\n\ta.B()\n\treturn "hello from the private module"\n}\n`,
  });
  await lib.commit('2022-05-01T00:00:00Z');
  await lib.tag('v1.0.0');
  // A newer version the program does not use yet: \`go list -m -u\` reports it.
  await lib.write({ 'more.go': 'package lib\n\nconst More = 1\n' });
  await lib.commit('2022-06-01T00:00:00Z');
  await lib.tag('v1.1.0');
  await lib.publish();

  // A public module whose newest version retracts the one the program requires and deprecates the module.
  const old = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'pub/old');
  await old.write({ 'go.mod': `module ${RETRACTING}\n\ngo 1.21\n`, 'old.go': 'package old\n' });
  await old.commit('2021-04-01T00:00:00Z');
  await old.tag('v1.0.0');
  await old.write({ 'go.mod': `// Deprecated: use ${PUBLIC_A} instead.\nmodule ${RETRACTING}\n\ngo 1.21\n\nretract v1.0.0 // broken\n` });
  await old.commit('2021-05-01T00:00:00Z');
  await old.tag('v1.1.0');
  await old.publish();
  // Direct mode downloads it into the parent's module cache (whose cache/download tree the parent serves).
  const more = await fx.runner.run('direct', path.dirname(path.dirname(fx.downloadRoot)), ['mod', 'download', '-json', `${RETRACTING}@v1.0.0`, `${RETRACTING}@v1.1.0`]);
  expect(more.code, more.stderr).toBe(0);

  parent = await startFileProxyServer(fx.downloadRoot);
  db = await SumdbServer.start({ name: DB });
  await db.bulk('example.com/other', 0, 100);
  const lines = fx.goSum.trim().split('\n');
  for (let i = 0; i < lines.length; i += 2) await db.add([lines[i], lines[i + 1]]);
  for (const chunk of more.stdout.split(/\n(?=\{)/)) {
    const d = JSON.parse(chunk) as { Path: string; Version: string; Sum: string; GoModSum: string };
    await db.add([`${d.Path} ${d.Version} ${d.Sum}`, `${d.Path} ${d.Version}/go.mod ${d.GoModSum}`]);
  }

  const extra = publicModulesConfig(parent.url, { name: DB, url: db.url, vkey: db.vkey }).join('\n');
  proxy = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': fx.git.url }, ['github.com/priv'], extra), { tmpDir: path.join(tmp, 'proxy-tmp') });
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  await parent?.close();
  await db?.close();
  await fx?.git.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The team's program in a fresh directory and module cache: tidy, verify, build and run it. */
async function buildApp(label: string, goproxy: string, gosumdb: string): Promise<{ goMod: string; goSum: string; output: string; updates: string }> {
  const app = path.join(tmp, `app-${label}`);
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'go.mod'), `module example.com/app\n\ngo 1.21\n\nrequire (\n\t${PRIVATE} v1.0.0\n\t${PUBLIC_B} v0.1.0\n\t${RETRACTING} v1.0.0\n)\n`);
  fs.writeFileSync(
    path.join(app, 'main.go'),
    `package main\n\nimport (\n\t"fmt"\n\n\tlib "${PRIVATE}"\n\t_ "${PUBLIC_B}"\n\t_ "${RETRACTING}"\n)\n\nfunc main() { fmt.Println(lib.Hello()) }\n`,
  );
  const cache = path.join(tmp, `modcache-${label}`);
  fs.mkdirSync(cache);
  // As a developer sets it up: private paths skip the public database; nothing else is special.
  const env = { GOSUMDB: gosumdb, GONOSUMDB: 'github.com/priv', GOFLAGS: '-modcacherw -mod=mod' };
  const inApp = (args: string[]) => fx.runner.run(goproxy, cache, ['-C', app, ...args], env);
  for (const args of [['mod', 'tidy'], ['mod', 'verify'], ['build', '-o', 'app', '.']]) {
    const r = await inApp(args);
    expect(r.code, `${label}: go ${args.join(' ')}: ${r.stderr}`).toBe(0);
  }
  const run = execFileSync(path.join(app, 'app'), { encoding: 'utf8', timeout: 30_000 });
  // What a developer checks next: which requirements have newer versions, or are retracted or deprecated (lists,
  // @latest and the newest go.mod, private and public).
  const updates = await inApp(['list', '-m', '-u', '-f', '{{.Path}} {{.Version}} {{.Time}} {{with .Update}}{{.Version}} {{.Time}}{{end}} {{.Retracted}} {{.Deprecated}}', 'all']);
  expect(updates.code, `${label}: go list -m -u all: ${updates.stderr}`).toBe(0);
  return { goMod: fs.readFileSync(path.join(app, 'go.mod'), 'utf8'), goSum: fs.readFileSync(path.join(app, 'go.sum'), 'utf8'), output: run, updates: updates.stdout };
}

it('builds a program of private and public modules with modproxy as the only GOPROXY, as direct mode does', async () => {
  const direct = await buildApp('direct', 'direct', `${db.vkey} ${db.url}`);
  expect(direct.output).toBe('hello from the private module\n');
  expect(direct.goSum).toContain(`${PUBLIC_A} v1.1.0 h1:`);
  expect(direct.updates).toMatch(new RegExp(`^${PRIVATE} v1\\.0\\.0 .* v1\\.1\\.0 2022-06-01 `, 'm'));
  expect(direct.updates).toMatch(new RegExp(`^${RETRACTING} v1\\.0\\.0 .* v1\\.1\\.0 .* \\[broken\\] use ${PUBLIC_A} instead\\.$`, 'm'));
  // GOSUMDB names the database without a URL: verified only through modproxy's /sumdb/.
  const viaProxy = await buildApp('modproxy', proxy.url, db.vkey);
  expect(viaProxy).toEqual(direct);
  // Nothing private reached the parent (nor the database: the go command was told GONOSUMDB; see the next test).
  expect(parent.requests.filter((p) => p.includes('/priv/'))).toEqual([]);
  expect(parent.requests.some((p) => p.includes('/pub/'))).toBe(true);
}, 300_000);

it('answers a developer who forgot GONOSUMDB without telling the checksum database the private path', async () => {
  const cache = path.join(tmp, 'modcache-forgot');
  fs.mkdirSync(cache);
  const got = await fx.runner.run(proxy.url, cache, ['mod', 'download', '-json', `${PRIVATE}@v1.0.0`], { GOSUMDB: db.vkey, GONOSUMDB: '' });
  expect(got.code).not.toBe(0);
  // The go command shows modproxy's answer to its /sumdb/ lookup: the path was not looked up, and what to set.
  expect(got.stdout).toMatch(/github.com\/priv\/lib is a private module here \(privateModules\): it is not looked up in the checksum database team.test; exclude it with GONOSUMDB or GOPRIVATE/);
  expect((await new FsStorage(path.join(tmp, 'proxy', 'storage')).list(`sumdb/${DB}/lookup/`)).filter((k) => k.includes('/priv/'))).toEqual([]);
});
