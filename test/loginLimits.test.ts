// Login limits over HTTP, against a real proxy: attempts are reserved before
// the password check, so concurrency does not multiply the budget; limits are
// per (identity, address), identity and address, so a stranger cannot lock the
// real user out; X-Forwarded-For is believed only as far as trustedProxyHops
// says; the failure table stays bounded without forgetting a lockout; unknown
// identities cost a scrypt run; tokens need an expiry; Basic is parsed strictly.
//
// Whether a request was authenticated is read from its status: a module this
// proxy does not serve is 404 for an authenticated client, 401 for wrong
// credentials, 429 (with Retry-After) when the client must wait.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientAuth } from '../lib/auth/clientAuth.js';
import { verifyPassword } from '../lib/auth/passwords.js';
import { configSchema } from '../lib/config/schema.js';
import type { SecretLoader } from '../lib/config/secrets.js';
import { RequestAuth } from '../lib/http/authenticate.js';
import { sendReply } from '../lib/http/replies.js';
import { createLogger } from '../lib/log/logger.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';

const TOKEN_SECRET = 'login-limits-token-secret-0123456789';
const AUDIENCE = 'https://modproxy.example.com/';
const UNSERVED = '/example.com/unserved/@v/list';

/** An scrypt hash with a small N, so hundreds of password checks stay quick (the dummy hash takes its parameters). */
function cheapHash(password: string): string {
  const salt = crypto.randomBytes(16);
  const key = crypto.scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 });
  return `scrypt$1024$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
}

function clientAuthYaml(extra: string): string {
  return `clientAuth:
  enabled: true
  identities:
    - name: alice
      passwordHash: "${cheapHash('alice-password')}"
    - name: bob
      passwordHash: "${cheapHash('bob-password')}"
  authenticators:
    accessToken:
      audience: ${AUDIENCE}
      secret: "${TOKEN_SECRET}"
  acl:
    - access: allow
