// Import-path discovery against a real HTTPS server on loopback, reached
// through a real CONNECT proxy (HTTPS_PROXY) under made-up host names.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretLoader } from '../../config/secrets.js';
import { NotFoundError, UpstreamAuthError, UpstreamError } from '../../errors.js';
import { startConnectProxy, type ConnectProxy } from '../../../test/support/connectProxy.js';
import { goImportPage, startDiscoveryServer, type DiscoveryServer, type PageHandler } from '../../../test/support/discoveryServer.js';
import { makeTestCert, type TestCert } from '../../../test/support/tlsCert.js';
import { HostCredentials } from '../git/hostCredentials.js';
import { ImportPathDiscovery } from './discovery.js';
import { createHttpsGet } from './httpsGet.js';

const GITLAB_AUTH = `Basic ${Buffer.from('deploy:glpat-secret').toString('base64')}`;

/** GitLab's answer: the full project path only to an authenticated request; otherwise the first two elements. */
const pages: PageHandler = (r) => {
  const p = r.path.replace(/\?go-get=1$/, '');
  if (r.host === 'gitlab.example.test') {
    const elems = p.slice(1).split('/');
    if (elems[0] === 'locked') return r.authorization ? { status: 403, html: 'forbidden' } : { status: 401, html: 'login' };
    if (r.authorization === GITLAB_AUTH && elems.length >= 3) {
      const root = `gitlab.example.test/${elems.slice(0, 3).join('/')}`;
      return { html: goImportPage(`${root} git https://gitlab.example.test/${elems.slice(0, 3).join('/')}.git`) };
    }
    const root = `gitlab.example.test/${elems.slice(0, 2).join('/')}`;
    return { html: goImportPage(`${root} git https://gitlab.example.test/${elems.slice(0, 2).join('/')}.git`) };
  }
  if (r.host === 'go.example.test') {
    if (p === '/lib' || p.startsWith('/lib/')) return { html: goImportPage('go.example.test/lib git https://git.example.test/lib.git', 'go.example.test/other git https://git.example.test/other.git') };
    if (p.startsWith('/liar')) return { html: goImportPage('go.example.test/lib git https://evil.example.test/lib.git') };
    if (p.startsWith('/twice')) return { html: goImportPage('go.example.test/twice git https://a.example.test/x', 'go.example.test/twice/y git https://b.example.test/y') };
    if (p.startsWith('/nometa')) return { html: '<html><head><title>x</title></head><body><meta name="go-import" content="go.example.test/nometa git https://x/y"></body></html>' };
    if (p.startsWith('/modroot')) return { html: goImportPage('go.example.test/modroot mod https://proxy.example.test', 'go.example.test/modroot git https://git.example.test/modroot') };
    if (p.startsWith('/hg')) return { html: goImportPage('go.example.test/hg hg https://hg.example.test/hg') };
    if (p.startsWith('/cvs')) return { html: goImportPage('go.example.test/cvs cvs https://cvs.example.test/cvs') };
    if (p.startsWith('/moved')) return { status: 301, location: 'https://other.example.test/moved?go-get=1' };
    if (p.startsWith('/insecure')) return { status: 302, location: 'http://go.example.test/lib?go-get=1' };
    if (p.startsWith('/broken')) return { status: 500, html: 'oops' };
    if (p === '/mono' || p.startsWith('/mono/')) return { html: goImportPage('go.example.test/mono git https://git.example.test/mono.git go/sub') };
    // The prefix page names another subdirectory than the page of the path below it.
    if (p === '/split') return { html: goImportPage('go.example.test/split git https://git.example.test/split.git a') };
    if (p.startsWith('/split/')) return { html: goImportPage('go.example.test/split git https://git.example.test/split.git b') };
    if (p.startsWith('/hyphen')) return { html: goImportPage('go.example.test/hyphen git https://git.example.test/h.git -x') };
    if (p.startsWith('/big')) return { html: `<html><head>${' '.repeat(2 << 20)}<meta name="go-import" content="go.example.test/big git https://x/big"></head></html>` };
  }
  if (r.host === 'other.example.test' && p === '/moved') return { html: goImportPage('go.example.test/moved git https://git.example.test/moved') };
  return undefined;
};

