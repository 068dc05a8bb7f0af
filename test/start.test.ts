// The deployable entry points, started the way they are deployed: after
// `npm run gcp-build`, the functions-framework entry as Cloud Functions
// starts it (`npx functions-framework --target=goproxy` on $PORT), and
// modproxy's own server as `npm start` and the Procfile (Cloud Run) start it;
// the configuration in $MODPROXY_CONFIG (YAML text, as the deploy scripts and
// Terraform set it, or the path of a YAML file, as a mounted Secret Manager
// volume gives it).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { testConfig } from './support/proxyFixture.js';
import { rawExchange } from './support/rawHttp.js';
import { RepoBuilder } from './support/repoBuilder.js';

const pexec = promisify(execFile);
let tmp: string;
let git: GitHttpServer;
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A command line to start the function with; the default runs from another working directory. */
type Launch = { command: string; args: string[]; cwd?: string };
const fromElsewhere = (cwd: string): Launch => ({
  command: process.execPath,
  args: [path.resolve('node_modules/@google-cloud/functions-framework/build/src/main.js'), '--target=goproxy', `--source=${process.cwd()}`],
  cwd,
});

function startFunction(env: Record<string, string>, launch: Launch = fromElsewhere(process.cwd())): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  // Its own process group, so that npx and the node process it starts are killed together.
  const child = spawn(launch.command, launch.args, {
    cwd: launch.cwd ?? process.cwd(),
    env: { PATH: process.env.PATH, HOME: os.homedir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/**
 * The process's output once it holds `text`, or what it holds after `ms`. Log lines are written in batches
 * (lib/log/lineBatch.ts): one logged before the server answered may reach the pipe after the answer does.
 */
async function outputWith(fn: { output: () => string }, text: string, ms = 5_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (!fn.output().includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return fn.output();
}

async function waitFor(url: string, ms = 30_000): Promise<Response> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fetch(url);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-start-'));
  // What Cloud Build runs for Cloud Functions and Cloud Run buildpacks.
  await pexec('npm', ['run', 'gcp-build'], { cwd: process.cwd() });
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  const r = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'o/started');
  await r.write({ 'go.mod': 'module github.com/o/started\n', 'a.go': 'package started\n' });
  await r.commit('2020-01-01T00:00:00Z');
  await r.tag('v1.2.3');
  await r.publish();
}, 300_000);

afterAll(async () => {
  for (const c of children) {
    try {
      if (c.pid) process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await git?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('functions-framework --target=goproxy', () => {
  it('starts with `npx functions-framework --target=goproxy` after `npm run gcp-build`, config YAML in $MODPROXY_CONFIG', async () => {
    const port = await freePort();
    const yaml = testConfig(path.join(tmp, 'proxy-npx'), { 'github.com': git.url }, ['github.com/o']);
    expect(yaml).toContain('\n');
    const fn = startFunction({ PORT: String(port), MODPROXY_CONFIG: yaml }, { command: 'npx', args: ['functions-framework', '--target=goproxy'] });
    const root = await waitFor(`http://127.0.0.1:${port}/`, 60_000);
    expect(root.status).toBe(200);
    const info = await fetch(`http://127.0.0.1:${port}/github.com/o/started/@v/v1.2.3.info`);
    expect(await info.json()).toEqual({ Version: 'v1.2.3', Time: '2020-01-01T00:00:00Z', Origin: expect.any(Object) });
    expect(await outputWith(fn, 'MODPROXY_CONFIG')).toContain('MODPROXY_CONFIG');
  });


  it('serves GET / and modules with the config file named by $MODPROXY_CONFIG (a mounted secret)', async () => {
    const configFile = path.join(tmp, 'modproxy.yaml');
    fs.writeFileSync(configFile, testConfig(path.join(tmp, 'proxy'), { 'github.com': git.url }, ['github.com/o']));
    const port = await freePort();
    const fn = startFunction({ PORT: String(port), MODPROXY_CONFIG: configFile });
    const root = await waitFor(`http://127.0.0.1:${port}/`);
    expect(root.status).toBe(200);
    expect(await root.text()).toContain('Go module proxy');
    const list = await fetch(`http://127.0.0.1:${port}/github.com/o/started/@v/list`);
    expect(await list.text()).toBe('v1.2.3\n');
    const zipUrl = `http://127.0.0.1:${port}/github.com/o/started/@v/v1.2.3.zip`;
    const zip = await fetch(zipUrl);
    expect(zip.status).toBe(200);
    expect(zip.headers.get('content-type')).toBe('application/zip');
    const zipBytes = Buffer.from(await zip.arrayBuffer());
    // Again: a hit held in memory, answered ahead of express (lib/http/guardNextServer.ts), with the same bytes and headers.
    const again = await fetch(zipUrl);
    expect(again.status).toBe(200);
    expect(Buffer.from(await again.arrayBuffer()).equals(zipBytes)).toBe(true);
    expect(Object.fromEntries([...again.headers].filter(([k]) => k !== 'date'))).toEqual(Object.fromEntries([...zip.headers].filter(([k]) => k !== 'date')));
    // A conditional request goes the whole way, through express and the function.
    expect((await fetch(zipUrl, { headers: { 'if-none-match': zip.headers.get('etag')! } })).status).toBe(304);
    // Structured logs for Cloud Logging on stdout (written once the response has gone out).
    const zipLog = () =>
      fn
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { severity: string; httpRequest?: { status: number; requestUrl: string } })
        .find((e) => e.httpRequest?.requestUrl.endsWith('v1.2.3.zip'));
    const deadline = Date.now() + 10_000;
    while (!zipLog() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const req = zipLog();
    expect(req?.severity).toBe('INFO');
    expect(req?.httpRequest?.status).toBe(200);
  });

  it('uses the embedded default without $MODPROXY_CONFIG', async () => {
    const port = await freePort();
    const cwd = fs.mkdtempSync(path.join(tmp, 'default-'));
    const fn = startFunction({ PORT: String(port) }, fromElsewhere(cwd));
    const root = await waitFor(`http://127.0.0.1:${port}/`);
    expect(root.status).toBe(200);
    expect(await outputWith(fn, 'embedded default')).toContain('embedded default');
    // local-disk storage in the working directory
    expect(fs.existsSync(path.join(cwd, '.modproxy-data'))).toBe(true);
  });

  it('refuses to start with an invalid config, naming the bad key', async () => {
    const configFile = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(configFile, 'storage:\n  fs:\n    dir: x\n    bogus: 1\nprivateModules:\n  - pathPrefix: github.com/o\n    auth:\n      gitHubApp: 7\n');
    const fn = startFunction({ PORT: String(await freePort()), MODPROXY_CONFIG: configFile });
    const code = await fn.exited;
    expect(code).not.toBe(0);
    expect(fn.output()).toContain('storage.fs.bogus: unknown key');
  });

  it('refuses request bodies before functions-framework parses them: 413, connection closed', async () => {
    const port = await freePort();
    const fn = startFunction({ PORT: String(port), MODPROXY_CONFIG: testConfig(path.join(tmp, 'proxy-bodies'), { 'github.com': git.url }, ['github.com/o']) });
    expect((await waitFor(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    // 200 MiB announced, none sent: its body parser would wait for all of it.
    const announced = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n');
    expect(announced.status).toBe(413);
    expect(announced.closedByServer).toBe(true);
    const chunked = await rawExchange(port, 'GET /github.com/o/started/@v/list HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', { body: 'one-chunk' });
    expect(chunked.status).toBe(413);
    expect(chunked.closedByServer).toBe(true);
    // A JSON user name past 64 KiB on the token endpoint.
    const name = JSON.stringify({ user: 'u'.repeat(65 << 10), password: 'p' });
    const token = await rawExchange(port, `POST /auth/userpassword HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${name.length}\r\n\r\n`, { body: Buffer.from(name) });
    expect(token.status).toBe(413);
    expect(token.closedByServer).toBe(true);
    // Five unauthenticated 200 MiB GETs, streamed: nothing of them is kept.
    const before = peakRss(fn.child.pid!);
    for (let i = 0; i < 5; i++) {
      const r = await rawExchange(port, 'GET /github.com/o/started/@v/list HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 209715200\r\n\r\n', { body: 'stream' });
      // The 413, unless the reset of the close overtook it at this client, which was still sending.
      if (!r.reset) expect(r.status).toBe(413);
      expect(r.closedByServer).toBe(true);
      expect(r.bodyBytesWritten).toBeLessThan(200 << 20);
    }
    expect(peakRss(fn.child.pid!) - before).toBeLessThan(64 << 20);
    // Requests without a body are served as before.
    expect(await (await fetch(`http://127.0.0.1:${port}/github.com/o/started/@v/list`)).text()).toBe('v1.2.3\n');
  });

  it('exits 1 after one ERROR line of its own when a secret cannot be read at start-up (not functions-framework\'s "syntax error")', async () => {
    const yaml = testConfig(path.join(tmp, 'proxy-no-secret'), { 'github.com': git.url }, ['github.com/o'], 'clientAuth:\n  enabled: true\n  authenticators:\n    accessToken:\n      audience: x\n      secret: {envVar: UNSET_VAR}\n');
    const fn = startFunction({ PORT: String(await freePort()), MODPROXY_CONFIG: yaml });
    expect(await fn.exited).toBe(1);
    const lines = fn.output().trim().split('\n');
    // JSON lines only: no stack trace, no "Provided module can't be loaded".
    expect(lines.filter((l) => !l.startsWith('{'))).toEqual([]);
    const errors = lines.map((l) => JSON.parse(l) as { severity: string; message: string }).filter((l) => l.severity === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toBe('modproxy cannot start: clientAuth.authenticators.accessToken.secret: environment variable UNSET_VAR is not set');
  });
});

describe('modproxy server entry (npm start, Procfile)', () => {
  it('starts with `npm start` on $PORT', async () => {
    const port = await freePort();
    const yaml = testConfig(path.join(tmp, 'proxy-npm-start'), { 'github.com': git.url }, ['github.com/o']);
    const p = startFunction({ PORT: String(port), MODPROXY_CONFIG: yaml }, { command: 'npm', args: ['start'] });
    const info = await waitFor(`http://127.0.0.1:${port}/github.com/o/started/@v/v1.2.3.info`, 120_000);
    expect(info.status).toBe(200);
    expect(await outputWith(p, '"message":"modproxy started"')).toContain('"message":"modproxy started"');
    expect(p.output()).not.toContain('functions-framework');
    // Its body guard: 413 before the handler.
    const r = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n');
    expect(r.status).toBe(413);
  });

  it('starts as the Procfile starts it on Cloud Run', async () => {
    const web = /^web:\s*(.+)$/m.exec(fs.readFileSync('Procfile', 'utf8'))?.[1]?.trim().split(/\s+/);
    expect(web).toEqual(['node', 'dist/functions/server.js']);
    const port = await freePort();
    const yaml = testConfig(path.join(tmp, 'proxy-procfile'), { 'github.com': git.url }, ['github.com/o']);
    const p = startFunction({ PORT: String(port), MODPROXY_CONFIG: yaml }, { command: web![0], args: web!.slice(1) });
    const mod = await waitFor(`http://127.0.0.1:${port}/github.com/o/started/@v/v1.2.3.mod`);
    expect(mod.status).toBe(200);
    expect(await mod.text()).toBe('module github.com/o/started\n');
    // Cloud Run stops an instance with SIGTERM: a clean exit.
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('exits 1 after one ERROR line when a secret cannot be read at start-up', async () => {
    const yaml = testConfig(path.join(tmp, 'proxy-server-no-secret'), { 'github.com': git.url }, ['github.com/o'], 'clientAuth:\n  enabled: true\n  authenticators:\n    accessToken:\n      audience: x\n      secret: {envVar: UNSET_VAR}\n');
    const p = startFunction({ PORT: String(await freePort()), MODPROXY_CONFIG: yaml }, { command: 'node', args: ['dist/functions/server.js'] });
    expect(await p.exited).toBe(1);
    const lines = p.output().trim().split('\n');
    expect(lines.filter((l) => !l.startsWith('{'))).toEqual([]);
    expect(lines.filter((l) => l.includes('"severity":"ERROR"'))).toHaveLength(1);
    expect(p.output()).toContain('modproxy cannot start: clientAuth.authenticators.accessToken.secret: environment variable UNSET_VAR is not set');
  });
});

/** Peak resident set size of a process so far (VmHWM), bytes. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
