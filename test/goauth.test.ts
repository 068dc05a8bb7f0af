// GOAUTH with the real go command (>= 1.24, from scripts/ensure-newer-go.mjs)
// against modproxy over HTTPS with client authentication: the modproxy-auth
// command installed as npm installs it (run through node_modules/.bin's
// symlink), and GOAUTH=netrc. Then Google ID tokens from the real
// google-auth-library, minted by a double of Google's token endpoint and
// metadata server, for modproxy's own authenticator and for a double of Cloud
// Run's IAM front end (--no-allow-unauthenticated).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../lib/auth/passwords.js';
import { startCloudRunGate, type CloudRunGate } from './support/cloudRunGate.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { newerGoTool, type GoTool } from './support/goTool.js';
import { startGoogleOAuthDouble, type GoogleOAuthDouble } from './support/googleOAuthDouble.js';
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

/** A modproxy for github.com/acme over the fixture git server; `clientAuth` replaces the password setup. */
function config(name: string, clientAuth?: string): string {
  return `
storage:
  fs:
    dir: "${path.join(tmp, `storage-${name}`)}"
gitHub:
  - host: github.com
    gitBaseUrl: "${git.url}"
privateModules:
  - pathPrefix: github.com/acme
resolve:
  gitWorkDir: "${path.join(tmp, `git-${name}`)}"
${clientAuth ?? passwordAuth()}`;
}

const passwordAuth = () => `
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
  proxy = await startProxy(config('password'), {}, cert);
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
async function viaProxy(env: Record<string, string>, extraFlags: string[] = [], proxyUrl = proxy.url) {
  const runner = new GoRunner({ tmp: path.join(tmp, `go-${++runs}`), insteadOf: {}, go });
  const cache = path.join(tmp, `modcache-${runs}`);
  fs.mkdirSync(cache, { recursive: true });
  const out = await runner.run(proxyUrl, cache, ['mod', 'download', ...extraFlags, '-json', `${MODULE}@v1.0.0`], {
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

describe('Google ID tokens: MODPROXY_AUTH_MODE=google, and Cloud Run IAM in front of modproxy', () => {
  const AUDIENCE = 'https://goproxy.example.com';
  const LAPTOP = 'laptop@acme-dev.iam.gserviceaccount.com';
  let google: GoogleOAuthDouble;
  let idProxy: ProxyFixture; // HTTPS; clientAuth accepts Google ID tokens for AUDIENCE
  let behindPassword: ProxyFixture; // HTTP, as a container; clientAuth with passwords
  let behindOpen: ProxyFixture; // HTTP, as a container; no clientAuth
  let gatePassword: CloudRunGate;
  let gateOpen: CloudRunGate;
  let keyFile: string;
  let nodeOnly: string; // a PATH with node and nothing else (no gcloud)
  let googleEnv: Record<string, string>;

  beforeAll(async () => {
    google = await startGoogleOAuthDouble(path.join(tmp, 'google'));
    keyFile = path.join(tmp, 'laptop-key.json');
    google.serviceAccountKey(keyFile, LAPTOP);
    const bundle = path.join(tmp, 'ca-bundle.pem');
    fs.writeFileSync(bundle, cert.cert + fs.readFileSync(google.caFile, 'utf8'));
    googleEnv = { HTTPS_PROXY: google.proxyUrl, NO_PROXY: '127.0.0.1,localhost', NODE_EXTRA_CA_CERTS: bundle, GOOGLE_APPLICATION_CREDENTIALS: keyFile };
    nodeOnly = path.join(tmp, 'node-only');
    fs.mkdirSync(nodeOnly);
    fs.symlinkSync(process.execPath, path.join(nodeOnly, 'node'));
    idProxy = await startProxy(
      config(
        'google',
        `
clientAuth:
  enabled: true
  identities:
    - name: laptop
      gceInstanceIdentityBinding: {email: ${LAPTOP}}
    - name: vm
      gceInstanceIdentityBinding: {email: ${google.metadataEmail}}
  authenticators:
    gceInstanceIdentity:
      audience: ${AUDIENCE}
  acl:
    - moduleRegexp: '^github\\.com/acme/'
      access: allow
