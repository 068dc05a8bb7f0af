import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { NotFoundError } from '../../errors.js';
import { createGitHttpClient } from './httpClient.js';
import { SourceRegistry } from './locate.js';

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
const reg = new SourceRegistry(config, createGitHttpClient());

describe('module path → repository', () => {
  it.each([
    ['github.com/acme/r', 'github.com/acme/r', 'https://github.com/acme/r'],
    ['github.com/acme/r/sub/v2', 'github.com/acme/r', 'https://github.com/acme/r'],
    ['ghe.example.com/team/svc/v3', 'ghe.example.com/team/svc', 'https://ghe.example.com/git/team/svc'],
    ['ghe.example.com/team/svc.git/tools', 'ghe.example.com/team/svc.git', 'https://ghe.example.com/git/team/svc'],
    ['example.org/x/y.git/sub', 'example.org/x/y.git', 'https://example.org/x/y'],
  ])('%s', (m, root, url) => {
    const loc = reg.locate(m);
    expect(loc.codeRoot).toBe(root);
    expect(loc.fetchUrl).toBe(url);
  });

  it('picks the longest matching prefix', () => {
    expect(reg.ruleFor('github.com/acme/special/x')?.pathPrefix).toBe('github.com/acme/special');
    expect(reg.ruleFor('github.com/acmex/r')).toBeUndefined();
  });

  it.each(['github.com/other/r', 'github.com/acme', 'github.com/acme/r.git', 'example.org/noqualifier'])('does not serve %s', (m) => {
    expect(() => reg.locate(m)).toThrow(NotFoundError);
  });
});
