// Module versions from a code repository, as the go command's modfetch
// codeRepo computes them (docs/go-rules/resolution.md): the version list, the
// resolution of any revision to a canonical version (tags, branches, hashes,
// pseudo-versions, +incompatible, major-version directories), retractions,
// the go.mod of a version, and the file set of its zip.
//
// The structure deliberately mirrors cmd/go/internal/modfetch/coderepo.go so
// that each rule can be checked against its source, and every error text is
// the go command's own.
import type { GitRepo, Origin, RepoRevInfo } from './gitRepo.js';
import * as semver from '../../gomod/semver.js';
import * as mod from '../../gomod/module.js';
import { formatPseudoVersionTime, isPseudoVersion, pseudoVersion, pseudoVersionBase, pseudoVersionRev, pseudoVersionTime } from '../../gomod/pseudo.js';
import { modulePath as modfileModulePath } from '../../gomod/modfile/read.js';
import { autoQuote, parseLax, type Retraction } from '../../gomod/modfile/rule.js';
import { GoError, invalidVersion, moduleError } from '../../gomod/moduleErrors.js';
import { NotFoundError, ProxyError, UpstreamAuthError, UpstreamError } from '../../errors.js';
import { cleanPath } from '../../archive/checkFiles.js';

/** What .info serves: Version, Time and Origin of a resolved revision. */
export interface RevInfo {
  version: string;
  time: Date;
  /** Full commit hash (not serialized). */
  name: string;
  /** 12-hex short hash (not serialized). */
  short: string;
  origin?: Origin;
}

/** Where a module version lives in the repository (findDir's answer). */
export interface ModuleLocation {
  /** The git revision to read: a tag name (with codeDir prefix) or a short hash. */
  rev: string;
  /** Module root inside the repository: codeDir or codeDir/vN. */
  dir: string;
  /** The go.mod blob found there, or null for a legacy module without one. */
  gomod: Uint8Array | null;
}

/** A file chosen for the module zip, not yet read. */
export interface ZipSourceFile {
  /** Path inside the module (relative to the module root). */
  path: string;
  /** Repository-relative path, which .gitattributes patterns apply to. */
  repoPath: string;
  kind: 'file' | 'symlink';
  oid: string;
  /** Raw bytes already in hand (the copied root LICENSE), exempt from conversions. */
  data?: Uint8Array;
}

/**
 * Whether the slash-separated path s begins with the path elements of prefix:
 * s is prefix, or continues it after a "/" (modfetch's hasPathPrefix; a
 * prefix that itself ends in "/" is matched as a plain string prefix).
 */
function startsWithPathElements(s: string, prefix: string): boolean {
  if (s.length === prefix.length) return s === prefix;
  if (s.length > prefix.length) {
    if (prefix !== '' && prefix.endsWith('/')) return s.startsWith(prefix);
    return s[prefix.length] === '/' && s.startsWith(prefix);
  }
  return false;
}

/** path.Join for the simple relative paths used here. */
function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

/** modfetch.LegacyGoMod: the go.mod synthesized for a module without one. */
export function legacyGoMod(modPath: string): Uint8Array {
  return Buffer.from(`module ${autoQuote(modPath)}\n`);
}

/**
 * Errors that report a fault rather than a property of the module: upstream
 * and storage faults, refused credentials, and failed system calls (a local
 * disk, never "not found").
 */
function isFault(err: unknown): boolean {
  if (err instanceof UpstreamError || err instanceof UpstreamAuthError) return true;
  if (err instanceof ProxyError) return err.kind === 'unavailable';
  const e = err as NodeJS.ErrnoException;
  return e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string';
}

export class CodeRepo {
  readonly modPath: string;
  readonly codeRoot: string;
  readonly codeDir: string;
  readonly pathMajor: string;
  readonly pathPrefix: string;
  readonly pseudoMajor: string;
  private retracted: Promise<(v: string) => boolean> | undefined;
  private versionsCache = new Map<string, Promise<string[]>>();