${extra}`;
}

let tmp: string;
const clock = { now: 1_700_000_000_000 }; // still unless a test moves it: a backoff never ends by itself
const proxies: ProxyFixture[] = [];
async function proxy(extra: string): Promise<ProxyFixture> {
  const p = await startProxy(testConfig(path.join(tmp, `p${proxies.length}`), { 'github.com': 'http://127.0.0.1:9' }, ['github.com/acme'], clientAuthYaml(extra)), { now: () => clock.now });
  proxies.push(p);
  return p;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-loginlimits-'));
});

afterAll(async () => {
  for (const p of proxies) await p.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
afterAll(() => agent.destroy());

interface Answer {
  status: number;
  retryAfter?: string;
  text: string;
}

function request(base: string, p: string, opts: { authorization?: string; xff?: string; method?: string; body?: string } = {}): Promise<Answer> {
  const u = new URL(base);
  const headers: Record<string, string> = {};
  if (opts.authorization !== undefined) headers.authorization = opts.authorization;
  if (opts.xff !== undefined) headers['x-forwarded-for'] = opts.xff;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: p, method: opts.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const get = (p: ProxyFixture, authorization?: string, xff?: string) => request(p.url, UNSERVED, { authorization, xff });
const tokenFor = (p: ProxyFixture, user: string, password: string, xff?: string) =>
  request(p.url, '/auth/userpassword', { method: 'POST', body: JSON.stringify({ user, password }), xff });
const count = (answers: Answer[], status: number) => answers.filter((a) => a.status === status).length;

describe('attempts are reserved before the password is checked', () => {
  it('evaluates at most the budget of 200 concurrent wrong Basic logins for one identity; the rest wait', async () => {
    const p = await proxy('');
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => get(p, basic('alice', `guess-${i}`))));
    expect(count(answers, 401)).toBe(10);
    expect(count(answers, 429)).toBe(190);
    expect(answers.find((a) => a.status === 429)?.retryAfter).toBe('1');
    // The right password from the same address waits too: it was not evaluated either.
    expect((await get(p, basic('alice', 'alice-password'))).status).toBe(429);
  });

  it("lets a client's burst of concurrent correct logins through, beyond the budget (the go command downloads in parallel)", async () => {
    const p = await proxy('');
    const answers = await Promise.all(Array.from({ length: 60 }, () => get(p, basic('bob', 'bob-password'))));
    expect(count(answers, 404)).toBe(60);
  });

  it('does the same at POST /auth/userpassword, with Retry-After', async () => {
    const p = await proxy('');
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => tokenFor(p, 'bob', `guess-${i}`)));
    expect(count(answers, 401)).toBe(10);
    expect(count(answers, 429)).toBe(190);
    expect(answers.find((a) => a.status === 429)?.retryAfter).toBe('1');
  });
});

describe('a stranger cannot lock the real user out', () => {
  it('lets the real user in from another address after a stranger spent the budget', async () => {
    const p = await proxy('  trustedProxyHops: 1\n');
    const stranger = await Promise.all(Array.from({ length: 30 }, (_, i) => get(p, basic('alice', `guess-${i}`), '203.0.113.66')));
    expect(count(stranger, 401)).toBe(10);
    expect((await get(p, basic('alice', 'alice-password'), '198.51.100.7')).status).toBe(404);
    expect((await tokenFor(p, 'alice', 'alice-password', '198.51.100.8')).status).toBe(200);
  });

  it('backs off exponentially, and Retry-After says how long', async () => {
    const p = await proxy('  trustedProxyHops: 1\n');
    for (let i = 0; i < 10; i++) expect((await get(p, basic('bob', `guess-${i}`), '203.0.113.67')).status).toBe(401);
    const waits: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await get(p, basic('bob', 'again'), '203.0.113.67');
      expect(r.status).toBe(429);
      waits.push(r.retryAfter!);
      clock.now += Number(r.retryAfter) * 1000;
      expect((await get(p, basic('bob', `late-guess-${i}`), '203.0.113.67')).status).toBe(401);
    }
    expect(waits).toEqual(['1', '2', '4', '8']);
  });
});

describe('the client address', () => {
  it('is the socket peer without trusted proxies: a spoofed X-Forwarded-For does not make a new client', async () => {
    const p = await proxy('  trustedProxyHops: 0\n  failureLimit: {maxFailures: 2}\n'); // 10 per address
    const answers: Answer[] = [];
    for (let i = 0; i < 12; i++) answers.push(await get(p, basic(`user-${i}`, 'x'), `192.0.2.${i}`));
    expect(answers.map((a) => a.status)).toEqual([...Array(10).fill(401), 429, 429]);
  });

  it('is the last X-Forwarded-For entry with one trusted hop, whatever the client put before it', async () => {
    const p = await proxy('  trustedProxyHops: 1\n  failureLimit: {maxFailures: 2}\n');
    const answers: Answer[] = [];
    for (let i = 0; i < 12; i++) answers.push(await get(p, basic(`user-${i}`, 'x'), `192.0.2.${i}, 203.0.113.70`));
    expect(answers.map((a) => a.status)).toEqual([...Array(10).fill(401), 429, 429]);
    expect((await get(p, basic('alice', 'alice-password'), '203.0.113.71')).status).toBe(404);
  });
});

describe('the failure table is bounded and cannot be flushed', () => {
  it('keeps a lockout through a flood of junk failures many times its size', async () => {
    const p = await proxy('  trustedProxyHops: 1\n  failureLimit: {maxTrackedKeys: 100}\n');
    for (let i = 0; i < 10; i++) expect((await get(p, basic('alice', `guess-${i}`), '203.0.113.80')).status).toBe(401);
    expect((await get(p, basic('alice', 'alice-password'), '203.0.113.80')).status).toBe(429);
    // 1000 concurrent-ish failures for junk identities from 1000 addresses: 3000 keys for a table of 100.
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) => get(p, basic(`junk-${batch}-${i}-${'x'.repeat(200)}`, 'x'), `10.${batch}.${i >> 8}.${i & 255}`)),
      );
      expect(count(answers, 401)).toBe(100);
    }
    expect((await get(p, basic('alice', 'alice-password'), '203.0.113.80')).status).toBe(429);
  });
});

describe('access tokens', () => {
  const key = new TextEncoder().encode(TOKEN_SECRET);
  const token = (exp: number | undefined) => {
    const t = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setAudience(AUDIENCE).setIssuedAt(Math.floor(clock.now / 1000) - 600);
    return (exp === undefined ? t : t.setExpirationTime(exp)).sign(key);
  };

  it('without exp are refused', async () => {
    const p = await proxy('');
    expect((await get(p, `Bearer ${await token(undefined)}`)).status).toBe(401);
    expect((await get(p, `Bearer ${await token(Math.floor(clock.now / 1000) + 60)}`)).status).toBe(404);
  });

  it('past their expiry by more than a few seconds are refused', async () => {
    const p = await proxy('');
    expect((await get(p, `Bearer ${await token(Math.floor(clock.now / 1000) - 10)}`)).status).toBe(401);
    expect((await get(p, `Bearer ${await token(Math.floor(clock.now / 1000) - 2)}`)).status).toBe(404);
  });
});

describe('Basic credentials are parsed strictly', () => {
  const good = Buffer.from('alice:alice-password').toString('base64'); // ends in "="
  const variants: Array<[string, string]> = [
    ['missing padding', `Basic ${good.replace(/=+$/, '')}`],
    ['an invalid base64 character', `Basic ${good.slice(0, 4)}*${good.slice(4)}`],
    ['whitespace inside the base64', `Basic ${good.slice(0, 4)} ${good.slice(4)}`],
    ['two spaces after the scheme', `Basic  ${good}`],
    ['a trailing parameter', `Basic ${good} realm`],
    ['no colon', `Basic ${Buffer.from('alice').toString('base64')}`],
    ['an empty identity', `Basic ${Buffer.from(':alice-password').toString('base64')}`],
    ['a control character', `Basic ${Buffer.from('alice:alice-password\u0001').toString('base64')}`],
    ['an identity over 256 bytes', `Basic ${Buffer.from(`${'a'.repeat(300)}:x`).toString('base64')}`],
    ['bytes that are not UTF-8', `Basic ${Buffer.concat([Buffer.from('alice:'), Buffer.from([0xff, 0xfe])]).toString('base64')}`],
    ['only a scheme', 'Basic'],
  ];
  let p: ProxyFixture;
  beforeAll(async () => {
    p = await proxy('  trustedProxyHops: 0\n');
  });
  for (const [what, authorization] of variants) {
    it(`answers 401 to ${what}`, async () => {
      expect((await get(p, authorization)).status).toBe(401);
    });
  }
  it('and 404 (authenticated) to the well-formed header', async () => {
    expect((await get(p, `Basic ${good}`)).status).toBe(404);
  });
});

describe('unknown identities take the scrypt path (counted at the password verifier)', () => {
  let server: http.Server;
  let url: string;
  const checked: string[] = [];
  beforeAll(async () => {
    const cfg = configSchema.parse({
      clientAuth: {
        enabled: true,
        identities: [{ name: 'alice', passwordHash: cheapHash('alice-password') }, { name: 'carol', password: 'carol-password' }],
        acl: [{ access: 'allow' }],
      },
    }).clientAuth;
    const auth = ClientAuth.create(cfg, {
      secrets: {} as SecretLoader,
      log: createLogger({ write: () => {} }),
      env: {},
      verifyPassword: (password, encoded) => {
        checked.push(encoded);
        return verifyPassword(password, encoded);
      },
    });
    const requestAuth = new RequestAuth({ clientAuth: auth });
    server = http.createServer((req, res) => {
      void requestAuth.authenticate(req, false).then((r) => sendReply(req, res, r.reply ?? { status: 200, headers: { 'content-type': 'text/plain' }, body: `hello ${r.identity}\n` }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('runs one scrypt per attempt, with the configured parameters, known or not', async () => {
    expect((await request(url, '/', { authorization: basic('alice', 'alice-password') })).status).toBe(200);
    expect((await request(url, '/', { authorization: basic('alice', 'wrong') })).status).toBe(401);
    expect((await request(url, '/', { authorization: basic('nobody', 'wrong') })).status).toBe(401);
    expect((await request(url, '/', { authorization: basic('carol', 'wrong') })).status).toBe(401);
    expect((await request(url, '/', { authorization: basic('carol', 'carol-password') })).status).toBe(200);
    expect(checked).toHaveLength(5);
    for (const h of checked) expect(h).toMatch(/^scrypt\$1024\$8\$1\$/);
  });
});
