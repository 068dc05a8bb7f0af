import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, NO_VERIFIER_ERROR } from './app.js';
import { createSecretLoader } from './config/secrets.js';
import { parseConfig } from './config/load.js';
import { createLogger } from './log/logger.js';
import { GoSumVerifier } from './source/proxy/verifier.js';
import { MemoryStorage } from './storage/memoryStorage.js';

describe('createApp', () => {
  it('warns about go-mod-proxy keys it accepts but does not act on (sumDatabaseProxy and tls are acted on)', () => {
    const lines: string[] = [];
    // tls is acted on now too (by the server entry), so it is not reported.
    const config = parseConfig('sumDatabaseProxy:\n  sumDatabases: []\nmaxChildProcesses: 4\ntls:\n  minVersion: TLS1.2\nprivateModules:\n  - pathPrefix: github.com/o\n');
    createApp(config, { log: createLogger({ write: (l) => lines.push(l) }), storage: new MemoryStorage() });
    const warnings = lines.map((l) => JSON.parse(l) as { severity: string; message: string }).filter((e) => e.severity === 'WARNING');
    expect(warnings.map((w) => w.message)).toEqual(['configuration key maxChildProcesses is accepted for compatibility with go-mod-proxy and ignored']);
  });

  it('refuses to start with a parent proxy and nothing to verify what it sends (fail closed)', () => {
    const yaml = 'parentProxy:\n  url: https://proxy.golang.org\nprivateModules:\n  - pathPrefix: github.com/o\n';
    expect(() => createApp(parseConfig(yaml), { log: createLogger({ write: () => {} }), storage: new MemoryStorage() })).toThrow(NO_VERIFIER_ERROR);
    expect(NO_VERIFIER_ERROR).toContain('publicModules.sumDatabase');
    expect(NO_VERIFIER_ERROR).not.toContain('\n');
  });

  it('verifies public modules with the configured checksum database, and refuses keys that cannot be right', () => {
    const yaml = 'parentProxy:\n  url: https://proxy.golang.org\nprivateModules:\n  - pathPrefix: github.com/o\npublicModules:\n  sumDatabase:\n';
    const start = (db: string) => createApp(parseConfig(yaml + db), { log: createLogger({ write: () => {} }), storage: new MemoryStorage() });
    // sum.golang.org needs no key in the configuration: the go command's own is built in.
    expect(start('    name: sum.golang.org\n    url: https://sum.golang.org\n').service.serves('golang.org/x/mod')).toBe(true);
    expect(() => start('    name: sum.example.com\n    url: https://sum.example.com\n')).toThrow('publicModules.sumDatabase.publicKey is required');
    expect(() => start('    name: sum.example.com\n    url: https://sum.example.com\n    publicKey: "garbage"\n')).toThrow(/^publicModules\.sumDatabase\.publicKey: /);
    expect(() => start('    name: sum.example.com\n    url: https://sum.example.com\n    publicKey: "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"\n')).toThrow(
      'publicModules.sumDatabase.publicKey is the key of sum.golang.org, not of sum.example.com',
    );
  });

  it('serves every module when a parent proxy is configured with a verifier', () => {
    const lines: string[] = [];
    const config = parseConfig('parentProxy:\n  url: https://proxy.golang.org\nprivateModules:\n  - pathPrefix: github.com/o\n');
    const app = createApp(config, { log: createLogger({ write: (l) => lines.push(l) }), storage: new MemoryStorage(), verifier: new GoSumVerifier('') });
    expect(app.service.serves('golang.org/x/mod')).toBe(true);
    expect(app.service.serves('github.com/o/r')).toBe(true);
    expect(lines.filter((l) => l.includes('WARNING'))).toEqual([]);
  });

  it('accepts parent credentials as Basic or bearer, not both', () => {
    const base = 'parentProxy:\n  url: https://proxy.example.com\n  auth:\n';
    expect(parseConfig(base + '    bearerToken: {envVar: TOKEN}\n').parentProxy?.auth?.bearerToken).toEqual({ envVar: 'TOKEN' });
    expect(parseConfig(base + '    username: ci\n    password: pw\n').parentProxy?.timeoutSeconds).toBe(30);
    expect(() => parseConfig(base + '    username: ci\n    password: pw\n    bearerToken: t\n')).toThrow(/bearerToken/);
    expect(() => parseConfig(base + '    username: ci\n')).toThrow(/username and password/);
  });
});

