// ClientAuth's decisions, with the password check counted (the real scrypt
// verifier, wrapped) and the clock and environment injected.
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import type { SecretLoader } from '../config/secrets.js';
import { createLogger } from '../log/logger.js';
import { ClientAuth, type ClientAuthDeps } from './clientAuth.js';
import { verifyPassword } from './passwords.js';

const SECRET = 'unit-test-token-secret-0123456789abcdef';
let bobHash: string;
beforeAll(() => {
  // A real scrypt hash with a small N, so that the many checks below stay quick.
  const salt = crypto.randomBytes(16);
  bobHash = `scrypt$1024$8$1$${salt.toString('base64')}$${crypto.scryptSync('bob-password', salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64')}`;
});

interface Harness {
  auth: ClientAuth;
  logs: Array<Record<string, unknown>>;
  checked: string[]; // the hash each scrypt run was against
  clock: { now: number };
}

async function harness(extra: Record<string, unknown> = {}, deps: Partial<ClientAuthDeps> = {}, verifyDelayMs = 0): Promise<Harness> {
  const cfg = configSchema.parse({
    clientAuth: {
      enabled: true,
      identities: [{ name: 'alice', password: 'alice-password' }, { name: 'bob', passwordHash: bobHash }, { name: 'carol' }],
      authenticators: { accessToken: { audience: 'aud', secret: SECRET } },
      acl: [{ access: 'allow' }],
      ...extra,
    },
  }).clientAuth;
  const logs: Array<Record<string, unknown>> = [];
  const checked: string[] = [];
  const clock = { now: 1_700_000_000_000 };
  const auth = await ClientAuth.create(cfg, {
    secrets: {} as SecretLoader,
    log: createLogger({ write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>), minSeverity: 'DEBUG' }),
    now: () => clock.now,
    env: {},
    verifyPassword: async (password, encoded) => {
      checked.push(encoded);
      if (verifyDelayMs) await new Promise((r) => setTimeout(r, verifyDelayMs));
      return verifyPassword(password, encoded);
    },
    ...deps,
  });
  return { auth, logs, checked, clock };
}

const req = (authorization: string | undefined, peer = '198.51.100.7', xff?: string) =>
  ({
    headers: { ...(authorization !== undefined ? { authorization } : {}), ...(xff ? { 'x-forwarded-for': xff } : {}) },
    socket: { remoteAddress: peer },
  }) as unknown as IncomingMessage;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const params = (hash: string) => hash.split('$').slice(0, 4).join('$');

describe('a Basic header that passed lately', () => {
  it('is not checked again (one scrypt for a build’s many requests), and only a success is remembered', async () => {
    const h = await harness();
    const ok = basic('bob', 'bob-password');
    for (let i = 0; i < 20; i++) expect(await h.auth.authenticate(req(ok))).toEqual({ kind: 'identity', identity: 'bob', via: 'basic' });
    expect(h.checked).toHaveLength(1);
    // A wrong password is checked every time.
    for (let i = 0; i < 3; i++) expect((await h.auth.authenticate(req(basic('bob', 'nope')))).kind).toBe('invalid');
    expect(h.checked).toHaveLength(4);
    // After five minutes the header is checked again.
    h.clock.now += 301_000;
    expect((await h.auth.authenticate(req(ok))).kind).toBe('identity');
    expect(h.checked).toHaveLength(5);
  });
});

describe('password checks cost the same whether the identity exists or not', () => {
  it('runs scrypt with the configured parameters for an unknown identity, a passwordless one, and a plaintext one', async () => {
    const h = await harness();
    expect((await h.auth.authenticate(req(basic('nobody', 'x')))).kind).toBe('invalid');
    expect((await h.auth.authenticate(req(basic('carol', 'x')))).kind).toBe('invalid');
    expect((await h.auth.authenticate(req(basic('alice', 'x')))).kind).toBe('invalid');
    expect((await h.auth.authenticate(req(basic('alice', 'alice-password')))).kind).toBe('identity');
    expect((await h.auth.authenticate(req(basic('bob', 'x')))).kind).toBe('invalid');
    expect(h.checked).toHaveLength(5);
    expect(h.checked[4]).toBe(bobHash);
    for (const hash of h.checked.slice(0, 4)) {
      expect(hash).not.toBe(bobHash);
      expect(params(hash)).toBe(params(bobHash));
    }
  });

  it('does the same at /auth/userpassword', async () => {
    const h = await harness();
    expect((await h.auth.issueForPassword(req(undefined), { user: 'nobody', password: 'x' })).status).toBe(401);
    expect((await h.auth.issueForPassword(req(undefined), { user: 'alice', password: 'alice-password' })).status).toBe(200);
    expect(h.checked).toHaveLength(2);
  });
});