  constructor(
    readonly code: GitRepo,
    codeRoot: string,
    modPath: string,
    /** The directory of codeRoot's module in the repository, from a go-import entry's fourth field (Go 1.25+). */
    subDir = '',
  ) {
    if (!startsWithPathElements(modPath, codeRoot)) throw new GoError(`mismatched repo: found ${codeRoot} for ${modPath}`);
    const split = mod.splitPathVersion(modPath);
    if (!split.ok) throw new GoError(`invalid module path "${modPath}"`);
    let pathPrefix = split.prefix;
    if (codeRoot === modPath) pathPrefix = modPath;
    let codeDir = '';
    if (codeRoot !== modPath) {
      if (!startsWithPathElements(pathPrefix, codeRoot)) throw new GoError(`repository rooted at ${codeRoot} cannot contain module ${modPath}`);
      codeDir = pathPrefix.slice(codeRoot.length).replace(/^\/+|\/+$/g, '');
    }
    // filepath.Join(codeDir, subdir): joined and cleaned.
    if (subDir !== '') codeDir = cleanPath(codeDir === '' ? subDir : `${codeDir}/${subDir}`);
    this.modPath = modPath;
    this.codeRoot = codeRoot;
    this.codeDir = codeDir;
    this.pathPrefix = pathPrefix;
    this.pathMajor = split.pathMajor;
    this.pseudoMajor = mod.pathMajorPrefix(split.pathMajor);
  }

  private get tagPrefix(): string {
    return this.codeDir === '' ? '' : this.codeDir + '/';
  }

  /** The version list (without pseudo-versions), as `@v/list` serves it (docs/go-rules/resolution.md#version-list). */
  versions(prefix = ''): Promise<string[]> {
    let p = this.versionsCache.get(prefix);
    if (!p) {
      p = this.versionsUncached(prefix);
      this.versionsCache.set(prefix, p);
    }
    return p;
  }

  private async versionsUncached(prefix: string): Promise<string[]> {
    // gopkg.in/macaroon-bakery.v2-unstable does not use the v2 tags.
    if (this.modPath.startsWith('gopkg.in/') && this.modPath.endsWith('-unstable')) return [];
    const p = this.tagPrefix + prefix;
    let tags;
    try {
      tags = await this.code.tags(p);
    } catch (err) {
      if (isFault(err)) throw err;
      throw moduleError(this.modPath, err as Error);
    }
    const list: string[] = [];
    const incompatible: string[] = [];
    for (const tag of tags) {
      if (!tag.name.startsWith(p)) continue;
      const v = this.codeDir === '' ? tag.name : tag.name.slice(this.codeDir.length + 1);
      if (v === '' || v !== semver.canonical(v)) continue;
      if (isPseudoVersion(v)) continue;
      try {
        mod.checkPathMajor(v, this.pathMajor);
      } catch {
        if (this.codeDir === '' && this.pathMajor === '' && semver.major(v) > 'v1') incompatible.push(v);
        continue;
      }
      list.push(v);
    }
    semver.sort(list);
    semver.sort(incompatible);
    return this.appendIncompatibleVersions(list, incompatible);
  }

  private async versionHasGoMod(v: string): Promise<boolean> {
    try {
      return (await this.code.readFile(v, 'go.mod')) !== null;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      if (isFault(err)) throw err;
      throw moduleError(this.modPath, err as Error);
    }
  }

  private async appendIncompatibleVersions(list: string[], incompatible: string[]): Promise<string[]> {
    if (incompatible.length === 0 || this.pathMajor !== '') return list;
    if (list.length > 0 && (await this.versionHasGoMod(list[list.length - 1]))) {
      // The latest compatible version has a go.mod file: the author intends
      // consumers to stay on v0/v1 (golang.org/issue/34189).
      return list;
    }
    const out = [...list];
    let lastMajor = '';
    let lastMajorHasGoMod = false;
    for (let i = 0; i < incompatible.length; i++) {
      const v = incompatible[i];
      const major = semver.major(v);
      if (major !== lastMajor) {
        let j = i;
        while (j < incompatible.length && semver.major(incompatible[j]) === major) j++;
        lastMajor = major;
        lastMajorHasGoMod = await this.versionHasGoMod(incompatible[j - 1]);
      }
      if (lastMajorHasGoMod) continue;
      out.push(v + '+incompatible');
    }
    return out;
  }

  /** Resolves any revision string as `.info` does (codeRepo.Stat). */
  async stat(rev: string): Promise<RevInfo> {
    if (rev === 'latest') return this.latest();
    const codeRev = this.revToRev(rev);
    let info: RepoRevInfo;
    try {
      info = await this.code.stat(codeRev);
    } catch (err) {
      if (isFault(err)) throw err;
      throw invalidVersion(this.modPath, rev, err as Error);
    }
    return this.convert(info, rev);
  }

