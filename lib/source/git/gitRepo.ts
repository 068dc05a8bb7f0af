// A view of one git repository as the go command's codehost.Repo sees it,
// for the duration of one request (one "go invocation"): the ref table is read
// once and then fixed, exactly as `git ls-remote` is run once per go process.
// The table may be shared with other requests of the last few seconds
// (refListings.ts); a revision it does not have is looked for again in a fresh
// one. Objects come from the shared, persistent GitObjectStore.
//
// Semantics follow a *fresh* go module cache
// (docs/go-rules/repository.md#tags-of-a-commit): the tags of a commit are all
// tags whose peeled target is that commit, and only commits reachable from
// HEAD, refs/heads/* and refs/tags/* can be resolved.
import { NotFoundError, ProxyError } from '../../errors.js';
import { GoError } from '../../gomod/module.js';
import type { Origin } from '../../gomod/infoJson.js';
import * as semver from '../../gomod/semver.js';
import { TimeSlice } from '../../util/timeSlice.js';
import { MAX_TREE_DEPTH, MAX_ZIP_PATH, verifyPath } from './gitPaths.js';
import type { AdvertisedRef, GitObjectStore, TreeEntry } from './objectStore.js';
import { unsharedRefSource, type RefListing, type RefSource, type RefTable } from './refListings.js';

export type { Origin };

/** Go's codehost.RevInfo (named apart from the module-level RevInfo of codeRepo.ts). */
export interface RepoRevInfo {
  /** Full commit hash. */
  name: string;
  /** First 12 hex digits of the hash. */
  short: string;
  /** The requested tag name when it names one of the commit's tags, otherwise the full hash. */
  version: string;
  /** Committer time, whole seconds, UTC. */
  time: Date;
  /** All tags on the commit, sorted. */
  tags: string[];
  origin: Origin;
}

export interface Tag {
  name: string;
  hash: string;
}

/** A file as `git archive` would emit it: path relative to the repository root. */
export interface ArchiveEntry {
  path: string;
  kind: 'file' | 'symlink';
  oid: string;
}

export interface Archive {
  entries: ArchiveEntry[];
  /** Every .gitattributes blob that applies to the archived paths. */
  attributes: { dir: string; content: Uint8Array }[];
}

/** The codehost.Repo operations that module resolution (codeRepo.ts) needs. */
export interface GitRepo {
  /** The remote URL, as recorded in Origin.URL. */
  readonly url: string;
  tags(prefix: string): Promise<Tag[]>;
  stat(rev: string): Promise<RepoRevInfo>;
  latest(): Promise<RepoRevInfo>;
  /** Raw blob bytes of `file` at `rev` (no conversions), or null if it does not exist there. */
  readFile(rev: string, file: string): Promise<Uint8Array | null>;
  recentTag(rev: string, prefix: string, allowed: (tag: string) => boolean): Promise<string>;
  descendsFrom(rev: string, tag: string): Promise<boolean>;
  /** The files `git archive <commit> -- <subdir>` would emit, in its order. */
  archiveCommit(commit: string, subdir: string): Promise<Archive>;
  /** Raw blob bytes of `file` at a full commit hash, or null. */
  readFileAtCommit(commit: string, file: string): Promise<Uint8Array | null>;
  readBlob(oid: string): Promise<Uint8Array>;
  /** A blob's size, without reading it. */
  blobSize(oid: string): Promise<number>;
  /** Whether reading the blob means holding it whole (rather than streaming it). */
  blobIsHeld(oid: string): Promise<boolean>;
  /** A blob's content in pieces. */
  streamBlob(oid: string): AsyncIterable<Uint8Array>;
}

export class UnknownRevisionError extends NotFoundError {
  override name = 'UnknownRevisionError';
  constructor(readonly rev: string) {
    super(`unknown revision ${rev}`);
  }
}

export class NoCommitsError extends NotFoundError {
  override name = 'NoCommitsError';
  constructor() {
    super('no commits');
  }
}

