import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseCounts, pick, randomString, reportCounts, rng, XmodOracle } from '../../test/support/xmodOracle.js';
import { hash1, hashGoMod } from './dirhash.js';

const sha256Hex = (b: Uint8Array | string) => crypto.createHash('sha256').update(b).digest('hex');

describe('dirhash (unit)', () => {
  it('hashes a go.mod', () => {
    const data = Buffer.from('module example.com/m\n');
    // The formula (docs/go-rules/hashes.md#gomod-hash): base64(sha256(hex(sha256(mod)) + "  go.mod\n")).
    const want = 'h1:' + crypto.createHash('sha256').update(`${sha256Hex(data)}  go.mod\n`).digest('base64');
    expect(hashGoMod(data)).toBe(want);
  });

  it('sorts names by UTF-8 bytes', () => {
    const a = { name: 'm@v1/\uffff', sha256Hex: sha256Hex('a') };
    const b = { name: 'm@v1/😀', sha256Hex: sha256Hex('b') };
    const want = 'h1:' + crypto.createHash('sha256').update(`${a.sha256Hex}  ${a.name}\n${b.sha256Hex}  ${b.name}\n`).digest('base64');
    expect(hash1([b, a])).toBe(want);
    expect(hash1([a, b])).toBe(want);
  });

  it('rejects newlines', () => {
    expect(() => hash1([{ name: 'a\nb', sha256Hex: sha256Hex('') }])).toThrow('dirhash: filenames with newlines are not supported');
  });
});

describe('dirhash (differential)', () => {
  let oracle: XmodOracle;
  beforeAll(async () => {
    oracle = await XmodOracle.start();
  });
  afterAll(async () => {
    await oracle?.close();
    reportCounts('dirhash.test.ts');
  });

  it('dirhash.Hash1', async () => {
    const next = rng(1);
    const namePieces = [...'abcXYZ019./-_ ', 'go.mod', 'é', '中', '\ue000', '\uffff', '😀', '\u{10ffff}', '\ud800', '\n', 'm@v1.0.0/'];
    const sets: { names: string[]; contents: Uint8Array[] }[] = [];
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(next() * 8);
      const names: string[] = [];
      for (let k = 0; k < n; k++) {
        // Sometimes repeat a name: Go hashes duplicates once per occurrence.
        names.push(k > 0 && next() < 0.1 ? pick(next, names) : 'm@v1/' + randomString(next, namePieces, 5).replace(next() < 0.9 ? /\n/g : /$^/, ''));
      }
      const contents: Uint8Array[] = names.map(() => Uint8Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256)));
      // Duplicate names must have the same content for Go's open() to match ours.
      const byName = new Map<string, Uint8Array>();
      names.forEach((nm, k) => {
        if (!byName.has(nm)) byName.set(nm, contents[k]);
        contents[k] = byName.get(nm) as Uint8Array;
      });
      sets.push({ names, contents });
    }
    sets.push({ names: ['go.mod'], contents: [Buffer.from('module x\n')] }, { names: [], contents: [] });
    const resps = await oracle.callMany(sets.map((s) => ['dirhash.Hash1', s.names, s.contents]));
    caseCounts.set('dirhash.Hash1', sets.length);
    const bad: unknown[] = [];
    sets.forEach((s, i) => {
      let ours: { r: string } | { err: string };
      try {
        ours = { r: hash1(s.names.map((name, k) => ({ name, sha256Hex: sha256Hex(s.contents[k]) }))) };
      } catch (e) {
        ours = { err: (e as Error).message };
      }
      const go = resps[i].err ? { err: resps[i].err?.msg } : { r: resps[i].r };
      if (JSON.stringify(go) !== JSON.stringify(ours)) bad.push({ names: s.names, go, ours });
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('hashGoMod is Hash1 over ["go.mod"]', async () => {
    const next = rng(2);
    const mods = Array.from({ length: 500 }, (_, i) =>
      i % 2 ? Buffer.from(`module example.com/m${i}\n\ngo 1.${i % 30}\n`) : Uint8Array.from({ length: Math.floor(next() * 200) }, () => Math.floor(next() * 256)),
    );
    const resps = await oracle.callMany(mods.map((m) => ['dirhash.Hash1', ['go.mod'], [m]]));
    caseCounts.set('dirhash.Hash1 (hashGoMod)', mods.length);
    expect(mods.map((m) => hashGoMod(m)).filter((h, i) => h !== resps[i].r)).toEqual([]);
  });
});
