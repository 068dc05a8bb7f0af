// The deployable entry point (functions/index.ts, the module functions-framework
// loads) refuses configurations that would fail open or fail on every request:
// the process exits non-zero with one structured ERROR line that names the
// configuration key, before it serves anything.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let tmp: string;
let keyFile: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-refusal-'));
  keyFile = path.join(tmp, 'app.pem');
  fs.writeFileSync(keyFile, crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Entry {
  severity: string;
  message: string;
}

/**
 * Loads the entry point as functions-framework does (an ES module import) with
 * $MODPROXY_CONFIG, in its own process; resolves with its exit code and its
 * structured log lines. Registering the function does not listen, so a
 * configuration that starts exits 0 once loaded.
 */
function loadEntryPoint(config: string, env: Record<string, string> = {}): Promise<{ code: number | null; entries: Entry[]; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('functions/index.ts')], {
    env: { PATH: process.env.PATH, HOME: tmp, MODPROXY_CONFIG: config, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      const entries = output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Entry);
      resolve({ code, entries, output });
    }),
  );
}

const config = (privateKey: string, extra = '') => `
storage:
  fs:
    dir: "${path.join(tmp, 'storage')}"
gitHub:
  - host: github.com
    gitHubApps:
      - id: 123456
        privateKey: ${privateKey}
privateModules:
  - pathPrefix: github.com/my-org
    auth: {gitHubApp: 123456}
${extra}`;

const severities = (entries: Entry[], s: string) => entries.filter((e) => e.severity === s).map((e) => e.message);

describe('start-up refusals', () => {
  it('refuses to serve private modules read with a GitHub App to anyone: exits with one ERROR line naming clientAuth.allowUnauthenticated', async () => {
    const r = await loadEntryPoint(config(`{file: "${keyFile}"}`));
    expect(r.code).not.toBe(0);
    const errors = severities(r.entries, 'ERROR');
    expect(errors, r.output).toHaveLength(1);
    expect(errors[0]).toContain('anyone who can reach this proxy could read them');
    expect(errors[0]).toContain('clientAuth.allowUnauthenticated: true');
    expect(severities(r.entries, 'INFO')).not.toContain('modproxy started');
  });

  it('starts with clientAuth.allowUnauthenticated: true, with a WARNING', async () => {
    const r = await loadEntryPoint(config(`{file: "${keyFile}"}`, 'clientAuth:\n  allowUnauthenticated: true\n'));
    expect(r.code, r.output).toBe(0);
    expect(severities(r.entries, 'WARNING')).toEqual([expect.stringContaining('clientAuth.allowUnauthenticated is true')]);
    expect(severities(r.entries, 'INFO')).toContain('modproxy started');
  });

  it('refuses an unreadable GitHub App key at start-up, naming its key (not a 404 on every request)', async () => {
    const r = await loadEntryPoint(config('{file: /nonexistent.pem}', 'clientAuth:\n  allowUnauthenticated: true\n'));
    expect(r.code).not.toBe(0);
    expect(severities(r.entries, 'ERROR')).toEqual(['modproxy cannot start: gitHub[0].gitHubApps[0].privateKey: cannot read secret file /nonexistent.pem: ENOENT']);
    const unset = await loadEntryPoint(config('{envVar: GITHUB_APP_KEY}', 'clientAuth:\n  allowUnauthenticated: true\n'));
    expect(unset.code).not.toBe(0);
    expect(severities(unset.entries, 'ERROR')).toEqual(['modproxy cannot start: gitHub[0].gitHubApps[0].privateKey: environment variable GITHUB_APP_KEY is not set']);
  });

  it('refuses an access-token secret shorter than 32 bytes', async () => {
    const yaml = `${config(`{file: "${keyFile}"}`)}clientAuth:
  enabled: true
  identities:
    - name: ci
      passwordHash: {envVar: HASH}
  authenticators:
    accessToken:
      audience: https://modproxy.example.com/
      secret: {envVar: TOKEN_SECRET}
  acl:
    - identities: [ci]
      access: allow
`;
    const hash = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
    const short = await loadEntryPoint(yaml, { HASH: hash, TOKEN_SECRET: 'changeme' });
    expect(short.code).not.toBe(0);
    expect(severities(short.entries, 'ERROR')).toEqual([expect.stringMatching(/^modproxy cannot start: clientAuth\.authenticators\.accessToken\.secret: too short \(8 bytes\)/)]);
    const ok = await loadEntryPoint(yaml, { HASH: hash, TOKEN_SECRET: crypto.randomBytes(48).toString('base64') });
    expect(ok.code, ok.output).toBe(0);
    expect(severities(ok.entries, 'ERROR')).toEqual([]);
  });
});