/**
 * The go command refuses to make a zip when `git archive` fails, or when the
 * archive it wrote is over 500 MiB: the message is the go command's
 * (docs/go-rules/zip.md#what-git-archive-refuses).
 */
export class ArchiveRefusedError extends Error {
  override name = 'ArchiveRefusedError';
}

/** `git archive` itself failed: the go command reports the command line, its exit status and git's stderr. */
export class GitArchiveError extends ArchiveRefusedError {
  override name = 'GitArchiveError';
  constructor(commit: string, subdir: string, stderr: string) {
    // The go command also says where its cache clone is (" in <dir>"), which says nothing about the module.
    super(`git -c core.autocrlf=input -c core.eol=lf archive --format=zip --prefix=prefix/ ${commit}${subdir ? ` -- ${subdir}` : ''}: exit status 255:\n\t${stderr}`);
  }
}

/** codehost.MaxZipFile: the go command reads at most this much of git's archive. */
const MAX_GIT_ZIP = 500 << 20;
/** Fixed bytes of one zip entry besides its name (written twice): local header 30, central header 46. */
const ZIP_ENTRY_BYTES = 30 + 46;
/** The end of central directory record. */
const ZIP_END_BYTES = 22;

/** attr.c: attribute files this large are ignored whole. */
const ATTR_MAX_FILE_SIZE = 100 * 1024 * 1024;

const MIN_HASH_DIGITS = 7;

/** codehost.AllHex: lower-case hex only. */
export function allHex(s: string): boolean {
  return /^[0-9a-f]*$/.test(s);
}

export function shortenSHA1(rev: string): string {
  return allHex(rev) && rev.length === 40 ? rev.slice(0, 12) : rev;
}

export class RemoteGitRepo implements GitRepo {
  private refsPromise: Promise<RefListing> | undefined;
  private statCache = new Map<string, Promise<RepoRevInfo>>();
  private tagsByCommit: Map<string, string[]> | undefined;
  private reachable: Promise<Set<string>> | undefined;
  private readonly refSource: RefSource;

  constructor(
    private readonly store: GitObjectStore,
    readonly url: string,
    refSource?: RefSource,
  ) {
    this.refSource = refSource ?? unsharedRefSource(() => store.listRemoteRefs());
  }

  /** The ref table: HEAD, heads and tags, annotated tags peeled; read once per instance. */
  private async loadRefs(): Promise<RefTable> {
    this.refsPromise ??= this.refSource.list();
    return (await this.refsPromise).refs;
  }