`,
      ),
      { gceCertsUrl: google.certsUrl },
      cert,
    );
    behindPassword = await startProxy(config('behind-password'));
    behindOpen = await startProxy(config('behind-open', ''));
    gatePassword = await startCloudRunGate({ upstream: behindPassword.url, tls: cert, verify: google.verify, invokers: [LAPTOP] });
    gateOpen = await startCloudRunGate({ upstream: behindOpen.url, tls: cert, verify: google.verify, invokers: [LAPTOP] });
  });

  afterAll(async () => {
    await gatePassword?.close();
    await gateOpen?.close();
    await idProxy?.close();
    await behindPassword?.close();
    await behindOpen?.close();
    await google?.close();
  });

  /** GET on the HTTPS proxy with one header, as the go command sends what GOAUTH printed. */
  function get(base: string, p: string, headers: Record<string, string>): Promise<number> {
    const u = new URL(base);
    return new Promise((resolve, reject) => {
      const req = https.request({ host: u.hostname, port: u.port, path: p, headers, ca: cert.cert }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  }
  const bearer = (out: string) => /^Authorization: Bearer (\S+)$/m.exec(out)?.[1];
  const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
  const answer401 = 'HTTP/1.1 401 Unauthorized\n\n';

  it("a service-account key: google-auth-library's JWT-bearer grant at oauth2.googleapis.com, and the go command gets in", async () => {
    const { result } = await viaProxy({ GOAUTH: installed.bin, MODPROXY_AUTH_MODE: 'google', MODPROXY_AUTH_AUDIENCE: AUDIENCE, ...googleEnv }, [], idProxy.url);
    expect(result.Error).toBeUndefined();
    expect(result.Sum).toBe(direct.Sum);
    expect(result.GoModSum).toBe(direct.GoModSum);
    expect(google.tunnels).toContain('oauth2.googleapis.com:443');
    expect(google.tokenRequests).toContainEqual({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', who: LAPTOP, target_audience: AUDIENCE });
  });

  it('the metadata server (GCE, Cloud Run, Cloud Build), with no key file', async () => {
    const home = fs.mkdtempSync(path.join(tmp, 'home-'));
    const r = await runBin([`${idProxy.url}/${MODULE}/@v/list`], { PATH: nodeOnly, HOME: home, MODPROXY_AUTH_MODE: 'google', MODPROXY_AUTH_AUDIENCE: AUDIENCE, GCE_METADATA_HOST: google.metadataHost }, answer401);
    expect(r.stderr).toBe('');
    const token = bearer(r.stdout)!;
    expect((await google.verify(token, AUDIENCE)).email).toBe(google.metadataEmail);
    expect(google.metadataRequests).toContain('/computeMetadata/v1/instance/service-accounts/default/identity');
    expect(await get(idProxy.url, `/${MODULE}/@v/list`, { authorization: `Bearer ${token}` })).toBe(200);
  });

  it('user credentials from `gcloud auth application-default login`: Google signs the token for the OAuth client', async () => {
    const home = fs.mkdtempSync(path.join(tmp, 'home-'));
    const { clientId } = google.userCredentials(path.join(home, '.config/gcloud/application_default_credentials.json'), 'dev@example.com');
    const env = { ...googleEnv, PATH: nodeOnly, HOME: home, MODPROXY_AUTH_MODE: 'google', METADATA_SERVER_DETECTION: 'none' };
    delete (env as Record<string, string | undefined>).GOOGLE_APPLICATION_CREDENTIALS;
    const r = await runBin([`${gateOpen.url}/${MODULE}/@v/list`], env, answer401);
    expect(r.stderr).toBe('');
    const token = bearer(r.stdout)!;
    expect(claims(token)).toMatchObject({ aud: clientId, email: 'dev@example.com' });
    expect(google.tokenRequests).toContainEqual({ grant_type: 'refresh_token', who: 'dev@example.com', target_audience: gateOpen.url });
  });

  it('falls back to `gcloud auth print-identity-token` when Application Default Credentials have no ID token, and says so when that fails too', async () => {
    const home = fs.mkdtempSync(path.join(tmp, 'home-'));
    const fake = path.join(tmp, 'fake-gcloud');
    fs.mkdirSync(fake);
    const printed = 'eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImRldkBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJl';
    fs.writeFileSync(path.join(fake, 'gcloud'), `#!/bin/sh\n[ "$1 $2" = "auth print-identity-token" ] || exit 2\necho ${printed}\n`, { mode: 0o755 });
    const env = { HOME: home, MODPROXY_AUTH_MODE: 'google', METADATA_SERVER_DETECTION: 'none' };
    const r = await runBin([gateOpen.url], { ...env, PATH: `${fake}:${nodeOnly}` }, answer401);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(bearer(r.stdout)).toBe(printed);
    const none = await runBin([gateOpen.url], { ...env, PATH: nodeOnly }, answer401);
    expect(none.code).toBe(1);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^modproxy-auth: no Google ID token: Application Default Credentials: Could not load the default credentials.*; fallback: gcloud is not installed\n$/);
  });

  it('reports the token endpoint refusing a key (revoked, deleted account), without falling back to gcloud', async () => {
    const revoked = path.join(tmp, 'revoked-key.json');
    google.serviceAccountKey(revoked, 'gone@acme-dev.iam.gserviceaccount.com');
    fs.writeFileSync(revoked, JSON.stringify({ ...JSON.parse(fs.readFileSync(revoked, 'utf8')), client_email: 'unknown@acme-dev.iam.gserviceaccount.com' }));
    const fake = path.join(tmp, 'fake-gcloud'); // from the test above
    const r = await runBin([gateOpen.url], { ...googleEnv, GOOGLE_APPLICATION_CREDENTIALS: revoked, PATH: `${fake}:${nodeOnly}`, MODPROXY_AUTH_MODE: 'google' }, answer401);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe('modproxy-auth: no Google ID token from Application Default Credentials: invalid_grant: Invalid grant: account not found\n');
  });

  it('behind Cloud Run IAM with clientAuth off: google mode, audience the service URL', async () => {
    const from = gateOpen.seen.length;
    const { result } = await viaProxy({ GOAUTH: installed.bin, MODPROXY_AUTH_MODE: 'google', ...googleEnv }, [], gateOpen.url);
    expect(result.Error).toBeUndefined();
    expect(result.Sum).toBe(direct.Sum);
    expect(google.tokenRequests).toContainEqual({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', who: LAPTOP, target_audience: gateOpen.url });
    expect(gateOpen.seen.slice(from).filter((r) => r.status === 200).every((r) => r.tokenFrom === 'authorization')).toBe(true);
  });

  it('behind Cloud Run IAM with clientAuth on: the ID token in X-Serverless-Authorization, modproxy credentials in Authorization', async () => {
    const from = gatePassword.seen.length;
    const { result } = await viaProxy({ GOAUTH: installed.bin, ...alice, MODPROXY_AUTH_CLOUD_RUN_IAM: '1', ...googleEnv }, [], gatePassword.url);
    expect(result.Error).toBeUndefined();
    expect(result.Sum).toBe(direct.Sum);
    const passed = gatePassword.seen.slice(from).filter((r) => r.status !== 403);
    expect(passed).toContainEqual({ method: 'POST', path: '/auth/userpassword', tokenFrom: 'x-serverless-authorization', status: 200 });
    expect(passed.every((r) => r.tokenFrom === 'x-serverless-authorization' && r.status === 200)).toBe(true);
    // modproxy saw its own access token, not the ID token (which Cloud Run would have stripped of its signature).
    expect(behindPassword.logs.join('\n')).toContain('"identity":"alice"');
  });

  it('behind Cloud Run IAM with clientAuth on, without MODPROXY_AUTH_CLOUD_RUN_IAM: refused at the front end, and modproxy-auth says so', async () => {
    const { result } = await viaProxy({ GOAUTH: installed.bin, ...alice, ...googleEnv }, [], gatePassword.url);
    expect(result.Error).toContain('403 Forbidden');
    const r = await runBin([gatePassword.url], { ...alice, ...googleEnv }, 'HTTP/1.1 403 Forbidden\n\n');
    expect(r.stderr).toBe('modproxy-auth: /auth/userpassword: HTTP 403\n');
  });
});
