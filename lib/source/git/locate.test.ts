import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { NotFoundError } from '../../errors.js';
import { PrivateModulesRouter } from '../router.js';
import { locateDiscovered, locateRepository, locateStatic } from './locate.js';

const config = parseConfig(`
gitHub:
  - host: github.com
  - host: ghe.example.com
    gitBaseUrl: https://ghe.example.com/git
privateModules:
  - pathPrefix: github.com/acme
  - pathPrefix: github.com/acme/special
  - pathPrefix: ghe.example.com
  - pathPrefix: example.org
`);
const hosts = new Map(config.gitHub.map((h) => [h.host, h]));
const router = new PrivateModulesRouter(config.privateModules, () => {
  throw new Error('not opened in these tests');
});
/** Where the repository of a module under a privateModules prefix is. */
function locate(m: string) {
  return locateRepository(m, router.ruleFor(m)!, hosts);
}

describe('module path → repository', () => {
  it.each([
    ['github.com/acme/r', 'github.com/acme/r', 'https://github.com/acme/r'],
    ['github.com/acme/r/sub/v2', 'github.com/acme/r', 'https://github.com/acme/r'],
    ['ghe.example.com/team/svc/v3', 'ghe.example.com/team/svc', 'https://ghe.example.com/git/team/svc'],
    ['ghe.example.com/team/svc.git/tools', 'ghe.example.com/team/svc.git', 'https://ghe.example.com/git/team/svc'],
    ['example.org/x/y.git/sub', 'example.org/x/y.git', 'https://example.org/x/y'],
  ])('%s', (m, root, url) => {
    const loc = locate(m);
    expect(loc.codeRoot).toBe(root);
    expect(loc.fetchUrl).toBe(url);
  });

  it('picks the longest matching prefix', () => {
    expect(router.ruleFor('github.com/acme/special/x')?.pathPrefix).toBe('github.com/acme/special');
    expect(router.ruleFor('github.com/acmex/r')).toBeUndefined();
  });

  it('does not serve github.com/other/r (no prefix matches)', async () => {
    expect(router.serves('github.com/other/r')).toBe(false);
    await expect(router.sourceFor('github.com/other/r')).rejects.toThrow(NotFoundError);
  });

  it.each(['github.com/acme', 'github.com/acme/r.git', 'example.org/noqualifier'])('finds no repository for %s', (m) => {
    expect(router.serves(m)).toBe(true);
    expect(() => locate(m)).toThrow(NotFoundError);
  });
});

describe('static rules before discovery, and discovered roots', () => {
  const rule = config.privateModules[0];
  it('bitbucket.org is a static three-element rule; other hosts are left to discovery', () => {
    expect(locateStatic('bitbucket.org/ws/repo/sub', rule, hosts)).toMatchObject({ codeRoot: 'bitbucket.org/ws/repo', fetchUrl: 'https://bitbucket.org/ws/repo' });
    expect(locateStatic('gitlab.example.com/g/s/p', rule, hosts)).toBeUndefined();
  });

  it('takes a git root from discovery; refuses mod roots, other VCS and non-HTTP URLs as not found', () => {
    expect(locateDiscovered('go.example.com/lib/x', rule, { root: 'go.example.com/lib', vcs: 'git', repoUrl: 'https://git.example.com/lib' })).toMatchObject({
      codeRoot: 'go.example.com/lib',
      originUrl: 'https://git.example.com/lib',
      fetchUrl: 'https://git.example.com/lib',
      host: 'git.example.com',
    });
    expect(() => locateDiscovered('go.example.com/m', rule, { root: 'go.example.com/m', vcs: 'mod', repoUrl: 'https://p.example.com' })).toThrow(NotFoundError);
    expect(() => locateDiscovered('go.example.com/m', rule, { root: 'go.example.com/m', vcs: 'mod', repoUrl: 'https://p.example.com' })).toThrow('does not read module proxies found by discovery');
    expect(() => locateDiscovered('go.example.com/h', rule, { root: 'go.example.com/h', vcs: 'hg', repoUrl: 'https://h.example.com' })).toThrow("GOVCS disallows using hg for private go.example.com/h; see 'go help vcs'");
    expect(() => locateDiscovered('go.example.com/s', rule, { root: 'go.example.com/s', vcs: 'git', repoUrl: 'ssh://git@h.example.com/s' })).toThrow('smart HTTP only');
  });
});
