// The discovery world of the conformance suite: private modules on made-up
// git hosts found by `?go-get=1` discovery, each behind the credential kind it
// needs, compared between the real go command in direct mode (GOPRIVATE,
// .netrc, git http.<url>.extraHeader) and a modproxy process (gitHosts[] with
// envVar and file secrets).
//
// One HTTPS server on loopback (self-signed; the go command trusts it through
// SSL_CERT_FILE, modproxy through NODE_EXTRA_CA_CERTS) answers ?go-get=1 for
// the made-up hosts, which both reach through a CONNECT proxy (HTTPS_PROXY),
// and forwards everything else to `git http-backend` or to a GOPROXY file
// tree (/goproxy/). The go-import roots name either that server's 127.0.0.1
// address, which both reach directly, or a made-up host (gitea, the mod root),
// which both reach through the proxy. Pages:
//
//   gitlab.example.test  GitLab: a project's full path (nested subgroups) only
//                        to a request with the deploy token, else the first two
//                        elements; locked/… answers 401 to everyone.
//   go.example.test      a vanity domain: entries registered by cases.
//   gitea.example.test   Gitea: <owner>/<repo>, public pages; the repository on gitea.example.test itself.
//
// The git server checks for each repository the one credential it expects:
//   gitlab/…        Basic deploy:<token>          (gitHosts: the host's default entry)
//   gitlab/other/…  Basic bot:<second token>      (gitHosts: a pathPrefix entry on the same host)
//   gitea/…         Bearer <gitea token>          (gitHosts: bearer, from a file, on gitea.example.test)
//   vanity/…        Basic deploy:<token>
// and the GOPROXY tree (https://go.example.test/goproxy/…, a go-import "mod" root) wants Basic deploy:<token>.
import fs from 'node:fs';
import path from 'node:path';
import { escapePath, escapeVersion } from '../../lib/gomod/module.js';
import { startConnectProxy, type ConnectProxy } from '../support/connectProxy.js';
import { goImportPage, startDiscoveryServer, type DiscoveryServer, type PageHandler } from '../support/discoveryServer.js';
import { startFileProxyServer, type FileProxyServer } from '../support/fileProxyServer.js';
import { startGitHttpServer, type GitHttpServer } from '../support/gitHttpServer.js';
import { GoRunner } from '../support/goRunner.js';
import { newerGoTool } from '../support/goTool.js';
import { moduleZipBytes } from '../support/moduleZipBytes.js';
import { startProxyProcess, type ProxyProcess } from '../support/proxyProcess.js';
import { RepoBuilder } from '../support/repoBuilder.js';
import { makeTestCert } from '../support/tlsCert.js';

export const DISCOVERY_HOSTS = ['gitlab.example.test', 'go.example.test', 'gitea.example.test'];

/** Every secret of the world: none may appear in modproxy's logs or answers. */
export const SECRETS = { deploy: 'glpat-deploy-token', second: 'glpat-second-token', gitea: 'gitea-access-token' };

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const DEPLOY = basic('deploy', SECRETS.deploy);
const BOT = basic('bot', SECRETS.second);
const GITEA = `Bearer ${SECRETS.gitea}`;

/** The credential the git server wants for a repository path (leading "/"). */
function wantedCredential(repoPath: string): string {
  if (repoPath.startsWith('/gitlab/other/')) return BOT;
  if (repoPath.startsWith('/gitea/')) return GITEA;
  return DEPLOY;
}

