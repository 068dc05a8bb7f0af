import { describe, expect, it } from 'vitest';
import { Acl } from './acl.js';
import { FailureLimiter } from './failureLimiter.js';
import { equalSecrets, hashPassword, verifyPassword } from './passwords.js';

describe('Acl', () => {
  const acl = new Acl([
    { identities: ['bob'], moduleRegexp: '^github\\.com/acme/secret(/|$)', access: 'deny' },
    { identities: ['alice', 'bob'], moduleRegexp: '^github\\.com/acme/', access: 'allow' },
    { identities: ['ops'], access: 'allow' },
  ]);
  it.each([
    ['alice', 'github.com/acme/secret', true],
    ['bob', 'github.com/acme/secret', false],
    ['bob', 'github.com/acme/Secret', false], // case-insensitive: same GitHub repository
    ['bob', 'github.com/acme/secret/sub/v2', false],
    ['bob', 'github.com/acme/secretive', true],
    ['carol', 'github.com/acme/public', false], // no rule names carol: default deny
    ['ops', 'anything.example/x', true],
    ['ops', undefined, true],
    ['alice', undefined, false], // a rule with a regexp never matches an endpoint without a module
  ] as const)('%s, %s → %s', (who, mod, want) => {
    expect(acl.allows(who, mod)).toBe(want);
  });
});

it('hashes and verifies passwords, comparing in constant time', async () => {
  const h = await hashPassword('correct horse');
  expect(await verifyPassword('correct horse', h)).toBe(true);
  expect(await verifyPassword('wrong', h)).toBe(false);
  expect(await verifyPassword('x', 'not-a-hash')).toBe(false);
  expect(equalSecrets('a', 'a')).toBe(true);
  expect(equalSecrets('a', 'ab')).toBe(false);
});

it('limits failures per client within a window', () => {
  let now = 0;
  const l = new FailureLimiter(3, 10_000, () => now);
  for (let i = 0; i < 3; i++) l.fail('c');
  expect(l.blockedFor('c')).toBe(10);
  expect(l.blockedFor('other')).toBe(0);
  now = 10_001;
  expect(l.blockedFor('c')).toBe(0);
});
