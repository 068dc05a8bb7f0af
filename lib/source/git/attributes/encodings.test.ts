import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LEGACY_CHARSETS } from './charsets.js';
import { decodeUtf8Strict, encodeToWorktree } from './encodings.js';

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');
const bin = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('UTF-8 decoding', () => {
  it('decodes UTF-8 strictly, as glibc does', () => {
    expect(decodeUtf8Strict(bin('\xc0\xaf'))).toBeNull();
    expect(decodeUtf8Strict(bin('\xed\xa0\x80'))).toBeNull();
    expect(decodeUtf8Strict(bin('\xf4\x90\x80\x80'))).toBeNull();
    expect(decodeUtf8Strict(bin('\xe6\x97'))).toBeNull();
    expect(Array.from(decodeUtf8Strict(enc('a\u{1f600}')) ?? [])).toEqual([0x61, 0x1f600]);
  });
});

describe('differential against glibc iconv', () => {
  it('legacy charsets map every BMP code point as glibc iconv does', () => {
    // The same iconv_open()/iconv() that git calls, one code point per line;
    // -c drops what cannot be converted, leaving an empty line.
    const cps: number[] = [];
    for (let c = 1; c < 0x10000; c++) if (c !== 0x0a && (c < 0xd800 || c > 0xdfff)) cps.push(c);
    const input = enc(cps.map((c) => `${String.fromCodePoint(c)}\n`).join(''));
    const mismatches: string[] = [];
    for (const cs of LEGACY_CHARSETS) {
      const out = execFileSync('iconv', ['-c', '-f', 'UTF-8', '-t', cs.names[0]], { input, maxBuffer: 1 << 26, stdio: ['pipe', 'pipe', 'ignore'] });
      let start = 0;
      let k = 0;
      for (let i = 0; i < out.length; i++) {
        if (out[i] !== 0x0a) continue;
        const glibc = out.subarray(start, i);
        const c = String.fromCodePoint(cps[k]);
        const ours = Buffer.from(encodeToWorktree(enc(c), cs.names[0]));
        // Unconvertible: git keeps the UTF-8 bytes, iconv -c drops them.
        const want = glibc.length === 0 ? enc(c) : glibc;
        if (!ours.equals(want) && mismatches.length < 20) mismatches.push(`${cs.names[0]} U+${cps[k].toString(16)}: ${glibc.toString('hex')} vs ${ours.toString('hex')}`);
        start = i + 1;
        k++;
      }
      expect(k, cs.names[0]).toBe(cps.length);
    }
    expect(mismatches).toEqual([]);
  });
});