/** Structured log lines of one severity. */
const linesOf = (lines: string[], severity: string) =>
  lines.map((l) => JSON.parse(l) as { severity: string; message: string }).filter((e) => e.severity === severity);

const APP_CONFIG = (key: string, extra = '') => `
gitHub:
  - host: github.com
    gitHubApps:
      - id: 123
        privateKey: ${key}
privateModules:
  - pathPrefix: github.com/my-org
    auth: {gitHubApp: 123}
${extra}`;

describe('createApp refuses an open proxy', () => {
  it('refuses to serve modules read with a GitHub App without clientAuth: one line naming the risk and the opt-in key', () => {
    const lines: string[] = [];
    const start = () => createApp(parseConfig(APP_CONFIG('{envVar: KEY}')), { log: createLogger({ write: (l) => lines.push(l) }), storage: new MemoryStorage() });
    expect(start).toThrow(/clientAuth\.allowUnauthenticated: true/);
    let message = '';
    try {
      start();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toContain('\n');
    expect(message).toContain('anyone who can reach this proxy could read them');
    expect(message).toContain('privateModules[0] github.com/my-org through GitHub App 123');
    // The entry points log it as their one ERROR line (functions/start.ts; test/startRefusal.test.ts).
    expect(linesOf(lines, 'ERROR')).toEqual([]);
  });

  it('refuses gitHosts credentials without clientAuth too', () => {
    const yaml = 'privateModules:\n  - pathPrefix: gitlab.example.com/g\ngitHosts:\n  - host: gitlab.example.com\n    auth: {bearer: {envVar: T}}\n';
    expect(() => createApp(parseConfig(yaml), { log: createLogger({ write: () => {} }), storage: new MemoryStorage() })).toThrow(
      /gitHosts\[0\] gitlab\.example\.com with bearer credentials.*clientAuth\.allowUnauthenticated/,
    );
  });

  it('refuses parent proxy credentials without clientAuth too', () => {
    const yaml = 'parentProxy:\n  url: https://proxy.example.com\n  auth:\n    bearerToken: {envVar: T}\npublicModules:\n  sumDatabase:\n    name: sum.golang.org\n    url: https://sum.golang.org\n';
    expect(() => createApp(parseConfig(yaml), { log: createLogger({ write: () => {} }), storage: new MemoryStorage() })).toThrow(/parentProxy\.auth.*clientAuth\.allowUnauthenticated/);
  });

  it('starts with the explicit opt-in, with a WARNING; and with clientAuth on, without one', () => {
    const lines: string[] = [];
    createApp(parseConfig(APP_CONFIG('{envVar: KEY}', 'clientAuth:\n  allowUnauthenticated: true\n')), { log: createLogger({ write: (l) => lines.push(l) }), storage: new MemoryStorage() });
    expect(linesOf(lines, 'WARNING').map((w) => w.message)).toEqual([expect.stringContaining('clientAuth.allowUnauthenticated is true')]);
    expect(linesOf(lines, 'ERROR')).toEqual([]);
    const quiet: string[] = [];
    const withAuth = 'clientAuth:\n  enabled: true\n  identities: [{name: ci, passwordHash: "scrypt$1$1$1$AA==$AA=="}]\n  acl: [{identities: [ci], access: allow}]\n';
    createApp(parseConfig(APP_CONFIG('{envVar: KEY}', withAuth)), { log: createLogger({ write: (l) => quiet.push(l) }), storage: new MemoryStorage() });
    expect(linesOf(quiet, 'WARNING')).toEqual([]);
  });

  it('starts as before when git is read anonymously', () => {
    const lines: string[] = [];
    createApp(parseConfig('privateModules:\n  - pathPrefix: github.com/o\n'), { log: createLogger({ write: (l) => lines.push(l) }), storage: new MemoryStorage() });
    expect(lines).toEqual([]);
  });
});

describe('app.ready() reads and checks every secret at start-up', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-app-test-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const rsaPem = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const OPT_IN = 'clientAuth:\n  allowUnauthenticated: true\n';
  const ready = async (yaml: string, env: NodeJS.ProcessEnv = {}) => {
    const lines: string[] = [];
    const app = createApp(parseConfig(yaml), { log: createLogger({ write: (l) => lines.push(l) }), storage: new MemoryStorage(), secrets: createSecretLoader({ env }) });
    const outcome = await app.ready().then(
      () => 'ready',
      (err: Error) => err.message,
    );
    // A refusal is the error alone: the entry points log it as their one ERROR line.
    expect(linesOf(lines, 'ERROR')).toEqual([]);
    expect(outcome).not.toContain('\n');
    return outcome;
  };

  it('accepts a readable RSA key (PKCS#1, as GitHub hands them out, or PKCS#8)', async () => {
    expect(await ready(APP_CONFIG(`{file: "${file('ok.pem', rsaPem)}"}`, OPT_IN))).toBe('ready');
    const pkcs8 = crypto.createPrivateKey(rsaPem).export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(await ready(APP_CONFIG('{envVar: KEY}', OPT_IN), { KEY: pkcs8.replace(/\n/g, '\\n') })).toBe('ready');
  });

  it('names the key of an unreadable GitHub App key: a missing file, an unset variable', async () => {
    expect(await ready(APP_CONFIG('{file: /nonexistent.pem}', OPT_IN))).toBe('gitHub[0].gitHubApps[0].privateKey: cannot read secret file /nonexistent.pem: ENOENT');
    expect(await ready(APP_CONFIG('{envVar: NO_SUCH_KEY}', OPT_IN))).toBe('gitHub[0].gitHubApps[0].privateKey: environment variable NO_SUCH_KEY is not set');
  });

  it('refuses a GitHub App key that is not a PEM RSA private key', async () => {
    const notPem = await ready(APP_CONFIG(`{file: "${file('broken.pem', '-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n')}"}`, OPT_IN));
    expect(notPem).toMatch(/^gitHub\[0\]\.gitHubApps\[0\]\.privateKey: GitHub App 123's private key is not a PEM private key/);
    const publicKey = crypto.createPublicKey(rsaPem).export({ type: 'spki', format: 'pem' }).toString();
    expect(await ready(APP_CONFIG(`{file: "${file('public.pem', publicKey)}"}`, OPT_IN))).toMatch(/is not a PEM private key/);
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(await ready(APP_CONFIG(`{file: "${file('ec.pem', ec)}"}`, OPT_IN))).toBe(
      "gitHub[0].gitHubApps[0].privateKey: GitHub App 123's private key is a ec key; GitHub App keys are RSA (RS256)",
    );
    // Nothing of the key in the message.
    expect(notPem).not.toContain('not a key');
  });

  const CLIENT_AUTH = (secret: string, hash = '"scrypt$1$1$1$AA==$AA=="') => `
privateModules:
  - pathPrefix: github.com/o
clientAuth:
  enabled: true
  identities:
    - name: ci
      passwordHash: ${hash}
  authenticators:
    accessToken:
      audience: https://modproxy.example.com/
      secret: ${secret}
  acl:
    - identities: [ci]
      access: allow
`;

  it('refuses an access-token secret shorter than 32 bytes, naming its key', async () => {
    expect(await ready(CLIENT_AUTH('{envVar: S}'), { S: 'x'.repeat(31) + '\n' })).toMatch(
      /^clientAuth\.authenticators\.accessToken\.secret: too short \(31 bytes\).*openssl rand -base64 48/,
    );
    expect(await ready(CLIENT_AUTH('{envVar: S}'), { S: crypto.randomBytes(48).toString('base64') + '\n' })).toBe('ready');
  });

  it('names the key of an unreadable client or parent credential', async () => {
    const token = crypto.randomBytes(48).toString('base64');
    expect(await ready(CLIENT_AUTH('{envVar: S}', '{file: /nonexistent-hash}'), { S: token })).toBe(
      'clientAuth.identities[0].passwordHash: cannot read secret file /nonexistent-hash: ENOENT',
    );
    expect(await ready(CLIENT_AUTH('{envVar: UNSET}'))).toBe('clientAuth.authenticators.accessToken.secret: environment variable UNSET is not set');
    const parent = `parentProxy:\n  url: https://proxy.example.com\n  auth:\n    username: ci\n    password: {envVar: PARENT_PW}\npublicModules:\n  sumDatabase:\n    name: sum.golang.org\n    url: https://sum.golang.org\n${OPT_IN}`;
    expect(await ready(parent)).toBe('parentProxy.auth.password: environment variable PARENT_PW is not set');
    expect(await ready(parent, { PARENT_PW: 'pw' })).toBe('ready');
  });
});