describe('limits hold under concurrency', () => {
  it('evaluates at most the budget of 200 concurrent wrong Basic passwords for one identity', async () => {
    const h = await harness({}, {}, 20);
    const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => h.auth.authenticate(req(basic('bob', `guess-${i}`)))));
    expect(h.checked.length).toBe(10);
    expect(outcomes.filter((o) => o.kind === 'invalid')).toHaveLength(10);
    expect(outcomes.filter((o) => o.kind === 'throttled')).toHaveLength(190);
  });

  it('evaluates at most the budget of 200 concurrent wrong passwords at /auth/userpassword', async () => {
    const h = await harness({}, {}, 20);
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => h.auth.issueForPassword(req(undefined), { user: 'bob', password: `guess-${i}` })));
    expect(h.checked.length).toBe(10);
    expect(replies.filter((r) => r.status === 429)).toHaveLength(190);
    expect(replies.find((r) => r.status === 429)?.retryAfterSeconds).toBe(1);
  });

  it('shares the limits between Basic and /auth/userpassword', async () => {
    const h = await harness();
    for (let i = 0; i < 10; i++) await h.auth.authenticate(req(basic('bob', `guess-${i}`)));
    expect((await h.auth.issueForPassword(req(undefined), { user: 'bob', password: 'bob-password' })).status).toBe(429);
    expect(h.checked).toHaveLength(10);
  });
});

describe('malformed credentials', () => {
  it('are invalid (never a throw), counted against the address, and never reach the password check', async () => {
    const h = await harness({ failureLimit: { maxFailures: 2, maxFailuresPerAddress: 5 } });
    const bad = ['Basic', 'Basic !!!!', `Basic ${Buffer.from('no-colon').toString('base64')}`, 'Basic YWxpY2U6eB==', `Basic  ${Buffer.from('a:b').toString('base64')}`];
    for (const header of bad) expect(await h.auth.authenticate(req(header))).toMatchObject({ kind: 'invalid' });
    expect(h.checked).toHaveLength(0);
    expect(await h.auth.authenticate(req(basic('alice', 'alice-password')))).toMatchObject({ kind: 'throttled' });
    expect(await h.auth.authenticate(req(basic('alice', 'alice-password'), '198.51.100.8'))).toMatchObject({ kind: 'identity' });
  });

  it('at /auth/userpassword: an over-long or control-character identity is invalid and counted, not checked', async () => {
    const h = await harness({ failureLimit: { maxFailures: 2, maxFailuresPerAddress: 2 } });
    expect((await h.auth.issueForPassword(req(undefined), { user: 'x'.repeat(300), password: 'p' })).status).toBe(401);
    expect((await h.auth.issueForPassword(req(undefined), { user: 'al\u0000ice', password: 'p' })).status).toBe(401);
    expect(h.checked).toHaveLength(0);
    expect((await h.auth.issueForPassword(req(undefined), { user: 'alice', password: 'alice-password' })).status).toBe(429);
  });
});

