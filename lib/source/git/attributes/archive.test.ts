import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import iconvLite from 'iconv-lite';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng } from '../../../../test/support/prng.js';
import { ArchiveConverter, GitArchiveFatalError } from './archive.js';
import type { GitattributesFile } from './attr.js';
import { LEGACY_CHARSETS } from './charsets.js';
import { UnsupportedConversionError } from './encodings.js';

const execFileAsync = promisify(execFile);
const enc = (s: string): Buffer => Buffer.from(s, 'utf8');
const bin = (s: string): Buffer => Buffer.from(s, 'latin1');

function blobOid(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

function converter(files: Record<string, string>): ArchiveConverter {
  return new ArchiveConverter(
    Object.entries(files).map(([dir, content]) => ({ dir, content: enc(content) })),
  );
}

function conv(files: Record<string, string>, path: string, content: string | Buffer): string {
  const raw = typeof content === 'string' ? bin(content) : content;
  return Buffer.from(converter(files).convert(path, blobOid(raw), raw)).toString('latin1');
}

describe('pattern matching and precedence', () => {
  it('basename patterns match at any depth, slash patterns are anchored', () => {
    const c = converter({ '': '*.txt text eol=crlf\nsub/*.c text eol=crlf\n' });
    expect(c.affects('a/b/c.txt')).toBe(true);
    expect(c.affects('sub/x.c')).toBe(true);
    expect(c.affects('sub/deep/x.c')).toBe(false);
    expect(c.affects('other/sub/x.c')).toBe(false);
  });

  it('anchors patterns of nested files to their directory', () => {
    const c = converter({ sub: '/x.c ident\ndeep/*.c ident\n' });
    expect(c.affects('sub/x.c')).toBe(true);
    expect(c.affects('x.c')).toBe(false);
    expect(c.affects('sub/deep/y.c')).toBe(true);
    expect(c.affects('sub/a/x.c')).toBe(false);
  });

  it('trailing-slash patterns never match files', () => {
    expect(converter({ '': 'sub/ ident\nx/ ident\n' }).affects('x')).toBe(false);
  });

  it('deeper files override shallower, later lines override earlier', () => {
    const c = converter({ '': '* ident\n*.c -ident\n', sub: '*.c ident\n' });
    expect(c.attributes('a.c').get('ident')).toBe(false);
    expect(c.attributes('a.h').get('ident')).toBe(true);
    expect(c.attributes('sub/a.c').get('ident')).toBe(true);
  });

  it('`!attr` resets to unspecified, hiding lower-precedence lines', () => {
    const c = converter({ '': '* text eol=crlf\n*.c !eol\n' });
    expect(c.attributes('a.c').has('eol')).toBe(true);
    expect(c.attributes('a.c').get('eol')).toBeNull();
    expect(conv({ '': '* text eol=crlf\n*.c !eol\n' }, 'a.c', 'x\n')).toBe('x\n');
  });

  it('is case sensitive', () => {
    expect(converter({ '': '*.TXT ident' }).affects('a.txt')).toBe(false);
  });

  it('expands the builtin binary macro and user macros', () => {
    expect(conv({ '': '* text eol=crlf\n*.b binary\n' }, 'x.b', 'a\n')).toBe('a\n');
    expect(conv({ '': '[attr]crlfy text eol=crlf\n*.t crlfy\n' }, 'x.t', 'a\n')).toBe('a\r\n');
    // A macro may only be defined at the top level.
    expect(conv({ sub: '[attr]crlfy text eol=crlf\n*.t crlfy\n' }, 'sub/x.t', 'a\n')).toBe('a\n');
    // Root files may redefine binary.
    expect(conv({ '': '[attr]binary text eol=crlf\n* binary\n' }, 'x', 'a\n')).toBe('a\r\n');
    // Only a macro that is *set* expands.
    expect(conv({ '': '[attr]m text eol=crlf\n* -m\n' }, 'x', 'a\n')).toBe('a\n');
  });

  it('applies a line right to left, so later states on a line beat macro members', () => {
    expect(conv({ '': '* binary text eol=crlf\n' }, 'x', 'a\n')).toBe('a\r\n');
    expect(conv({ '': '* text binary eol=crlf\n' }, 'x', 'a\n')).toBe('a\n');
  });
});

describe('conversions', () => {
  it('text eol=crlf converts lone LFs only', () => {
    expect(conv({ '': '* text eol=crlf' }, 'x', 'a\nb\r\nc\rd\n')).toBe('a\r\nb\r\nc\rd\r\n');
  });

  it('text=auto eol=crlf skips binary files and files containing CR', () => {
    const a = { '': '* text=auto eol=crlf' };
    expect(conv(a, 'x', 'a\nb\n')).toBe('a\r\nb\r\n');
    expect(conv(a, 'x', 'a\nb\r\n')).toBe('a\nb\r\n');
    expect(conv(a, 'x', 'a\nb\r')).toBe('a\nb\r');
    expect(conv(a, 'x', 'a\n\0')).toBe('a\n\0');
  });

  it('honours the legacy crlf attribute and text=input', () => {
    expect(conv({ '': '* crlf eol=crlf' }, 'x', 'a\n')).toBe('a\r\n');
    expect(conv({ '': '* -crlf eol=crlf' }, 'x', 'a\n')).toBe('a\n');
    expect(conv({ '': '* crlf=auto eol=crlf' }, 'x', 'a\r\nb\n')).toBe('a\r\nb\n');
    expect(conv({ '': '* text=input eol=crlf' }, 'x', 'a\n')).toBe('a\r\n');
    expect(conv({ '': '* text' }, 'x', 'a\n')).toBe('a\n');
    expect(conv({ '': '* eol=CRLF' }, 'x', 'a\n')).toBe('a\n');
  });

  it('applies ident before eol conversion', () => {
    const raw = bin('$Id$\n');
    const c = converter({ '': '* ident text eol=crlf' });
    expect(Buffer.from(c.convert('x', blobOid(raw), raw)).toString('latin1')).toBe(`$Id: ${blobOid(raw)} $\r\n`);
  });

  it('re-encodes UTF-8 to working-tree-encoding', () => {
    const a = { '': '*.16 working-tree-encoding=UTF-16\n*.le working-tree-encoding=utf16le-bom\n*.l1 working-tree-encoding=latin1\n' };
    expect(conv(a, 'x.16', enc('hé'))).toBe('\xff\xfeh\x00\xe9\x00');
    expect(conv(a, 'x.le', enc('hé'))).toBe('\xff\xfeh\x00\xe9\x00');
    expect(conv(a, 'x.l1', enc('hé'))).toBe('h\xe9');
    // Not representable, or not UTF-8: git writes the blob unchanged.
    expect(conv(a, 'x.l1', enc('h€'))).toBe(enc('h€').toString('latin1'));
    expect(conv(a, 'x.16', bin('h\xff'))).toBe('h\xff');
  });

  it('handles unknown, UTF-8 and fatal working-tree-encodings like git', () => {
    expect(conv({ '': '* working-tree-encoding=NO-SUCH' }, 'x', 'a\n')).toBe('a\n');
    expect(conv({ '': '* working-tree-encoding=latin-1' }, 'x', enc('é'))).toBe('\xe9');
    expect(converter({ '': '* working-tree-encoding=utf8' }).affects('x')).toBe(false);
    expect(converter({ '': '* -working-tree-encoding' }).affects('x')).toBe(false);
    const fatal = converter({ '': '* working-tree-encoding' });
    expect(fatal.affects('x')).toBe(true);
    expect(() => fatal.convert('x', blobOid(bin('a')), bin('a'))).toThrow(GitArchiveFatalError);
    const unsupported = converter({ '': '* working-tree-encoding=EBCDIC-US' });
    expect(() => unsupported.convert('x', blobOid(bin('a')), bin('a'))).toThrow(UnsupportedConversionError);
  });

  it('affects() is false where nothing can change', () => {
    const c = converter({ '': '*.txt text\n*.md text=auto\n*.bin -text eol=crlf\n' });
    expect(c.affects('a.txt')).toBe(false);
    expect(c.affects('a.md')).toBe(false);
    expect(c.affects('a.bin')).toBe(false);
    expect(c.affects('a.go')).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// Differential tests against git archive

interface SpecFile {
  content: Buffer;
  symlink?: boolean;
}
type Spec = Map<string, SpecFile>;
interface Case {
  name: string;
  spec: Spec;
  /** archive only this subdirectory (git archive ... -- sub) */
  subdirs: Array<string | null>;
}

const GIT_ENV_BASE = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.com',
  GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z',
  GIT_ATTR_NOSYSTEM: '1',
  GIT_CONFIG_NOSYSTEM: '1',
  LC_ALL: 'C',
};

function cQuote(path: string): string {
  let out = '"';
  for (const b of enc(path)) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b < 0x20 || b >= 0x7f) out += `\\${b.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `${out}"`;
}

/** One `git fast-import` run creates all cases as root commits on refs/heads/c<i>. */
function fastImportStream(cases: Case[]): Buffer {
  const parts: Buffer[] = [];
  cases.forEach((c, i) => {
    parts.push(enc(`commit refs/heads/c${i}\ncommitter t <t@example.com> 1577836800 +0000\ndata 1\nx\n`));
    for (const [path, f] of c.spec) {
      parts.push(enc(`M ${f.symlink ? '120000' : '100644'} inline ${cQuote(path)}\ndata ${f.content.length}\n`));
      parts.push(f.content, enc('\n'));
    }
    parts.push(enc('\n'));
  });
  return Buffer.concat(parts);
}

async function readZip(buf: Buffer): Promise<Map<string, Buffer>> {
  const zip = await JSZip.loadAsync(buf);
  const out = new Map<string, Buffer>();
  const entries: Array<[string, JSZip.JSZipObject]> = [];
  zip.forEach((rel, file) => {
    if (!file.dir) entries.push([rel, file]);
  });
  for (const [rel, file] of entries) out.set(rel, Buffer.from(await file.async('uint8array')));
  return out;
}

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
}

interface Outcome {
  /** files compared (a file archived twice, whole and as `-- sub`, counts twice) */
  checkedFiles: number;
  /** of those, files whose archived bytes differ from the blob */
  changedFiles: number;
  mismatches: string[];
}

/** Build one repository holding every case, archive each, compare. */
async function runDifferential(cases: Case[], root: string): Promise<Outcome> {
  const repo = join(root, `r${Math.random().toString(36).slice(2)}.git`);
  const env = { ...process.env, ...GIT_ENV_BASE, HOME: root, XDG_CONFIG_HOME: root };
  execFileSync('git', ['init', '-q', '--bare', repo], { env });
  execFileSync('git', ['--git-dir', repo, 'fast-import', '--quiet'], { env, input: fastImportStream(cases) });
  // What the go command's ensureGitAttributes() does.
  appendFileSync(join(repo, 'info', 'attributes'), '* -export-subst -export-ignore\n');

  const outcome: Outcome = { checkedFiles: 0, changedFiles: 0, mismatches: [] };
  const jobs = cases.flatMap((c, i) => c.subdirs.map((sub) => ({ c, i, sub })));
  await pool(jobs, 4, async ({ c, i, sub }) => {
    const label = `${c.name}${sub ? ` -- ${sub}` : ''}`;
    const args = ['--git-dir', repo, '-c', 'core.autocrlf=input', '-c', 'core.eol=lf', 'archive', '--format=zip', '--prefix=p/', `refs/heads/c${i}`];
    if (sub) args.push('--', sub);
    let zipBytes: Buffer | null = null;
    let gitError = '';
    try {
      const r = await execFileAsync('git', args, { env, encoding: 'buffer', maxBuffer: 1 << 28 });
      zipBytes = r.stdout;
    } catch (e) {
      gitError = String((e as { stderr?: Buffer }).stderr ?? e);
    }
    const r = await compareCase(c, sub, zipBytes, gitError, label);
    outcome.mismatches.push(...r.problems);
    outcome.checkedFiles += r.checked;
    outcome.changedFiles += r.changed;
  });
  return outcome;
}

interface CaseResult {
  problems: string[];
  checked: number;
  changed: number;
}

async function compareCase(c: Case, sub: string | null, zipBytes: Buffer | null, gitError: string, label: string): Promise<CaseResult> {
  const attrs: GitattributesFile[] = [];
  for (const [path, f] of c.spec) {
    const m = /^(?:(.*)\/)?\.gitattributes$/.exec(path);
    if (m) attrs.push({ dir: m[1] ?? '', content: f.content });
  }
  const conv = new ArchiveConverter(attrs);
  const inScope = [...c.spec].filter(([p]) => !sub || p.startsWith(`${sub}/`));
  const problems: string[] = [];

  if (zipBytes === null) {
    // git died: we must refuse at least one file of the archive the same way.
    const refused = inScope.some(([p, f]) => {
      if (f.symlink) return false;
      try {
        conv.convert(p, blobOid(f.content), f.content);
        return false;
      } catch (e) {
        return e instanceof GitArchiveFatalError;
      }
    });
    if (!refused) problems.push(`${label}: git failed (${gitError.trim()}) but convert() did not`);
    return { problems, checked: 0, changed: 0 };
  }

  const files = await readZip(zipBytes);
  let checked = 0;
  let changed = 0;
  if (files.size !== inScope.length) problems.push(`${label}: zip has ${files.size} files, expected ${inScope.length}`);
  for (const [path, f] of inScope) {
    const got = files.get(`p/${path}`);
    if (!got) {
      problems.push(`${label}: ${path} missing from zip`);
      continue;
    }
    // Symlinks are archived as their raw target; convert() is not for them.
    const want = f.symlink ? f.content : Buffer.from(conv.convert(path, blobOid(f.content), f.content));
    checked++;
    if (!got.equals(f.content)) changed++;
    if (!want.equals(got)) {
      problems.push(`${label}: ${path}\n  git:  ${JSON.stringify(got.toString('latin1'))}\n  ours: ${JSON.stringify(want.toString('latin1'))}`);
    }
    if (!f.symlink && !conv.affects(path) && !got.equals(f.content)) {
      problems.push(`${label}: ${path}: affects() is false but git changed the bytes`);
    }
  }
  return { problems, checked, changed };
}

function spec(files: Record<string, string | Buffer | { link: string }>): Spec {
  const m: Spec = new Map();
  for (const [p, v] of Object.entries(files)) {
    if (typeof v === 'string') m.set(p, { content: enc(v) });
    else if (Buffer.isBuffer(v)) m.set(p, { content: v });
    else m.set(p, { content: enc(v.link), symlink: true });
  }
  return m;
}

/** Contents exercising every branch of the conversions. */
const CONTENTS: Record<string, Buffer> = {
  empty: bin(''),
  lf: bin('one\ntwo\nthree\n'),
  lfNoEol: bin('one\ntwo'),
  crlf: bin('one\r\ntwo\r\n'),
  mixed: bin('one\r\ntwo\nthree\n'),
  loneCr: bin('one\rtwo\n'),
  crOnly: bin('a\rb\r'),
  nul: bin('a\0b\nc\n'),
  ctrlHeavy: bin('\x01\x02\x03 text\n'),
  ctrlLight: bin(`${'x'.repeat(300)}\x01\n${'y'.repeat(40)}\n`),
  dosEof: bin('a\nb\n\x1a'),
  longLine: bin(`${'long line '.repeat(2000)}\nend\n`),
  utf8: enc('héllo wörld\n日本語テキスト\n'),
  utf8Astral: enc('emoji \u{1f600}\n'),
  invalidUtf8: bin('caf\xe9\n'),
  latin1Able: enc('café ÿ\n'),
  idPlain: bin('// $Id$\npackage x\n'),
  idExpanded: bin('// $Id: 0123456789012345678901234567890123456789 $\n'),
  idForeign: bin('// $Id: x.c,v 1.2 2001/01/01 joe Exp $\n'),
  idBroken: bin('$Id: no close\n$Id$\n$Id:$ $Id\n'),
  idCrlf: bin('$Id$\r\nx\n'),
  bom: enc('\ufeffbom text\n'),
  goFile: bin('package main\n\nfunc main() {}\n'),
};

function fixedCases(): Case[] {
  const C = CONTENTS;
  const both: Array<string | null> = [null, 'sub'];
  return [
    {
      name: 'eol=crlf at root governs subdirectory files',
      subdirs: both,
      spec: spec({
        '.gitattributes': '*.txt text eol=crlf\n*.go text eol=crlf\n',
        'a.txt': C.lf, 'b.txt': C.mixed, 'c.txt': C.loneCr, 'd.txt': C.nul, 'e.txt': C.empty,
        'sub/go.mod': 'module x\n', 'sub/x.go': C.goFile, 'sub/y.txt': C.crlf, 'sub/long.txt': C.longLine,
      }),
    },
    {
      name: 'text=auto eol=crlf auto-detection',
      subdirs: both,
      spec: spec(Object.fromEntries([
        ['.gitattributes', bin('* text=auto eol=crlf\n')],
        ...Object.entries(C).map(([k, v]) => [`sub/${k}`, v]),
      ])),
    },
    {
      name: 'deeper files override, macros only at root',
      subdirs: both,
      spec: spec({
        '.gitattributes': '[attr]win text eol=crlf\n* win\n*.bin binary\n',
        'sub/.gitattributes': '[attr]win -text\n*.keep -text\n*.id ident\n',
        'sub/deep/.gitattributes': '*.txt !text\n',
        'a': C.lf, 'x.bin': C.lf,
        'sub/a': C.lf, 'sub/b.keep': C.lf, 'sub/c.id': C.idPlain,
        'sub/deep/x.txt': C.lf, 'sub/deep/y': C.lf,
      }),
    },
    {
      name: 'ident variants',
      subdirs: both,
      spec: spec({
        '.gitattributes': '* ident\n*.crlf text eol=crlf\n',
        'plain': C.idPlain, 'expanded': C.idExpanded, 'foreign': C.idForeign, 'broken': C.idBroken,
        'sub/x.crlf': C.idCrlf, 'sub/none': C.lf,
      }),
    },
    {
      name: 'working-tree-encoding',
      subdirs: both,
      spec: spec({
        '.gitattributes': [
          '*.u16 working-tree-encoding=UTF-16',
          '*.u16le working-tree-encoding=UTF-16LE',
          '*.u16be working-tree-encoding=UTF-16BE',
          '*.bom working-tree-encoding=UTF-16LE-BOM',
          '*.bebom working-tree-encoding=utf16be-bom',
          '*.u32 working-tree-encoding=UTF-32',
          '*.ucs2 working-tree-encoding=UCS-2',
          '*.uni working-tree-encoding=UNICODE',
          '*.l1 working-tree-encoding=ISO-8859-1',
          '*.latin working-tree-encoding=latin-1',
          '*.ascii working-tree-encoding=US-ASCII',
          '*.nope working-tree-encoding=NO-SUCH-THING',
          '*.utf8 working-tree-encoding=utf-8',
          '*.crlf16 text eol=crlf working-tree-encoding=UTF-16',
          '',
        ].join('\n'),
        ...Object.fromEntries(['u16', 'u16le', 'u16be', 'bom', 'bebom', 'u32', 'ucs2', 'uni', 'l1', 'latin', 'ascii', 'nope', 'utf8', 'crlf16'].flatMap((ext) => [
          [`t.${ext}`, C.utf8], [`sub/a.${ext}`, C.utf8Astral], [`sub/i.${ext}`, C.invalidUtf8],
          [`sub/l.${ext}`, C.latin1Able], [`sub/e.${ext}`, C.empty], [`sub/b.${ext}`, C.bom], [`sub/n.${ext}`, C.lf],
        ])),
      }),
    },
    legacyCharsetCase(),
    {
      name: 'non-ASCII names, line limits, NUL, export-*, filter',
      subdirs: both,
      spec: spec({
        '.gitattributes': Buffer.concat([
          enc('[é]* ident\n"\\303\\274*" ident\n'),
          enc(`*.lim${' '.repeat(2047 - 5 - 5)}ident\n`), // 2047 bytes: kept
          enc(`*.over${' '.repeat(2048 - 6 - 5)}ident\n`), // 2048 bytes: dropped
          enc('* export-subst export-ignore\n*.lfs filter=lfs diff=lfs merge=lfs -text eol=crlf\n'),
          enc('*.sub ident\n'),
        ]),
        'sub/.gitattributes': bin('*.pre ident\n\0*.post ident\n'),
        'é.c': C.idPlain, 'e.c': C.idPlain, 'ünï.txt': C.idPlain, 'sub/ö.txt': C.idPlain,
        'a.lim': C.idPlain, 'a.over': C.idPlain, 'fmt.sub': bin('$Format:%H$ $Id$\n'),
        'x.lfs': bin('version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n'),
        'sub/a.pre': C.idPlain, 'sub/a.post': C.idPlain,
      }),
    },
    {
      name: 'working-tree-encoding set without value is fatal',
      subdirs: [null],
      spec: spec({ '.gitattributes': 'x working-tree-encoding\n', x: C.lf, y: C.lf }),
    },
    {
      name: 'symlinks are archived raw; a symlinked .gitattributes is read',
      subdirs: both,
      spec: spec({
        '.gitattributes': '* text eol=crlf ident\n',
        'link': { link: 'target\n$Id$' },
        'sub/.gitattributes': { link: '*.c -text' },
        'sub/a.c': C.lf, 'sub/b.h': C.lf, 'sub/l': { link: 'a.c' },
      }),
    },
    {
      name: 'quoting, comments, CRLF attribute files, BOM, invalid lines',
      subdirs: both,
      spec: spec({
        '.gitattributes': bin('\xef\xbb\xbf*.bom ident\r\n# *.c text eol=crlf\r\n  "sp ace.txt" text eol=crlf\r\n!*.neg ident\r\n*.bad ident in@valid\r\n\\!bang ident\r\n*.ok  ident   \r\n'),
        'sp ace.txt': C.lf, 'x.bom': C.idPlain, 'x.c': C.lf, 'a.neg': C.idPlain, 'a.bad': C.idPlain,
        '!bang': C.idPlain, 'sub/x.ok': C.idPlain,
      }),
    },
    {
      name: 'pattern forms',
      subdirs: both,
      spec: spec({
        '.gitattributes': [
          '/top.txt ident', 'sub/**/deep.txt ident', '**/any.txt ident', 'sub/*.c ident', '[a-c]?.h ident',
          '*.[ch]pp ident', 'sub/dir/ ident', '**/nested/** ident', '*.TXT ident', '[[:upper:]]* ident',
          'sub/**.md ident', 's**/k.md ident', '',
        ].join('\n'),
        'sub/.gitattributes': '/local.txt ident\nx/*.go ident\n',
        'top.txt': C.idPlain, 'sub/top.txt': C.idPlain, 'sub/deep.txt': C.idPlain, 'sub/a/b/deep.txt': C.idPlain,
        'any.txt': C.idPlain, 'sub/q/any.txt': C.idPlain, 'sub/x.c': C.idPlain, 'sub/y/x.c': C.idPlain,
        'ax.h': C.idPlain, 'dx.h': C.idPlain, 'm.cpp': C.idPlain, 'sub/dir/f': C.idPlain,
        'sub/nested/k/l': C.idPlain, 'lower.txt': C.idPlain, 'Upper': C.idPlain,
        'sub/local.txt': C.idPlain, 'local.txt': C.idPlain, 'sub/x/m.go': C.idPlain, 'sub/x/y/m.go': C.idPlain,
        'sub/a.md': C.idPlain, 'sub/b/c.md': C.idPlain, 'sub/k.md': C.idPlain, 'sub/b/k.md': C.idPlain,
      }),
    },
  ];
}

/**
 * Every emulated legacy charset, with texts drawn from its repertoire (random
 * bytes decoded by iconv-lite), from its glibc override list, and texts
 * holding a character glibc rejects.
 */
function legacyCharsetCase(): Case {
  const rnd = prng(7);
  const files: Record<string, Buffer | string> = {};
  const attrs: string[] = [];
  LEGACY_CHARSETS.forEach((cs, k) => {
    const name = cs.names[k % cs.names.length];
    attrs.push(`enc${k}/** working-tree-encoding=${name.toLowerCase()}`);
    for (let f = 0; f < 6; f++) {
      const bytes = Buffer.from(Array.from({ length: 80 }, () => Math.floor(rnd() * 256)));
      const text = iconvLite.decode(bytes, cs.codec).replace(/\ufffd/g, '');
      files[`enc${k}/r${f}.txt`] = enc(text);
    }
    const overrides = cs.overrides.split(' ').filter(Boolean).map((o) => String.fromCodePoint(parseInt(o.split(':')[0], 16)));
    const rejects = cs.rejects.split(' ').filter(Boolean).map((r) => String.fromCodePoint(parseInt(r.split('-')[0], 16)));
    const ascii = 'plain ASCII \\ ~ text\n';
    files[`enc${k}/ascii.txt`] = ascii;
    if (overrides.length) files[`enc${k}/overrides.txt`] = enc(`${ascii}${overrides.slice(0, 40).join('')}\n`);
    if (rejects.length) files[`enc${k}/reject.txt`] = enc(`${ascii}${rejects[Math.floor(rnd() * rejects.length)]}\n`);
    files[`enc${k}/emoji.txt`] = enc('\u{1f600}\n');
  });
  files['.gitattributes'] = `${attrs.join('\n')}\n`;
  return { name: 'legacy charsets', spec: spec(files), subdirs: [null] };
}

// ---------------------------------------------------------------------------
// Randomized cases

const RANDOM_PATTERNS = [
  '*', '*', '*', '*.txt', '*.txt', '*.c', 'sub/**', '**/*.txt',
  '*', '*.txt', '*.c', 'a*', '*.t?t', '[ab]*', 'sub/*', 'sub/**', '**/x.txt', '/x.txt', 'sub/deep/*.txt',
  '"*.txt"', 'x.txt', 'sub', '*.TXT', '!*.txt', '**', 'd*/**/z.txt', '[!a]*', '[[:alpha:]]*.c', '*.txt/',
  'deep/*', '/deep', '*/*.c', 'sub/*/z.txt', '\\*.c', 'y.c', '"a b.txt"', '[', 'sub/deep/**/*',
  'sub/**.txt', 's**/z.txt', 'sub/**/', '**/deep/**', 'sub/[a-z]*/z.txt', 'sub/deep/[[:lower:]]',
];
const RANDOM_ATTRS = [
  'text', '-text', 'text=auto', '!text', 'eol=crlf', 'eol=lf', 'crlf', '-crlf', 'crlf=input', 'crlf=auto',
  'ident', '-ident', '!ident', 'binary', '-binary', 'mymacro', '-mymacro', 'filter=lfs', 'text=input',
  'eol=CRLF', 'diff', 'working-tree-encoding=UTF-16', 'working-tree-encoding=UTF-16LE-BOM',
  'working-tree-encoding=ISO-8859-1', 'working-tree-encoding=NOPE', 'working-tree-encoding=UTF-8',
  '-working-tree-encoding', 'in@valid',
  // weighted: the attributes that actually change bytes
  'eol=crlf', 'eol=crlf', 'eol=crlf', 'text eol=crlf', 'text=auto eol=crlf', 'text=auto eol=crlf', 'ident', 'ident',
  'mymacro', 'working-tree-encoding=UTF-16',
];
const RANDOM_MACROS = ['[attr]mymacro text eol=crlf', '[attr]mymacro ident -text', '[attr]binary text eol=crlf', '[attr]mymacro binary'];
const RANDOM_PATHS = [
  'x.txt', 'a.c', 'y.c', 'b.bin', 'a b.txt', 'X.TXT', 'sub/x.txt', 'sub/y.c', 'sub/deep/z.txt', 'sub/deep/w',
  'sub/deep/x.txt', 'sub/q/z.txt', 'deep/x.txt', 'other/a.c', 'README',
];
const ATTR_DIRS = ['', '', 'sub', 'sub/deep', 'deep'];

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

function randomAttrFile(rnd: () => number, top: boolean): string {
  const lines: string[] = [];
  const n = 1 + Math.floor(rnd() * 5);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.08) lines.push(pick(rnd, RANDOM_MACROS));
    else if (r < 0.12) lines.push(`# ${pick(rnd, RANDOM_PATTERNS)} ident`);
    else {
      const states = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(rnd, RANDOM_ATTRS));
      lines.push(`${rnd() < 0.1 ? '  ' : ''}${pick(rnd, RANDOM_PATTERNS)} ${states.join(' ')}`);
    }
  }
  if (!top && rnd() < 0.3) lines.push(pick(rnd, RANDOM_MACROS));
  return lines.join(rnd() < 0.15 ? '\r\n' : '\n') + (rnd() < 0.8 ? '\n' : '');
}

