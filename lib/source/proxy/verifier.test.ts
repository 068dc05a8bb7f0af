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
  });

  it('takes the first h1 hash of a version, as the go command does, and refuses a malformed line with its number', async () => {
    const other = 'h1:' + 'y'.repeat(43) + '=';
    const empty = 'h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=';
    const v = new GoSumVerifier(
      [
        `example.com/a v1.0.0 h2:future`,
        `example.com/a v1.0.0 ${h1}`,
        `example.com/a v1.0.0 ${other}`,
        `example.com/a v1.0.0/go.mod ${empty}`,
        `example.com/a v1.0.0/go.mod ${hashGoMod(mod)}`,
        '',
        `example.com/b v1.0.0 h1:short`,
        `example.com/b v1.0.0/go.mod ${empty}`,
      ].join('\r\n'),
    );
    expect(await v.zipH1For('example.com/a', 'v1.0.0')).toBe(h1);
    await v.verifyMod('example.com/a', 'v1.0.0', mod);
    // The empty go.mod's hash is dropped (an old go command's bug), so b's go.mod has no line.
    expect(v.covers('example.com/b', 'v1.0.0')).toBe(false);
    await expect(v.zipH1For('example.com/b', 'v1.0.0')).rejects.toThrow(/checksum mismatch: go.sum has "h1:short"/);
    expect(() => new GoSumVerifier(`example.com/a v1.0.0 ${h1}\n\nexample.com/a v1.0.0/go.mod\n`, 'x.sum')).toThrow('malformed go.sum:\nx.sum:3: wrong number of fields 2');
  });
});