  /** The default branch's HEAD converted like any revision (codeRepo.Latest). */
  async latest(): Promise<RevInfo> {
    let info: RepoRevInfo;
    try {
      info = await this.code.latest();
    } catch (err) {
      if (isFault(err)) throw err;
      throw moduleError(this.modPath, err as Error);
    }
    return this.convert(info, '');
  }

  private async convert(info: RepoRevInfo, statVers: string): Promise<RevInfo> {
    const revInfo = await this.convertVersion(info, statVers);
    // Origin as the go command writes it to its cache (.info): TagPrefix and
    // TagSum cleared, Ref dropped for pseudo-versions.
    const origin: Origin = { VCS: info.origin.VCS, URL: info.origin.URL };
    if (this.codeDir !== '') origin.Subdir = this.codeDir;
    if (info.origin.Hash) origin.Hash = info.origin.Hash;
    if (info.origin.Ref && !isPseudoVersion(revInfo.version)) origin.Ref = info.origin.Ref;
    return { ...revInfo, origin };
  }

  private async convertVersion(info: RepoRevInfo, statVers: string): Promise<RevInfo> {
    const modPath = this.modPath;
    const incompatibleOk = new Map<string, boolean>();
    const canUseIncompatible = async (v: string): Promise<boolean> => {
      if (this.codeDir !== '' || this.pathMajor !== '') return false;
      let ok = incompatibleOk.get('');
      if (ok === undefined) {
        ok = (await this.readFileOrNull(info.name, 'go.mod')) === null;
        incompatibleOk.set('', ok);
      }
      if (!ok) return false;
      // golang.org/issue/51324: an explicit +incompatible request stays allowed
      // even when vN/go.mod exists.
      if (v !== '' && !statVers.endsWith('+incompatible')) {
        const major = semver.major(v);
        let okSub = incompatibleOk.get(major);
        if (okSub === undefined) {
          okSub = (await this.readFileOrNull(info.name, joinPath(major, 'go.mod'))) === null;
          incompatibleOk.set(major, okSub);
        }
        if (!okSub) return false;
      }
      return true;
    };

    const checkCanonical = async (version: string): Promise<RevInfo> => {
      let v = version;
      try {
        await this.findDir(v);
      } catch (err) {
        if (isFault(err)) throw err;
        throw invalidVersion(modPath, v, err as Error);
      }
      if (v === trimIncompatible(statVers)) v = statVers;
      const base = trimIncompatible(v);
      let errIncompatible: Error | undefined;
      if (!mod.matchPathMajor(base, this.pathMajor)) {
        if (await canUseIncompatible(base)) {
          v = base + '+incompatible';
        } else if (this.pathMajor !== '') {
          errIncompatible = invalidVersion(modPath, v, 'module path includes a major version suffix, so major version must match');
        } else {
          errIncompatible = invalidVersion(
            modPath,
            v,
            `module contains a go.mod file, so module path must match major version ("${joinPath(this.pathPrefix, semver.major(v))}")`,
          );
        }
      } else if (v.endsWith('+incompatible')) {
        errIncompatible = invalidVersion(modPath, v, `+incompatible suffix not allowed: major version ${semver.major(v)} is compatible`);
      }
      if (statVers !== '' && statVers === mod.canonicalVersion(statVers)) {
        const statBase = trimIncompatible(statVers);
        if (statBase !== base) {
          throw invalidVersion(modPath, statVers, `resolves to version ${v} (${statBase} is not a tag)`);
        }
      }
      if (errIncompatible) throw errIncompatible;
      return { version: v, time: info.time, name: info.name, short: info.short };
    };

    if (isPseudoVersion(statVers)) {
      const revInfo = await checkCanonical(statVers);
      await this.validatePseudoVersion(info, statVers);
      return revInfo;
    }

    const tagPrefix = this.tagPrefix;
    // The go command computes retractions up front and ignores any failure;
    // computing them only when a tag's answer depends on them gives the same
    // results and spares a fetch of the highest release on the common path.
    let retractedPredicate: ((v: string) => boolean) | undefined;
    const isRetracted = async (v: string): Promise<boolean> => {
      if (!retractedPredicate) {
        try {
          retractedPredicate = await this.retractedVersions();
        } catch (err) {
          if (isFault(err)) throw err;
          retractedPredicate = () => false;
        }
      }
      return retractedPredicate(v);
    };

    const tagToVersion = (tag: string): { v: string; canonical: boolean } => {
      if (!tag.startsWith(tagPrefix)) return { v: '', canonical: false };
      const trimmed = tag.slice(tagPrefix.length);
      if (isPseudoVersion(tag)) return { v: '', canonical: false };
      const v = semver.canonical(trimmed);
      if (v === '' || !trimmed.startsWith(v)) return { v: '', canonical: false };
      return { v, canonical: v === trimmed };
    };

    // If the VCS gave us a valid version (the caller named a canonical tag), use that.
    {
      const { v, canonical } = tagToVersion(info.version);
      if (canonical) {
        try {
          return await checkCanonical(v);
        } catch (err) {
          if (isFault(err)) throw err;
          // fall through to the commit's other tags
        }
      }
    }

    let highestCanonical = '';
    let pseudoBase = '';
    for (const pathTag of info.tags) {
      const { v, canonical } = tagToVersion(pathTag);
      if (statVers !== '' && semver.compare(v, statVers) === 0) {
        if (canonical) return checkCanonical(v);
        pseudoBase = v;
      }
      if (canonical && semver.compare(highestCanonical, v) < 0 && !(await isRetracted(v))) {
        if (mod.matchPathMajor(v, this.pathMajor) || (await canUseIncompatible(v))) highestCanonical = v;
      }
    }
    if (highestCanonical !== '') return checkCanonical(highestCanonical);

    if (pseudoBase === '') {
      // The allowed-check is synchronous in the code host; precompute the
      // asynchronous +incompatible answer for every tag it may ask about.
      const allowedCache = new Map<string, boolean>();
      for (const t of await this.code.tags(tagPrefix)) {
        const { v } = tagToVersion(t.name);
        if (v === '') continue;
        allowedCache.set(t.name, (mod.matchPathMajor(v, this.pathMajor) || (await canUseIncompatible(v))) && !(await isRetracted(v)));
      }
      const tagAllowed = (tag: string): boolean => allowedCache.get(tag) ?? false;
      const tag = await this.code.recentTag(info.name, tagPrefix, tagAllowed);
      if (tag !== '') pseudoBase = tagToVersion(tag).v;
    }
    return checkCanonical(pseudoVersion(this.pseudoMajor, pseudoBase, info.time, info.short));
  }

