// go-import meta tags, read and matched as the go command does
// (cmd/go/internal/vcs: parseMetaGoImports, matchGoImport;
// docs/go-rules/discovery.md).
//
// The go command reads the page with a lenient XML tokenizer up to <body> or
// </head>, keeps each <meta name="go-import" content="prefix vcs root [subdir]">
// with three fields or (since go 1.25) four, and (in module mode) lists "mod"
// entries first, dropping any other entry whose prefix a "mod" entry also
// has. go-source tags are not its concern, nor ours.

import { fields } from '../../gomod/unicode.js';

export interface MetaImport {
  prefix: string;
  vcs: string;
  repoRoot: string;
  /** The module's directory in the repository: a fourth field, which the go command reads since 1.25. */
  subDir?: string;
}

const TAG = /<!--[\s\S]*?-->|<(\/?)([A-Za-z_][\w:.-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g;
const ATTR = /([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g;

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (m, e: string) => {
    const l = e.toLowerCase();
    if (l === 'amp') return '&';
    if (l === 'lt') return '<';
    if (l === 'gt') return '>';
    if (l === 'quot') return '"';
    if (l === 'apos') return "'";
    const code = l.startsWith('#x') ? parseInt(l.slice(2), 16) : parseInt(l.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });
}

/** The local part of an XML name (the go command compares Name.Local). */
function local(name: string): string {
  const i = name.indexOf(':');
  return (i >= 0 ? name.slice(i + 1) : name).toLowerCase();
}

function attrValue(attrs: string, name: string): string {
  for (const m of attrs.matchAll(ATTR)) {
    if (local(m[1]) === name) return decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return '';
}

/** The go-import entries of a page's head, in module mode's order (mod entries first). */
export function parseGoImports(html: string): MetaImport[] {
  const imports: MetaImport[] = [];
  for (const m of html.matchAll(TAG)) {
    if (m[2] === undefined) continue; // a comment
    const name = local(m[2]);
    const closing = m[1] === '/';
    if (!closing && name === 'body') break;
    if (closing && name === 'head') break;
    if (closing || name !== 'meta') continue;
    if (attrValue(m[3], 'name') !== 'go-import') continue;
    const f = fields(attrValue(m[3], 'content'));
    if (f.length === 3) imports.push({ prefix: f[0], vcs: f[1], repoRoot: f[2] });
    else if (f.length === 4) imports.push({ prefix: f[0], vcs: f[1], repoRoot: f[2], subDir: f[3] });
  }
  const modPrefixes = new Set(imports.filter((i) => i.vcs === 'mod').map((i) => i.prefix));
  return [...imports.filter((i) => i.vcs === 'mod'), ...imports.filter((i) => i.vcs !== 'mod' && !modPrefixes.has(i.prefix))];
}

/** Whether `path` is `prefix` or below it, element-wise (str.HasPathPrefix). */
export function hasPathPrefix(path: string, prefix: string): boolean {
  if (path.length === prefix.length) return path === prefix;
  if (prefix === '') return true;
  if (!path.startsWith(prefix)) return false;
  return prefix.endsWith('/') || path[prefix.length] === '/';
}

export type MatchResult = { ok: true; match: MetaImport } | { ok: false; error: string; mismatch: boolean };

/**
 * The one entry whose prefix covers the import path. More than one is an
 * error (except that a mod entry wins over the non-mod ones after it); none is
 * an "import mismatch", reported with the prefixes that were offered.
 */
export function matchGoImport(imports: readonly MetaImport[], importPath: string): MatchResult {
  let match = -1;
  const mismatches: string[] = [];
  for (let i = 0; i < imports.length; i++) {
    const im = imports[i];
    if (!hasPathPrefix(importPath, im.prefix)) {
      mismatches.push(im.prefix);
      continue;
    }
    if (match >= 0) {
      if (imports[match].vcs === 'mod' && im.vcs !== 'mod') break;
      return { ok: false, mismatch: false, error: `multiple meta tags match import path "${importPath}"` };
    }
    match = i;
  }
  if (match === -1) {
    // ImportMismatchError.Error()
    const error = mismatches.map((p) => `meta tag ${p} did not match import path ${importPath}`).join(', ');
    return { ok: false, mismatch: true, error };
  }
  return { ok: true, match: imports[match] };
}
