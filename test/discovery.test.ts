// Import-path discovery, differential: the real go command in direct mode
// (GOPROXY=direct, GOPRIVATE, .netrc credentials) and through modproxy must
// agree on versions, sums and lists, and fail alike, for a vanity domain, a
// GitLab-style nested subgroup (visible only to authenticated discovery),
// conflicting and missing go-import tags, and refused credentials.
//
// Made-up hosts (gitlab.example.test, go.example.test) are reached by both
// through a CONNECT proxy (HTTPS_PROXY) to one HTTPS server on loopback, which
// answers ?go-get=1 and forwards git smart HTTP to `git http-backend` behind
// Basic auth. The go-import repository URLs name that server's 127.0.0.1
// address, which both reach directly.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectProxy, type ConnectProxy } from './support/connectProxy.js';
import { goImportPage, startDiscoveryServer, type DiscoveryServer, type PageHandler } from './support/discoveryServer.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { GoRunner } from './support/goRunner.js';
import { startProxyProcess, type ProxyProcess } from './support/proxyProcess.js';
import { RepoBuilder } from './support/repoBuilder.js';
import { makeTestCert, type TestCert } from './support/tlsCert.js';

const USER = 'deploy';
const TOKEN = 'glpat-test-token';
const BASIC = `Basic ${Buffer.from(`${USER}:${TOKEN}`).toString('base64')}`;
const HOSTS = ['gitlab.example.test', 'go.example.test'];

