// Client authentication and ACLs, as the go command uses them: .netrc Basic
// credentials (over HTTPS, the only scheme the go command sends them on),
// access tokens from /auth/userpassword and /auth/gce, Google-signed instance
// identity tokens, ordered ACLs on the decoded module path, throttling, and the
// modproxy-auth GOAUTH command.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../lib/auth/passwords.js';
import { run as modproxyAuth } from '../lib/cli/modproxyAuth.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { GoRunner } from './support/goRunner.js';
import { startProxy, type ProxyFixture } from './support/proxyFixture.js';
import { RepoBuilder } from './support/repoBuilder.js';
import { makeTestCert, type TestCert } from './support/tlsCert.js';

const TOKEN_SECRET = 'test-access-token-secret-0123456789';
const AUDIENCE = 'https://modproxy.example.com/';
const GCE_AUDIENCE = 'https://modproxy.example.com/gce';
const CAROL_EMAIL = 'carol@test-project.iam.gserviceaccount.com';

let tmp: string;
let git: GitHttpServer;
let cert: TestCert;
let proxy: ProxyFixture; // HTTPS, deny → 403
let hidden: ProxyFixture; // HTTP, deny → 404
let certs: http.Server;
let clock = Date.now();
const gceKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const GCE_KID = 'test-kid-1';

function config(storage: string, denyStatus: number): string {
  return `
storage:
  fs:
    dir: "${storage}"
gitHub:
  - host: github.com
    gitBaseUrl: "${git.url}"
privateModules:
  - pathPrefix: github.com/acme
resolve:
  gitWorkDir: "${path.join(tmp, 'git')}"
clientAuth:
  enabled: true
  denyStatus: ${denyStatus}
  # The tests play Google's front end: the last X-Forwarded-For entry is the client.
  trustedProxyHops: 1
  failureLimit: {maxFailures: 5, windowSeconds: 60}
  identities:
    - name: alice
      password: alice-password
    - name: bob
      passwordHash: {file: "${path.join(tmp, 'bob.hash')}"}
    - name: carol
      gceInstanceIdentityBinding:
        email: ${CAROL_EMAIL}
  authenticators:
    accessToken:
      audience: ${AUDIENCE}
      secret: {envVar: MODPROXY_TEST_TOKEN_SECRET}
      timeToLive: 15m
    gceInstanceIdentity:
      audience: ${GCE_AUDIENCE}
  acl:
    - identities: [bob]
      moduleRegexp: '^github\\.com/acme/secret(/|$)'
      access: deny
    - moduleRegexp: '^github\\.com/acme/'
      access: allow
`;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-clientauth-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  for (const name of ['public', 'secret']) {
    const r = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), `acme/${name}`);
    await r.write({ 'go.mod': `module github.com/acme/${name}\n`, 'a.go': 'package a\n', 'sub/go.mod': `module github.com/acme/${name}/sub\n` });
    await r.commit('2020-01-01T00:00:00Z');
    await r.tag('v1.0.0');
    await r.tag('sub/v1.0.0');
    await r.publish();
  }
  fs.writeFileSync(path.join(tmp, 'bob.hash'), (await hashPassword('bob-password')) + '\n');
  process.env.MODPROXY_TEST_TOKEN_SECRET = TOKEN_SECRET;
  // Google's ID-token certificates, served locally: { kid: PEM }.
  certs = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
    res.end(JSON.stringify({ [GCE_KID]: gceKey.publicKey.export({ type: 'spki', format: 'pem' }) }));
  });
  await new Promise<void>((r) => certs.listen(0, '127.0.0.1', r));
  const certsUrl = `http://127.0.0.1:${(certs.address() as AddressInfo).port}/oauth2/v1/certs`;
  cert = makeTestCert(path.join(tmp, 'tls'));
  proxy = await startProxy(config(path.join(tmp, 'storage'), 403), { gceCertsUrl: certsUrl, now: () => clock }, cert);
  hidden = await startProxy(config(path.join(tmp, 'storage-hidden'), 404), { gceCertsUrl: certsUrl, now: () => clock });
});

