// Private repositories through GitHub App credentials: the real go command
// through modproxy, a GitHub API stand-in that verifies the app's JWT and
// issues expiring installation tokens, and git servers that accept only a
// valid token for the repository asked for.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../lib/config/load.js';
import { createSecretLoader } from '../lib/config/secrets.js';
import { GitHubAppCredentials } from '../lib/source/git/githubApp.js';
import { createLogger } from '../lib/log/logger.js';
import { startFileProxyServer, type FileProxyServer } from './support/fileProxyServer.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { makeTestApp, requireAppToken, startGitHubApiDouble, type GitHubApiDouble, type TestApp } from './support/githubApiDouble.js';
import { GoRunner } from './support/goRunner.js';
import { startProxy, type ProxyFixture } from './support/proxyFixture.js';
import { zipH1 } from './support/zipHash.js';
import { RepoBuilder } from './support/repoBuilder.js';

let tmp: string;
let clock = Date.now();
const now = () => clock;
let api: GitHubApiDouble;
let ghesApi: GitHubApiDouble;
let git: GitHttpServer;
let ghesGit: GitHttpServer;
let proxy: ProxyFixture;
/** The next GOPROXY entry after modproxy: it must never be asked for a private path. */
let nextProxy: FileProxyServer;
const logLines: string[] = [];
const bodies: string[] = [];
let apps: Record<string, TestApp>;

