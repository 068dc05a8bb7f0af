import { describe, expect, it } from 'vitest';
import { hashGoMod } from '../../gomod/dirhash.js';
import { GoSumVerifier } from './verifier.js';

describe('GoSumVerifier', () => {
  const mod = Buffer.from('module example.com/a\n');
  const h1 = 'h1:' + 'z'.repeat(43) + '=';

  it('reads go.sum lines as the go command does (strings.Fields), and refuses a version without them', async () => {
    // U+0085 separates fields for Go; U+FEFF does not, so that line names another module.
    const v = new GoSumVerifier(`example.com/a\u0085v1.0.0 ${h1}\nexample.com/a v1.0.0/go.mod\t${hashGoMod(mod)}\n\ufeffexample.com/b v1.0.0 ${h1}\n`);
    expect(v.covers('example.com/a', 'v1.0.0')).toBe(true);
    expect(await v.zipH1For('example.com/a', 'v1.0.0')).toBe(h1);
    await v.verifyMod('example.com/a', 'v1.0.0', mod);
    await expect(v.verifyMod('example.com/a', 'v1.0.0', Buffer.from('module evil\n'))).rejects.toThrow(/checksum mismatch/);
    await expect(v.zipH1For('example.com/b', 'v1.0.0')).rejects.toThrow(/no go.sum line/);
    expect(() => new GoSumVerifier(`example.com/a v1.0.0 ${h1}\nexample.com/a v1.0.0 h1:other\n`)).toThrow(/two hashes/);
  });
});
