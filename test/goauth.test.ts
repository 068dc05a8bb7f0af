// GOAUTH with the real go command (>= 1.24, from scripts/ensure-newer-go.mjs)
// against modproxy over HTTPS with client authentication: the modproxy-auth
// command installed as npm installs it (run through node_modules/.bin's
// symlink), and GOAUTH=netrc.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../lib/auth/passwords.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { newerGoTool, type GoTool } from './support/goTool.js';
import { GoRunner, type DownloadResult } from './support/goRunner.js';
import { installModproxyAuthBin, type InstalledBin } from './support/modproxyAuthBin.js';
import { startProxy, type ProxyFixture } from './support/proxyFixture.js';
import { RepoBuilder } from './support/repoBuilder.js';
import { makeTestCert, type TestCert } from './support/tlsCert.js';

const MODULE = 'github.com/acme/private';
const TOKEN_SECRET = 'goauth-test-token-secret-0123456789';

let tmp: string;
let git: GitHttpServer;
let cert: TestCert;
let proxy: ProxyFixture;
let installed: InstalledBin;
let go: GoTool;
let direct: DownloadResult;

function config(): string {
  return `
storage:
  fs:
    dir: "${path.join(tmp, 'storage')}"
gitHub:
  - host: github.com
    gitBaseUrl: "${git.url}"
privateModules:
  - pathPrefix: github.com/acme
resolve:
  gitWorkDir: "${path.join(tmp, 'git')}"
clientAuth:
  enabled: true
  failureLimit: {maxFailures: 50, windowSeconds: 60}
  identities:
    - name: alice
      passwordHash: {file: "${path.join(tmp, 'alice.hash')}"}
  authenticators:
    accessToken:
      audience: https://modproxy.example.com/
      secret: {envVar: MODPROXY_GOAUTH_TEST_TOKEN_SECRET}
      timeToLive: 15m
  acl:
    - moduleRegexp: '^github\\.com/acme/'
      access: allow
`;
}

beforeAll(async () => {
  go = newerGoTool();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-goauth-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  const r = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'acme/private');
  await r.write({ 'go.mod': `module ${MODULE}\n`, 'a.go': 'package a\n' });
  await r.commit('2021-03-04T05:06:07Z');
  await r.tag('v1.0.0');
  await r.publish();
  fs.writeFileSync(path.join(tmp, 'alice.hash'), (await hashPassword('alice-password')) + '\n');
  process.env.MODPROXY_GOAUTH_TEST_TOKEN_SECRET = TOKEN_SECRET;
  cert = makeTestCert(path.join(tmp, 'tls'));
  proxy = await startProxy(config(), {}, cert);
  installed = installModproxyAuthBin(path.join(tmp, 'install'));
  // What the go command computes from the repository itself.
  direct = await new GoRunner({ tmp: path.join(tmp, 'go-direct'), insteadOf: { 'https://github.com/': `${git.url}/` }, go }).download('direct', `${MODULE}@v1.0.0`);
  expect(direct.Error).toBeUndefined();
});

afterAll(async () => {
  await proxy?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

let runs = 0;
/** `go mod download -json [-x] MODULE@v1.0.0` through the proxy, fresh cache, with the given environment. */
async function viaProxy(env: Record<string, string>, extraFlags: string[] = []) {
  const runner = new GoRunner({ tmp: path.join(tmp, `go-${++runs}`), insteadOf: {}, go });
  const cache = path.join(tmp, `modcache-${runs}`);
  fs.mkdirSync(cache, { recursive: true });
  const out = await runner.run(proxy.url, cache, ['mod', 'download', ...extraFlags, '-json', `${MODULE}@v1.0.0`], {
    SSL_CERT_FILE: cert.certFile, // the go command trusts the test certificate
    NODE_EXTRA_CA_CERTS: cert.certFile, // and so does modproxy-auth, which it runs
    NETRC: '/dev/null',
    ...env,
  });
  return { ...out, result: JSON.parse(out.stdout) as DownloadResult };
}

/** The proxy's request log lines from index `from` on: method, URL, status. */
function requestsSince(from: number): Array<{ requestMethod: string; requestUrl: string; status: number }> {
  return proxy.logs
    .slice(from)
    .map((l) => (JSON.parse(l) as { httpRequest?: { requestMethod: string; requestUrl: string; status: number } }).httpRequest)
    .filter((r) => r !== undefined);
}

/** Runs the installed command as the go command does: arguments, the answer on stdin, a small environment. */
function runBin(args: string[], env: Record<string, string>, stdin = ''): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    const child = execFile(installed.bin, args, { env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: cert.certFile, ...env } }, (err, stdout, stderr) =>
      resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? -1) : 0 }),
    );
    child.stdin!.end(stdin);
  });
}