afterAll(async () => {
  await proxy?.close();
  await hidden?.close();
  certs?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** A fresh client address per request, so one test's failures never throttle another (the limit test sets its own). */
let clients = 0;
const uniqueClient = () => {
  clients++;
  // modproxy takes the last hop (the one Google's front end appends; trustedProxyHops: 1).
  return `10.9.9.9, 192.0.${Math.floor(clients / 250)}.${clients % 250}`;
};

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function get(base: ProxyFixture, p: string, authorization?: string, extra: Record<string, string> = {}) {
  const u = new URL(base.url);
  const mod = u.protocol === 'https:' ? await import('node:https') : http;
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const req = mod.request(
      { host: u.hostname, port: u.port, path: p, method: 'GET', headers: { ...(authorization ? { authorization } : {}), 'x-forwarded-for': uniqueClient(), ...extra }, ca: cert.cert },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function post(base: ProxyFixture, p: string, body: unknown, authorization?: string) {
  const res = await fetch(base.url.replace('https:', 'http:') === base.url ? `${base.url}${p}` : `${hidden.url}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': uniqueClient(), ...(authorization ? { authorization } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { access_token?: string; expires_in?: number; token_type?: string; error?: string } };
}

/** A Google-style ID token for a service account, signed by the test key. */
function gceToken(claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  // Standard claims in the payload itself, so a test can override any of them.
  const payload = { iss: 'https://accounts.google.com', aud: GCE_AUDIENCE, sub: '1234567890', azp: '1234', iat: now, exp: now + 3600, email: CAROL_EMAIL, email_verified: true, ...claims };
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: GCE_KID, typ: 'JWT' }).sign(gceKey.privateKey);
}

describe('the go command with .netrc (Go < 1.24 sends Basic credentials over https)', () => {
  const runner = () => new GoRunner({ tmp: path.join(tmp, `go-${crypto.randomUUID()}`), insteadOf: {} });
  const netrc = (user: string, password: string) => {
    const f = path.join(tmp, `netrc-${user}`);
    fs.writeFileSync(f, `machine ${new URL(proxy.url).host}\nlogin ${user}\npassword ${password}\n`);
    return f;
  };
  async function download(query: string, netrcFile?: string) {
    const r = runner();
    const cache = fs.mkdtempSync(path.join(tmp, 'mc-'));
    const out = await r.run(proxy.url, cache, ['mod', 'download', '-json', query], { SSL_CERT_FILE: cert.certFile, NETRC: netrcFile ?? '/dev/null' });
    return JSON.parse(out.stdout) as { Error?: string; Sum?: string };
  }

  it('downloads an allowed private module', async () => {
    const r = await download('github.com/acme/secret@v1.0.0', netrc('alice', 'alice-password'));
    expect(r.Error).toBeUndefined();
    expect(r.Sum).toMatch(/^h1:/);
  });

  it('is refused a denied module with a clear message', async () => {
    const r = await download('github.com/acme/secret@v1.0.0', netrc('bob', 'bob-password'));
    expect(r.Error).toContain('403 Forbidden');
    expect(r.Error).toContain('forbidden: bob may not read module github.com/acme/secret');
    expect((await download('github.com/acme/public@v1.0.0', netrc('bob', 'bob-password'))).Error).toBeUndefined();
  });

  it('gets 401 without credentials', async () => {
    const r = await download('github.com/acme/public@v1.0.0');
    expect(r.Error).toContain('401 Unauthorized');
  });

  it('moves on to the next GOPROXY entry for a module this proxy does not serve, even when no ACL rule names it', async () => {
    // The next proxy: a file:// GOPROXY holding github.com/other/x@v1.0.0.
    const next = path.join(tmp, 'next-proxy');
    const v = path.join(next, 'github.com/other/x/@v');
    fs.mkdirSync(v, { recursive: true });
    fs.writeFileSync(path.join(v, 'list'), 'v1.0.0\n');
    fs.writeFileSync(path.join(v, 'v1.0.0.info'), '{"Version":"v1.0.0","Time":"2020-01-01T00:00:00Z"}');
    fs.writeFileSync(path.join(v, 'v1.0.0.mod'), 'module github.com/other/x\n');
    const zip = new JSZip();
    zip.file('github.com/other/x@v1.0.0/go.mod', 'module github.com/other/x\n', { createFolders: false });
    fs.writeFileSync(path.join(v, 'v1.0.0.zip'), await zip.generateAsync({ type: 'nodebuffer' }));
    const r = runner();
    const cache = fs.mkdtempSync(path.join(tmp, 'mc-'));
    const env = { SSL_CERT_FILE: cert.certFile, NETRC: netrc('alice', 'alice-password') };
    const out = await r.run(`${proxy.url},file://${next}`, cache, ['mod', 'download', '-json', 'github.com/other/x@v1.0.0'], env);
    const res = JSON.parse(out.stdout) as { Error?: string; Sum?: string; Zip?: string };
    expect(res.Error).toBeUndefined();
    expect(res.Zip).toContain('github.com/other/x/@v/v1.0.0.zip');
    // A denied module that this proxy does serve stops the list (403), so its path never reaches the next proxy.
    const denied = await r.run(`${proxy.url},file://${next}`, cache, ['mod', 'download', '-json', 'github.com/acme/secret@v1.0.0'], { ...env, NETRC: netrc('bob', 'bob-password') });
    expect((JSON.parse(denied.stdout) as { Error?: string }).Error).toContain('403 Forbidden');
  });
});

describe('access tokens', () => {
  it('are issued for a password and accepted as Bearer', async () => {
    const issued = await post(hidden, '/auth/userpassword', { user: 'alice', password: 'alice-password' });
    expect(issued.status).toBe(200);
    expect(issued.json).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect((await get(hidden, '/github.com/acme/secret/@v/list', `Bearer ${issued.json.access_token}`)).status).toBe(200);
    expect((await post(hidden, '/auth/userpassword', { user: 'alice', password: 'wrong' })).status).toBe(401);
  });

  it('are rejected when expired, tampered, or minted for another audience', async () => {
    const { json } = await post(hidden, '/auth/userpassword', { user: 'bob', password: 'bob-password' });
    const token = json.access_token!;
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'alice' })).toString('base64url')}.${s}`;
    expect((await get(hidden, '/github.com/acme/public/@v/list', `Bearer ${tampered}`)).status).toBe(401);
    const otherAudience = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setAudience('https://elsewhere.example.com/')
      .setExpirationTime(Math.floor(clock / 1000) + 600)
      .sign(new TextEncoder().encode(TOKEN_SECRET));
    expect((await get(hidden, '/github.com/acme/public/@v/list', `Bearer ${otherAudience}`)).status).toBe(401);
    expect((await get(hidden, '/github.com/acme/public/@v/list', `Bearer ${token}`)).status).toBe(200);
    clock += 16 * 60_000;
    try {
      expect((await get(hidden, '/github.com/acme/public/@v/list', `Bearer ${token}`)).status).toBe(401);
    } finally {
      clock -= 16 * 60_000;
    }
  });
});

describe('GCE instance identity tokens', () => {
  it('are accepted for the bound service account, directly and through /auth/gce', async () => {
    const token = await gceToken({});
    expect((await get(hidden, '/github.com/acme/secret/@v/list', `Bearer ${token}`)).status).toBe(200);
    const exchanged = await post(hidden, '/auth/gce', undefined, `Bearer ${token}`);
    expect(exchanged.status).toBe(200);
    expect((await get(hidden, '/github.com/acme/public/@v/list', `Bearer ${exchanged.json.access_token}`)).status).toBe(200);
  });

  it('are rejected for a wrong audience, an unbound email, or after expiry', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const [i, bad] of [
      await gceToken({ aud: 'https://other.example.com' }),
      await gceToken({ email: 'mallory@test-project.iam.gserviceaccount.com' }),
      await gceToken({ email_verified: false }),
      await gceToken({ iat: now - 7200, exp: now - 3600 }),
    ].entries()) {
      expect((await get(hidden, '/github.com/acme/public/@v/list', `Bearer ${bad}`)).status, `bad token ${i}`).toBe(401);
      expect((await post(hidden, '/auth/gce', undefined, `Bearer ${bad}`)).status).toBe(401);
    }
  });
});

describe('ACL decisions, including attempts to get around them', () => {
  const alice = basic('alice', 'alice-password');
  const bob = basic('bob', 'bob-password');
  const cases: Array<[string, string | undefined, string, number]> = [
    ['alice reads secret', alice, '/github.com/acme/secret/@v/list', 200],
    ['bob reads public', bob, '/github.com/acme/public/@v/list', 200],
    ['bob is denied secret', bob, '/github.com/acme/secret/@v/list', 404],
    ['bob is denied a module inside secret', bob, '/github.com/acme/secret/sub/@v/list', 404],
    ['bob is denied secret spelled with !-escaped case', bob, '/github.com/acme/!secret/@v/list', 404],
    ['bob is denied secret with a percent-encoded letter', bob, '/github.com/acme/%73ecret/@v/list', 404],
    ['bob is denied secret with percent-encoded !', bob, '/github.com/acme/%21secret/@v/list', 404],
    ['.. to climb from public to secret is malformed', bob, '/github.com/acme/public/../secret/@v/list', 400],
    ['%2e%2e likewise', bob, '/github.com/acme/public/%2e%2e/secret/@v/list', 400],
    ['// is malformed', bob, '/github.com/acme//secret/@v/list', 400],
    ['raw upper case is malformed', bob, '/github.com/acme/Secret/@v/list', 400],
    ['a bad ! escape is malformed', bob, '/github.com/acme/!!secret/@v/list', 400],
    ['modules outside every rule are denied by default', alice, '/github.com/other/x/@v/list', 404],
    ['no credentials: 401', undefined, '/github.com/acme/public/@v/list', 401],
    ['wrong password: 401', basic('alice', 'nope'), '/github.com/acme/public/@v/list', 401],
    ['unknown identity: 401', basic('nobody', 'x'), '/github.com/acme/public/@v/list', 401],
    ['unsupported scheme: 401', 'Digest x', '/github.com/acme/public/@v/list', 401],
    ['the checksum database needs credentials too', undefined, '/sumdb/sum.golang.org/supported', 401],
    ['health checks do not', undefined, '/healthz', 200],
  ];
  for (const [title, auth, p, status] of cases) {
    it(`${title} (${status})`, async () => {
      // The "hidden" proxy answers denials with 404; the other with 403.
      const r = await get(hidden, p, auth);
      expect(r.status, r.text).toBe(status);
      if (status === 401) expect(r.headers['www-authenticate']).toBe('Basic realm="modproxy", Bearer realm="modproxy"');
      if (p.includes('secret') && status === 404) expect(r.text).not.toContain('bob');
    });
  }

  it('answers 404 for a module outside every privateModules prefix rather than the default deny', async () => {
    const r = await get(proxy, '/github.com/other/x/@v/list', basic('alice', 'alice-password'));
    expect(r.status).toBe(404);
    expect(r.text).toBe('not found: module github.com/other/x is not served by this proxy (no privateModules pathPrefix matches)\n');
    expect((await get(proxy, '/github.com/other/x/@v/list')).status).toBe(401);
    // With denyStatus 404, unserved and denied modules read alike, so the answers do not map the configured prefixes.
    expect((await get(hidden, '/github.com/other/x/@v/list', basic('bob', 'bob-password'))).text).toBe('not found: github.com/other/x\n');
    expect((await get(hidden, '/github.com/acme/secret/@v/list', basic('bob', 'bob-password'))).text).toBe('not found: github.com/acme/secret\n');
  });

  it('answers denials with 403 by default, so a GOPROXY list stops there', async () => {
    const r = await get(proxy, '/github.com/acme/!secret/@v/list', bob);
    expect(r.status).toBe(403);
    expect(r.text).toBe('forbidden: bob may not read module github.com/acme/Secret\n');
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it('keeps responses out of shared caches when clients authenticate', async () => {
    const r = await get(proxy, '/github.com/acme/public/@v/v1.0.0.mod', alice);
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('private, max-age=31536000, immutable');
  });
});

describe('failed attempts are bounded per client', () => {
  it('answers 429 after too many failures for one identity from one address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push((await get(hidden, '/github.com/acme/public/@v/list', basic('carol', `guess-${i}`), { 'x-forwarded-for': '203.0.113.9' })).status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const r = await get(hidden, '/github.com/acme/public/@v/list', basic('carol', 'x'), { 'x-forwarded-for': '203.0.113.9' });
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    // Another client (and a correct password elsewhere) is not affected, nor is carol from another address.
    expect((await get(hidden, '/github.com/acme/public/@v/list', basic('alice', 'alice-password'), { 'x-forwarded-for': '198.51.100.1' })).status).toBe(200);
    expect((await get(hidden, '/github.com/acme/public/@v/list', basic('carol', 'x'), { 'x-forwarded-for': '198.51.100.2' })).status).toBe(401);
  });
});

describe('modproxy-auth (GOAUTH command for Go 1.24+)', () => {
  it('prints a credential set with a Bearer token exchanged for the password', async () => {
    const out = await modproxyAuth([`${hidden.url}/github.com/acme/public/@v/list`], { MODPROXY_AUTH_USER: 'alice', MODPROXY_AUTH_PASSWORD: 'alice-password' }, async () => '');
    const m = /^(\S+)\n\nAuthorization: Bearer (\S+)\n\n$/.exec(out);
    expect(m?.[1]).toBe(`${hidden.url}/`);
    // What the go command does with it: attach the header to requests under the URL.
    expect((await get(hidden, '/github.com/acme/secret/@v/list', `Bearer ${m![2]}`)).status).toBe(200);
    expect(out).not.toContain('alice-password');
  });

  it('exchanges a GCE identity token from the metadata server', async () => {
    const token = await gceToken({});
    const metadata = http.createServer((req, res) => {
      const ok = req.headers['metadata-flavor'] === 'Google' && (req.url ?? '').includes(`audience=${encodeURIComponent(GCE_AUDIENCE)}`);
      res.writeHead(ok ? 200 : 403, { 'metadata-flavor': 'Google' });
      res.end(ok ? token : '');
    });
    await new Promise<void>((r) => metadata.listen(0, '127.0.0.1', r));
    try {
      const out = await modproxyAuth(
        [hidden.url],
        { MODPROXY_AUTH_MODE: 'gce', MODPROXY_AUTH_AUDIENCE: GCE_AUDIENCE, GCE_METADATA_HOST: `127.0.0.1:${(metadata.address() as AddressInfo).port}` },
        async () => '',
      );
      const bearer = /Authorization: Bearer (\S+)/.exec(out)![1];
      expect(bearer).not.toBe(token); // an access token, not the identity token
      expect((await get(hidden, '/github.com/acme/public/@v/list', `Bearer ${bearer}`)).status).toBe(200);
    } finally {
      metadata.close();
    }
  });

  it('hashes passwords for passwordHash', async () => {
    const out = await modproxyAuth(['hash-password'], {}, async () => 's3cret\n');
    expect(out).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+\n$/);
  });

  it('says what is missing', async () => {
    await expect(modproxyAuth([hidden.url], {}, async () => '')).rejects.toThrow('set MODPROXY_AUTH_USER and MODPROXY_AUTH_PASSWORD');
  });
});

describe('secrets stay out of logs and bodies', () => {
  it('logs no password or token', () => {
    const logs = [...proxy.logs, ...hidden.logs].join('\n');
    expect(logs).not.toMatch(/alice-password|bob-password|eyJ[A-Za-z0-9_-]{10,}\.|test-access-token-secret/);
    expect(logs).toContain('"identity":"alice"');
    expect(logs).toContain('client authentication failed');
  });
});