  /**
   * Runs `op`; when it finds no such revision in a ref table kept from an
   * earlier request, lists the refs afresh (once) and runs it again: what was
   * pushed a moment ago exists.
   */
  private async withFreshRefsOnMiss<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof UnknownRevisionError || err instanceof NoCommitsError)) throw err;
      const listing = await this.refsPromise;
      if (!listing?.reused) throw err;
      this.refsPromise = this.refSource.listFresh();
      this.tagsByCommit = undefined;
      this.reachable = undefined;
      this.statCache.clear();
      return op();
    }
  }

  private async refHash(ref: string): Promise<string | undefined> {
    return (await this.loadRefs()).get(ref)?.peeled;
  }

  async tags(prefix: string): Promise<Tag[]> {
    const refs = await this.loadRefs();
    const list: Tag[] = [];
    for (const [ref, r] of refs) {
      if (!ref.startsWith('refs/tags/')) continue;
      const name = ref.slice('refs/tags/'.length);
      if (name.startsWith(prefix)) list.push({ name, hash: r.peeled });
    }
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return list;
  }

  private async commitTags(hash: string): Promise<string[]> {
    if (!this.tagsByCommit) {
      const m = new Map<string, string[]>();
      for (const [ref, r] of await this.loadRefs()) {
        if (!ref.startsWith('refs/tags/')) continue;
        const list = m.get(r.peeled) ?? [];
        list.push(ref.slice('refs/tags/'.length));
        m.set(r.peeled, list);
      }
      for (const list of m.values()) list.sort();
      this.tagsByCommit = m;
    }
    return this.tagsByCommit.get(hash) ?? [];
  }

  stat(rev: string): Promise<RepoRevInfo> {
    if (rev === 'latest') return this.latest();
    return this.withFreshRefsOnMiss(() => this.statCached(rev));
  }

  private statCached(rev: string): Promise<RepoRevInfo> {
    let p = this.statCache.get(rev);
    if (!p) {
      p = this.statUncached(rev);
      this.statCache.set(rev, p);
    }
    return p;
  }

  private async statUncached(rev: string): Promise<RepoRevInfo> {
    const refs = await this.loadRefs();
    let ref = '';
    let hash = '';
    let version = rev;
    let adv: AdvertisedRef | undefined;
    const tag = refs.get('refs/tags/' + rev);
    const head = refs.get('refs/heads/' + rev);
    if (tag) {
      ref = 'refs/tags/' + rev;
      hash = tag.peeled;
      adv = tag;
      // Keep rev as is: tags are assumed not to change meaning.
    } else if (head) {
      ref = 'refs/heads/' + rev;
      hash = head.peeled;
      adv = head;
      version = hash;
    } else if (rev === 'HEAD' && refs.get('HEAD')) {
      ref = 'HEAD';
      adv = refs.get('HEAD')!;
      hash = adv.peeled;
      version = hash;
    } else if (rev.length >= MIN_HASH_DIGITS && rev.length <= 40 && allHex(rev)) {
      // A hash prefix: unique among ref tips, or else looked up in the full history.
      for (const [k, r] of refs) {
        if (r.peeled.startsWith(rev)) {
          // The go command reports the full hash of the match it saw first
          // (its map order; ours is the advertisement order).
          if (hash !== '' && hash !== r.peeled) throw new NotFoundError(`ambiguous revision ${hash}`);
          if (ref === '' || ref > k) {
            ref = k;
            adv = r;
          }
          hash = r.peeled;
        }
      }
      if (hash !== '') version = hash;
    } else {
      throw new UnknownRevisionError(rev);
    }

    if (hash !== '' && adv) {
      if (!(await this.store.fetchRef(adv))) {
        // The ref moved between ls-remote and fetch; its old commit may still
        // be in the history of other refs.
        await this.fetchAllHistory();
        if (!(await this.store.hasObject(hash))) throw new UnknownRevisionError(rev);
      }
    } else {
      hash = await this.findReachableCommit(rev);
      version = hash;
    }

    let meta;
    try {
      meta = await this.store.readCommit(hash);
    } catch (err) {
      if (err instanceof ProxyError) throw err; // a fault (the store could not be read), not an answer
      // A tag on a tree or blob: `git log -n1 <ref>` succeeds with no output,
      // which the go command reports as such.
      throw new GoError('unexpected response from git log: ""');
    }
    const tags = await this.commitTags(hash);
    const info: RepoRevInfo = {
      name: hash,
      short: shortenSHA1(hash),
      version: tags.includes(version) ? version : hash,
      time: new Date(meta.time * 1000),
      tags,
      origin: { VCS: 'git', URL: this.url, Hash: hash },
    };
    if (ref !== '' && ref !== hash) info.origin.Ref = ref;
    return info;
  }

  /**
   * Resolves a hash (prefix) that is not a ref tip: fetch all heads and tags
   * with history, then look among commits reachable from them (and among
   * annotated tag objects, which `git log` would peel). Anything else, such as
   * commits only reachable from refs/pull/*, is an unknown revision.
   */
  private async findReachableCommit(rev: string): Promise<string> {
    const refs = await this.loadRefs();
    if (refs.size === 0) throw new UnknownRevisionError(rev);
    await this.fetchAllHistory();
    const matches = new Set<string>();
    const slice = new TimeSlice();
    for (const oid of await this.reachableCommits()) {
      if (oid.startsWith(rev)) matches.add(oid);
      await slice.yieldIfDue();
    }
    for (const r of refs.values()) if (r.oid !== r.peeled && r.oid.startsWith(rev)) matches.add(r.peeled);
    // `git log <prefix>` refuses an ambiguous prefix, which the go command reports as unknown.
    if (matches.size !== 1) throw new UnknownRevisionError(rev);
    return [...matches][0];
  }

  private async fetchAllHistory(): Promise<void> {
    const refs = await this.loadRefs();
    const all = [...refs.entries()].filter(([name]) => name !== 'HEAD').map(([, r]) => r);
    if (all.length === 0) return;
    await this.store.fetchAll(all);
  }

  /** Every commit reachable from HEAD, heads and tags (requires full history). */
  private reachableCommits(): Promise<Set<string>> {
    this.reachable ??= (async () => {
      await this.fetchAllHistory();
      const refs = await this.loadRefs();
      const starts: string[] = [];
      for (const r of refs.values()) starts.push(r.peeled);
      return this.ancestors(starts);
    })();
    return this.reachable;
  }

  /** The commits reachable from `starts`, inclusive. Non-commit starts are ignored. */
  private async ancestors(starts: string[]): Promise<Set<string>> {
    const seen = new Set<string>();
    const stack = [...starts];
    // A history may hold millions of commits, read without I/O: give the event loop its turns.
    const slice = new TimeSlice();
    while (stack.length > 0) {
      await slice.yieldIfDue();
      const oid = stack.pop()!;
      if (seen.has(oid)) continue;
      let meta;
      try {
        meta = await this.store.readCommit(oid);
      } catch (err) {
        if (err instanceof ProxyError) throw err;
        continue;
      }
      seen.add(oid);
      for (const p of meta.parents) if (!seen.has(p)) stack.push(p);
    }
    return seen;
  }

  latest(): Promise<RepoRevInfo> {
    return this.withFreshRefsOnMiss(async () => {
      const head = await this.refHash('HEAD');
      if (!head) throw new NoCommitsError();
      const info = await this.statCached(head);
      return { ...info, origin: { ...info.origin, Ref: 'HEAD', Hash: head } };
    });
  }

  async readFile(rev: string, file: string): Promise<Uint8Array | null> {
    const info = await this.stat(rev);
    return this.readFileAtCommit(info.name, file);
  }

  /**
   * Makes a commit pinned by an earlier resolution available locally. Usually
   * it still is; otherwise it is looked up like a hash query (a ref tip, or
   * anything reachable from the refs), as the go command would.
   */
  private async ensureCommit(commit: string): Promise<void> {
    if (await this.store.hasObject(commit)) return;
    await this.stat(commit);
  }

  async readFileAtCommit(commit: string, file: string): Promise<Uint8Array | null> {
    await this.ensureCommit(commit);
    const meta = await this.store.readCommit(commit);
    const entry = await this.lookupPath(meta.tree, file);
    // `git cat-file blob <rev>:<file>` fails for anything but a blob (a
    // symlink is a blob holding its target), which the go command treats as
    // "does not exist".
    if (!entry || !isBlobMode(entry.mode)) return null;
    return this.store.readBlob(entry.oid);
  }

  private async lookupPath(treeOid: string, file: string): Promise<TreeEntry | undefined> {
    const parts = file.split('/').filter((p) => p !== '' && p !== '.');
    let tree = treeOid;
    for (let i = 0; i < parts.length; i++) {
      const entries = await this.store.readTree(tree);
      const e = entries.find((x) => x.name === parts[i]);
      if (!e) return undefined;
      if (i === parts.length - 1) return e;
      if (e.mode !== '040000') return undefined;
      tree = e.oid;
    }
    return undefined;
  }

  async recentTag(rev: string, prefix: string, allowed: (tag: string) => boolean): Promise<string> {
    const info = await this.stat(rev);
    const highestOf = (tags: Iterable<string>): string => {
      let highest = '';
      for (const t of tags) {
        if (!t.startsWith(prefix) || !allowed(t)) continue;
        const semtag = t.slice(prefix.length);
        if (semver.compare(semtag, highest) > 0) highest = semtag;
      }
      return highest === '' ? '' : prefix + highest;
    };
    // The go command first asks its local clone, which right after the shallow
    // fetch of this commit knows only the tags on the commit itself; an allowed
    // tag there is taken as definitive without looking at older history.
    const onCommit = highestOf(info.tags);
    if (onCommit !== '' && !allHex(onCommit)) return onCommit;
    if ((await this.tags(prefix + 'v')).length === 0) return '';
    await this.fetchAllHistory();
    const ancestors = await this.ancestors([info.name]);
    const merged: string[] = [];
    for (const t of await this.tags('')) if (ancestors.has(t.hash)) merged.push(t.name);
    return highestOf(merged);
  }

  async descendsFrom(rev: string, tag: string): Promise<boolean> {
    const tagHash = await this.refHash('refs/tags/' + tag);
    if (!tagHash) return false;
    const info = await this.stat(rev);
    if (info.name === tagHash) return true;
    await this.fetchAllHistory();
    return (await this.ancestors([info.name])).has(tagHash);
  }

  async archiveCommit(commit: string, subdir: string): Promise<Archive> {
    await this.ensureCommit(commit);
    const meta = await this.store.readCommit(commit);
    const archive = await this.listArchive(meta.tree, subdir, commit);
    // One request for every blob the archive needs (a partial clone has none yet).
    await this.store.ensureObjects(
      archive.entries.filter((e) => e.kind === 'file').map((e) => e.oid),
      'blob',
    );
    return archive;
  }

  /**
   * What `git archive <commit> -- <subdir>` does before and while writing, in
   * its order (docs/go-rules/zip.md#what-git-archive-refuses):
   *
   * 1. It loads the whole commit tree into an index: the first entry (in tree
   *    order, depth first) whose path git refuses, or the first tree nested
   *    deeper than MAX_TREE_DEPTH, fails the archive.
   * 2. It writes the entries under `subdir`, each directory just before the
   *    first entry inside it: a name longer than the zip format allows fails.
   * 3. The go command refuses an archive over 500 MiB; names alone (written
   *    twice, in the local and the central header) may already make it so.
   *
   * One walk over the whole tree with an explicit stack (trees may nest as
   * deep as a hostile repository makes them), yielding the event loop now
   * and then. Only entries under `subdir` are kept, and none once the names
   * alone are over the zip limit.
   */
  private async listArchive(rootTree: string, subdir: string, commit: string): Promise<Archive> {
    const entries: ArchiveEntry[] = [];
    const attributes: Archive['attributes'] = [];
    const dirParts = subdir.split('/').filter(Boolean);
    const moduleDir = dirParts.join('/');
    const fail = (stderr: string) => new GitArchiveError(commit, subdir, stderr);
    /** Whether `dir` is the module directory or above it (its .gitattributes apply), or inside it. */
    const relation = (dir: string): 'above' | 'inside' | 'outside' => {
      if (moduleDir === '' || dir === moduleDir || dir.startsWith(moduleDir + '/')) return 'inside';
      if (dir === '' || moduleDir.startsWith(dir + '/')) return 'above';
      return 'outside';
    };

    interface Frame {
      entries: TreeEntry[];
      next: number;
      dir: string;
      oid: string;
      level: number;
      /** Whether git archive has written this directory's entry yet (module directories only). */
      written: boolean;
      parent: Frame | undefined;
    }
    const open = async (oid: string, dir: string, level: number, parent: Frame | undefined): Promise<Frame> => {
      if (level > MAX_TREE_DEPTH) throw fail('error: exceeded maximum allowed tree depth');
      return { entries: await this.store.readTree(oid), next: 0, dir, oid, level, written: false, parent };
    };

    // Step 2 and 3 verdicts wait until step 1 has seen the whole tree.
    let writeError: Error | undefined;
    let zipBytes = ZIP_END_BYTES;
    const write = (zipPath: string, oid: string) => {
      if (writeError) return;
      const len = Buffer.byteLength(zipPath);
      if (len > MAX_ZIP_PATH) {
        writeError = fail(`error: path too long (${len} chars, SHA1: ${oid}): ${zipPath}`);
        return;
      }
      zipBytes += ZIP_ENTRY_BYTES + 2 * len;
      if (zipBytes > MAX_GIT_ZIP) writeError = new ArchiveRefusedError('downloaded zip file too large');
    };
    const writeDirs = (f: Frame | undefined) => {
      const pending: Frame[] = [];
      for (let d = f; d && !d.written && relation(d.dir) !== 'outside'; d = d.parent) pending.push(d);
      for (let k = pending.length - 1; k >= 0; k--) {
        pending[k].written = true;
        // The archive's root entry is "prefix/"; directories above subdir only lead to it.
        write(pending[k].dir === '' ? 'prefix/' : `prefix/${pending[k].dir}/`, pending[k].oid);
      }
    };

    const slice = new TimeSlice();
    const stack: Frame[] = [await open(rootTree, '', 0, undefined)];
    while (stack.length > 0) {
      await slice.yieldIfDue();
      const f = stack[stack.length - 1];
      if (f.next >= f.entries.length) {
        stack.pop();
        continue;
      }
      const e = f.entries[f.next++];
      const p = f.dir === '' ? e.name : `${f.dir}/${e.name}`;
      if (e.mode === '040000') {
        stack.push(await open(e.oid, p, f.level + 1, f));
        continue;
      }
      const kind = e.mode === '120000' ? 'symlink' : e.mode === '160000' ? 'gitlink' : 'file';
      if (!verifyPath(p, kind)) throw fail(`error: invalid path '${p}'`);
      const where = relation(f.dir);
      if (where === 'outside') continue;
      if (where === 'above') {
        // .gitattributes of the directories above the archived subtree also apply.
        if (e.name === '.gitattributes' && kind === 'file') attributes.push({ dir: f.dir, content: await this.attributesBlob(e.oid) });
        continue;
      }
      writeDirs(f);
      write(kind === 'gitlink' ? `prefix/${p}/` : `prefix/${p}`, e.oid);
      if (kind === 'file' && e.name === '.gitattributes') attributes.push({ dir: f.dir, content: await this.attributesBlob(e.oid) });
      // A submodule (gitlink): git archive writes an empty directory entry, which the go command drops.
      if (kind === 'gitlink' || writeError) continue;
      entries.push({ path: p, kind: kind === 'symlink' ? 'symlink' : 'file', oid: e.oid });
    }
    if (writeError) throw writeError;
    return { entries, attributes };
  }

  /** A .gitattributes blob; git ignores one of ATTR_MAX_FILE_SIZE or more (attr.c), so it is not even read. */
  private async attributesBlob(oid: string): Promise<Uint8Array> {
    if ((await this.store.blobSize(oid)) >= ATTR_MAX_FILE_SIZE) return new Uint8Array(0);
    return this.store.readBlob(oid);
  }

  readBlob(oid: string): Promise<Uint8Array> {
    return this.store.readBlob(oid);
  }

  blobSize(oid: string): Promise<number> {
    return this.store.blobSize(oid);
  }

  blobIsHeld(oid: string): Promise<boolean> {
    return this.store.blobIsHeld(oid);
  }

  streamBlob(oid: string): AsyncIterable<Uint8Array> {
    return this.store.streamBlob(oid);
  }
}

function isBlobMode(mode: string): boolean {
  return mode !== '040000' && mode !== '160000';
}
