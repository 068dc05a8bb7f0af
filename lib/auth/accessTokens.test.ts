import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_SECONDS, createAccessTokens, parseDuration } from './accessTokens.js';

const SECRET = 's'.repeat(32);
const key = new TextEncoder().encode(SECRET);

describe('access tokens', () => {
  const start = 1_700_000_000_000;
  let now = start;
  const tokens = createAccessTokens({ secret: SECRET, audience: 'aud', ttlSeconds: 60, now: () => now });

  it('name their subject until they expire', async () => {
    now = start;
    const token = await tokens.issue('alice');
    expect(await tokens.verify(token)).toBe('alice');
    now = start + 120_000;
    expect(await tokens.verify(token)).toBeNull();
  });

  it('are refused without an expiry, even when correctly signed for the audience', async () => {
    now = start;
    const forever = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setAudience('aud').setIssuedAt(start / 1000).sign(key);
    expect(await tokens.verify(forever)).toBeNull();
  });

  it('are refused without a subject', async () => {
    now = start;
    const nobody = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setAudience('aud').setExpirationTime(start / 1000 + 60).sign(key);
    expect(await tokens.verify(nobody)).toBeNull();
  });

  it('allow a few seconds of clock skew after expiry, and no more', async () => {
    now = start;
    const token = await tokens.issue('alice'); // exp = start + 60 s
    now = start + (60 + CLOCK_SKEW_SECONDS - 1) * 1000;
    expect(await tokens.verify(token)).toBe('alice');
    now = start + (60 + CLOCK_SKEW_SECONDS + 1) * 1000;
    expect(await tokens.verify(token)).toBeNull();
    now = start + 70_000; // the 30 s the tolerance used to be
    expect(await tokens.verify(token)).toBeNull();
    expect(CLOCK_SKEW_SECONDS).toBeLessThanOrEqual(5);
  });
});

it('parses Go durations', () => {
  expect(parseDuration('15m')).toBe(900);
  expect(parseDuration('1h30m')).toBe(5400);
  expect(parseDuration('90s')).toBe(90);
  expect(parseDuration('1500ms')).toBe(1.5);
});
