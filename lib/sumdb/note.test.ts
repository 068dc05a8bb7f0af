import fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { testKey } from '../../test/support/noteKey.js';
import {
  NoteError,
  computeKeyHash,
  decodeStdBase64,
  isValidName,
  keyHashHex,
  openNote,
  parseVerifierKey,
  type OpenedNote,
} from './note.js';

// Inputs and Go's answers: test/fixtures/make-sumdb-vectors.ts.
interface Vectors {
  keys: Record<'a' | 'b' | 'c', { skey: string; vkey: string }>;
  verifierKeys: { vkey: string; result: { name?: string; hash?: string; err?: string } }[];
  notes: { vkeys: string[]; msg: string; result: GoNote }[];
}
type GoSig = { name: string; hash: string; b64: string };
type GoNote = { text?: string; sigs?: GoSig[]; unverified?: GoSig[]; err?: string };

const vectors = JSON.parse(
  fs.readFileSync(new URL('../../test/fixtures/sumdb-vectors.json', import.meta.url), 'utf8'),
) as Vectors;

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const enc = (s: string) => new TextEncoder().encode(s);

function asGo(f: () => OpenedNote): GoNote {
  try {
    const n = f();
    const sig = (s: OpenedNote['sigs'][number]): GoSig => ({ name: s.name, hash: keyHashHex(s.keyHash), b64: s.base64 });
    return { text: Buffer.from(n.textBytes).toString('base64'), sigs: n.sigs.map(sig), unverified: n.unverifiedSigs.map(sig) };
  } catch (e) {
    if (!(e instanceof NoteError)) throw e;
    return { err: e.message };
  }
}

describe('verifier keys', () => {
  it('parse exactly as Go parses them', () => {
    for (const { vkey, result } of vectors.verifierKeys) {
      let ours: unknown;
      try {
        const v = parseVerifierKey(vkey);
        ours = { name: v.name, hash: keyHashHex(v.keyHash) };
      } catch (e) {
        ours = { err: (e as Error).message };
      }
      const want = result.err !== undefined ? { err: result.err } : { name: result.name, hash: result.hash };
      expect(ours, vkey).toEqual(want);
    }
  });

  it('hash is the first four bytes of SHA-256(name, newline, key)', () => {
    const [name, hash, key] = vectors.keys.a.vkey.split('+', 3);
    const full = vectors.keys.a.vkey.slice(name.length + hash.length + 2);
    expect(keyHashHex(computeKeyHash(name, b64(full)))).toBe(hash);
    expect(key.length).toBeGreaterThan(0);
  });

  it('refuses absurdly long keys without parsing them', () => {
    expect(() => parseVerifierKey('a'.repeat(100_000))).toThrow(/malformed verifier id/);
  });

  it('a key that is not a curve point verifies nothing and does not throw', () => {
    // y = 2 is not on the curve, whatever the sign bit.
    const raw = Buffer.concat([Buffer.of(1), Buffer.alloc(32, 0)]);
    raw[1] = 2;
    const vkey = `bad+${keyHashHex(computeKeyHash('bad', raw))}+${raw.toString('base64')}`;
    const v = parseVerifierKey(vkey);
    expect(v.verify(enc('x\n'), new Uint8Array(64))).toBe(false);
  });
});

