import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { addressKey, clientAddress, defaultTrustedProxyHops } from './clientAddress.js';

const req = (xff: string | undefined, peer = '10.0.0.7') =>
  ({ headers: xff === undefined ? {} : { 'x-forwarded-for': xff }, socket: { remoteAddress: peer } }) as unknown as IncomingMessage;

describe('clientAddress', () => {
  it('ignores X-Forwarded-For without trusted proxies: the socket peer is the client', () => {
    expect(clientAddress(req('203.0.113.1'), 0)).toBe('10.0.0.7');
    expect(clientAddress(req('203.0.113.1, 203.0.113.2'), 0)).toBe('10.0.0.7');
  });

  it('takes the n-th entry from the right with n trusted hops', () => {
    // What the client sent, then what Google's front end appended.
    expect(clientAddress(req('1.1.1.1, 2.2.2.2, 198.51.100.9'), 1)).toBe('198.51.100.9');
    expect(clientAddress(req('1.1.1.1, 198.51.100.9, 35.0.0.1'), 2)).toBe('198.51.100.9');
    expect(clientAddress(req('1.1.1.1,198.51.100.9'), 1)).toBe('198.51.100.9');
    expect(clientAddress(req(['1.1.1.1', '198.51.100.9'] as unknown as string), 1)).toBe('198.51.100.9');
  });

  it('takes the leftmost entry when there are fewer than n, and the peer when there are none', () => {
    expect(clientAddress(req('198.51.100.9'), 2)).toBe('198.51.100.9');
    expect(clientAddress(req(undefined), 1)).toBe('10.0.0.7');
    expect(clientAddress(req(' , '), 1)).toBe('10.0.0.7');
  });

  it('bounds what it takes from the header', () => {
    expect(clientAddress(req('x'.repeat(1000)), 1)).toHaveLength(64);
  });
});

it('defaults to one trusted hop on Cloud Run and Cloud Functions, else none', () => {
  expect(defaultTrustedProxyHops({ K_SERVICE: 'modproxy' })).toBe(1);
  expect(defaultTrustedProxyHops({})).toBe(0);
});

describe('addressKey', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::ffff:cb00:7109', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['not-an-address', 'not-an-address'],
  ])('%s → %s', (a, key) => {
    expect(addressKey(a)).toBe(key);
  });
});
