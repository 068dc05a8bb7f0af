import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseCounts, differential, randomString, reportCounts, rng, XmodOracle, wtf8Encode } from '../../test/support/xmodOracle.js';
import {
  compareStrings,
  decodeUTF8,
  encodeUTF8,
  equalFold,
  fields,
  goRunes,
  isLetter,
  isPrint,
  isSpace,
  isValidUTF8,
  simpleFold,
  strToFold,
  unicodeTables,
  unicodeVersion,
} from './unicode.js';

describe('unicode (unit)', () => {
  it('folds like Go', () => {
    expect(strToFold('go.mod')).toBe('go.mod');
    expect(strToFold('Go.MOD')).toBe('go.mod');
    // Kelvin sign, K and k share an orbit whose smallest member is K, written k.
    expect(strToFold('\u212a')).toBe('k');
    expect(strToFold('\u017f')).toBe('s'); // long s
    expect(strToFold('Σσς')).toBe('ΣΣΣ');
    expect(strToFold('\ud800')).toBe('\ufffd\ufffd\ufffd');
    expect(simpleFold(0x41)).toBe(0x61);
    expect(simpleFold(0x61)).toBe(0x41);
    expect(simpleFold(0x4b)).toBe(0x6b);
    expect(simpleFold(0x6b)).toBe(0x212a);
    expect(simpleFold(0x212a)).toBe(0x4b);
    expect(simpleFold(-1)).toBe(-1);
    expect(simpleFold(0x110000)).toBe(0x110000);
  });

  it('classifies like Go (Unicode 15.0)', () => {
    expect(unicodeVersion).toBe('15.0.0');
    expect(isLetter(0x61)).toBe(true);
    expect(isLetter(0x301)).toBe(false); // combining acute
    expect(isLetter(0x4e2d)).toBe(true); // 中
    expect(isLetter(0x2ebf0)).toBe(false); // CJK Ext. I: Unicode 15.1, after Go 1.23's tables
    expect(isPrint(0x20)).toBe(true);
    expect(isPrint(0xa0)).toBe(false);
    expect(isPrint(0x200b)).toBe(false);
    expect(isSpace(0x85)).toBe(true);
    expect(isSpace(0xfeff)).toBe(false);
  });

  it('handles UTF-8 like Go', () => {
    expect(isValidUTF8('a\ud83d\ude00')).toBe(true);
    expect(isValidUTF8('a\ud83d')).toBe(false);
    expect(Array.from(encodeUTF8('\ud800'))).toEqual([0xed, 0xa0, 0x80]);
    expect(goRunes('a\ud800😀')).toEqual([0x61, 0xfffd, 0xfffd, 0xfffd, 0x1f600]);
    expect(decodeUTF8(Uint8Array.from([0x61, 0xe2, 0x82, 0x62, 0xff]))).toBe('a\ufffd\ufffdb\ufffd');
    expect(compareStrings('\uffff', '😀')).toBe(-1); // JS's < says the opposite
    expect(compareStrings('a', 'ab')).toBe(-1);
    expect(compareStrings('😀', '😁')).toBe(-1);
    expect(compareStrings('\ud83d', '😀')).toBe(-1);
  });
});