const alice = { MODPROXY_AUTH_USER: 'alice', MODPROXY_AUTH_PASSWORD: 'alice-password' };

describe('the modproxy-auth command as npm installs it', () => {
  it('runs through the node_modules/.bin symlink (npx, npm link and GOAUTH start it that way)', async () => {
    expect(fs.lstatSync(installed.bin).isSymbolicLink()).toBe(true);
    const r = await runBin([`${proxy.url}/${MODULE}/@v/list`], alice);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${proxy.url.replace(/[.]/g, '\\.')}/\\n\\nAuthorization: Bearer \\S+\\n\\n$`));
  });

  it("prints nothing, successfully, for the go command's first call, which names no URL, unless MODPROXY_URL is set", async () => {
    expect(await runBin([], alice)).toEqual({ stdout: '', stderr: '', code: 0 });
    const r = await runBin([], { ...alice, MODPROXY_URL: proxy.url });
    expect(r.stdout).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/\n\nAuthorization: Bearer \S+\n\n$/);
  });

  it('mints nothing after a 404 or 410 (the proxy lacks the module; credentials are not the problem)', async () => {
    const from = proxy.logs.length;
    const url = `${proxy.url}/github.com/other/x/@v/list`;
    for (const answer of ['HTTP/1.1 404 Not Found\nContent-Type: text/plain\n\n', 'HTTP/2.0 410 Gone\n\n']) {
      expect(await runBin([url], { ...alice, MODPROXY_AUTH_PASSWORD: 'wrong' }, answer)).toEqual({ stdout: '', stderr: '', code: 0 });
    }
    expect(requestsSince(from)).toEqual([]);
    const again = await runBin([url], alice, 'HTTP/1.1 401 Unauthorized\nWww-Authenticate: Basic realm="modproxy"\n\n');
    expect(again.stdout).toContain('Authorization: Bearer ');
  });

  it('does not wait for ever on a stdin that stays open', async () => {
    const r = await new Promise<string>((resolve, reject) => {
      execFile(installed.bin, [proxy.url], { env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: cert.certFile, ...alice }, timeout: 60_000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ); // stdin: a pipe nobody writes to or closes
    });
    expect(r).toContain('Authorization: Bearer ');
  });

  it('is the built file package.json names, starting with the shebang', () => {
    expect(fs.readFileSync(installed.target, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});

describe(`GOAUTH with the go command >= 1.24`, () => {
  it('GOAUTH=modproxy-auth downloads a private module over https, with the hashes of direct mode', async () => {
    expect(go.version).toMatch(/^go1\.(2[4-9]|[3-9]\d)/);
    const { result } = await viaProxy({ GOAUTH: installed.bin, MODPROXY_AUTH_USER: 'alice', MODPROXY_AUTH_PASSWORD: 'alice-password' });
    expect(result.Error).toBeUndefined();
    expect(result.Sum).toBe(direct.Sum);
    expect(result.GoModSum).toBe(direct.GoModSum);
  });

  it('GOAUTH=netrc sends the .netrc credentials over https', async () => {
    const netrc = path.join(tmp, 'netrc');
    fs.writeFileSync(netrc, `machine ${new URL(proxy.url).host}\nlogin alice\npassword alice-password\n`);
    const { result } = await viaProxy({ GOAUTH: 'netrc', NETRC: netrc });
    expect(result.Error).toBeUndefined();
    expect(result.Sum).toBe(direct.Sum);
  });

  it('with MODPROXY_URL, sends credentials from the first request on (no 401 round trip)', async () => {
    const from = proxy.logs.length;
    const { result } = await viaProxy({ GOAUTH: installed.bin, MODPROXY_URL: proxy.url, ...alice });
    expect(result.Error).toBeUndefined();
    const seen = requestsSince(from);
    expect(seen.filter((r) => r.status === 401)).toEqual([]);
    expect(seen.filter((r) => r.requestUrl === '/auth/userpassword')).toHaveLength(1);
  });

  it('moves on to the next GOPROXY entry after a 404 without minting credentials again', async () => {
    const next = path.join(tmp, 'next-proxy/github.com/other/x/@v');
    fs.mkdirSync(next, { recursive: true });
    fs.writeFileSync(path.join(next, 'list'), 'v1.0.0\n');
    fs.writeFileSync(path.join(next, 'v1.0.0.info'), '{"Version":"v1.0.0","Time":"2020-01-01T00:00:00Z"}');
    fs.writeFileSync(path.join(next, 'v1.0.0.mod'), 'module github.com/other/x\n');
    const runner = new GoRunner({ tmp: path.join(tmp, `go-${++runs}`), insteadOf: {}, go });
    const cache = path.join(tmp, `modcache-${runs}`);
    const from = proxy.logs.length;
    const out = await runner.run(`${proxy.url},file://${path.join(tmp, 'next-proxy')}`, cache, ['list', '-m', '-json', 'github.com/other/x@v1.0.0'], {
      SSL_CERT_FILE: cert.certFile,
      NODE_EXTRA_CA_CERTS: cert.certFile,
      NETRC: '/dev/null',
      GOAUTH: installed.bin,
      ...alice,
    });
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toMatchObject({ Path: 'github.com/other/x', Version: 'v1.0.0' });
    const seen = requestsSince(from);
    expect(seen.filter((r) => r.requestUrl === '/auth/userpassword')).toHaveLength(1); // after the first 401 only
    expect(seen.filter((r) => r.status === 404).length).toBeGreaterThan(0);
  });

  it('a wrong password fails; modproxy-auth says why on the terminal, and under -x', async () => {
    const env = { GOAUTH: installed.bin, MODPROXY_AUTH_USER: 'alice', MODPROXY_AUTH_PASSWORD: 'wrong' };
    const { result, stderr } = await viaProxy(env);
    expect(result.Error).toContain('401 Unauthorized');
    // Without a terminal and without -x, the go command shows no GOAUTH output at all.
    expect(stderr).not.toContain('modproxy-auth');
    const traced = await viaProxy(env, ['-x']);
    expect(traced.stderr).toContain('modproxy-auth: /auth/userpassword: HTTP 401');
    // In a terminal (script(1) gives the go command one), the message reaches the person running it.
    const runner = new GoRunner({ tmp: path.join(tmp, `go-${++runs}`), insteadOf: {}, go });
    const cache = path.join(tmp, `modcache-${runs}`);
    fs.mkdirSync(cache, { recursive: true });
    const goEnv = runner.env(proxy.url, cache, { SSL_CERT_FILE: cert.certFile, NODE_EXTRA_CA_CERTS: cert.certFile, NETRC: '/dev/null', ...env });
    const terminal = await new Promise<string>((resolve) => {
      const child = execFile('script', ['-qec', `'${go.bin}' mod download -json ${MODULE}@v1.0.0`, '/dev/null'], { env: goEnv, cwd: path.join(tmp, `go-${runs}`), timeout: 120_000 }, (_err, stdout) =>
        resolve(stdout),
      );
      child.stdin!.end();
    });
    expect(terminal).toContain('modproxy-auth: /auth/userpassword: HTTP 401');
    expect(terminal).toContain('401 Unauthorized');
  });
});