  private async validatePseudoVersion(info: RepoRevInfo, version: string): Promise<void> {
    const fail = (msg: string): never => {
      throw invalidVersion(this.modPath, version, msg, true);
    };
    let rev: string;
    try {
      rev = pseudoVersionRev(version);
    } catch (err) {
      return fail((err as Error).message);
    }
    if (rev !== info.short) {
      if (rev.startsWith(info.short)) fail(`revision is longer than canonical (expected ${info.short})`);
      else if (info.short.startsWith(rev)) fail(`revision is shorter than canonical (expected ${info.short})`);
      else fail(`does not match short name of revision (expected ${info.short})`);
    }
    let t: Date;
    try {
      t = pseudoVersionTime(version);
    } catch (err) {
      return fail((err as Error).message);
    }
    if (t.getTime() !== Math.floor(info.time.getTime() / 1000) * 1000) {
      fail(`does not match version-control timestamp (expected ${formatPseudoVersionTime(info.time)})`);
    }
    const tagPrefix = this.tagPrefix;
    let base: string;
    try {
      base = pseudoVersionBase(trimIncompatible(version));
    } catch (err) {
      return fail((err as Error).message);
    }
    if (base === '') {
      if (this.pseudoMajor === '' && semver.major(version) === 'v1') fail('major version without preceding tag must be v0, not v1');
      return;
    }
    for (const tag of info.tags) {
      const versionOnly = tag.startsWith(tagPrefix) ? tag.slice(tagPrefix.length) : tag;
      if (versionOnly === base) {
        fail(`tag (${tag}) found on revision ${rev} is already canonical, so should not be replaced with a pseudo-version derived from that tag`);
      }
    }
    const tags = await this.code.tags(tagPrefix + base);
    let lastTag = '';
    let ancestorFound = false;
    for (const tag of tags) {
      const versionOnly = tag.name.startsWith(tagPrefix) ? tag.name.slice(tagPrefix.length) : tag.name;
      if (semver.compare(versionOnly, base) === 0) {
        lastTag = tag.name;
        ancestorFound = await this.code.descendsFrom(info.name, tag.name);
        if (ancestorFound) break;
      }
    }
    if (lastTag === '') fail(`preceding tag (${base}) not found`);
    if (!ancestorFound) fail(`revision ${rev} is not a descendent of preceding tag (${lastTag})`);
  }