describe('import-path discovery: go command direct vs modproxy', () => {
  let tmp: string;
  let cert: TestCert;
  let git: GitHttpServer;
  let front: DiscoveryServer;
  let connect: ConnectProxy;
  let proxy: ProxyProcess;
  let go: GoRunner;
  let direct: Record<string, string>;
  let viaProxy: Record<string, string>;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'discovery-diff-'));
    const repos = path.join(tmp, 'repos');
    const work = path.join(tmp, 'work');
    cert = makeTestCert(path.join(tmp, 'cert'), HOSTS);

    const project = await RepoBuilder.create(repos, work, 'group/sub/project');
    await project.write({ 'go.mod': 'module gitlab.example.test/group/sub/project\n\ngo 1.21\n', 'p.go': 'package project\n' });
    await project.commit('2024-01-02T03:04:05Z');
    await project.tag('v1.0.0');
    await project.write({ 'p.go': 'package project\n\nconst V = 2\n' });
    await project.commit('2024-02-02T03:04:05Z');
    await project.tag('v1.1.0');
    await project.publish();
    const lib = await RepoBuilder.create(repos, work, 'lib');
    await lib.write({ 'go.mod': 'module go.example.test/lib\n\ngo 1.21\n', 'sub/s.go': 'package sub\n' });
    await lib.commit('2024-03-02T03:04:05Z');
    await lib.tag('v0.3.0');
    await lib.publish();

    // Every git request needs the deploy token, as a private GitLab project does.
    git = await startGitHttpServer({ projectRoot: repos, authorize: (req) => (req.headers.authorization === BASIC ? undefined : 401) });
    let base = '';
    const pages: PageHandler = (r) => {
      const p = r.path.replace(/\?go-get=1$/, '').slice(1);
      const elems = p.split('/');
      if (r.host === 'gitlab.example.test') {
        if (elems[0] === 'locked') return { status: 401, html: 'login' };
        // GitLab: the project path only to an authenticated request; else the first two elements.
        const n = r.authorization === BASIC && elems.length >= 3 ? 3 : 2;
        const root = elems.slice(0, n).join('/');
        return { html: goImportPage(`gitlab.example.test/${root} git ${base}/${root}`) };
      }
      if (r.host === 'go.example.test') {
        if (elems[0] === 'lib') return { html: goImportPage(`go.example.test/lib git ${base}/lib`) };
        if (elems[0] === 'twice') return { html: goImportPage(`go.example.test/twice git ${base}/lib`, `go.example.test/twice/x git ${base}/lib`) };
        if (elems[0] === 'nometa') return { html: '<html><head><title>nothing here</title></head><body></body></html>' };
      }
      return undefined;
    };
    front = await startDiscoveryServer(cert, pages, git.port);
    base = `https://127.0.0.1:${front.port}`;
    connect = await startConnectProxy(Object.fromEntries(HOSTS.map((h) => [`${h}:443`, front.port])));

    const netEnv = { HTTPS_PROXY: connect.url, NO_PROXY: '127.0.0.1' };
    proxy = await startProxyProcess(
      [
        `storage: { fs: { dir: "${path.join(tmp, 'store')}" } }`,
        'privateModules:',
        ...HOSTS.map((h) => `  - pathPrefix: ${h}`),
        'gitHosts:',
        ...['gitlab.example.test', `127.0.0.1:${front.port}`].map((h) => `  - host: "${h}"\n    auth: { basic: { username: ${USER}, password: { envVar: DISCOVERY_TOKEN } } }`),
        'clientAuth: { allowUnauthenticated: true }',
        `resolve: { gitWorkDir: "${path.join(tmp, 'gitwork')}" }`,
      ].join('\n') + '\n',
      { ...netEnv, NODE_EXTRA_CA_CERTS: cert.certFile, DISCOVERY_TOKEN: TOKEN },
    );

    go = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: {} });
    fs.writeFileSync(path.join(tmp, 'go', '.netrc'), [...HOSTS, '127.0.0.1'].map((h) => `machine ${h} login ${USER} password ${TOKEN}\n`).join(''));
    const common = { ...netEnv, SSL_CERT_FILE: cert.certFile, GIT_SSL_CAINFO: cert.certFile, GONOSUMDB: HOSTS.join(',') };
    direct = { ...common, GOPRIVATE: HOSTS.join(',') };
    viaProxy = { ...common, GOPRIVATE: '' };
  }, 120_000);

  afterAll(async () => {
    await proxy?.stop();
    await connect?.close();
    await front?.close();
    await git?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function both(query: string) {
    const d = await go.download('direct', query, { env: direct });
    const p = await go.download(proxy.url, query, { env: viaProxy });
    return { d, p };
  }

  async function list(goproxy: string, env: Record<string, string>, mod: string) {
    const cache = path.join(tmp, 'go', `list-${Math.random().toString(36).slice(2)}`);
    fs.mkdirSync(cache);
    try {
      const r = await go.run(goproxy, cache, ['list', '-m', '-versions', mod], env);
      return r.code === 0 ? r.stdout.trim() : `error`;
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  }

  it('a nested GitLab subgroup, found with credentials: same versions, sums and lists', async () => {
    for (const q of ['gitlab.example.test/group/sub/project@latest', 'gitlab.example.test/group/sub/project@v1.0.0']) {
      const { d, p } = await both(q);
      expect(d.Error).toBeUndefined();
      expect(p.Error).toBeUndefined();
      expect([p.Version, p.Sum, p.GoModSum]).toEqual([d.Version, d.Sum, d.GoModSum]);
    }
    const mod = 'gitlab.example.test/group/sub/project';
    const dl = await list('direct', direct, mod);
    expect(dl).toBe(`${mod} v1.0.0 v1.1.0`);
    expect(await list(proxy.url, viaProxy, mod)).toBe(dl);
  }, 120_000);

  it('a vanity root: same version, sums and list', async () => {
    const { d, p } = await both('go.example.test/lib@v0.3.0');
    expect(d.Error).toBeUndefined();
    expect([p.Version, p.Sum, p.GoModSum]).toEqual([d.Version, d.Sum, d.GoModSum]);
    const dl = await list('direct', direct, 'go.example.test/lib');
    expect(await list(proxy.url, viaProxy, 'go.example.test/lib')).toBe(dl);
  }, 120_000);

  it('conflicting and missing go-import tags: both fail, with the go command message in the proxy answer', async () => {
    for (const [q, msg] of [
      ['go.example.test/twice/x@latest', 'multiple meta tags match import path "go.example.test/twice/x"'],
      ['go.example.test/nometa@latest', 'no go-import meta tags ()'],
    ] as const) {
      const { d, p } = await both(q);
      expect(d.Error).toContain(msg);
      expect(p.Error).toContain(msg);
      expect(p.Error).toContain('404 Not Found');
    }
  }, 120_000);

  it('a host that refuses our credentials (401): direct fails with 401; modproxy answers 502 proxy configuration error', async () => {
    const { d, p } = await both('gitlab.example.test/locked/x@latest');
    expect(d.Error).toContain('reading https://gitlab.example.test/locked/x?go-get=1: 401 Unauthorized');
    expect(p.Error).toContain('502 Bad Gateway');
    expect(p.Error).toContain('proxy configuration error');
    expect(p.Error).toContain('401 Unauthorized');
    expect(p.Error).not.toContain(TOKEN);
    expect(proxy.output()).not.toContain(TOKEN);
  }, 120_000);
});
