// modproxy's own server entry (functions/server.ts: `npm start`, the
// Procfile) as a separate process on 127.0.0.1: bodies refused before
// anything reads them, HTTPS with the configured certificate and lowest TLS
// version, the go command through it, start-up failures as one log line,
// and a graceful SIGTERM.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEntry, tsxEntry, type EntryProcess } from './support/entryProcess.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { GoRunner } from './support/goRunner.js';
import { testConfig } from './support/proxyFixture.js';
import { rawExchange } from './support/rawHttp.js';
import { RepoBuilder } from './support/repoBuilder.js';
import { makeTestCert, type TestCert } from './support/tlsCert.js';

let tmp: string;
let git: GitHttpServer;
let cert: TestCert;
const entries: EntryProcess[] = [];
/** Requests the git server holds until the test lets them go (the SIGTERM test). */
let holdGit: Promise<void> | undefined;

const entry = tsxEntry('functions/server.ts');

/** Starts functions/server.ts with this configuration on a port of its choosing. */
function startServer(configYaml: string, env: Record<string, string> = {}): EntryProcess {
  const p = startEntry(entry.command, entry.args, { PORT: '0', MODPROXY_CONFIG: configYaml, ...env });
  entries.push(p);
  return p;
}

async function listening(p: EntryProcess): Promise<{ port: number; scheme: string }> {
  const line = await p.waitForLine((l) => l.message === 'modproxy started');
  return { port: line.port as number, scheme: line.scheme as string };
}

const config = (name: string, extra = '') => testConfig(path.join(tmp, name), { 'github.com': git.url }, ['github.com/o'], extra);

const tlsKeys = (extra = '') => `tls:\n  certFile: "${cert.certFile}"\n  keyFile: "${path.join(path.dirname(cert.certFile), 'key.pem')}"\n${extra}`;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-server-'));
  cert = makeTestCert(path.join(tmp, 'tls'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos'), authorize: () => holdGit?.then(() => undefined) });
  const r = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'o/served');
  await r.write({ 'go.mod': 'module github.com/o/served\n', 'a.go': 'package served\n' });
  await r.commit('2020-01-01T00:00:00Z');
  await r.tag('v1.0.0');
  await r.publish();
}, 120_000);

