// CodeRepo rules that the conformance suite cannot reach through a git
// server: gopkg.in paths (docs/go-rules/paths-and-versions.md#major-version-suffixes),
// whose repository root is the whole module path (found by a go-import meta
// tag). The GitRepo here is an in-memory repository with linear history, a
// test double of the remote git repository (gitRepo.ts).
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Archive, GitRepo, RepoRevInfo, Tag } from './gitRepo.js';
import { UnknownRevisionError } from './gitRepo.js';
import { CodeRepo, isMajor } from './codeRepo.js';

interface Commit {
  time: number;
  files: Record<string, string>;
}

class MemoryGitRepo implements GitRepo {
  readonly url = 'https://example.com/repo';
  private hashes: string[];
  constructor(
    private readonly commits: Commit[],
    private readonly tagMap: Record<string, number>,
  ) {
    this.hashes = commits.map((_, i) => crypto.createHash('sha1').update(`commit ${i}`).digest('hex'));
  }
  hash(i: number): string {
    return this.hashes[i];
  }
  async tags(prefix: string): Promise<Tag[]> {
    return Object.keys(this.tagMap)
      .filter((t) => t.startsWith(prefix))
      .sort()
      .map((name) => ({ name, hash: this.hashes[this.tagMap[name]] }));
  }
  private index(rev: string): number {
    if (rev in this.tagMap) return this.tagMap[rev];
    if (rev === 'HEAD' || rev === 'main') return this.commits.length - 1;
    const i = this.hashes.findIndex((h) => rev.length >= 7 && h.startsWith(rev));
    if (i < 0) throw new UnknownRevisionError(rev);
    return i;
  }
  async stat(rev: string): Promise<RepoRevInfo> {
    const i = this.index(rev);
    const name = this.hashes[i];
    const tags = Object.keys(this.tagMap).filter((t) => this.tagMap[t] === i).sort();
    return { name, short: name.slice(0, 12), version: tags.includes(rev) ? rev : name, time: new Date(this.commits[i].time * 1000), tags, origin: { VCS: 'git', URL: this.url, Hash: name } };
  }
  async latest(): Promise<RepoRevInfo> {
    return this.stat('HEAD');
  }
  async readFile(rev: string, file: string): Promise<Uint8Array | null> {
    const c = this.commits[this.index(rev)];
    return file in c.files ? Buffer.from(c.files[file]) : null;
  }
  async readFileAtCommit(commit: string, file: string): Promise<Uint8Array | null> {
    return this.readFile(commit, file);
  }
  async recentTag(rev: string, prefix: string, allowed: (t: string) => boolean): Promise<string> {
    const i = this.index(rev);
    let best = '';
    for (const [t, at] of Object.entries(this.tagMap)) if (at <= i && t.startsWith(prefix) && allowed(t) && (best === '' || t > best)) best = t;
    return best;
  }
  async descendsFrom(rev: string, tag: string): Promise<boolean> {
    return tag in this.tagMap && this.tagMap[tag] <= this.index(rev);
  }
  async archiveCommit(commit: string): Promise<Archive> {
    const c = this.commits[this.index(commit)];
    return { entries: Object.keys(c.files).map((path) => ({ path, kind: 'file' as const, oid: `${commit}:${path}` })), attributes: [] };
  }
  async readBlob(oid: string): Promise<Uint8Array> {
    const [commit, path] = oid.split(':');
    return (await this.readFile(commit, path))!;
  }
  async blobSize(oid: string): Promise<number> {
    return (await this.readBlob(oid)).length;
  }
  async blobIsHeld(): Promise<boolean> {
    return true;
  }
  async *streamBlob(oid: string): AsyncIterable<Uint8Array> {
    yield await this.readBlob(oid);
  }
}

const t0 = 1577836800;

describe('gopkg.in modules', () => {
  const host = new MemoryGitRepo(
    [
      { time: t0, files: { 'a.go': 'package a\n' } },
      { time: t0 + 3600, files: { 'a.go': 'package a\n', 'b.go': 'package a\n' } },
      { time: t0 + 7200, files: { 'a.go': 'package a\n', 'c.go': 'package a\n' } },
    ],
    { 'v1.0.0': 0, 'v2.0.0': 1, 'v2.1.0': 2 },
  );

  it('lists .v2 tags as plain versions, without +incompatible, and no go.mod is needed', async () => {
    const repo = new CodeRepo(host, 'gopkg.in/x.v2', 'gopkg.in/x.v2');
    expect(await repo.versions()).toEqual(['v2.0.0', 'v2.1.0']);
    expect((await repo.stat('v2.1.0')).version).toBe('v2.1.0');
    expect(Buffer.from(await repo.goMod('v2.0.0')).toString()).toBe('module gopkg.in/x.v2\n');
    await expect(repo.stat('v1.0.0')).rejects.toThrow('gopkg.in/x.v2@v1.0.0: invalid version: module path includes a major version suffix, so major version must match');
  });

  it('lets .v1 use v0 pseudo-versions', async () => {
    const repo = new CodeRepo(host, 'gopkg.in/x.v1', 'gopkg.in/x.v1');
    expect(await repo.versions()).toEqual(['v1.0.0']);
    const pseudo = `v0.0.0-20200101010000-${host.hash(1).slice(0, 12)}`;
    expect((await repo.stat(pseudo)).version).toBe(pseudo);
  });

  it('gives -unstable paths no versions', async () => {
    const repo = new CodeRepo(host, 'gopkg.in/x.v2-unstable', 'gopkg.in/x.v2-unstable');
    expect(await repo.versions()).toEqual([]);
  });
});

describe('a go-import subdirectory (go 1.25+)', () => {
  const host = new MemoryGitRepo(
    [
      { time: t0, files: { 'go/sub/go.mod': 'module go.example/mono\n', 'go/sub/a.go': 'package a\n', 'go/sub/inner/go.mod': 'module go.example/mono/inner\n' } },
    ],
    { 'go/sub/v1.0.0': 0, 'v2.0.0': 0, 'go/sub/inner/v0.1.0': 0 },
  );

  it('puts the module in that directory: its tags carry the directory, as newCodeRepo joins it', async () => {
    const repo = new CodeRepo(host, 'go.example/mono', 'go.example/mono', 'go/sub');
    expect(repo.codeDir).toBe('go/sub');
    expect(await repo.versions()).toEqual(['v1.0.0']);
    // Below the root, the path's own directory comes first: filepath.Join(codeDir, subdir), cleaned.
    expect(new CodeRepo(host, 'go.example/mono', 'go.example/mono/inner', 'go/sub').codeDir).toBe('inner/go/sub');
    expect(new CodeRepo(host, 'go.example/mono', 'go.example/mono', './go//sub/').codeDir).toBe('go/sub');
  });
});

describe('isMajor', () => {
  it.each([
    ['example.com/m', '', true],
    ['example.com/m/v2', '', false],
    ['gopkg.in/m.v1', '', true],
    ['example.com/m/v2', '/v2', true],
    ['gopkg.in/m.v2', '/v2', true],
    ['example.com/m', '/v2', false],
    ['example.com/m/v3', '/v2', false],
    ['', '', false],
  ])('isMajor(%s, %s) = %s', (mpath, pathMajor, want) => {
    expect(isMajor(mpath, pathMajor)).toBe(want);
  });
});
