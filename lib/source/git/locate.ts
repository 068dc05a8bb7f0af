// From a module path to the git repository that holds it (spec §2.1), and to
// a GitRepo view of that repository.
//
// Supported shapes, as the go command's static rules define them:
//   - github.com-style hosts (github.com and every configured gitHub[].host):
//     the repository root is the first three path elements;
//   - ".git"-qualified paths on any host: the root ends at the first element
//     ending in ".git", and the repository URL is that path without ".git".
// Dynamic `?go-get=1` discovery is not supported: such paths are not found.
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { HttpClient } from 'isomorphic-git';
import type { Config, GitHubHostConfig, PrivateModuleConfig } from '../../config/schema.js';
import { NotFoundError } from '../../errors.js';
import { RemoteGitRepo } from './gitRepo.js';
import { GitObjectStore, type GitRemote } from './objectStore.js';

export interface RepoLocation {
  /** Import path of the repository root, e.g. github.com/o/r or example.com/x.git. */
  codeRoot: string;
  /** The URL the go command would use (recorded as Origin.URL). */
  originUrl: string;
  /** The URL we fetch from (gitBaseUrl applied). */
  fetchUrl: string;
  host: string;
  /** For github-style hosts: owner and repository name (for credentials). */
  owner?: string;
  repo?: string;
  /** The matching privateModules entry. */
  rule: PrivateModuleConfig;
}

/** Supplies credentials for a repository (GitHub App tokens); none for public repositories. */
export interface CredentialProvider {
  remoteAuth(loc: RepoLocation): Pick<GitRemote, 'headers' | 'onUnauthorized'> | undefined;
}

const ELEM = /^[A-Za-z0-9_.-]+$/;
const QUALIFIED = /^((?:[a-z0-9.-]+\.)+[a-z0-9.-]+(?::[0-9]+)?(?:\/~?[\w.-]+)+?)\.(bzr|fossil|git|hg|svn)(\/~?[\w.-]+)*$/;

function hasPathPrefix(s: string, prefix: string): boolean {
  const p = prefix.replace(/\/+$/, '');
  return s === p || s.startsWith(p + '/');
}

export class SourceRegistry {
  private stores = new Map<string, GitObjectStore>();
  private readonly hosts: Map<string, GitHubHostConfig>;
  private readonly workDir: string;

  constructor(
    private readonly config: Config,
    private readonly http: HttpClient,
    private readonly credentials?: CredentialProvider,
  ) {
    this.hosts = new Map(config.gitHub.map((h) => [h.host, h]));
    this.workDir = config.resolve.gitWorkDir ?? path.join(os.tmpdir(), 'modproxy-git');
  }

  /** The privateModules entry serving this module (longest prefix wins), if any. */
  ruleFor(modPath: string): PrivateModuleConfig | undefined {
    let best: PrivateModuleConfig | undefined;
    for (const r of this.config.privateModules) {
      if (hasPathPrefix(modPath, r.pathPrefix) && (!best || r.pathPrefix.length > best.pathPrefix.length)) best = r;
    }
    return best;
  }

  /** Where the module's repository is; throws NotFoundError for modules this proxy does not serve. */
  locate(modPath: string): RepoLocation {
    const rule = this.ruleFor(modPath);
    if (!rule) throw new NotFoundError(`module ${modPath} is not served by this proxy (no privateModules pathPrefix matches)`);
    const elems = modPath.split('/');
    const host = elems[0];
    const hostConfig = this.hosts.get(host);
    const base = (hostConfig?.gitBaseUrl ?? `https://${host}`).replace(/\/+$/, '');
    // github.com is in the go command's static table, so its paths never use
    // the .git qualifier rule; other hosts (GitHub Enterprise Server) are
    // found by the qualifier rule first, as the go command does, and
    // otherwise use the same three-element layout their go-import meta tags give.
    const qualified = host === 'github.com' ? null : QUALIFIED.exec(modPath);
    if (qualified) {
      if (qualified[2] !== 'git') throw new NotFoundError(`module ${modPath}: only git repositories are supported, not ${qualified[2]}`);
      const repoPath = qualified[1];
      const rest = repoPath.slice(host.length + 1).split('/');
      return {
        codeRoot: `${repoPath}.git`,
        originUrl: `https://${repoPath}`,
        fetchUrl: `${base}/${rest.join('/')}`,
        host,
        owner: rest.length === 2 ? rest[0] : undefined,
        repo: rest.length === 2 ? rest[1] : undefined,
        rule,
      };
    }
    if (hostConfig || host === 'github.com') {
      if (elems.length < 3 || !ELEM.test(elems[1]) || !ELEM.test(elems[2])) {
        throw new NotFoundError(`invalid ${host} import path "${modPath}"`);
      }
      if (/\.(bzr|fossil|git|hg|svn)$/.test(elems[2])) throw new NotFoundError(`invalid version control suffix in ${host}/ path`);
      return {
        codeRoot: elems.slice(0, 3).join('/'),
        originUrl: `https://${elems.slice(0, 3).join('/')}`,
        fetchUrl: `${base}/${elems[1]}/${elems[2]}`,
        host,
        owner: elems[1],
        repo: elems[2],
        rule,
      };
    }
    throw new NotFoundError(
      `module ${modPath}: cannot find its repository (only paths on ${[...this.hosts.keys()].join(', ') || 'github.com'} and .git-qualified paths are supported)`,
    );
  }

  /** The persistent object store for a repository URL. */
  private storeFor(loc: RepoLocation): GitObjectStore {
    let store = this.stores.get(loc.fetchUrl);
    if (!store) {
      const dir = path.join(this.workDir, crypto.createHash('sha256').update(loc.fetchUrl).digest('hex').slice(0, 24));
      const auth = this.credentials?.remoteAuth(loc);
      store = new GitObjectStore(dir, { url: loc.fetchUrl, http: this.http, ...auth });
      this.stores.set(loc.fetchUrl, store);
    }
    return store;
  }

  /** A fresh per-request view of the repository (its ref table is read once, lazily). */
  open(loc: RepoLocation): RemoteGitRepo {
    return new RemoteGitRepo(this.storeFor(loc), loc.originUrl);
  }
}
