// From a module path to the git repository that holds it
// (docs/go-rules/repository.md#finding-the-repository).
//
// Supported shapes, as the go command's static rules define them:
//   - github.com-style hosts (github.com and every configured gitHub[].host):
//     the repository root is the first three path elements;
//   - ".git"-qualified paths on any host: the root ends at the first element
//     ending in ".git", and the repository URL is that path without ".git".
//   - bitbucket.org: the first three path elements, a git repository;
// every other path is found by `?go-get=1` discovery (lib/source/discovery/,
// docs/go-rules/discovery.md), and locateDiscovered turns its answer into a location.
import type { GitHubHostConfig, PrivateModuleConfig } from '../../config/schema.js';
import { NotFoundError } from '../../errors.js';
import type { DiscoveredRoot } from '../discovery/discovery.js';
import type { GitRemote } from './objectStore.js';

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
  /** The directory of codeRoot's module in the repository, when discovery named one (go-import's fourth field). */
  subDir?: string;
}

/** Supplies credentials for a repository (GitHub App tokens); none for public repositories. */
export interface CredentialProvider {
  remoteAuth(loc: RepoLocation): Pick<GitRemote, 'headers' | 'onUnauthorized'> | undefined;
}

const ELEM = /^[A-Za-z0-9_.-]+$/;
const QUALIFIED = /^((?:[a-z0-9.-]+\.)+[a-z0-9.-]+(?::[0-9]+)?(?:\/~?[\w.-]+)+?)\.(bzr|fossil|git|hg|svn)(\/~?[\w.-]+)*$/;

/** Where the module's repository is; throws NotFoundError for paths whose repository cannot be found. */
export function locateRepository(modPath: string, rule: PrivateModuleConfig, hosts: ReadonlyMap<string, GitHubHostConfig>): RepoLocation {
  const loc = locateStatic(modPath, rule, hosts);
  if (loc) return loc;
  throw new NotFoundError(
    `module ${modPath}: cannot find its repository (only paths on ${[...hosts.keys()].join(', ') || 'github.com'} and .git-qualified paths are supported)`,
  );
}

/**
 * Where the module's repository is by the static rules; undefined when no
 * static rule covers the path (then discovery decides). Throws NotFoundError
 * for paths a static rule covers but rejects.
 */
export function locateStatic(modPath: string, rule: PrivateModuleConfig, hosts: ReadonlyMap<string, GitHubHostConfig>): RepoLocation | undefined {
  const elems = modPath.split('/');
  const host = elems[0];
  const hostConfig = hosts.get(host);
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
  if (hostConfig || host === 'github.com' || host === 'bitbucket.org') {
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
  return undefined;
}

/** A location from discovery's answer; other VCS and (where not served by lib/source/discovery/modRoots.ts) mod roots are refused (not found, so the client may go elsewhere). */
export function locateDiscovered(modPath: string, rule: PrivateModuleConfig, d: DiscoveredRoot): RepoLocation {
  if (d.vcs === 'mod') {
    throw new NotFoundError(
      `module ${modPath}: ${d.root} is served by the module proxy ${d.repoUrl} (go-import "mod"); this modproxy does not read module proxies found by discovery`,
    );
  }
  // modproxy reads git only: it refuses other systems as the go command does under GOVCS=*:git (cmd/go/internal/vcs checkGOVCS).
  if (d.vcs !== 'git') throw new NotFoundError(`unrecognized import path "${modPath}": GOVCS disallows using ${d.vcs} for private ${d.root}; see 'go help vcs' (modproxy reads git repositories only)`);
  let url: URL;
  try {
    url = new URL(d.repoUrl);
  } catch {
    throw new NotFoundError(`module ${modPath}: invalid repo root "${d.repoUrl}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new NotFoundError(`module ${modPath}: repository ${d.repoUrl} is not reachable over HTTP(S); modproxy reads git repositories with smart HTTP only`);
  }
  return { codeRoot: d.root, originUrl: d.repoUrl, fetchUrl: d.repoUrl, host: url.host, rule, ...(d.subDir ? { subDir: d.subDir } : {}) };
}
