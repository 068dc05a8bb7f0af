import { describe, expect, it } from 'vitest';
import { crlfToWorktree, gatherStats, identToWorktree, isBinary } from './convert.js';

const bin = (s: string): Buffer => Buffer.from(s, 'latin1');

// The conversions as attributes select them are tested through
// ArchiveConverter (archive.test.ts), against git archive itself.

describe('conversions', () => {
  it('binary detection follows convert.c', () => {
    expect(isBinary(gatherStats(bin('a\rb')))).toBe(true);
    expect(isBinary(gatherStats(bin('ab\x1a')))).toBe(false);
    expect(isBinary(gatherStats(bin(`${'a'.repeat(127)}\x01`)))).toBe(true);
    expect(isBinary(gatherStats(bin(`${'a'.repeat(128)}\x01`)))).toBe(false);
    expect(isBinary(gatherStats(bin('\b\t\x1b\f')))).toBe(false);
  });

  it('crlfToWorktree leaves empty input alone', () => {
    const empty = new Uint8Array(0);
    expect(crlfToWorktree(empty, 'text-crlf')).toBe(empty);
  });

  it('expands ident keywords with the original blob id', () => {
    const oid = 'f'.repeat(40);
    const out = (s: string) => Buffer.from(identToWorktree(bin(s), oid)).toString('latin1');
    const id = `$Id: ${oid} $`;
    expect(out('$Id$')).toBe(id);
    expect(out('$Id:$')).toBe(id);
    expect(out('$Id: old $')).toBe(id);
    expect(out('$Id:  $')).toBe(id);
    expect(out('$Id: x.c 1.2 $')).toBe('$Id: x.c 1.2 $');
    expect(out('$Id: x\n$')).toBe('$Id: x\n$');
    expect(out('$Id: a b $Id$')).toBe(`$Id: a b $Id: ${oid} $`);
    expect(out('$Id')).toBe('$Id');
    expect(out('$Id:')).toBe('$Id:');
    expect(out('$$Id$$')).toBe(`$${id}$`);
  });
});