  /** The git revision for a version or query string (codeRepo.revToRev). */
  revToRev(rev: string): string {
    if (semver.isValid(rev)) {
      if (isPseudoVersion(rev)) return pseudoVersionRev(rev);
      if (semver.build(rev) === '+incompatible') rev = rev.slice(0, -'+incompatible'.length);
      return this.codeDir === '' ? rev : this.codeDir + '/' + rev;
    }
    return rev;
  }

  private async readFileOrNull(rev: string, file: string): Promise<Uint8Array | null> {
    try {
      return await this.code.readFile(rev, file);
    } catch (err) {
      if (isFault(err)) throw err;
      return null;
    }
  }

  /** codeRepo.findDir: the module directory at a version, with Go's error texts. */
  async findDir(version: string): Promise<ModuleLocation> {
    if (!semver.isValid(version)) throw new GoError('syntax error');
    const rev = this.revToRev(version);
    const file1 = joinPath(this.codeDir, 'go.mod');
    // Only "not exist" (null) is tolerated here; an unknown revision propagates.
    const gomod1 = await this.code.readFile(rev, file1);
    const mpath1 = gomod1 ? modfileModulePath(gomod1) : '';
    const found1 = gomod1 !== null && (isMajor(mpath1, this.pathMajor) || this.canReplaceMismatchedVersionDueToBug(mpath1));

    let file2 = '';
    if (this.pathMajor !== '' && this.codeRoot !== this.modPath && !this.pathMajor.startsWith('.')) {
      const dir2 = joinPath(this.codeDir, this.pathMajor.slice(1));
      file2 = joinPath(dir2, 'go.mod');
      const gomod2 = await this.code.readFile(rev, file2);
      const mpath2 = gomod2 ? modfileModulePath(gomod2) : '';
      const found2 = gomod2 !== null && isMajor(mpath2, this.pathMajor);
      if (found1 && found2) {
        throw new FindDirError(`${this.pathPrefix}/${file1} and ...${this.pathMajor}/go.mod both have ...${this.pathMajor} module paths at revision ${rev}`);
      }
      if (found2) return { rev, dir: dir2, gomod: gomod2 };
      if (gomod2 !== null) {
        if (mpath2 === '') throw new FindDirError(`${this.codeRoot}/${file2} is missing module path at revision ${rev}`);
        throw new FindDirError(`${this.codeRoot}/${file2} has non-...${this.pathMajor} module path ${mod.quote(mpath2)} at revision ${rev}`);
      }
    }
    if (found1) return { rev, dir: this.codeDir, gomod: gomod1 };
    if (gomod1 !== null) {
      const suffix = file2 !== '' ? ` (and ...${this.pathMajor}/go.mod does not exist)` : '';
      if (mpath1 === '') throw new FindDirError(`${file1} is missing module path${suffix} at revision ${rev}`);
      if (this.pathMajor !== '') throw new FindDirError(`${file1} has non-...${this.pathMajor} module path ${mod.quote(mpath1)}${suffix} at revision ${rev}`);
      if (!mod.splitPathVersion(mpath1).ok) throw new FindDirError(`${file1} has malformed module path ${mod.quote(mpath1)}${suffix} at revision ${rev}`);
      throw new FindDirError(`${file1} has post-${semver.major(version)} module path ${mod.quote(mpath1)}${suffix} at revision ${rev}`);
    }
    if (this.codeDir === '' && (this.pathMajor === '' || this.pathMajor.startsWith('.'))) return { rev, dir: '', gomod: null };
    if (file2 !== '') throw new FindDirError(`missing ${this.pathPrefix}/go.mod and ...${this.pathMajor}/go.mod at revision ${rev}`);
    throw new FindDirError(`missing ${this.pathPrefix}/go.mod at revision ${rev}`);
  }

  private canReplaceMismatchedVersionDueToBug(mpath: string): boolean {
    // golang.org/issue/34254: unversioned paths were accepted as replacements
    // for versioned gopkg.in paths.
    return this.pathMajor === '' && mpath.startsWith('gopkg.in/');
  }

