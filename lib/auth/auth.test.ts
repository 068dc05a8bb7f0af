import { describe, expect, it } from 'vitest';
import { Acl } from './acl.js';
import { dummyHash, equalSecrets, hashPassword, verifyPassword } from './passwords.js';

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

it('makes a dummy hash with the parameters most common among the configured ones, which no password matches', async () => {
  const shape = (h: string) => {
    const p = h.split('$');
    return [...p.slice(1, 4), Buffer.from(p[4], 'base64').length, Buffer.from(p[5], 'base64').length].join('$');
  };
  const h = await hashPassword('x');
  const small = 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$' + Buffer.alloc(32).toString('base64');
  expect(shape(dummyHash([]))).toBe('32768$8$1$16$32');
  expect(shape(dummyHash([small, h, small, 'junk']))).toBe('1024$8$1$16$32');
  expect(dummyHash([small])).not.toBe(dummyHash([small])); // a random salt and key each time
  expect(await verifyPassword('', dummyHash([small]))).toBe(false);
});