describe('import-path discovery', () => {
  let dir: string;
  let cert: TestCert;
  let server: DiscoveryServer;
  let proxy: ConnectProxy;
  let discovery: ImportPathDiscovery;
  let now = 0;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'discovery-'));
    cert = makeTestCert(dir, ['gitlab.example.test', 'go.example.test', 'other.example.test']);
    server = await startDiscoveryServer(cert, pages);
    const hosts = ['gitlab.example.test', 'go.example.test', 'other.example.test'];
    proxy = await startConnectProxy(Object.fromEntries(hosts.map((h) => [`${h}:443`, server.port])));
    const creds = new HostCredentials(
      [
        { host: 'gitlab.example.test', auth: { basic: { username: 'deploy', password: { envVar: 'DISCOVERY_TEST_TOKEN' } } } },
        { host: 'go.example.test', pathPrefix: 'moved', auth: { bearer: 'vanity-token' } },
      ],
      createSecretLoader({ env: { DISCOVERY_TEST_TOKEN: 'glpat-secret\n' } }),
    );
    discovery = new ImportPathDiscovery({
      get: createHttpsGet({ timeoutMs: 10_000, maxBodyBytes: 1 << 20, headersFor: (u) => creds.headersFor(u), tls: { ca: cert.cert }, env: { HTTPS_PROXY: proxy.url } }),
      ttlMs: 60_000,
      now: () => now,
    });
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds a vanity root, checking the prefix page (non-authoritative tag)', async () => {
    const before = server.requests.length;
    await expect(discovery.repoRootFor('go.example.test/lib/sub/pkg')).resolves.toEqual({ root: 'go.example.test/lib', vcs: 'git', repoUrl: 'https://git.example.test/lib.git' });
    expect(server.requests.slice(before).map((r) => r.path)).toEqual(['/lib/sub/pkg?go-get=1', '/lib?go-get=1']);
    expect(proxy.tunnels).toContain('go.example.test:443');
  });

  it('takes a fourth field, the subdirectory (go 1.25+), checks it on the prefix page too, and refuses a leading hyphen', async () => {
    await expect(discovery.repoRootFor('go.example.test/mono/pkg')).resolves.toEqual({
      root: 'go.example.test/mono',
      vcs: 'git',
      repoUrl: 'https://git.example.test/mono.git',
      subDir: 'go/sub',
    });
    expect(((await discovery.repoRootFor('go.example.test/split/x').catch((e: unknown) => e)) as Error).message).toBe(
      'unrecognized import path "go.example.test/split/x": https://go.example.test/split/x?go-get=1 and https://go.example.test/split?go-get=1 disagree about go-import for go.example.test/split',
    );
    const hyphen = await discovery.repoRootFor('go.example.test/hyphen').catch((e: unknown) => e);
    expect(hyphen).toBeInstanceOf(NotFoundError);
    expect((hyphen as Error).message).toBe('unrecognized import path "go.example.test/hyphen": https://go.example.test/hyphen?go-get=1: invalid subdirectory "-x": leading hyphen');
  });

  it('remembers an answer for its time to live', async () => {
    const before = server.requests.length;
    await discovery.repoRootFor('go.example.test/lib/sub/pkg');
    expect(server.requests.length).toBe(before);
    now += 61_000;
    await discovery.repoRootFor('go.example.test/lib/sub/pkg');
    expect(server.requests.length).toBeGreaterThan(before);
  });

  it('finds a nested GitLab subgroup with the configured Basic credentials', async () => {
    await expect(discovery.repoRootFor('gitlab.example.test/group/sub/project/pkg')).resolves.toEqual({
      root: 'gitlab.example.test/group/sub/project',
      vcs: 'git',
      repoUrl: 'https://gitlab.example.test/group/sub/project.git',
    });
    expect(server.requests.filter((r) => r.host === 'gitlab.example.test').every((r) => r.authorization === GITLAB_AUTH)).toBe(true);
  });

  it('a prefix page that disagrees is refused', async () => {
    const err = await discovery.repoRootFor('go.example.test/liar/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toBe(
      'unrecognized import path "go.example.test/liar/x": parse https://go.example.test/liar/x?go-get=1: no go-import meta tags (meta tag go.example.test/lib did not match import path go.example.test/liar/x)',
    );
  });

  it('conflicting tags: not found, with the go command message', async () => {
    const err = await discovery.repoRootFor('go.example.test/twice/y/z').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toBe('unrecognized import path "go.example.test/twice/y/z": parse //go.example.test/twice/y/z?go-get=1: multiple meta tags match import path "go.example.test/twice/y/z"');
  });

  it('a page without go-import tags in its head: not found', async () => {
    const err = await discovery.repoRootFor('go.example.test/nometa').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toBe('unrecognized import path "go.example.test/nometa": parse https://go.example.test/nometa?go-get=1: no go-import meta tags ()');
  });

  it('a mod entry wins over a git entry for the same prefix; other VCS are reported as found, unknown ones refused', async () => {
    await expect(discovery.repoRootFor('go.example.test/modroot')).resolves.toMatchObject({ vcs: 'mod', repoUrl: 'https://proxy.example.test' });
    await expect(discovery.repoRootFor('go.example.test/hg/x')).resolves.toMatchObject({ vcs: 'hg' });
    await expect(discovery.repoRootFor('go.example.test/cvs')).rejects.toThrow('https://go.example.test/cvs?go-get=1: unknown vcs "cvs"');
  });

  it('401 without credentials is not found; 403 to our credentials is a configuration fault', async () => {
    const err = await discovery.repoRootFor('gitlab.example.test/locked/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamAuthError);
    expect((err as Error).message).toContain('reading https://gitlab.example.test/locked/x?go-get=1: 403 Forbidden');
    expect((err as Error).message).not.toContain('glpat-secret');
  });

  it('credentials follow a redirect only to their own host and prefix; https to http is refused', async () => {
    const before = server.requests.length;
    await expect(discovery.repoRootFor('go.example.test/moved')).resolves.toMatchObject({ root: 'go.example.test/moved' });
    const reqs = server.requests.slice(before);
    expect(reqs[0]).toMatchObject({ host: 'go.example.test', authorization: 'Bearer vanity-token' });
    expect(reqs[1]).toMatchObject({ host: 'other.example.test', authorization: undefined });
    await expect(discovery.repoRootFor('go.example.test/insecure')).rejects.toThrow(
      'redirected from secure URL https://go.example.test/insecure?go-get=1 to insecure URL http://go.example.test/lib?go-get=1',
    );
  });

  it('a failing host is an upstream fault, not remembered; an unknown host goes through the proxy and fails upstream', async () => {
    await expect(discovery.repoRootFor('go.example.test/broken')).rejects.toBeInstanceOf(UpstreamError);
    const err = await discovery.repoRootFor('nowhere.example.test/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toMatch(/^unrecognized import path "nowhere.example.test\/x": https fetch: Get "https:\/\/nowhere.example.test\/x\?go-get=1": /);
  });

  it('reads a bounded prefix of the page', async () => {
    await expect(discovery.repoRootFor('go.example.test/big')).rejects.toThrow('no go-import meta tags');
  });
});