async function repoAt(root: string, name: string, modPath: string): Promise<void> {
  const r = await RepoBuilder.create(root, path.join(tmp, 'work', root.replace(/\W/g, '_')), name);
  await r.write({ 'go.mod': `module ${modPath}\n`, 'p.go': 'package p\n' });
  await r.commit('2020-01-01T00:00:00Z');
  await r.tag('v1.0.0');
  await r.write({ 'q.go': 'package p\n' });
  await r.commit('2020-02-01T00:00:00Z');
  await r.tag('v1.1.0');
  await r.publish();
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-ghapp-'));
  apps = {
    acme: makeTestApp(101, [{ id: 11, account: 'acme', repositories: ['private1', 'private2'] }]),
    beta: makeTestApp(202, [{ id: 22, account: 'beta', repositories: ['svc'] }]),
    ghes: makeTestApp(303, [{ id: 33, account: 'team', repositories: ['lib'] }]),
    wrongKey: makeTestApp(606, [{ id: 66, account: 'zeta', repositories: ['z'] }]),
    refused: makeTestApp(707, [{ id: 77, account: 'eta', repositories: ['e'], refuseTokens: true }]),
    gitRefuses: makeTestApp(808, [{ id: 88, account: 'theta', repositories: ['t'] }]),
  };
  const impostor = makeTestApp(606, []); // a valid key GitHub does not know for app 606
  api = await startGitHubApiDouble({ apps: [apps.acme, apps.beta, apps.wrongKey, apps.refused, apps.gitRefuses], now, tokenTtlSeconds: 3600 });
  ghesApi = await startGitHubApiDouble({ apps: [apps.ghes], pathPrefix: '/api/v3', now });
  const root = path.join(tmp, 'repos');
  const ghesRoot = path.join(tmp, 'ghes-repos');
  // theta/t: the API issues tokens for it, but git refuses them (as after a permission change).
  const appToken = requireAppToken(api);
  git = await startGitHttpServer({ projectRoot: root, authorize: (req, repoPath) => (repoPath.startsWith('/theta/') ? 401 : appToken(req, repoPath)) });
  ghesGit = await startGitHttpServer({ projectRoot: ghesRoot, authorize: requireAppToken(ghesApi) });
  await repoAt(root, 'acme/private1', 'github.com/acme/private1');
  await repoAt(root, 'acme/private2', 'github.com/acme/private2');
  await repoAt(root, 'acme/notgranted', 'github.com/acme/notgranted');
  await repoAt(root, 'beta/svc', 'github.com/beta/svc');
  await repoAt(root, 'gamma/x', 'github.com/gamma/x');
  await repoAt(root, 'zeta/z', 'github.com/zeta/z');
  await repoAt(root, 'eta/e', 'github.com/eta/e');
  await repoAt(root, 'theta/t', 'github.com/theta/t');
  await repoAt(ghesRoot, 'team/lib', 'ghe.test/team/lib');
  const keyFile = (name: string, pem: string) => {
    const f = path.join(tmp, `${name}.pem`);
    fs.writeFileSync(f, pem);
    return f;
  };
  const yaml = `
storage:
  fs:
    dir: "${path.join(tmp, 'storage')}"
gitHub:
  - host: github.com
    gitBaseUrl: "${git.url}"
    apiBaseUrl: "${api.url}"
    gitHubApps:
      - id: 101
        privateKey: {file: "${keyFile('acme', apps.acme.privateKey)}"}
      - id: 202
        privateKey: {envVar: APP_202_KEY}
      - id: 606
        privateKey: {file: "${keyFile('impostor', impostor.privateKey)}"}
      - id: 707
        privateKey: {file: "${keyFile('refused', apps.refused.privateKey)}"}
      - id: 808
        privateKey: {file: "${keyFile('gitRefuses', apps.gitRefuses.privateKey)}"}
  - host: ghe.test
    gitBaseUrl: "${ghesGit.url}"
    apiBaseUrl: "${ghesApi.url}"
    gitHubApps:
      - id: 303
        privateKey: {file: "${keyFile('ghes', apps.ghes.privateKey)}"}
privateModules:
  - pathPrefix: github.com/acme
    auth: {gitHubApp: 101}
  - pathPrefix: github.com/gamma
    auth: {gitHubApp: 101}
  - pathPrefix: github.com/beta
    auth: {gitHubApp: 202}
  - pathPrefix: github.com/zeta
    auth: {gitHubApp: 606}
  - pathPrefix: github.com/eta
    auth: {gitHubApp: 707}
  - pathPrefix: github.com/theta
    auth: {gitHubApp: 808}
  - pathPrefix: github.com/anon
  - pathPrefix: ghe.test/team
    auth: {gitHubApp: 303}
resolve:
  gitWorkDir: "${path.join(tmp, 'git')}"
  # Every request lists refs afresh: the tests count what each one asks of the API and git.
  gitRefListingTtlSeconds: 0
# These tests ask without client credentials (clientAuth is covered by test/clientAuth.test.ts).
clientAuth:
  allowUnauthenticated: true
`;
  const log = createLogger({ write: (l) => logLines.push(l), minSeverity: 'DEBUG' });
  // Escaped newlines, as keys often arrive through environment variables.
  const secrets = createSecretLoader({ env: { APP_202_KEY: apps.beta.privateKey.replace(/\n/g, '\\n') } });
  const credentials = new GitHubAppCredentials({ config: parseConfig(yaml), secrets, log, now });
  proxy = await startProxy(yaml, { credentials, log });
  fs.mkdirSync(path.join(tmp, 'next-proxy'));
  nextProxy = await startFileProxyServer(path.join(tmp, 'next-proxy'));
});