export interface DiscoveryWorld {
  /** https://127.0.0.1:<port>: where go-import roots point. */
  base: string;
  proxy: ProxyProcess;
  runner: GoRunner;
  /** The same, with the newest go command (cases with toolchain: 'newer'). */
  newerRunner: GoRunner;
  directEnv: Record<string, string>;
  proxyEnv: Record<string, string>;
  /** A repository served at `${base}/<name>` (name: gitlab/…, gitea/…, vanity/…). */
  repo(name: string): Promise<RepoBuilder>;
  /** go.example.test pages at and below `prefix` answer with these go-import entries. */
  vanity(prefix: string, ...entries: string[]): void;
  /** go.example.test pages at and below `prefix` answer with this HTML. */
  vanityHtml(prefix: string, html: string): void;
  /** A version in the GOPROXY tree at `https://go.example.test/goproxy` (a zip of `files`, plus .info, .mod and the list). */
  publishToModRoot(modPath: string, version: string, time: string, files: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export async function startDiscoveryWorld(tmp: string): Promise<DiscoveryWorld> {
  const repos = path.join(tmp, 'repos');
  const work = path.join(tmp, 'work');
  const tree = path.join(tmp, 'tree');
  fs.mkdirSync(path.join(tree, 'goproxy'), { recursive: true });
  const cert = makeTestCert(path.join(tmp, 'cert'), DISCOVERY_HOSTS);
  const vanityPages = new Map<string, string>();
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    const git: GitHttpServer = await startGitHttpServer({
      projectRoot: repos,
      authorize: (req, repoPath) => (req.headers.authorization === wantedCredential(repoPath) ? undefined : 401),
    });
    closers.push(() => git.close());
    const goproxy: FileProxyServer = await startFileProxyServer(tree, { authorize: (req) => (req.headers.authorization === DEPLOY ? undefined : 401) });
    closers.push(() => goproxy.close());
    const goproxyPort = Number(new URL(goproxy.url).port);

    let base = '';
    const pages: PageHandler = (r) => {
      const p = r.path.replace(/\?go-get=1$/, '').slice(1);
      const elems = p.split('/');
      if (r.host === 'gitlab.example.test') {
        if (elems[0] === 'locked') return { status: 401, html: 'login' };
        // GitLab: the project path only to an authenticated request; else the first two elements.
        const n = r.authorization === DEPLOY && elems.length >= 3 ? 3 : 2;
        const root = elems.slice(0, n).join('/');
        return { html: goImportPage(`gitlab.example.test/${root} git ${base}/gitlab/${root}`) };
      }
      if (r.host === 'gitea.example.test' && elems.length >= 2) {
        const root = elems.slice(0, 2).join('/');
        // Named by its own host: reached through HTTPS_PROXY by git, the go command and modproxy alike.
        return { html: goImportPage(`gitea.example.test/${root} git https://gitea.example.test/gitea/${root}`) };
      }
      if (r.host === 'go.example.test') {
        for (const [prefix, html] of vanityPages) if (p === prefix || p.startsWith(prefix + '/')) return { html: html.replaceAll('{base}', base) };
      }
      return undefined;
    };
    const front: DiscoveryServer = await startDiscoveryServer(cert, pages, (p) => (p.startsWith('/goproxy/') ? goproxyPort : git.port));
    closers.push(() => front.close());
    base = `https://127.0.0.1:${front.port}`;
    const connect: ConnectProxy = await startConnectProxy(Object.fromEntries(DISCOVERY_HOSTS.map((h) => [`${h}:443`, front.port])));
    closers.push(() => connect.close());

    const netEnv = { HTTPS_PROXY: connect.url, NO_PROXY: '127.0.0.1' };
    const frontHost = `127.0.0.1:${front.port}`;
    const giteaTokenFile = path.join(tmp, 'gitea-token');
    fs.writeFileSync(giteaTokenFile, `${SECRETS.gitea}\n`);
    const deployAuth = '{ basic: { username: deploy, password: { envVar: DEPLOY_TOKEN } } }';
    const proxy = await startProxyProcess(
      [
        `storage: { fs: { dir: "${path.join(tmp, 'store')}" } }`,
        'privateModules:',
        ...DISCOVERY_HOSTS.map((h) => `  - pathPrefix: ${h}`),
        'gitHosts:',
        `  - { host: gitlab.example.test, auth: ${deployAuth} }`,
        `  - { host: "${frontHost}", auth: ${deployAuth} }`,
        `  - { host: "${frontHost}", pathPrefix: gitlab/other, auth: { basic: { username: bot, password: { envVar: SECOND_TOKEN } } } }`,
        `  - { host: gitea.example.test, pathPrefix: gitea, auth: { bearer: { file: "${giteaTokenFile}" } } }`,
        `  - { host: go.example.test, auth: ${deployAuth} }`,
        'clientAuth: { allowUnauthenticated: true }',
        `resolve: { gitWorkDir: "${path.join(tmp, 'gitwork')}" }`,
      ].join('\n') + '\n',
      { ...netEnv, NODE_EXTRA_CA_CERTS: cert.certFile, DEPLOY_TOKEN: SECRETS.deploy, SECOND_TOKEN: SECRETS.second },
    );
    closers.push(() => proxy.stop());

    // Direct mode: .netrc gives the deploy token to every host (the go command's
    // discovery and GOPROXY requests, and git); git sends the other kinds as headers.
    const gitConfig = [`[http "${base}/gitlab/other/"]`, `\textraHeader = Authorization: ${BOT}`, `[http "https://gitea.example.test/gitea/"]`, `\textraHeader = Authorization: ${GITEA}`];
    const runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: {}, gitConfig });
    const newerRunner = new GoRunner({ tmp: path.join(tmp, 'go-newer'), insteadOf: {}, gitConfig, go: newerGoTool() });
    // git (curl) matches a machine by host name, the go command (1.23) by host and port.
    const netrc = [...DISCOVERY_HOSTS, '127.0.0.1', frontHost].map((h) => `machine ${h} login deploy password ${SECRETS.deploy}\n`).join('');
    for (const home of ['go', 'go-newer']) fs.writeFileSync(path.join(tmp, home, '.netrc'), netrc);
    const common = { ...netEnv, SSL_CERT_FILE: cert.certFile, GIT_SSL_CAINFO: cert.certFile };
    return {
      base,
      proxy,
      runner,
      newerRunner,
      // GOVCS=*:git: direct mode reads what modproxy reads (git, and mod roots, which GOVCS never restricts).
      directEnv: { ...common, GOPRIVATE: DISCOVERY_HOSTS.join(','), GOVCS: '*:git' },
      proxyEnv: { ...common, GOPRIVATE: '' },
      repo: (name) => RepoBuilder.create(repos, work, name),
      vanity: (prefix, ...entries) => void vanityPages.set(prefix, goImportPage(...entries)),
      vanityHtml: (prefix, html) => void vanityPages.set(prefix, html),
      async publishToModRoot(modPath, version, time, files) {
        const dir = path.join(tree, 'goproxy', escapePath(modPath), '@v');
        fs.mkdirSync(dir, { recursive: true });
        const ev = escapeVersion(version);
        fs.writeFileSync(path.join(dir, `${ev}.zip`), await moduleZipBytes(modPath, version, files));
        fs.writeFileSync(path.join(dir, `${ev}.mod`), files['go.mod'] ?? `module ${modPath}\n`);
        fs.writeFileSync(path.join(dir, `${ev}.info`), JSON.stringify({ Version: version, Time: time }));
        fs.appendFileSync(path.join(dir, 'list'), `${version}\n`);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