describe('unicode (differential)', () => {
  let oracle: XmodOracle;
  beforeAll(async () => {
    oracle = await XmodOracle.start();
  });
  afterAll(async () => {
    await oracle?.close();
    reportCounts('unicode.test.ts');
  });

  it('embeds exactly the tables Go generates', async () => {
    const t = await oracle.value<{ version: string; letter: string; print: string; fold: string }>('unicode.tables');
    expect(t.version).toBe(unicodeVersion);
    // On a mismatch, these are the strings to paste into unicode.ts.
    expect(unicodeTables.letter).toBe(t.letter);
    expect(unicodeTables.print).toBe(t.print);
    expect(unicodeTables.fold).toBe(t.fold);
  });

  it('agrees on every code point 0..0x10FFFF', async () => {
    const bad: string[] = [];
    let checked = 0;
    for (let lo = 0; lo < 0x110000; lo += 0x10000) {
      const s = await oracle.value<{ flags: number[]; simpleFold: number[]; strToFold: number[] }>(
        'unicode.scan',
        lo,
        lo + 0x10000,
      );
      for (let i = 0; i < 0x10000; i++) {
        const r = lo + i;
        const flags = (isLetter(r) ? 1 : 0) | (isPrint(r) ? 2 : 0) | (isSpace(r) ? 4 : 0);
        if (flags !== s.flags[i]) bad.push(`flags(${r.toString(16)}) = ${flags}, Go ${s.flags[i]}`);
        if (simpleFold(r) !== r + s.simpleFold[i]) bad.push(`simpleFold(${r.toString(16)})`);
        // Go turns a surrogate code point into U+FFFD before folding; lone
        // surrogates in JS strings are covered by the string tests below.
        if (r < 0xd800 || r > 0xdfff) {
          const got = strToFold(String.fromCodePoint(r));
          if (got !== String.fromCodePoint(r + s.strToFold[i])) bad.push(`strToFold(${r.toString(16)})`);
        }
        checked++;
      }
      expect(bad.slice(0, 20)).toEqual([]);
    }
    expect(checked).toBe(0x110000);
    for (const f of ['unicode.IsLetter', 'unicode.IsPrint', 'unicode.IsSpace', 'unicode.SimpleFold']) caseCounts.set(f, checked);
    caseCounts.set('zip.StrToFold (single code points)', checked - 0x800);
  });

  const foldAlphabet = [
    ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./-_~',
    'K', 'k', '\u212a', 's', 'S', '\u017f', 'Σ', 'σ', 'ς', 'İ', 'ı', 'ǅ', 'ǆ', 'Ǆ', 'ß', 'ẞ', 'µ', 'Μ', 'μ',
    'Ꭰ', 'ꭰ', '𐐀', '𐐨', '𞤀', '𞤢', 'Ⓐ', 'ⓐ', 'Ａ', 'ａ', 'ᲀ', 'в', 'В', 'ϐ', 'β',
    '\ud800', '\udfff', '\ud83d', '😀', '\u0000', '\u007f', 'é', 'É', '\u0301', 'ǰ', 'ﬀ',
  ];

  it('strToFold', async () => {
    const next = rng(1);
    const cases: [string][] = [];
    for (let i = 0; i < 5000; i++) cases.push([randomString(next, foldAlphabet, 12)]);
    cases.push([''], ['go.mod'], ['GO.MOD'], ['\u212aelvin'], ['a/B/ç']);
    expect(await differential(oracle, 'zip.StrToFold', cases, strToFold)).toEqual([]);
  });

  it('equalFold', async () => {
    const next = rng(2);
    const cases: [string, string][] = [];
    for (let i = 0; i < 5000; i++) {
      const s = randomString(next, foldAlphabet, 8);
      // Mostly fold-equivalent variants of s, so that both answers occur.
      let t = '';
      for (const ch of s) {
        const r = ch.codePointAt(0) as number;
        t += next() < 0.5 ? String.fromCodePoint(simpleFold(r)) : ch;
      }
      if (next() < 0.2) t = randomString(next, foldAlphabet, 8);
      cases.push([s, t]);
    }
    cases.push(['CON', 'con'], ['COM1', 'ｃom1'], ['k', '\u212a'], ['\ud800', '\ufffd\ufffd\ufffd']);
    expect(await differential(oracle, 'strings.EqualFold', cases, equalFold)).toEqual([]);
  });

  it('fields splits where strings.Fields does', async () => {
    // Every character either set counts as space, and their neighbours. (Our
    // inputs are decoded text, so no lone surrogates: U+FFFD stands for bad bytes.)
    const alphabet = [
      'v', '1', '.', 'h', ':', ' ', '\t', '\n', '\v', '\f', '\r', '\u0085', '\u00a0', '\u1680', '\u2000', '\u200a',
      '\u200b', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff', '\u180e', '\u001c', '\u001f', '\ufffd', '😀',
    ];
    const next = rng(4);
    const cases: [string][] = [[''], [' '], ['\ufeffv1.0.0'], ['v1.0.0\u0085x'], ['a \u00a0b']];
    for (let i = 0; i < 5000; i++) cases.push([randomString(next, alphabet, 10)]);
    expect(await differential(oracle, 'strings.Fields', cases, (s) => fields(s) as unknown)).toEqual([]);
  });

  it('decodeUTF8 and goRunes', async () => {
    const next = rng(3);
    const interesting = [0x00, 0x61, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xa0, 0xed, 0x9f, 0xee, 0xef, 0xf0, 0x90, 0xf4, 0x8f, 0xf5, 0xff];
    const cases: [Uint8Array][] = [];
    for (let i = 0; i < 5000; i++) {
      const n = Math.floor(next() * 10);
      const b = new Uint8Array(n);
      for (let k = 0; k < n; k++) b[k] = next() < 0.7 ? interesting[Math.floor(next() * interesting.length)] : Math.floor(next() * 256);
      cases.push([b]);
    }
    expect(await differential(oracle, 'utf8.Decode', cases, decodeUTF8, { bytesAs: 'go' })).toEqual([]);

    // goRunes is what Go's range loop sees on the WTF-8 bytes of a JS string.
    const strs: [string][] = [];
    for (let i = 0; i < 2000; i++) strs.push([randomString(next, foldAlphabet, 8)]);
    expect(
      await differential(oracle, 'utf8.Decode', strs, (s) => String.fromCodePoint(...goRunes(s)), { bytesAs: 'go' }),
    ).toEqual([]);
    for (const [s] of strs) expect(Array.from(encodeUTF8(s))).toEqual(Array.from(wtf8Encode(s)));
  });
});