afterAll(async () => {
  await proxy?.close();
  await Promise.all([api?.close(), ghesApi?.close(), git?.close(), ghesGit?.close(), nextProxy?.close()]);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function get(p: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`${proxy.url}/${p}`);
  const text = await r.text();
  bodies.push(text);
  return { status: r.status, text };
}

describe('GitHub App credentials', () => {
  it('the go command downloads a private module through modproxy', async () => {
    const runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: {} });
    const r = await runner.download(proxy.url, 'github.com/acme/private1@v1.0.0');
    expect(r.Error).toBeUndefined();
    const zip = Buffer.from(await (await fetch(`${proxy.url}/github.com/acme/private1/@v/v1.0.0.zip`)).arrayBuffer());
    expect(r.Sum).toBe(await zipH1(zip));
    const list = await runner.listVersions(proxy.url, 'github.com/acme/private1');
    expect(list.versions).toEqual(['v1.0.0', 'v1.1.0']);
  });

  it('fails with a clear message when the app is not installed on the repository', async () => {
    const runner = new GoRunner({ tmp: path.join(tmp, 'go2'), insteadOf: {} });
    const notGranted = await runner.download(proxy.url, 'github.com/acme/notgranted@v1.0.0');
    expect(notGranted.Error).toContain("repository github.com/acme/notgranted not found, or not granted to GitHub App 101's installation on acme");
    const noInstallation = await get('github.com/gamma/x/@v/list');
    expect(noInstallation.status).toBe(404);
    expect(noInstallation.text).toContain('GitHub App 101 is not installed on github.com/gamma/x (no installation for gamma)');
  });

  it('keeps "not found" where no credential of ours was refused: git answering 401 to an anonymous request', async () => {
    // As github.com answers a repository that does not exist (or is private) without credentials.
    const anon = await get('github.com/anon/x/@v/list');
    expect(anon.status).toBe(404);
    expect(anon.text).toContain('repository not found, or not readable without credentials (git host answered HTTP 401)');
  });

  it('refuses to start with a key that cannot sign, naming it (not a 404 on every request)', async () => {
    const broken = path.join(tmp, 'broken.pem');
    fs.writeFileSync(broken, '-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n');
    const yaml = `storage:\n  fs:\n    dir: "${path.join(tmp, 'storage-broken')}"\ngitHub:\n  - host: github.com\n    gitHubApps:\n      - id: 505\n        privateKey: {file: "${broken}"}\nprivateModules:\n  - pathPrefix: github.com/delta\n    auth: {gitHubApp: 505}\nclientAuth:\n  allowUnauthenticated: true\n`;
    const log = createLogger({ write: () => {} });
    await expect(startProxy(yaml, { log })).rejects.toThrow(/^gitHub\[0\]\.gitHubApps\[0\]\.privateKey: GitHub App 505's private key is not a PEM private key/);
    await expect(startProxy(yaml.replace(broken, '/nonexistent.pem'), { log })).rejects.toThrow(
      'gitHub[0].gitHubApps[0].privateKey: cannot read secret file /nonexistent.pem: ENOENT',
    );
  });

  it('answers a refused credential of ours with a 5xx that says it is the proxy’s fault, not a 404', async () => {
    const refused = await get('github.com/zeta/z/@v/list');
    expect(refused.status).toBe(502);
    expect(refused.text).toContain('proxy configuration error: GitHub App 606 was refused');
    expect(refused.text).toContain('(HTTP 401)');
    const forbidden = await get('github.com/eta/e/@v/list');
    expect(forbidden.status).toBe(502);
    expect(forbidden.text).toContain('GitHub App 707: installation token request for github.com/eta/e was refused (HTTP 403): the app needs Contents read-only permission');
    // git refusing a token the API issued (after one refresh).
    const gitRefused = await get('github.com/theta/t/@v/v1.0.0.info');
    expect(gitRefused.status).toBe(502);
    expect(gitRefused.text).toContain("proxy configuration error: the git host refused modproxy's credentials (HTTP 401)");
    expect(api.tokenRequests.filter((r) => r.appId === 808 && r.status === 201)).toHaveLength(2);
  });

  it('stops a GOPROXY list there: the next proxy never hears of the private path', async () => {
    const runner = new GoRunner({ tmp: path.join(tmp, 'go-list'), insteadOf: {} });
    for (const [query, reason] of [
      ['github.com/eta/e@v1.0.0', 'installation token request for github.com/eta/e was refused'],
      ['github.com/theta/t@v1.0.0', "the git host refused modproxy's credentials"],
    ]) {
      const r = await runner.download(`${proxy.url},${nextProxy.url}`, query);
      expect(r.Error).toContain('502 Bad Gateway');
      expect(r.Error).toContain(reason);
    }
    expect(nextProxy.requests.filter((p) => p.includes('eta/e') || p.includes('theta/t'))).toEqual([]);
  });

  it('does not remember a credential fault as "not found": fixed, the next request succeeds', async () => {
    const before = api.tokenRequests.filter((r) => r.appId === 707).length;
    expect((await get('github.com/eta/e/@v/list')).status).toBe(502);
    expect(api.tokenRequests.filter((r) => r.appId === 707).length, 'asked again').toBe(before + 1);
    apps.refused.installations[0].refuseTokens = false;
    const fixed = await get('github.com/eta/e/@v/list');
    expect(fixed.status).toBe(200);
    expect(fixed.text).toBe('v1.0.0\nv1.1.0\n');
  });

  it('asks every token for exactly one repository with contents: read', () => {
    const issued = [...api.tokenRequests, ...ghesApi.tokenRequests].filter((r) => r.status === 201);
    expect(issued.length).toBeGreaterThan(0);
    for (const r of [...api.tokenRequests, ...ghesApi.tokenRequests]) {
      // every request, granted or refused
      expect(r.repositories).toHaveLength(1);
      expect(r.repositoryIds).toBeUndefined();
      expect(r.permissions).toEqual({ contents: 'read' });
    }
  });

  it('reuses a token until shortly before it expires, then renews it', async () => {
    const forRepo = () => api.tokenRequests.filter((r) => r.repositories?.[0] === 'private1' && r.status === 201).length;
    const before = forRepo();
    expect((await get('github.com/acme/private1/@v/v1.1.0.info')).status).toBe(200);
    expect((await get('github.com/acme/private1/@v/list')).status).toBe(200);
    expect(forRepo(), 'reused').toBe(before);
    clock += 56 * 60_000; // 4 minutes before expiry: inside the renewal margin
    expect((await get('github.com/acme/private1/@v/main.info')).status).toBe(200);
    expect(forRepo(), 'renewed').toBe(before + 1);
  });

  it('requests one token for concurrent cold requests to one repository', async () => {
    const cold = await Promise.all(['v1.0.0', 'v1.1.0', 'main', '!h!e!a!d', 'v1.0.0', 'v1.1.0'].map((q) => get(`github.com/acme/private2/@v/${q}.info`)));
    expect(cold.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(api.tokenRequests.filter((r) => r.repositories?.[0] === 'private2')).toHaveLength(1);
    expect(api.installationLookups.filter((r) => r === 'acme/private2')).toHaveLength(1);
  });

  it('refreshes a revoked token once when git refuses it', async () => {
    api.revokeAll();
    expect((await get('github.com/acme/private2/@v/list')).status).toBe(200);
    expect(api.tokenRequests.filter((r) => r.repositories?.[0] === 'private2' && r.status === 201)).toHaveLength(2);
  });

  it('serves two apps on two prefixes and a GitHub Enterprise Server host side by side', async () => {
    const [beta, ghes] = await Promise.all([get('github.com/beta/svc/@v/v1.1.0.info'), get('ghe.test/team/lib/@v/v1.0.0.info')]);
    expect(beta.status).toBe(200);
    expect(ghes.status).toBe(200);
    expect(api.tokenRequests.some((r) => r.appId === 202 && r.repositories?.[0] === 'svc')).toBe(true);
    expect(ghesApi.tokenRequests.map((r) => [r.appId, r.repositories?.[0]])).toEqual([[303, 'lib']]);
    expect(ghesApi.requests.every((r) => r.path.startsWith('/api/v3/'))).toBe(true);
    // Each API saw only its own app's JWTs.
    expect(api.tokenRequests.every((r) => r.appId !== 303)).toBe(true);
  });

  it('never puts a token or a key in a log line or a response body', () => {
    const secrets = [...api.issuedTokens(), ...ghesApi.issuedTokens()];
    expect(secrets.length).toBeGreaterThan(3);
    const keyMaterial = Object.values(apps).map((a) => a.privateKey.split('\n')[1]);
    const everything = [...logLines, ...bodies].join('\n');
    for (const s of [...secrets, ...keyMaterial]) expect(everything.includes(s), 'a secret leaked').toBe(false);
    expect(everything).not.toMatch(/x-access-token:|PRIVATE KEY/);
    // The structured logs do say what happened.
    expect(logLines.some((l) => l.includes('GitHub App installation token issued') && l.includes('acme/private1'))).toBe(true);
  });
});
