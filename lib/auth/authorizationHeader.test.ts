import { describe, expect, it } from 'vitest';
import { checkCredentials, MAX_IDENTITY_BYTES, parseAuthorization } from './authorizationHeader.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe('parseAuthorization', () => {
  it('reads Basic credentials as the go command sends them', () => {
    expect(parseAuthorization(`Basic ${b64('alice:pass:word')}`)).toEqual({ kind: 'basic', identity: 'alice', password: 'pass:word' });
    expect(parseAuthorization(`basic ${b64('alice:')}`)).toEqual({ kind: 'basic', identity: 'alice', password: '' });
    expect(parseAuthorization(`Basic ${b64('élise:pässword')}`)).toEqual({ kind: 'basic', identity: 'élise', password: 'pässword' });
    // Byte for byte: a leading byte order mark is part of the identity, not dropped by the decoder.
    expect(parseAuthorization(`Basic ${b64('\ufeffalice:pw')}`)).toEqual({ kind: 'basic', identity: '\ufeffalice', password: 'pw' });
  });

  it('reads Bearer tokens', () => {
    expect(parseAuthorization('Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig-_')).toEqual({ kind: 'bearer', token: 'eyJhbGciOiJIUzI1NiJ9.e30.sig-_' });
  });

  const good = b64('alice:secret'); // YWxpY2U6c2VjcmV0
  it.each([
    ['no credential', 'Basic'],
    ['empty credential', 'Basic '],
    ['two spaces', `Basic  ${good}`],
    ['a tab', `Basic\t${good}`],
    ['two credentials', `Basic ${good} ${good}`],
    ['a comma-separated parameter', `Basic ${good}, realm=x`],
    ['an invalid base64 character', `Basic ${good.slice(0, 4)}*${good.slice(5)}`],
    ['base64url instead of base64', `Basic ${b64('a\u00ff\u00fe:x').replace(/\+/g, '-').replace(/\//g, '_')}`],
    ['missing padding', `Basic ${b64('alice:secre').replace(/=+$/, '')}`],
    ['extra padding', `Basic ${good}==`],
    ['non-zero bits after the last byte', 'Basic YWxpY2U6eB=='], // YWxpY2U6eA== re-encoded,
    ['no colon', `Basic ${b64('alicesecret')}`],
    ['an empty identity', `Basic ${b64(':secret')}`],
    ['a long identity', `Basic ${b64(`${'a'.repeat(MAX_IDENTITY_BYTES + 1)}:x`)}`],
    ['a control character in the identity', `Basic ${b64('ali\nce:secret')}`],
    ['a control character in the password', `Basic ${b64('alice:sec\u0000ret')}`],
    ['DEL', `Basic ${b64('alice:sec\u007fret')}`],
    ['bytes that are not UTF-8', `Basic ${b64(Buffer.from([0x61, 0xff, 0x3a, 0x62]))}`],
    ['a header over 8 KiB', `Basic ${b64(`alice:${'x'.repeat(8 << 10)}`)}`],
    ['an unsupported scheme', 'Digest username="alice"'],
    ['a scheme that is not a token', `Ba(sic ${good}`],
    ['a bearer token with a space', 'Bearer a b'],
    ['a bearer token with invalid characters', 'Bearer a"b'],
  ])('refuses %s', (_what, header) => {
    expect(parseAuthorization(header).kind).toBe('malformed');
  });
});

it('checkCredentials bounds identities and passwords from any source', () => {
  expect(checkCredentials('alice', 'x')).toEqual({ identity: 'alice', password: 'x' });
  expect(checkCredentials('', 'x')).toBe('empty identity');
  expect(checkCredentials('é'.repeat(129), 'x')).toBe('identity too long'); // 258 bytes
  expect(checkCredentials('alice', 'x'.repeat(5000))).toBe('password too long');
  expect(checkCredentials('alice', 'a\rb')).toBe('control character in credentials');
});