describe('openNote', () => {
  it(`agrees with Go's note.Open on ${vectors.notes.length} notes`, () => {
    const bad: unknown[] = [];
    for (const { vkeys, msg, result } of vectors.notes) {
      const verifiers = vkeys.map((k) => parseVerifierKey(k));
      const ours = asGo(() => openNote(b64(msg), verifiers));
      const want = result.err !== undefined ? { err: result.err } : result;
      if (!isDeepStrictEqual(ours, want)) bad.push({ msg, vkeys, ours, want });
    }
    expect(bad).toEqual([]);
  });

  it('accepts a note signed by a key made here (Node Ed25519)', () => {
    const k = testKey('local.test');
    const n = openNote(k.sign('hello\nworld\n'), [parseVerifierKey(k.vkey)]);
    expect(n.text).toBe('hello\nworld\n');
    expect(n.sigs.map((s) => s.name)).toEqual(['local.test']);
  });

  it('keeps a byte order mark where Go keeps it: in the text, and in a signer’s name (then unknown)', () => {
    const k = testKey('local.test');
    const verifiers = [parseVerifierKey(k.vkey)];
    expect(openNote(k.sign('\ufeffgo.sum database tree\n'), verifiers).text).toBe('\ufeffgo.sum database tree\n');
    const marked = Buffer.from(k.sign('hello\n')).toString('utf8').replace('\u2014 local.test', '\u2014 \ufefflocal.test');
    expect(() => openNote(enc(marked), verifiers)).toThrow(NoteError);
  });

  it('names what is wrong with a code', () => {
    const k = testKey('local.test');
    const other = testKey('local.test');
    const v = parseVerifierKey(k.vkey);
    const code = (msg: Uint8Array, known = [v]) => {
      try {
        openNote(msg, known);
        return 'ok';
      } catch (e) {
        return (e as NoteError).code;
      }
    };
    const good = k.sign('t\n');
    expect(code(good)).toBe('ok');
    expect(code(other.sign('t\n'))).toBe('unverified');
    expect(code(good, [])).toBe('unverified');
    expect(code(good, [v, v])).toBe('ambiguous-key');
    // The signature of another text, under the right key.
    expect(code(enc(`t\n\n${k.sigLine('u\n')}`))).toBe('invalid-signature');
    expect(code(enc('t\n'))).toBe('malformed-note');
    expect(code(new Uint8Array(70 * 1024))).toBe('too-large');
  });

  it('bounds the size it reads', () => {
    const k = testKey('local.test');
    const big = k.sign('x'.repeat(2000) + '\n');
    expect(() => openNote(big, [parseVerifierKey(k.vkey)], { maxBytes: 1000 })).toThrow(/larger than 1000/);
    expect(openNote(big, [parseVerifierKey(k.vkey)], { maxBytes: 3000 }).sigs).toHaveLength(1);
  });

  it('ignores unknown signers but still needs a known one', () => {
    const k = testKey('local.test');
    const stranger = testKey('stranger.test');
    const text = 'go.sum database tree\n1\n' + Buffer.alloc(32).toString('base64') + '\n';
    const both = enc(`${text}\n${stranger.sigLine(text)}${k.sigLine(text)}`);
    const n = openNote(both, [parseVerifierKey(k.vkey)]);
    expect(n.sigs.map((s) => s.name)).toEqual(['local.test']);
    expect(n.unverifiedSigs.map((s) => s.name)).toEqual(['stranger.test']);
    expect(() => openNote(enc(`${text}\n${stranger.sigLine(text)}`), [parseVerifierKey(k.vkey)])).toThrow(
      /no verifiable signatures/,
    );
  });

  it('stops at 100 signature lines', () => {
    const k = testKey('local.test');
    const text = 't\n';
    const line = k.sigLine(text);
    const unknown = (i: number) => `— u${i} ${Buffer.concat([Buffer.of(0, 0, 0, i), Buffer.alloc(64)]).toString('base64')}\n`;
    const many = (n: number) => enc(`${text}\n${line}${Array.from({ length: n - 1 }, (_, i) => unknown(i)).join('')}`);
    expect(openNote(many(100), [parseVerifierKey(k.vkey)]).unverifiedSigs).toHaveLength(99);
    expect(() => openNote(many(101), [parseVerifierKey(k.vkey)])).toThrow(/malformed note/);
  });
});

describe('decodeStdBase64', () => {
  it('is strict about the alphabet and padding, like Go', () => {
    expect(decodeStdBase64('')).toEqual(new Uint8Array(0));
    expect(decodeStdBase64('AQID')).toEqual(Uint8Array.of(1, 2, 3));
    expect(decodeStdBase64('AQI=')).toEqual(Uint8Array.of(1, 2));
    expect(decodeStdBase64('AQ==')).toEqual(Uint8Array.of(1));
    expect(decodeStdBase64('AR==')).toEqual(Uint8Array.of(1)); // trailing bits are not checked
    expect(decodeStdBase64('AQ\r\nID')).toEqual(Uint8Array.of(1, 2, 3)); // CR and LF are skipped
    for (const bad of ['AQ', 'AQI', 'AQ=', 'A===', '====', 'AQ==AQID', 'AQ-_', 'AQ I', 'AQ=I', 'AQIDé', '=AQI']) {
      expect(decodeStdBase64(bad), bad).toBeNull();
    }
  });
});

describe('isValidName', () => {
  it('refuses empty names, white space as Go sees it, plus signs and broken UTF-16', () => {
    expect(isValidName('sum.golang.org')).toBe(true);
    expect(isValidName('a\ufeffb')).toBe(true); // not white space to Go
    for (const bad of ['', 'a b', 'a+b', 'a\u0085b', 'a\u00a0b', 'a\u3000b', 'a\ud800b', 'a\tb']) {
      expect(isValidName(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});
