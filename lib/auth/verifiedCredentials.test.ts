import { describe, expect, it } from 'vitest';
import { VerifiedCredentials } from './verifiedCredentials.js';

describe('VerifiedCredentials', () => {
  it('remembers a success until it expires, and forgets the oldest beyond its bound', () => {
    let now = 0;
    const v = new VerifiedCredentials({ ttlMs: 1000, maxEntries: 3, now: () => now });
    v.remember('Basic a', 'alice');
    expect(v.get('Basic a')).toBe('alice');
    expect(v.get('Basic b')).toBeUndefined();
    now = 1000;
    expect(v.get('Basic a')).toBeUndefined();
    for (const h of ['1', '2', '3', '4']) v.remember(h, h);
    expect(v.size).toBe(3);
    expect(v.get('1')).toBeUndefined();
    expect(v.get('4')).toBe('4');
  });

  it('keeps no header in the clear', () => {
    const v = new VerifiedCredentials();
    v.remember('Basic c2VjcmV0OnBhc3N3b3Jk', 'secret');
    expect(JSON.stringify([...(v as unknown as { entries: Map<string, unknown> }).entries.keys()])).not.toContain('c2VjcmV0');
  });
});
