// Import-path discovery for paths no static rule covers, as the go command
// does it (cmd/go/internal/vcs repoRootForImportDynamic;
// docs/go-rules/discovery.md): GET https://<path>?go-get=1, read the
// go-import meta tags, take the one entry whose prefix covers the path, and,
// when that prefix is not the path itself, check that the prefix's own page
// says the same. Errors carry the go command's text, and the status class of
// what happened: "not found" only when the path does not resolve; a refusal
// of our credentials is a configuration fault (5xx); a host that cannot be
// reached or fails is an upstream fault (5xx).
import { NotFoundError, ProxyError, UpstreamAuthError, UpstreamError } from '../../errors.js';
import { matchGoImport, parseGoImports, type MetaImport } from './goImport.js';
import type { HttpsGet, PageResponse } from './httpsGet.js';

export interface DiscoveredRoot {
  /** The import path of the repository root (the matching prefix). */
  root: string;
  /** "git" or "mod" (other version control systems are refused). */
  vcs: string;
  /** The repository URL (git) or the proxy URL (mod). */
  repoUrl: string;
  /** The module's directory in the repository, from a go-import entry's fourth field. */
  subDir?: string;
}

export interface DiscoveryOptions {
  get: HttpsGet;
  /** How long an answer (a root, or a "not found") is kept. */
  ttlMs: number;
  /** Answers kept at most (the oldest go first). */
  maxEntries?: number;
  now?: () => number;
}

const KNOWN_VCS = new Set(['git', 'hg', 'svn', 'bzr', 'fossil']);

function unrecognized(importPath: string, detail: string): string {
  return `unrecognized import path "${importPath}": ${detail}`;
}

/** https://<host><path>?go-get=1, as urlForImportPath builds it. */
export function discoveryUrl(importPath: string): URL {
  const slash = importPath.indexOf('/');
  const host = slash < 0 ? importPath : importPath.slice(0, slash);
  const path = slash < 0 ? '/' : importPath.slice(slash);
  if (!host.includes('.')) throw new NotFoundError(unrecognized(importPath, 'import path does not begin with hostname'));
  return new URL(`https://${host}${path}?go-get=1`);
}

export class ImportPathDiscovery {
  private readonly cache = new Map<string, { expires: number; answer: Promise<DiscoveredRoot> }>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(private readonly opts: DiscoveryOptions) {
    this.now = opts.now ?? Date.now;
    this.maxEntries = opts.maxEntries ?? 1000;
  }

  /** The repository root of an import path; throws a ProxyError with the go command's message. */
  repoRootFor(importPath: string): Promise<DiscoveredRoot> {
    const hit = this.cache.get(importPath);
    if (hit && hit.expires > this.now()) return hit.answer;
    this.cache.delete(importPath);
    const answer = this.discover(importPath).catch((err: unknown) => {
      throw err instanceof ProxyError ? err : new UpstreamError(unrecognized(importPath, String((err as Error)?.message ?? err)), 502, { cause: err });
    });
    const entry = { expires: this.now() + this.opts.ttlMs, answer };
    this.cache.set(importPath, entry);
    // Faults are not remembered: the next request tries again.
    answer.catch((err: unknown) => {
      if (!(err instanceof NotFoundError) && this.cache.get(importPath) === entry) this.cache.delete(importPath);
    });
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    return answer;
  }

  /** The go-import entries of `pagePath`'s page; errors name `importPath`, the path asked for. */
  private async fetchImports(pagePath: string, importPath = pagePath): Promise<{ res: PageResponse; url: URL; imports: MetaImport[] }> {
    const url = discoveryUrl(pagePath);
    let res: PageResponse;
    try {
      res = await this.opts.get(url);
    } catch (err) {
      const cause = (err as { cause?: { code?: string } })?.cause?.code ?? (err as { code?: string })?.code;
      const msg = (err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'AbortError' ? 'discovery deadline exceeded' : (err as Error)?.message ?? String(err);
      throw new UpstreamError(unrecognized(importPath, `https fetch: Get "${url.href}": ${msg}${cause && !msg.includes(cause) ? ` (${cause})` : ''}`), 502, { cause: err });
    }
    const imports = parseGoImports(res.body);
    if (imports.length === 0 && res.status !== 200) {
      const detail = unrecognized(importPath, `reading ${res.url}: ${res.status} ${res.statusText}`.trimEnd());
      if (res.status === 401 || res.status === 403) {
        if (res.authenticated) {
          throw new UpstreamAuthError(`${detail}: the host refused modproxy's credentials (gitHosts): a fault of the proxy's configuration, not of the module`);
        }
        throw new NotFoundError(detail);
      }
      if (res.status >= 500 || res.status === 429) throw new UpstreamError(detail, res.status === 503 ? 503 : 502);
      throw new NotFoundError(detail);
    }
    return { res, url, imports };
  }

  private async discover(importPath: string): Promise<DiscoveredRoot> {
    const { res, url, imports } = await this.fetchImports(importPath);
    const m = matchGoImport(imports, importPath);
    if (!m.ok) {
      // The go command names the scheme-less URL of urlForImportPath here ("//host/path?go-get=1"), the final URL for a mismatch.
      throw new NotFoundError(unrecognized(importPath, m.mismatch ? `parse ${res.url}: no go-import meta tags (${m.error})` : `parse //${url.host}${url.pathname}${url.search}: ${m.error}`));
    }
    const mmi = m.match;
    if (mmi.prefix !== importPath) {
      // A page may speak only for its own prefix: ask the prefix's page too.
      const second = await this.fetchImports(mmi.prefix, importPath);
      const m2 = matchGoImport(second.imports, importPath);
      if (!m2.ok || m2.match.prefix !== mmi.prefix || m2.match.vcs !== mmi.vcs || m2.match.repoRoot !== mmi.repoRoot || (m2.match.subDir ?? '') !== (mmi.subDir ?? '')) {
        throw new NotFoundError(unrecognized(importPath, `${res.url} and ${second.res.url} disagree about go-import for ${mmi.prefix}`));
      }
    }
    // validateRepoSubDir, before the root is checked, as the go command orders them.
    const subDir = mmi.subDir ?? '';
    if (subDir.startsWith('/') || subDir.startsWith('-')) {
      throw new NotFoundError(unrecognized(importPath, `${res.url}: invalid subdirectory "${subDir}": leading ${subDir[0] === '/' ? 'slash' : 'hyphen'}`));
    }
    let root: URL;
    try {
      root = new URL(mmi.repoRoot);
    } catch {
      throw new NotFoundError(unrecognized(importPath, `${res.url}: invalid repo root "${mmi.repoRoot}": no scheme`));
    }
    if (root.protocol === 'file:') throw new NotFoundError(unrecognized(importPath, `${res.url}: invalid repo root "${mmi.repoRoot}": file scheme disallowed`));
    if (mmi.vcs !== 'mod' && !KNOWN_VCS.has(mmi.vcs)) throw new NotFoundError(unrecognized(importPath, `${res.url}: unknown vcs "${mmi.vcs}"`));
    return { root: mmi.prefix, vcs: mmi.vcs, repoUrl: mmi.repoRoot, ...(subDir ? { subDir } : {}) };
  }
}
