import { describe, expect, it } from 'vitest';
import { hasPathPrefix, matchGoImport, parseGoImports } from './goImport.js';

describe('parseGoImports', () => {
  it('reads meta tags of the head leniently (case, quotes, entities, comments) and stops at <body>', () => {
    const html = `<HTML><Head><!-- <meta name="go-import" content="c git https://c"> -->
      <META NAME="go-import" CONTENT='a.example/x  git   https://a.example/x?x=1&amp;y=2'>
      <meta name="go-source" content="a.example/x https://a _ _">
      <meta name="go-import" content="too few">
      <meta name=go-import content="b.example/y mod https://proxy.example">
      </head><body><meta name="go-import" content="d git https://d"></body></HTML>`;
    expect(parseGoImports(html)).toEqual([
      { prefix: 'b.example/y', vcs: 'mod', repoRoot: 'https://proxy.example' },
      { prefix: 'a.example/x', vcs: 'git', repoRoot: 'https://a.example/x?x=1&y=2' },
    ]);
  });

  it('splits content where the go command’s strings.Fields does', () => {
    // U+0085 is a space to Go and not to JS's \s; U+FEFF the other way round.
    expect(parseGoImports('<meta name="go-import" content="a.example/x\u0085git\u0085https://r">')).toEqual([
      { prefix: 'a.example/x', vcs: 'git', repoRoot: 'https://r' },
    ]);
    expect(parseGoImports('<meta name="go-import" content="a.example/x git\ufeffhttps://r">')).toEqual([]);
  });

  it('takes a fourth field as the subdirectory (go 1.25+), and no more', () => {
    expect(parseGoImports('<meta name="go-import" content="a.example/x git https://r go/sub"><meta name="go-import" content="b git https://r s t">')).toEqual([
      { prefix: 'a.example/x', vcs: 'git', repoRoot: 'https://r', subDir: 'go/sub' },
    ]);
  });

  it('drops a non-mod entry for the prefix of a mod entry', () => {
    expect(parseGoImports('<meta name="go-import" content="p git https://g"><meta name="go-import" content="p mod https://m">')).toEqual([
      { prefix: 'p', vcs: 'mod', repoRoot: 'https://m' },
    ]);
  });
});

describe('matchGoImport', () => {
  it('matches element-wise prefixes only', () => {
    expect(hasPathPrefix('a.example/xy', 'a.example/x')).toBe(false);
    expect(hasPathPrefix('a.example/x/y', 'a.example/x')).toBe(true);
    expect(matchGoImport([{ prefix: 'a.example/x', vcs: 'git', repoRoot: 'r' }], 'a.example/xy')).toEqual({
      ok: false,
      mismatch: true,
      error: 'meta tag a.example/x did not match import path a.example/xy',
    });
  });

  it('a mod entry wins over later non-mod matches; two non-mod matches conflict', () => {
    const mod = { prefix: 'a.example', vcs: 'mod', repoRoot: 'https://m' };
    const git = { prefix: 'a.example/x', vcs: 'git', repoRoot: 'https://g' };
    expect(matchGoImport([mod, git], 'a.example/x')).toEqual({ ok: true, match: mod });
    expect(matchGoImport([{ ...git, prefix: 'a.example' }, git], 'a.example/x')).toMatchObject({ ok: false, mismatch: false });
  });
});
