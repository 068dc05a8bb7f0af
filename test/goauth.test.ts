// GOAUTH with the real go command (>= 1.24, from scripts/ensure-newer-go.mjs)
// against modproxy over HTTPS with client authentication: the modproxy-auth
// command installed as npm installs it (run through node_modules/.bin's
// symlink), and GOAUTH=netrc.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
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
const pexec = promisify(execFile);
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

describe('the modproxy-auth command as npm installs it', () => {
  it('runs through the node_modules/.bin symlink (npx, npm link and GOAUTH start it that way)', async () => {
    expect(fs.lstatSync(installed.bin).isSymbolicLink()).toBe(true);
    const r = await pexec(installed.bin, [`${proxy.url}/${MODULE}/@v/list`], {
      env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: cert.certFile, MODPROXY_AUTH_USER: 'alice', MODPROXY_AUTH_PASSWORD: 'alice-password' },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^${proxy.url.replace(/[.]/g, '\\.')}/\\n\\nAuthorization: Bearer \\S+\\n\\n$`));
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

  it('a wrong password fails, and -x shows why modproxy-auth had no credentials', async () => {
    const env = { GOAUTH: installed.bin, MODPROXY_AUTH_USER: 'alice', MODPROXY_AUTH_PASSWORD: 'wrong' };
    const { result } = await viaProxy(env);
    expect(result.Error).toContain('401 Unauthorized');
    const traced = await viaProxy(env, ['-x']);
    expect(traced.stderr).toContain('modproxy-auth: /auth/userpassword: HTTP 401');
  });
});