  /** codeRepo.GoMod: the go.mod bytes served as `.mod` for a canonical version. */
  async goMod(version: string): Promise<Uint8Array> {
    if (version !== mod.canonicalVersion(version)) throw new GoError(`version ${version} is not canonical`);
    if (isPseudoVersion(version)) await this.stat(version);
    const loc = await this.locate(version);
    if (loc.gomod) return loc.gomod;
    const data = await this.readFileOrNull(loc.rev, joinPath(loc.dir, 'go.mod'));
    return data ?? legacyGoMod(this.modPath);
  }

  /**
   * The retraction predicate for this module: the retract directives of the
   * go.mod at the highest release (or highest prerelease) version.
   */
  retractedVersions(): Promise<(v: string) => boolean> {
    this.retracted ??= (async () => {
      let versions = await this.versions('');
      const cut = versions.findIndex((v) => v.endsWith('+incompatible'));
      if (cut >= 0) versions = versions.slice(0, cut);
      if (versions.length === 0) return () => false;
      let highest = '';
      for (let i = versions.length - 1; i >= 0; i--) {
        if (semver.prerelease(versions[i]) === '') {
          highest = versions[i];
          break;
        }
      }
      if (highest === '') highest = versions[versions.length - 1];
      const data = await this.goMod(highest);
      const retractions: Retraction[] = parseLax(data).retract;
      return (v: string) => retractions.some((r) => semver.compare(r.low, v) <= 0 && semver.compare(v, r.high) <= 0);
    })();
    return this.retracted;
  }

  /**
   * Where a canonical version's files come from: the commit it resolves to and
   * the module directory in it (findDir). Recorded at commit time so the zip
   * can be built from exactly that source later, by any replica.
   */
  async source(version: string, info: RevInfo): Promise<{ commit: string; dir: string }> {
    const loc = await this.locate(version);
    return { commit: info.name, dir: loc.dir };
  }

  /** findDir, with its "not exist" failures reported as the go command does (`M@V: invalid version: ...`). */
  private async locate(version: string): Promise<ModuleLocation> {
    try {
      return await this.findDir(version);
    } catch (err) {
      if (isFault(err) || !(err instanceof FindDirError || err instanceof NotFoundError)) throw err;
      throw invalidVersion(this.modPath, version, err);
    }
  }

  /**
   * The files of the module zip, before x/mod's checkFiles: what
   * `git archive <commit> -- <dir>` emits under the module directory, plus the
   * root LICENSE for modules in subdirectories (docs/go-rules/zip.md#the-file-set).
   */
  async zipSource(src: { commit: string; dir: string }): Promise<{ files: ZipSourceFile[]; attributes: { dir: string; content: Uint8Array }[] }> {
    const archive = await this.code.archiveCommit(src.commit, src.dir);
    const prefix = src.dir === '' ? '' : src.dir + '/';
    const files: ZipSourceFile[] = [];
    let haveLicense = false;
    for (const e of archive.entries) {
      if (!e.path.startsWith(prefix)) continue;
      const name = e.path.slice(prefix.length);
      if (name === '') continue;
      files.push({ path: name, repoPath: e.path, kind: e.kind, oid: e.oid });
      if (name === 'LICENSE') haveLicense = true;
    }
    if (!haveLicense && src.dir !== '') {
      const data = await this.code.readFileAtCommit(src.commit, 'LICENSE');
      if (data !== null) files.push({ path: 'LICENSE', repoPath: 'LICENSE', kind: 'file', oid: '', data });
    }
    return { files, attributes: archive.attributes };
  }
}

/** A findDir failure: the go command marks these "not exist" (docs/go-rules/errors.md#not-found). */
export class FindDirError extends NotFoundError {
  override name = 'FindDirError';
}

function trimIncompatible(v: string): string {
  return v.endsWith('+incompatible') ? v.slice(0, -'+incompatible'.length) : v;
}

/** isMajor: whether mpath's major suffix is compatible with pathMajor (never compares full paths). */
export function isMajor(mpath: string, pathMajor: string): boolean {
  if (mpath === '') return false;
  const split = mod.splitPathVersion(mpath);
  if (!split.ok) return false;
  if (pathMajor === '') {
    const p = mod.pathMajorPrefix(split.pathMajor);
    return p === '' || p === 'v0' || p === 'v1';
  }
  if (split.pathMajor === '') return false;
  return pathMajor.slice(1) === split.pathMajor.slice(1);
}