afterAll(async () => {
  for (const p of entries) p.kill();
  await Promise.all(entries.map((p) => p.exited));
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('request bodies are refused before anything reads them', () => {
  let proxy: EntryProcess;
  let port: number;
  beforeAll(async () => {
    proxy = startServer(config('bodies'));
    ({ port } = await listening(proxy));
  });

  it('answers 413 to a GET that announces a 200 MiB body, without waiting for it, and closes the connection', async () => {
    const r = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n');
    expect(r.status).toBe(413);
    expect(r.text).toContain('request body not accepted');
    expect(r.closedByServer).toBe(true);
    // The handler would have answered GET /healthz with 200.
    expect(proxy.lines().filter((l) => (l.httpRequest as { status?: number } | undefined)?.status === 200)).toEqual([]);
  });

  it('answers 413 to a chunked body that never ends, on any path and method', async () => {
    for (const head of ['GET /github.com/o/served/@v/list HTTP/1.1', 'PUT /anything HTTP/1.1', 'POST / HTTP/1.1', 'DELETE /healthz HTTP/1.1']) {
      const r = await rawExchange(port, `${head}\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`, { body: 'one-chunk' });
      expect(r.status, head).toBe(413);
      expect(r.closedByServer, head).toBe(true);
    }
  });

  it('does not keep what arrives: five 200 MiB bodies streamed at it leave its memory where it was', async () => {
    const before = proxy.peakRss();
    for (let i = 0; i < 5; i++) {
      const r = await rawExchange(port, 'GET /github.com/o/served/@v/list HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n', { body: 'stream' });
      // The 413, unless the reset of the close overtook it at this client, which was still sending.
      if (!r.reset) expect(r.status).toBe(413);
      expect(r.closedByServer).toBe(true);
      expect(r.bodyBytesWritten).toBeLessThan(200 << 20);
    }
    expect(proxy.peakRss() - before).toBeLessThan(64 << 20);
  });

  it('takes at most 64 KiB, uncompressed, with a declared length, on the token endpoints', async () => {
    const big = await rawExchange(port, `POST /auth/userpassword HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${65 << 10}\r\n\r\n`, { body: Buffer.alloc(65 << 10, ' ') });
    expect(big.status).toBe(413);
    expect(big.text).toContain('at most 65536 bytes');
    expect(big.closedByServer).toBe(true);
    const chunked = await rawExchange(port, 'POST /auth/gce HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', { body: 'one-chunk' });
    expect(chunked.status).toBe(411);
    expect(chunked.closedByServer).toBe(true);
    const gzip = await rawExchange(port, 'POST /auth/userpassword HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n\r\n', { body: Buffer.alloc(20) });
    expect(gzip.status).toBe(415);
    // Within the bound, the handler answers (client authentication is off here: 404).
    const small = await fetch(`http://127.0.0.1:${port}/auth/userpassword`, { method: 'POST', body: JSON.stringify({ user: 'a', password: 'b' }) });
    expect(small.status).toBe(404);
  });

  it('does not invite a refused body with 100 Continue', async () => {
    const r = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\nExpect: 100-continue\r\n\r\n');
    expect(r.status).toBe(413);
    expect(r.text).not.toContain('100 Continue');
    expect(r.closedByServer).toBe(true);
  });

  it('serves requests without a body as before', async () => {
    const list = await fetch(`http://127.0.0.1:${port}/github.com/o/served/@v/list`);
    expect(list.status).toBe(200);
    expect(await list.text()).toBe('v1.0.0\n');
  });
});

describe('HTTPS (tls.certFile, tls.keyFile, tls.minVersion)', () => {
  it('serves the go command over HTTPS with .netrc credentials, which it sends only over https', async () => {
    const proxy = startServer(
      config(
        'https',
        `${tlsKeys()}clientAuth:\n  enabled: true\n  identities:\n    - name: alice\n      passwordHash: {envVar: ALICE_HASH}\n  acl:\n    - identities: [alice]\n      access: allow\n`,
      ),
      { ALICE_HASH: await aliceHash() },
    );
    const { port, scheme } = await listening(proxy);
    expect(scheme).toBe('https');
    const runner = new GoRunner({ tmp: path.join(tmp, 'go-https'), insteadOf: {} });
    const netrc = path.join(tmp, 'netrc');
    fs.writeFileSync(netrc, `machine 127.0.0.1:${port}\nlogin alice\npassword alice-password\n`);
    const cache = fs.mkdtempSync(path.join(tmp, 'mc-'));
    const out = await runner.run(`https://127.0.0.1:${port}`, cache, ['mod', 'download', '-json', 'github.com/o/served@v1.0.0'], { SSL_CERT_FILE: cert.certFile, NETRC: netrc });
    const r = JSON.parse(out.stdout) as { Error?: string; Sum?: string };
    expect(r.Error).toBeUndefined();
    expect(r.Sum).toMatch(/^h1:/);
    // Without credentials: 401, and over HTTPS no word about plain HTTP.
    const denied = await httpsGet(port, '/github.com/o/served/@v/list');
    expect(denied.status).toBe(401);
    expect(denied.text).not.toContain('plain HTTP');
  });

  it('says in the 401 that the go command sends credentials only over HTTPS when the request came over plain HTTP', async () => {
    const proxy = startServer(config('plain-auth', 'clientAuth:\n  enabled: true\n  identities:\n    - name: alice\n      passwordHash: {envVar: ALICE_HASH}\n'), { ALICE_HASH: await aliceHash() });
    const { port, scheme } = await listening(proxy);
    expect(scheme).toBe('http');
    const res = await fetch(`http://127.0.0.1:${port}/github.com/o/served/@v/list`);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('the go command sends credentials only over HTTPS');
    // Behind a front end that terminated TLS (Cloud Run), the request did come over HTTPS.
    const fronted = await fetch(`http://127.0.0.1:${port}/github.com/o/served/@v/list`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(fronted.status).toBe(401);
    expect(await fronted.text()).not.toContain('plain HTTP');
  });

  it('refuses clients below tls.minVersion', async () => {
    const proxy = startServer(config('tls13', tlsKeys('  minVersion: TLS1.3\n')));
    const { port } = await listening(proxy);
    const old = await tlsHandshake(port, 'TLSv1.2');
    expect(old.error).toMatch(/protocol version|wrong version|unsupported protocol/i);
    const current = await tlsHandshake(port);
    expect(current.protocol).toBe('TLSv1.3');
  });

  it('accepts TLS 1.2 clients by default', async () => {
    const proxy = startServer(config('tls12', tlsKeys()));
    const { port } = await listening(proxy);
    expect((await tlsHandshake(port, 'TLSv1.2')).protocol).toBe('TLSv1.2');
  });

  it.each([
    ['an unreadable certificate file', () => `tls:\n  certFile: "${path.join(tmp, 'missing.pem')}"\n  keyFile: "${path.join(tmp, 'tls', 'key.pem')}"\n`, 'tls.certFile: cannot read secret file'],
    ['a certificate that is not PEM', () => `tls:\n  certFile: "${writeFile('bad-cert.pem', 'not a certificate')}"\n  keyFile: "${path.join(tmp, 'tls', 'key.pem')}"\n`, 'tls.certFile: not a usable PEM certificate'],
    ['a key that is not PEM', () => `tls:\n  certFile: "${cert.certFile}"\n  key: {envVar: TLS_KEY}\n`, 'tls.key: not a usable PEM private key'],
    ['a key of another certificate', () => `tls:\n  certFile: "${cert.certFile}"\n  keyFile: "${otherKey()}"\n`, 'tls.keyFile: does not match the certificate in tls.certFile'],
  ])('refuses to start with %s, in one line naming the key', async (_name, tlsYaml, message) => {
    const p = startServer(config(`bad-tls-${crypto.randomUUID()}`, tlsYaml()), { TLS_KEY: 'garbage' });
    expect(await p.exited).toBe(1);
    expectOneStartFailure(p, message);
  });
});

describe('start-up failures', () => {
  it('exits 1 after one ERROR line naming a secret it cannot read, without its value or a stack trace', async () => {
    const p = startServer(config('no-secret', 'clientAuth:\n  enabled: true\n  authenticators:\n    accessToken:\n      audience: x\n      secret: {envVar: UNSET_VAR}\n'));
    expect(await p.exited).toBe(1);
    expectOneStartFailure(p, 'environment variable UNSET_VAR is not set');
  });

  it('exits 1 after one ERROR line naming an invalid configuration key', async () => {
    const p = startServer('storage:\n  fs:\n    dir: x\n    bogus: 1\n');
    expect(await p.exited).toBe(1);
    expectOneStartFailure(p, 'storage.fs.bogus: unknown key');
  });
});

describe('SIGTERM', () => {
  it('finishes the request in flight, refuses new connections, and exits 0', async () => {
    const proxy = startServer(config('sigterm'));
    const { port } = await listening(proxy);
    let release!: () => void;
    holdGit = new Promise<void>((r) => (release = r));
    try {
      // A first resolution: modproxy asks the git server, which holds the request.
      const seen = git.requests.length;
      const inFlight = fetch(`http://127.0.0.1:${port}/github.com/o/served/@v/v1.0.0.info`);
      await waitUntil(() => git.requests.length > seen);
      proxy.child.kill('SIGTERM');
      await proxy.waitForLine((l) => l.message.startsWith('SIGTERM'));
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
      release();
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(((await res.json()) as { Version: string }).Version).toBe('v1.0.0');
      expect(await proxy.exited).toBe(0);
    } finally {
      release();
      holdGit = undefined;
    }
  });
});

function expectOneStartFailure(p: EntryProcess, message: string): void {
  const errors = p.lines().filter((l) => l.severity === 'ERROR');
  expect(errors).toHaveLength(1);
  expect(errors[0].message).toContain('modproxy cannot start: ');
  expect(errors[0].message).toContain(message);
  // Nothing but JSON lines: no stack trace, no framework message.
  expect(p.output().trim().split('\n').filter((l) => !l.startsWith('{'))).toEqual([]);
  expect(p.output()).not.toContain('garbage');
}

function writeFile(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

function otherKey(): string {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return writeFile('other-key.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
}

let hashed: string | undefined;
async function aliceHash(): Promise<string> {
  const { hashPassword } = await import('../lib/auth/passwords.js');
  hashed ??= await hashPassword('alice-password');
  return hashed;
}

function tlsHandshake(port: number, maxVersion?: tls.SecureVersion): Promise<{ protocol?: string; error?: string }> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: cert.cert, maxVersion });
    s.once('secureConnect', () => {
      resolve({ protocol: s.getProtocol() ?? undefined });
      s.destroy();
    });
    s.once('error', (err) => resolve({ error: err.message }));
  });
}

async function httpsGet(port: number, p: string): Promise<{ status: number; text: string }> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: p, ca: cert.cert }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      })
      .on('error', reject);
  });
}

async function waitUntil(cond: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