describe('the client address', () => {
  it('is the socket peer by default off Cloud Run, whatever X-Forwarded-For says', async () => {
    const h = await harness({ failureLimit: { maxFailures: 3 } });
    for (let i = 0; i < 3; i++) await h.auth.authenticate(req(basic('bob', 'x'), '10.0.0.1', `203.0.113.${i}`));
    expect(await h.auth.authenticate(req(basic('bob', 'x'), '10.0.0.1', '203.0.113.200'))).toMatchObject({ kind: 'throttled' });
    expect(h.auth.trustedProxyHops).toBe(0);
  });

  it('is the last X-Forwarded-For entry by default on Cloud Run', async () => {
    const h = await harness({}, { env: { K_SERVICE: 'modproxy' } });
    expect(h.auth.trustedProxyHops).toBe(1);
    expect(h.auth.clientAddress(req(undefined, '10.0.0.1', '1.2.3.4, 203.0.113.9'))).toBe('203.0.113.9');
  });

  it('is the configured hop when trustedProxyHops is set', async () => {
    const h = await harness({ trustedProxyHops: 2 }, { env: { K_SERVICE: 'modproxy' } });
    expect(h.auth.clientAddress(req(undefined, '10.0.0.1', '1.2.3.4, 203.0.113.9, 35.1.1.1'))).toBe('203.0.113.9');
    const none = await harness({ trustedProxyHops: 0 }, { env: { K_SERVICE: 'modproxy' } });
    expect(none.auth.clientAddress(req(undefined, '10.0.0.1', '203.0.113.9'))).toBe('10.0.0.1');
  });
});

describe('failure warnings', () => {
  it('come once per identity and interval, name the claimed identity and client, count what they stand for, and hold no password', async () => {
    const h = await harness({ failureLimit: { maxFailures: 1000, maxFailuresPerIdentity: 1000, maxFailuresPerAddress: 1000 } });
    const check = async (user: string, password: string, peer: string) => h.auth.authenticate(req(basic(user, password), peer));
    for (let i = 0; i < 20; i++) await check('alice', `wrong-password-${i}`, `198.51.100.${i}`);
    await check('mallory\u200b'.repeat(20), 'pw', '198.51.100.99');
    let warnings = h.logs.filter((l) => l.message === 'client authentication failed');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({ severity: 'WARNING', identity: 'alice', client: '198.51.100.0', suppressedSinceLastLine: 0 });
    expect(warnings[1].identity).toBe(`${'mallory?'.repeat(8)}…`);
    h.clock.now += 61_000;
    await check('alice', 'wrong-again', '198.51.100.50');
    warnings = h.logs.filter((l) => l.message === 'client authentication failed');
    expect(warnings).toHaveLength(3);
    expect(warnings[2]).toMatchObject({ identity: 'alice', client: '198.51.100.50', suppressedSinceLastLine: 19 });
    expect(JSON.stringify(h.logs)).not.toMatch(/wrong-password|wrong-again|alice-password/);
  });

  it('stay few when every failure claims a different identity', async () => {
    const h = await harness({ failureLimit: { maxFailures: 1000, maxFailuresPerIdentity: 1000, maxFailuresPerAddress: 100_000 } }, { verifyPassword: async () => false });
    for (let i = 0; i < 1000; i++) await h.auth.authenticate(req(basic(`junk-${i}`, 'x')));
    expect(h.logs.filter((l) => l.message === 'client authentication failed').length).toBeLessThanOrEqual(100);
    h.clock.now += 61_000;
    await h.auth.authenticate(req(basic('junk-x', 'x')));
    expect(h.logs.at(-1)).toMatchObject({ otherFailuresSuppressed: 900 });
  });
});

describe('bearer tokens', () => {
  it('without exp are refused', async () => {
    const h = await harness();
    const key = new TextEncoder().encode(SECRET);
    const forever = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setAudience('aud').sign(key);
    expect(await h.auth.authenticate(req(`Bearer ${forever}`))).toMatchObject({ kind: 'invalid' });
    const expiring = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setAudience('aud').setExpirationTime(h.clock.now / 1000 + 60).sign(key);
    expect(await h.auth.authenticate(req(`Bearer ${expiring}`))).toMatchObject({ kind: 'identity', identity: 'alice' });
  });

  it('that are invalid count against the address', async () => {
    const h = await harness({ failureLimit: { maxFailures: 3, maxFailuresPerAddress: 3 } });
    for (let i = 0; i < 3; i++) expect(await h.auth.authenticate(req('Bearer not.a.token'))).toMatchObject({ kind: 'invalid' });
    expect(await h.auth.authenticate(req('Bearer not.a.token'))).toMatchObject({ kind: 'throttled', retryAfterSeconds: 1 });
  });
});