function randomCases(count: number, seed: number): Case[] {
  const rnd = prng(seed);
  const contents = Object.values(CONTENTS);
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    const files: Record<string, string | Buffer> = {};
    for (const dir of new Set(ATTR_DIRS.filter(() => rnd() < 0.5))) {
      files[dir ? `${dir}/.gitattributes` : '.gitattributes'] = randomAttrFile(rnd, dir === '');
    }
    for (const p of RANDOM_PATHS) if (rnd() < 0.6) files[p] = pick(rnd, contents);
    files['sub/keep.go'] = pick(rnd, contents);
    cases.push({ name: `random #${i} (seed ${seed})`, spec: spec(files), subdirs: rnd() < 0.5 ? [null] : [null, 'sub'] });
  }
  return cases;
}

describe('differential against git archive', () => {
  let root = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'gitattributes-test-'));
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('fixed cases are byte-identical', async () => {
    const r = await runDifferential(fixedCases(), root);
    console.log(`fixed differential cases: ${r.checkedFiles} files compared, ${r.changedFiles} changed by git`);
    expect(r.mismatches).toEqual([]);
    expect(r.checkedFiles).toBeGreaterThan(150);
    expect(r.changedFiles).toBeGreaterThan(50);
  });

  it('randomized cases are byte-identical', async () => {
    const r = await runDifferential(randomCases(300, 20240611), root);
    console.log(`random differential cases: ${r.checkedFiles} files compared, ${r.changedFiles} changed by git`);
    expect(r.mismatches.slice(0, 20)).toEqual([]);
    expect(r.checkedFiles).toBeGreaterThan(2000);
    expect(r.changedFiles).toBeGreaterThan(500);
  });
});
