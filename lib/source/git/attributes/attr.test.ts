import { describe, expect, it } from 'vitest';
import { parseAttrLine, parseAttributesBlob } from './attr.js';

const bin = (s: string): Buffer => Buffer.from(s, 'latin1');

// Lookup, precedence and macro expansion are tested through ArchiveConverter
// (archive.test.ts), against git archive itself.

describe('attribute line parsing', () => {
  it('ignores blank lines and comments, and trims CR', () => {
    expect(parseAttrLine('', true)).toBeNull();
    expect(parseAttrLine('   \t', true)).toBeNull();
    expect(parseAttrLine('  # *.txt text', true)).toBeNull();
    const r = parseAttrLine('*.txt text\r', true);
    expect(r).toMatchObject({ kind: 'pattern', states: [{ name: 'text', value: true }] });
  });

  it('parses set, unset, unspecified and values', () => {
    const r = parseAttrLine('*.c  text -ident !eol working-tree-encoding=UTF-16 a=b=c', true);
    expect(r?.states).toEqual([
      { name: 'text', value: true },
      { name: 'ident', value: false },
      { name: 'eol', value: null },
      { name: 'working-tree-encoding', value: 'UTF-16' },
      { name: 'a', value: 'b=c' },
    ]);
  });

  it('drops the whole line on an invalid attribute name', () => {
    expect(parseAttrLine('*.c text in@valid', true)).toBeNull();
    expect(parseAttrLine('*.c --text', true)).toBeNull();
    expect(parseAttrLine('*.c =x', true)).toBeNull();
  });

  it('drops negative patterns but accepts escaped bangs', () => {
    expect(parseAttrLine('!*.c text', true)).toBeNull();
    expect(parseAttrLine('\\!*.c text', true)).not.toBeNull();
  });

  it('unquotes C-style quoted patterns', () => {
    const r = parseAttrLine('"a b\\t\\101.txt" text', true);
    expect(r?.kind === 'pattern' && r.pattern.text).toBe('a b\tA.txt');
    // The states may follow the closing quote directly.
    expect(parseAttrLine('"x"text', true)?.states).toEqual([{ name: 'text', value: true }]);
    // Broken quoting: the pattern is taken literally.
    const broken = parseAttrLine('"a\\q" text', true);
    expect(broken?.kind === 'pattern' && broken.pattern.text).toBe('"a\\q"');
  });

  it('parses macros only where allowed', () => {
    expect(parseAttrLine('[attr]m text -diff', true)).toEqual({
      kind: 'macro',
      name: 'm',
      states: [
        { name: 'text', value: true },
        { name: 'diff', value: false },
      ],
    });
    expect(parseAttrLine('[attr]m text', false)).toBeNull();
    // "[attr]" alone is a (character class) pattern, not a macro.
    expect(parseAttrLine('[attr] text', true)?.kind).toBe('pattern');
    expect(parseAttrLine('"[attr] m" text', true)?.kind).toBe('macro');
  });

  it('ignores overly long lines and stops at NUL', () => {
    // strlen(line) >= 2048 drops the line, trailing blanks included.
    expect(parseAttrLine(`${'a'.repeat(2041)} text  `, true)).toBeNull();
    expect(parseAttrLine(`${'a'.repeat(2040)} text  `, true)).not.toBeNull();
    expect(parseAttrLine(`${'a'.repeat(2030)} text`, true)).not.toBeNull();
    expect(parseAttributesBlob(bin('a text\nb text\0\nc text\n'), true)).toHaveLength(2);
  });

  it('keeps a UTF-8 BOM as part of the first pattern (index reader)', () => {
    const rules = parseAttributesBlob(bin('\xef\xbb\xbf* text eol=crlf\n'), true);
    expect(rules[0].kind === 'pattern' && rules[0].pattern.text).toBe('\xef\xbb\xbf*');
  });
});
