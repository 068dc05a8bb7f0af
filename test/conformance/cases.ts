// Conformance cases: the rules of docs/go-rules/ exercised case by case, and
// more real-world shapes. Each case builds fixture repositories with fixed
// dates, names the `go mod download` queries and `go list -m -versions` lists
// to compare between direct mode and modproxy, and states what direct mode
// does (checked too, so a fixture that fails to reproduce the situation cannot
// pass vacuously).
import type { RepoBuilder } from '../support/repoBuilder.js';
import { collidingCommits } from '../support/repoBuilder.js';
import { SECRETS, type DiscoveryWorld } from './discoveryWorld.js';

export interface CaseContext {
  /** A fresh repository github.com/c/<name>. */
  repo(name: string, opts?: { defaultBranch?: string }): Promise<RepoBuilder>;
  /** A fresh repository reached as git.example.com/<name>.git (the .git qualifier rule). */
  qualifiedRepo(name: string): Promise<RepoBuilder>;
  /** An empty bare repository github.com/c/<name>. */
  emptyRepo(name: string): Promise<void>;
  /** The discovery world (started on first use), for cases with `world: 'discovery'`. */
  discovery(): Promise<DiscoveryWorld>;
}

/** What direct mode must do for a query (see docs/go-rules/). */
export type Expectation = { version: string } | { error: string | RegExp } | { versions: string[] };

export interface CaseValues {
  [key: string]: string;
}

export interface ConformanceCase {
  id: string;
  title: string;
  setup(ctx: CaseContext): Promise<CaseValues | void>;
  /** `module@query` arguments for `go mod download -json`. */
  queries(v: CaseValues): string[];
  /** Module paths for `go list -m -versions` (and -retracted). */
  lists?: string[];
  expect?(v: CaseValues): Record<string, Expectation>;
  /**
   * Queries where the result legitimately differs, with the reason. The
   * harness still checks each one against its stated alternative.
   */
  differs?: Record<string, { reason: string; proxy: 'client-rejects' | 'serves-where-direct-toolchain-refuses' }>;
  /** Slow cases (hundreds of MiB). */
  heavy?: boolean;
  /**
   * 'discovery': the case's modules are found by ?go-get=1 discovery and
   * compared in the discovery world (test/conformance/discoveryWorld.ts).
   */
  world?: 'discovery';
  /** 'newer': judged by the newest go command (newerGoTool), for behaviour older ones lack (discovery world). */
  toolchain?: 'newer';
  /** Further checks after the comparison (e.g. what modproxy answered and logged). */
  after?(ctx: CaseContext, v: CaseValues): Promise<void>;
}

const G = 'github.com/c';
const Q = 'git.example.com';

/** Dates: t(0) = 2020-01-01T00:00:00Z, then one month apart. */
export function t(n: number): string {
  const d = new Date(Date.UTC(2020, n, 1));
  return d.toISOString().replace('.000Z', 'Z');
}

/** The pseudo-version timestamp of t(n). */
export function ts(n: number): string {
  return t(n).replace(/[-:TZ]/g, '');
}

const mod = (path: string, go = '') => `module ${path}\n${go ? `\ngo ${go}\n` : ''}`;

export const cases: ConformanceCase[] = [
  // ---------------------------------------------------------------- A. Resolution and version list
  {
    id: 'A01',
    title: 'untagged repo, @latest',
    async setup(ctx) {
      const r = await ctx.repo('a01');
      await r.write({ 'p.go': 'package p\n' });
      const h = await r.commit(t(0));
      await r.publish();
      return { h };
    },
    queries: () => [`${G}/a01@latest`],
    lists: [`${G}/a01`],
    expect: (v) => ({ [`${G}/a01@latest`]: { version: `v0.0.0-${ts(0)}-${v.h.slice(0, 12)}` }, [`${G}/a01`]: { versions: [] } }),
  },
  {
    id: 'A02',
    title: 'branch query',
    async setup(ctx) {
      const r = await ctx.repo('a02');
      await r.write({ 'p.go': 'package p\n' });
      const h = await r.commit(t(0));
      await r.publish();
      return { h };
    },
    queries: () => [`${G}/a02@main`],
    expect: (v) => ({ [`${G}/a02@main`]: { version: `v0.0.0-${ts(0)}-${v.h.slice(0, 12)}` } }),
  },
  {
    id: 'A03',
    title: 'short hash query: 7 hex resolves, 6 hex is unknown',
    async setup(ctx) {
      const r = await ctx.repo('a03');
      await r.write({ 'p.go': 'package p\n' });
      const h = await r.commit(t(0));
      await r.write({ 'q.go': 'package p\n' });
      await r.commit(t(1));
      await r.publish();
      return { h };
    },
    queries: (v) => [`${G}/a03@${v.h.slice(0, 7)}`, `${G}/a03@${v.h.slice(0, 6)}`],
    expect: (v) => ({
      [`${G}/a03@${v.h.slice(0, 7)}`]: { version: `v0.0.0-${ts(0)}-${v.h.slice(0, 12)}` },
      [`${G}/a03@${v.h.slice(0, 6)}`]: { error: `unknown revision ${v.h.slice(0, 6)}` },
    }),
  },
  {
    id: 'A04',
    title: 'committer time, not author time',
    async setup(ctx) {
      const r = await ctx.repo('a04');
      await r.write({ 'p.go': 'package p\n' });
      const h = await r.commit('2021-03-04T05:06:07+09:00', { authorDate: '2019-05-05T00:00:00Z' });
      await r.publish();
      return { h };
    },
    queries: () => [`${G}/a04@main`],
    expect: (v) => ({ [`${G}/a04@main`]: { version: `v0.0.0-20210303200607-${v.h.slice(0, 12)}` } }),
  },
  {
    id: 'A05',
    title: 'pseudo-version after a release and after a prerelease',
    async setup(ctx) {
      const a = await ctx.repo('a05a');
      await a.write({ 'p.go': 'package p\n' });
      await a.commit(t(0));
      await a.tag('v1.2.3');
      await a.write({ 'q.go': 'package p\n' });
      await a.commit(t(1));
      await a.write({ 'r.go': 'package p\n' });
      const ha = await a.commit(t(2));
      await a.publish();
      const b = await ctx.repo('a05b');
      await b.write({ 'p.go': 'package p\n' });
      await b.commit(t(0));
      await b.tag('v1.2.3');
      await b.write({ 'q.go': 'package p\n' });
      await b.commit(t(1));
      await b.tag('v1.3.0-rc.1');
      await b.write({ 'r.go': 'package p\n' });
      const hb = await b.commit(t(2));
      await b.publish();
      return { ha, hb };
    },
    queries: (v) => [`${G}/a05a@${v.ha}`, `${G}/a05b@${v.hb}`, `${G}/a05b@latest`],
    expect: (v) => ({
      [`${G}/a05a@${v.ha}`]: { version: `v1.2.4-0.${ts(2)}-${v.ha.slice(0, 12)}` },
      [`${G}/a05b@${v.hb}`]: { version: `v1.3.0-rc.1.0.${ts(2)}-${v.hb.slice(0, 12)}` },
      [`${G}/a05b@latest`]: { version: 'v1.2.3' },
    }),
  },
  {
    id: 'A06',
    title: 'tagged commit by hash or branch gives the tag',
    async setup(ctx) {
      const r = await ctx.repo('a06');
      await r.write({ 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.2.3');
      await r.write({ 'q.go': 'package p\n' });
      const h = await r.commit(t(1));
      await r.tag('v1.3.0-rc.1');
      await r.publish();
      return { h };
    },
    queries: (v) => [`${G}/a06@${v.h}`, `${G}/a06@${v.h.slice(0, 12)}`, `${G}/a06@main`],
    expect: (v) => ({ [`${G}/a06@${v.h}`]: { version: 'v1.3.0-rc.1' }, [`${G}/a06@main`]: { version: 'v1.3.0-rc.1' } }),
  },
  {
    id: 'A07',
    title: 'multiple tags on one commit',
    async setup(ctx) {
      const a = await ctx.repo('a07a');
      await a.write({ 'go.mod': mod(`${G}/a07a`), 'sub/go.mod': mod(`${G}/a07a/sub`), 'sub/s.go': 'package sub\n' });
      await a.commit(t(0));
      await a.tag('sub/v1.0.0');
      await a.tag('sub/v1.1.0-beta');
      await a.publish();
      const b = await ctx.repo('a07b');
      await b.write({ 'p.go': 'package p\n' });
      const h = await b.commit(t(0));
      await b.tag('v1.5.0');
      await b.tag('v2.0.0');
      await b.tag('v1.6.0-rc.1');
      await b.publish();
      return { h };
    },
    queries: (v) => [`${G}/a07a/sub@main`, `${G}/a07b@${v.h}`, `${G}/a07b@latest`],
    lists: [`${G}/a07a/sub`, `${G}/a07b`],
    expect: (v) => ({
      [`${G}/a07a/sub@main`]: { version: 'v1.1.0-beta' },
      [`${G}/a07b@${v.h}`]: { version: 'v2.0.0+incompatible' },
      [`${G}/a07b`]: { versions: ['v1.5.0', 'v1.6.0-rc.1', 'v2.0.0+incompatible'] },
    }),
  },
  {
    id: 'A08',
    title: 'non-canonical and pseudo-looking tags',
    async setup(ctx) {
      const r = await ctx.repo('a08');
      await r.write({ 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.1');
      await r.write({ 'q.go': 'package p\n' });
      const h = await r.commit(t(1));
      await r.tag('1.2.0');
      await r.tag('v1.2.0+meta');
      await r.write({ 'r.go': 'package p\n' });
      await r.commit(t(2));
      await r.tag('v1.3.0-0.20200101000000-abcdefabcdef');
      await r.publish();
      return { h };
    },
    queries: () => [`${G}/a08@v1.2.0+meta`, `${G}/a08@1.2.0`, `${G}/a08@v1.2.0`, `${G}/a08@main`, `${G}/a08@v1.1`, `${G}/a08@v1.3.0-0.20200101000000-abcdefabcdef`],
    lists: [`${G}/a08`],
    expect: (v) => ({
      [`${G}/a08@v1.2.0+meta`]: { version: `v1.2.1-0.${ts(1)}-${v.h.slice(0, 12)}` },
      [`${G}/a08@1.2.0`]: { version: `v1.2.1-0.${ts(1)}-${v.h.slice(0, 12)}` },
      [`${G}/a08@v1.2.0`]: { error: 'unknown revision v1.2.0' },
      [`${G}/a08`]: { versions: [] },
    }),
  },
  {
    id: 'A09',
    title: 'annotated tag',
    async setup(ctx) {
      const r = await ctx.repo('a09');
      await r.write({ 'go.mod': mod(`${G}/a09`), 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0', { annotated: true, date: t(1) });
      await r.publish();
    },
    queries: () => [`${G}/a09@v1.0.0`, `${G}/a09@latest`, `${G}/a09@main`],
    expect: () => ({ [`${G}/a09@v1.0.0`]: { version: 'v1.0.0' } }),
  },
  {
    id: 'A10',
    title: 'branch named like a version',
    async setup(ctx) {
      const r = await ctx.repo('a10');
      await r.write({ 'p.go': 'package p\n' });
      const h = await r.commit(t(0));
      await r.branch('v1.5.0');
      await r.publish();
      return { h };
    },
    queries: () => [`${G}/a10@v1.5.0`],
    expect: (v) => ({ [`${G}/a10@v1.5.0`]: { error: `resolves to version v0.0.0-${ts(0)}-${v.h.slice(0, 12)} (v1.5.0 is not a tag)` } }),
  },
  {
    id: 'A11',
    title: 'commit reachable only from refs/pull/1/head',
    async setup(ctx) {
      const r = await ctx.repo('a11');
      await r.write({ 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.git('checkout', '-q', '-b', 'pr');
      await r.write({ 'q.go': 'package p\n' });
      const h = await r.commit(t(1));
      await r.checkout('main');
      await r.setRef('refs/pull/1/head', h);
      await r.git('branch', '-q', '-D', 'pr');
      await r.publish();
      return { h };
    },
    queries: (v) => [`${G}/a11@${v.h.slice(0, 12)}`, `${G}/a11@${v.h}`],
    expect: (v) => ({
      [`${G}/a11@${v.h.slice(0, 12)}`]: { error: `unknown revision ${v.h.slice(0, 12)}` },
      [`${G}/a11@${v.h}`]: { error: `unknown revision ${v.h}` },
    }),
  },
  {
    id: 'A12',
    title: 'empty repository',
    async setup(ctx) {
      await ctx.emptyRepo('a12');
    },
    queries: () => [`${G}/a12@latest`, `${G}/a12@v1.0.0`],
    lists: [`${G}/a12`],
    expect: () => ({
      [`${G}/a12@latest`]: { error: 'no matching versions for query "latest"' },
      [`${G}/a12@v1.0.0`]: { error: 'unknown revision v1.0.0' },
    }),
  },
  {
    id: 'A13',
    title: 'upper case in module path and version',
    async setup(ctx) {
      const r = await ctx.repo('CamelRepo');
      await r.write({ 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0-RC1');
      await r.write({ 'Q.go': 'package p\n' });
      await r.commit(t(1));
      await r.tag('v1.0.0-rc1');
      await r.publish();
    },
    queries: () => [`${G}/CamelRepo@v1.0.0-RC1`, `${G}/CamelRepo@v1.0.0-rc1`, `${G}/CamelRepo@latest`],
    lists: [`${G}/CamelRepo`],
    expect: () => ({ [`${G}/CamelRepo`]: { versions: ['v1.0.0-RC1', 'v1.0.0-rc1'] }, [`${G}/CamelRepo@v1.0.0-RC1`]: { version: 'v1.0.0-RC1' } }),
  },
  {
    id: 'A14',
    title: 'branch with a slash',
    async setup(ctx) {
      const r = await ctx.repo('a14');
      await r.write({ 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.git('checkout', '-q', '-b', 'feature/x');
      await r.write({ 'q.go': 'package p\n' });
      const h = await r.commit(t(1));
      await r.checkout('main');
      await r.publish();
      return { h };
    },
    queries: () => [`${G}/a14@feature/x`],
    expect: (v) => ({ [`${G}/a14@feature/x`]: { version: `v0.0.0-${ts(1)}-${v.h.slice(0, 12)}` } }),
    differs: {
      [`${G}/a14@feature/x`]: {
        reason: 'the go client refuses to send a version containing "/" to any proxy (disallowed version string); modproxy still answers a raw request (see the protocol test)',
        proxy: 'client-rejects',
      },
    },
  },
  {
    id: 'A15',
    title: 'ambiguous 7-hex prefix among ref tips',
    async setup(ctx) {
      const r = await ctx.repo('a15');
      await r.write({ 'p.go': 'package p\n' });
      await r.commit(t(0));
      const [x, y] = await collidingCommits(r, 7, 1580515200);
      await r.branch('x', x);
      await r.branch('y', y);
      await r.publish();
      return { prefix: x.slice(0, 7) };
    },
    queries: (v) => [`${G}/a15@${v.prefix}`],
    expect: (v) => ({ [`${G}/a15@${v.prefix}`]: { error: `ambiguous revision ${v.prefix}` } }),
  },

  // ---------------------------------------------------------------- B. Subdirectories, major versions, +incompatible
  {
    id: 'B16',
    title: 'subdirectory module with tag prefix',
    async setup(ctx) {
      const r = await ctx.repo('b16');
      await r.write({ 'go.mod': mod(`${G}/b16`), 'p.go': 'package p\n', 'sub/go.mod': mod(`${G}/b16/sub`), 'sub/s.go': 'package sub\n' });
      await r.commit(t(0));
      for (const tag of ['v1.0.0', 'sub/v1.0.0', 'sub/v1.1.0-beta', 'sub/v2.0.0', 'sub/vbad', 'sub/v1.2']) await r.tag(tag);
      await r.publish();
    },
    queries: () => [`${G}/b16/sub@v2.0.0`, `${G}/b16/sub@v1.2`, `${G}/b16/sub@v1.1.0-beta`, `${G}/b16/sub@latest`, `${G}/b16@latest`],
    lists: [`${G}/b16`, `${G}/b16/sub`],
    expect: () => ({
      [`${G}/b16`]: { versions: ['v1.0.0'] },
      [`${G}/b16/sub`]: { versions: ['v1.0.0', 'v1.1.0-beta'] },
      [`${G}/b16/sub@v2.0.0`]: { error: `module contains a go.mod file, so module path must match major version ("${G}/b16/sub/v2")` },
    }),
  },
  {
    id: 'B17',
    title: 'root LICENSE copied into subdirectory modules that lack one',
    async setup(ctx) {
      const r = await ctx.repo('b17');
      await r.write({
        LICENSE: 'Root license\n',
        'go.mod': mod(`${G}/b17`),
        'sub/go.mod': mod(`${G}/b17/sub`),
        'sub/s.go': 'package sub\n',
        'sub2/go.mod': mod(`${G}/b17/sub2`),
        'sub2/LICENSE': 'Sub2 license\n',
        'sub3/go.mod': mod(`${G}/b17/sub3`),
        'sub3/LICENSE.txt': 'not the name that counts\n',
      });
      await r.commit(t(0));
      for (const tag of ['v1.0.0', 'sub/v1.0.0', 'sub2/v1.0.0', 'sub3/v1.0.0']) await r.tag(tag);
      await r.publish();
    },
    queries: () => [`${G}/b17@v1.0.0`, `${G}/b17/sub@v1.0.0`, `${G}/b17/sub2@v1.0.0`, `${G}/b17/sub3@v1.0.0`],
  },
  {
    id: 'B18',
    title: 'nested modules are excluded, GO.MOD included as a boundary',
    async setup(ctx) {
      const r = await ctx.repo('b18');
      await r.write({
        'go.mod': mod(`${G}/b18`),
        'p.go': 'package p\n',
        'sub/go.mod': mod(`${G}/b18/sub`),
        'sub/s.go': 'package sub\n',
        'sub/inner/i.go': 'package inner\n',
        'nested2/GO.MOD': mod(`${G}/b18/nested2`),
        'nested2/n.go': 'package nested2\n',
        'nested3/deeper/go.mod': mod(`${G}/b18/nested3/deeper`),
        'nested3/keep.go': 'package nested3\n',
      });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.tag('sub/v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/b18@v1.0.0`, `${G}/b18/sub@v1.0.0`],
  },
  {
    id: 'B19',
    title: 'subdirectory pseudo-version uses the subdirectory tags',
    async setup(ctx) {
      const r = await ctx.repo('b19');
      await r.write({ 'go.mod': mod(`${G}/b19`), 'sub/go.mod': mod(`${G}/b19/sub`), 'sub/s.go': 'package sub\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.tag('sub/v1.1.0-beta');
      await r.write({ 'sub/t.go': 'package sub\n' });
      const h = await r.commit(t(1));
      await r.publish();
      return { h };
    },
    queries: () => [`${G}/b19/sub@main`, `${G}/b19@main`],
    expect: (v) => ({
      [`${G}/b19/sub@main`]: { version: `v1.1.0-beta.0.${ts(1)}-${v.h.slice(0, 12)}` },
      [`${G}/b19@main`]: { version: `v1.0.1-0.${ts(1)}-${v.h.slice(0, 12)}` },
    }),
  },
  {
    id: 'B20',
    title: 'directory without go.mod, and a directory that does not exist',
    async setup(ctx) {
      const r = await ctx.repo('b20');
      await r.write({ 'go.mod': mod(`${G}/b20`), 'sub/go.mod': mod(`${G}/b20/sub`), 'sub/inner/i.go': 'package inner\n' });
      const h = await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
      return { h };
    },
    queries: () => [`${G}/b20/sub/inner@main`, `${G}/b20/nothere@v1.0.0`],
    expect: (v) => ({
      [`${G}/b20/sub/inner@main`]: { error: `missing ${G}/b20/sub/inner/go.mod at revision ${v.h.slice(0, 12)}` },
      [`${G}/b20/nothere@v1.0.0`]: { error: 'unknown revision nothere/v1.0.0' },
    }),
  },
  {
    id: 'B21',
    title: 'subdirectory tag placed before the go.mod existed',
    async setup(ctx) {
      const r = await ctx.repo('b21');
      await r.write({ 'go.mod': mod(`${G}/b21`), 'sub/s.go': 'package sub\n' });
      await r.commit(t(0));
      await r.tag('sub/v1.0.0');
      await r.write({ 'sub/go.mod': mod(`${G}/b21/sub`) });
      await r.commit(t(1));
      await r.tag('sub/v1.1.0');
      await r.publish();
    },
    queries: () => [`${G}/b21/sub@v1.0.0`, `${G}/b21/sub@latest`],
    lists: [`${G}/b21/sub`],
    expect: () => ({
      [`${G}/b21/sub`]: { versions: ['v1.0.0', 'v1.1.0'] },
      [`${G}/b21/sub@v1.0.0`]: { error: `missing ${G}/b21/sub/go.mod at revision sub/v1.0.0` },
      [`${G}/b21/sub@latest`]: { version: 'v1.1.0' },
    }),
  },
  {
    id: 'B22',
    title: 'major branch: go.mod declares /v2 at the root',
    async setup(ctx) {
      const r = await ctx.repo('b22');
      await r.write({ 'go.mod': mod(`${G}/b22`), 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.write({ 'go.mod': mod(`${G}/b22/v2`) });
      const h2 = await r.commit(t(1));
      await r.tag('v2.0.0');
      await r.write({ 'q.go': 'package p\n' });
      const h3 = await r.commit(t(2));
      await r.publish();
      return { h2, h3 };
    },
    queries: (v) => [
      `${G}/b22/v2@v2.0.0`,
      `${G}/b22@v2.0.0`,
      `${G}/b22@v2.0.0+incompatible`,
      `${G}/b22/v2@v1.0.0`,
      `${G}/b22/v2@main`,
      `${G}/b22/v2@v0.0.0-${ts(2)}-${v.h3.slice(0, 12)}`,
      `${G}/b22/v2@v2.0.0-${ts(1)}-${v.h2.slice(0, 12)}`,
      `${G}/b22@main`,
    ],
    lists: [`${G}/b22`, `${G}/b22/v2`],
    expect: (v) => ({
      [`${G}/b22/v2@v2.0.0`]: { version: 'v2.0.0' },
      [`${G}/b22@v2.0.0`]: { error: /go.mod has post-v2 module path/ },
      [`${G}/b22/v2@v1.0.0`]: { error: `go.mod has non-.../v2 module path "${G}/b22" (and .../v2/go.mod does not exist) at revision v1.0.0` },
      [`${G}/b22/v2@main`]: { version: `v2.0.1-0.${ts(2)}-${v.h3.slice(0, 12)}` },
      [`${G}/b22/v2@v0.0.0-${ts(2)}-${v.h3.slice(0, 12)}`]: { error: 'module path includes a major version suffix, so major version must match' },
      [`${G}/b22/v2@v2.0.0-${ts(1)}-${v.h2.slice(0, 12)}`]: { version: `v2.0.0-${ts(1)}-${v.h2.slice(0, 12)}` },
    }),
  },
  {
    id: 'B23',
    title: 'major subdirectory v2/',
    async setup(ctx) {
      const r = await ctx.repo('b23');
      await r.write({ LICENSE: 'root license\n', 'go.mod': mod(`${G}/b23`), 'p.go': 'package p\n', 'v2/go.mod': mod(`${G}/b23/v2`), 'v2/p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.tag('v2.0.0');
      await r.publish();
    },
    queries: () => [`${G}/b23@v1.0.0`, `${G}/b23/v2@v2.0.0`, `${G}/b23@v2.0.0`, `${G}/b23/v2@latest`],
    lists: [`${G}/b23`, `${G}/b23/v2`],
    expect: () => ({ [`${G}/b23@v2.0.0`]: { error: /module contains a go.mod file, so module path must match major version/ } }),
  },
  {
    id: 'B24',
    title: 'root go.mod and v2/go.mod both claim v2',
    async setup(ctx) {
      const r = await ctx.repo('b24');
      await r.write({ 'go.mod': mod(`${G}/b24/v2`), 'v2/go.mod': mod(`${G}/b24/v2`) });
      await r.commit(t(0));
      await r.tag('v2.0.0');
      await r.publish();
    },
    queries: () => [`${G}/b24/v2@v2.0.0`],
    expect: () => ({ [`${G}/b24/v2@v2.0.0`]: { error: `${G}/b24/go.mod and .../v2/go.mod both have .../v2 module paths at revision v2.0.0` } }),
  },
  {
    id: 'B25',
    title: 'v2/go.mod with an unrelated module path',
    async setup(ctx) {
      const r = await ctx.repo('b25');
      await r.write({ 'go.mod': mod(`${G}/b25`), 'v2/go.mod': mod('example.com/other') });
      await r.commit(t(0));
      await r.tag('v2.0.0');
      await r.publish();
    },
    queries: () => [`${G}/b25/v2@v2.0.0`],
    expect: () => ({ [`${G}/b25/v2@v2.0.0`]: { error: `${G}/b25/v2/go.mod has non-.../v2 module path "example.com/other" at revision v2.0.0` } }),
  },
  {
    id: 'B26',
    title: 'subdirectory module with a major subdirectory',
    async setup(ctx) {
      const r = await ctx.repo('b26');
      await r.write({
        LICENSE: 'root license\n',
        'sub/go.mod': mod(`${G}/b26/sub`),
        'sub/s.go': 'package sub\n',
        'sub/v2/go.mod': mod(`${G}/b26/sub/v2`),
        'sub/v2/s.go': 'package sub\n',
      });
      await r.commit(t(0));
      await r.tag('sub/v1.0.0');
      await r.tag('sub/v2.0.0');
      await r.publish();
    },
    queries: () => [`${G}/b26/sub@v1.0.0`, `${G}/b26/sub/v2@v2.0.0`],
    lists: [`${G}/b26/sub`, `${G}/b26/sub/v2`],
    expect: () => ({ [`${G}/b26/sub/v2`]: { versions: ['v2.0.0'] }, [`${G}/b26/sub`]: { versions: ['v1.0.0'] } }),
  },
  {
    id: 'B27',
    title: '+incompatible: no go.mod anywhere',
    async setup(ctx) {
      const r = await ctx.repo('b27');
      await r.write({ 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.write({ 'q.go': 'package p\n' });
      await r.commit(t(1));
      await r.tag('v2.0.0');
      await r.write({ 'r.go': 'package p\n' });
      await r.commit(t(2));
      await r.tag('v2.1.0-pre');
      await r.write({ 's.go': 'package p\n' });
      await r.commit(t(3));
      await r.tag('v3.0.0');
      await r.write({ 't.go': 'package p\n' });
      const h = await r.commit(t(4));
      await r.publish();
      return { h };
    },
    queries: () => [`${G}/b27@latest`, `${G}/b27@v2.0.0`, `${G}/b27@v1.0.0+incompatible`, `${G}/b27@main`, `${G}/b27/v2@v2.0.0`, `${G}/b27@v2.1.0-pre`],
    lists: [`${G}/b27`],
    expect: (v) => ({
      [`${G}/b27`]: { versions: ['v1.0.0', 'v2.0.0+incompatible', 'v2.1.0-pre+incompatible', 'v3.0.0+incompatible'] },
      [`${G}/b27@latest`]: { version: 'v3.0.0+incompatible' },
      [`${G}/b27@v2.0.0`]: { version: 'v2.0.0+incompatible' },
      [`${G}/b27@v1.0.0+incompatible`]: { error: '+incompatible suffix not allowed: major version v1 is compatible' },
      [`${G}/b27@main`]: { version: `v3.0.1-0.${ts(4)}-${v.h.slice(0, 12)}+incompatible` },
      [`${G}/b27/v2@v2.0.0`]: { error: `missing ${G}/b27/go.mod and .../v2/go.mod at revision v2.0.0` },
    }),
  },
  {
    id: 'B28',
    title: 'latest compatible version has a go.mod: no +incompatible in the list',
    async setup(ctx) {
      const r = await ctx.repo('b28');
      await r.write({ 'go.mod': mod(`${G}/b28`), 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.write({ 'go.mod': null });
      await r.commit(t(1));
      await r.tag('v2.0.0');
      await r.publish();
    },
    queries: () => [`${G}/b28@latest`, `${G}/b28@v2.0.0`],
    lists: [`${G}/b28`],
    expect: () => ({ [`${G}/b28`]: { versions: ['v1.0.0'] }, [`${G}/b28@latest`]: { version: 'v1.0.0' }, [`${G}/b28@v2.0.0`]: { version: 'v2.0.0+incompatible' } }),
  },
  {
    id: 'B29',
    title: 'v2 tags with a go.mod on an unsuffixed path',
    async setup(ctx) {
      const r = await ctx.repo('b29');
      await r.write({ 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.write({ 'go.mod': mod(`${G}/b29`) });
      await r.commit(t(1));
      await r.tag('v2.0.0');
      await r.write({ 'q.go': 'package p\n' });
      await r.commit(t(2));
      await r.tag('v2.0.1');
      await r.publish();
    },
    queries: () => [`${G}/b29@v2.0.0`, `${G}/b29@v2.0.0+incompatible`, `${G}/b29@latest`],
    lists: [`${G}/b29`],
    expect: () => ({
      [`${G}/b29`]: { versions: ['v1.0.0'] },
      [`${G}/b29@v2.0.0`]: { error: /module contains a go.mod file, so module path must match major version/ },
    }),
  },
  {
    id: 'B30',
    title: 'v2/go.mod present, root without',
    async setup(ctx) {
      const r = await ctx.repo('b30');
      await r.write({ 'p.go': 'package p\n', 'v2/go.mod': mod(`${G}/b30/v2`), 'v2/p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v2.0.0');
      await r.write({ 'q.go': 'package p\n' });
      const h = await r.commit(t(1));
      await r.publish();
      return { h };
    },
    queries: () => [`${G}/b30@v2.0.0`, `${G}/b30@v2.0.0+incompatible`, `${G}/b30@main`, `${G}/b30/v2@v2.0.0`],
    lists: [`${G}/b30`],
    expect: (v) => ({
      [`${G}/b30`]: { versions: ['v2.0.0+incompatible'] },
      [`${G}/b30@v2.0.0+incompatible`]: { version: 'v2.0.0+incompatible' },
      [`${G}/b30@main`]: { version: `v0.0.0-${ts(1)}-${v.h.slice(0, 12)}` },
    }),
  },
  {
    id: 'B31',
    title: 'explicit pseudo-version without the needed +incompatible',
    async setup(ctx) {
      const r = await ctx.repo('b31');
      await r.write({ 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v3.0.0');
      await r.write({ 'q.go': 'package p\n' });
      const h = await r.commit(t(1));
      await r.publish();
      return { h };
    },
    queries: (v) => [`${G}/b31@v3.0.1-0.${ts(1)}-${v.h.slice(0, 12)}`],
    expect: (v) => ({ [`${G}/b31@v3.0.1-0.${ts(1)}-${v.h.slice(0, 12)}`]: { version: `v3.0.1-0.${ts(1)}-${v.h.slice(0, 12)}+incompatible` } }),
  },
  // B32 (gopkg.in) is not applicable: gopkg.in paths reach GitHub only through
  // a go-import meta redirect, which modproxy does not follow (it serves
  // github-style and .git-qualified paths); the resolution rules for .vN
  // suffixes are still covered by the unit tests of lib/source/git (codeRepo).

  // ---------------------------------------------------------------- C. Pseudo-version validation
  {
    id: 'C33-38',
    title: 'pseudo-version validation',
    async setup(ctx) {
      const r = await ctx.repo('c33');
      await r.write({ 'p.go': 'package p\n' });
      const h0 = await r.commit(t(0));
      await r.tag('v1.2.3');
      await r.write({ 'q.go': 'package p\n' });
      await r.commit(t(1));
      await r.tag('v1.3.0-rc.1');
      await r.write({ 'r.go': 'package p\n' });
      const h2 = await r.commit(t(2));
      // A v1.5.0 tag on a side branch: not an ancestor of main.
      await r.git('checkout', '-q', '-b', 'side', h0);
      await r.write({ 'side.go': 'package p\n' });
      await r.commit(t(3));
      await r.tag('v1.5.0');
      await r.checkout('main');
      await r.publish();
      return { h0, h2 };
    },
    queries: (v) => {
      const s = v.h2.slice(0, 12);
      return [
        `${G}/c33@v1.3.0-rc.1.0.20200101000000-${s}`,
        `${G}/c33@v1.3.0-rc.1.0.${ts(2)}-${v.h2.slice(0, 14)}`,
        `${G}/c33@v1.3.0-rc.1.0.${ts(2)}-${v.h2.slice(0, 10)}`,
        `${G}/c33@v1.0.0-${ts(2)}-${s}`,
        `${G}/c33@v1.2.5-0.${ts(2)}-${s}`,
        `${G}/c33@v1.5.1-0.${ts(2)}-${s}`,
        `${G}/c33@v1.2.4-0.${ts(0)}-${v.h0.slice(0, 12)}`,
        `${G}/c33@v1.2.4-0.${ts(2)}-${s}`,
        `${G}/c33@v0.0.0-${ts(2)}-${s}`,
        `${G}/c33@v1.3.0-rc.1.0.${ts(2)}-${s}`,
      ];
    },
    expect: (v) => {
      const s = v.h2.slice(0, 12);
      return {
        [`${G}/c33@v1.3.0-rc.1.0.20200101000000-${s}`]: { error: `does not match version-control timestamp (expected ${ts(2)})` },
        [`${G}/c33@v1.3.0-rc.1.0.${ts(2)}-${v.h2.slice(0, 14)}`]: { error: `revision is longer than canonical (expected ${s})` },
        [`${G}/c33@v1.3.0-rc.1.0.${ts(2)}-${v.h2.slice(0, 10)}`]: { error: `revision is shorter than canonical (expected ${s})` },
        [`${G}/c33@v1.0.0-${ts(2)}-${s}`]: { error: 'major version without preceding tag must be v0, not v1' },
        [`${G}/c33@v1.2.5-0.${ts(2)}-${s}`]: { error: 'preceding tag (v1.2.4) not found' },
        [`${G}/c33@v1.5.1-0.${ts(2)}-${s}`]: { error: `revision ${s} is not a descendent of preceding tag (v1.5.0)` },
        [`${G}/c33@v1.2.4-0.${ts(0)}-${v.h0.slice(0, 12)}`]: { error: /tag \(v1.2.3\) found on revision .* is already canonical/ },
        [`${G}/c33@v1.2.4-0.${ts(2)}-${s}`]: { version: `v1.2.4-0.${ts(2)}-${s}` },
        [`${G}/c33@v0.0.0-${ts(2)}-${s}`]: { version: `v0.0.0-${ts(2)}-${s}` },
      };
    },
  },

  // ---------------------------------------------------------------- D. go.mod content
  {
    id: 'D39',
    title: 'module line differs from the module path',
    async setup(ctx) {
      const r = await ctx.repo('d39');
      await r.write({ 'go.mod': mod('example.com/elsewhere'), 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/d39@v1.0.0`],
    lists: [`${G}/d39`],
    expect: () => ({ [`${G}/d39@v1.0.0`]: { version: 'v1.0.0' } }),
  },
  {
    id: 'D40',
    title: 'go.mod without a module line',
    async setup(ctx) {
      const r = await ctx.repo('d40');
      await r.write({ 'go.mod': 'go 1.20\n', 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/d40@v1.0.0`],
    expect: () => ({ [`${G}/d40@v1.0.0`]: { error: 'go.mod is missing module path at revision v1.0.0' } }),
  },
  {
    id: 'D41',
    title: 'quoted module path and comments',
    async setup(ctx) {
      const r = await ctx.repo('d41');
      await r.write({ 'go.mod': `// c\nmodule "${G}/d41" // t\n`, 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/d41@v1.0.0`],
    expect: () => ({ [`${G}/d41@v1.0.0`]: { version: 'v1.0.0' } }),
  },
  {
    id: 'D42',
    title: '* text eol=crlf: .mod keeps LF, zip gets CRLF',
    async setup(ctx) {
      const r = await ctx.repo('d42');
      await r.write({
        '.gitattributes': '* text eol=crlf\n',
        LICENSE: 'line one\nline two\n',
        'go.mod': mod(`${G}/d42`, '1.21'),
        'p.go': 'package p\n\nfunc F() {}\n',
        'sub/go.mod': mod(`${G}/d42/sub`),
        'sub/s.go': 'package sub\n',
      });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.tag('sub/v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/d42@v1.0.0`, `${G}/d42/sub@v1.0.0`],
  },
  {
    id: 'D43',
    title: 'retractions',
    async setup(ctx) {
      const r = await ctx.repo('d43');
      await r.write({ 'go.mod': mod(`${G}/d43`), 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.write({ 'q.go': 'package p\n' });
      const h1 = await r.commit(t(1));
      await r.tag('v1.1.0');
      await r.write({ 'go.mod': mod(`${G}/d43`) + '\nretract (\n\tv1.1.0 // broken\n\tv1.2.0 // self\n)\n' });
      await r.commit(t(2));
      await r.tag('v1.2.0');
      await r.write({ 'r.go': 'package p\n' });
      await r.commit(t(3));
      await r.tag('v1.3.0-pre');
      await r.publish();
      return { h1 };
    },
    queries: (v) => [`${G}/d43@latest`, `${G}/d43@${v.h1}`, `${G}/d43@v1.1.0`, `${G}/d43@main`],
    lists: [`${G}/d43`],
    expect: (v) => ({
      [`${G}/d43@latest`]: { version: 'v1.0.0' },
      [`${G}/d43@${v.h1}`]: { version: `v1.0.1-0.${ts(1)}-${v.h1.slice(0, 12)}` },
      [`${G}/d43@v1.1.0`]: { version: 'v1.1.0' },
      [`${G}/d43@main`]: { version: 'v1.3.0-pre' },
    }),
  },
  {
    id: 'D44',
    title: 'everything retracted',
    async setup(ctx) {
      const r = await ctx.repo('d44');
      await r.write({ 'go.mod': mod(`${G}/d44`) + '\nretract v1.0.0\n', 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.write({ 'q.go': 'package p\n' });
      const h = await r.commit(t(1));
      await r.publish();
      return { h };
    },
    queries: () => [`${G}/d44@latest`, `${G}/d44@main`],
    lists: [`${G}/d44`],
    expect: (v) => ({ [`${G}/d44@latest`]: { version: `v0.0.0-${ts(1)}-${v.h.slice(0, 12)}` } }),
  },
  {
    id: 'D45',
    title: 'go directive newer than the toolchain',
    async setup(ctx) {
      const r = await ctx.repo('d45');
      await r.write({ 'go.mod': mod(`${G}/d45`, '1.99'), 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/d45@v1.0.0`],
    differs: {
      [`${G}/d45@v1.0.0`]: {
        reason: 'direct mode refuses to create the zip with an older toolchain (requires go >= 1.99); a proxy serves it (docs/go-rules/zip.md#toolchain-version-check), so the hash is checked against git archive instead',
        proxy: 'serves-where-direct-toolchain-refuses',
      },
    },
  },

  // ---------------------------------------------------------------- E. Zip content
  {
    id: 'E46',
    title: 'vendor directories, go < 1.24',
    async setup(ctx) {
      const r = await ctx.repo('e46');
      await r.write({
        'go.mod': mod(`${G}/e46`, '1.21'),
        'p.go': 'package p\n',
        'vendor/modules.txt': '# example.com/dep v1.0.0\n',
        'vendor/README': 'vendored\n',
        'vendor/example.com/dep/d.go': 'package dep\n',
        'sub/vendor/x/x.go': 'package x\n',
        'sub/vendor/file.txt': 'file\n',
        'vendorX/keep.go': 'package vendorX\n',
        'myvendor/keep.go': 'package myvendor\n',
      });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/e46@v1.0.0`],
  },
  {
    id: 'E47',
    title: 'vendor directories, go >= 1.24',
    async setup(ctx) {
      const r = await ctx.repo('e47');
      await r.write({
        'go.mod': mod(`${G}/e47`, '1.24'),
        'p.go': 'package p\n',
        'vendor/modules.txt': '# example.com/dep v1.0.0\n',
        'vendor/example.com/dep/d.go': 'package dep\n',
        'sub/vendor/x/x.go': 'package x\n',
        'sub/vendor/file.txt': 'file\n',
      });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/e47@v1.0.0`],
    differs: {
      [`${G}/e47@v1.0.0`]: {
        reason: 'go1.23 refuses zips of go >= 1.24 modules; the go >= 1.24 vendor rule is checked against git archive and the x/mod v0.22 rule instead',
        proxy: 'serves-where-direct-toolchain-refuses',
      },
    },
  },
  {
    id: 'E48',
    title: 'symlinks are omitted and not followed',
    async setup(ctx) {
      const r = await ctx.repo('e48');
      await r.write({
        'go.mod': mod(`${G}/e48`),
        'a.go': 'package p\n',
        'link.go': { symlink: 'a.go' },
        'abs': { symlink: '/etc/passwd' },
        'dir/d.go': 'package dir\n',
        'dirlink': { symlink: 'dir' },
        'sub/go.mod': { symlink: '../go.mod' },
        'sub/s.go': 'package sub\n',
      });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/e48@v1.0.0`],
  },
  {
    id: 'E49-50-51-57-58',
    title: '.hg_archival.txt, dot-dirs, export-ignore/subst, submodules, empty files',
    async setup(ctx) {
      const r = await ctx.repo('e49');
      await r.write({
        'go.mod': mod(`${G}/e49`),
        '.hg_archival.txt': 'repo: x\n',
        'sub/.hg_archival.txt': 'kept\n',
        '.github/workflows/ci.yml': 'on: push\n',
        '.git2/config': 'x\n',
        '.gitattributes': 'ignored.txt export-ignore\nsubst.txt export-subst\n',
        'ignored.txt': 'still here\n',
        'subst.txt': '$Format:%H$\n',
        'testdata/t.txt': 'data\n',
        '.gitmodules': '[submodule "dep"]\n\tpath = dep\n\turl = https://example.com/dep\n',
        'empty.txt': '',
      });
      await r.gitlink('dep', 'd'.repeat(40));
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/e49@v1.0.0`],
  },
  {
    id: 'E52',
    title: 'ident and eol=crlf conversions',
    async setup(ctx) {
      const r = await ctx.repo('e52');
      await r.write({
        'go.mod': mod(`${G}/e52`),
        '.gitattributes': '*.txt text eol=crlf\nid.go ident\nauto.dat text=auto eol=crlf\n*.bin binary\n',
        'a.txt': 'one\ntwo\n',
        'crlf.txt': 'already\r\ncrlf\r\n',
        'id.go': 'package p // $Id$\n// $Id: old $\n',
        'auto.dat': 'text\nfile\n',
        'x.bin': Buffer.from([0, 1, 2, 10, 13, 10]),
        'sub/go.mod': mod(`${G}/e52/sub`),
        'sub/b.txt': 'sub\nfile\n',
      });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.tag('sub/v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/e52@v1.0.0`, `${G}/e52/sub@v1.0.0`],
  },
  {
    id: 'E53a',
    title: 'invalid file names fail the zip',
    async setup(ctx) {
      const r = await ctx.repo('e53a');
      await r.write({ 'go.mod': mod(`${G}/e53a`), 'a:b.go': 'x', "it's.go": 'x', 'a`b.go': 'x', 'tab\tname.go': 'x', 'aux.go': 'x', 'Com1.dir/x.go': 'x', 'README.': 'x' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/e53a@v1.0.0`],
    expect: () => ({ [`${G}/e53a@v1.0.0`]: { error: /create zip: .*malformed file path/s } }),
  },
  {
    id: 'E53b',
    title: 'unusual but valid file names',
    async setup(ctx) {
      const r = await ctx.repo('e53b');
      await r.write({
        'go.mod': mod(`${G}/e53b`),
        'foo~1.go': 'x',
        'bar~.go': 'x',
        '...x/a.go': 'x',
        '.hidden': 'x',
        'Spaces and (parens) & more!.txt': 'x',
        'ünïcödé.go': 'x',
        '-leading-dash.txt': 'x',
      });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/e53b@v1.0.0`],
  },
  {
    id: 'E53c',
    title: 'decomposed accent is invalid',
    async setup(ctx) {
      const r = await ctx.repo('e53c');
      await r.write({ 'go.mod': mod(`${G}/e53c`), 'e\u0301.go': 'x' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/e53c@v1.0.0`],
  },
  {
    id: 'E54',
    title: 'case-insensitive collisions',
    async setup(ctx) {
      const a = await ctx.repo('e54a');
      await a.write({ 'go.mod': mod(`${G}/e54a`), README: 'x', readme: 'y' });
      await a.commit(t(0));
      await a.tag('v1.0.0');
      await a.publish();
      const b = await ctx.repo('e54b');
      await b.write({ 'go.mod': mod(`${G}/e54b`), 'Foo/a.go': 'x', foo: 'y' });
      await b.commit(t(0));
      await b.tag('v1.0.0');
      await b.publish();
      const c = await ctx.repo('e54c');
      await c.write({ 'go.mod': mod(`${G}/e54c`), 'Foo/a.go': 'x', 'foo.go': 'y', 'K.go': 'kelvin-free', 'dir/\u212a.txt': 'kelvin', 'dir/k.txt': 'k' });
      await c.commit(t(0));
      await c.tag('v1.0.0');
      await c.publish();
    },
    queries: () => [`${G}/e54a@v1.0.0`, `${G}/e54b@v1.0.0`, `${G}/e54c@v1.0.0`],
  },
  {
    id: 'E55',
    title: 'root GO.MOD only',
    async setup(ctx) {
      const r = await ctx.repo('e55');
      await r.write({ 'GO.MOD': mod(`${G}/e55`), 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/e55@v1.0.0`],
  },
  {
    id: 'E56a',
    title: 'a 20 MB file is fine; a LICENSE over 16 MiB is not',
    async setup(ctx) {
      const big = Buffer.alloc(20_000_000, 'abcdefghij');
      const a = await ctx.repo('e56a');
      await a.write({ 'go.mod': mod(`${G}/e56a`), 'big.dat': big });
      await a.commit(t(0));
      await a.tag('v1.0.0');
      await a.publish();
      const b = await ctx.repo('e56b');
      await b.write({ 'go.mod': mod(`${G}/e56b`), LICENSE: Buffer.alloc((16 << 20) + 1, 'L') });
      await b.commit(t(0));
      await b.tag('v1.0.0');
      await b.publish();
      const c = await ctx.repo('e56c');
      await c.write({ 'go.mod': Buffer.concat([Buffer.from(mod(`${G}/e56c`)), Buffer.alloc(16 << 20, '\n')]) });
      await c.commit(t(0));
      await c.tag('v1.0.0');
      await c.publish();
    },
    queries: () => [`${G}/e56a@v1.0.0`, `${G}/e56b@v1.0.0`, `${G}/e56c@v1.0.0`],
    expect: () => ({ [`${G}/e56b@v1.0.0`]: { error: 'LICENSE file too large (max size is 16777216 bytes)' } }),
  },
  {
    id: 'E56d',
    title: 'more than 500 MiB in total',
    heavy: true,
    async setup(ctx) {
      const r = await ctx.repo('e56d');
      await r.write({ 'go.mod': mod(`${G}/e56d`), 'a.dat': Buffer.alloc(300 << 20), 'b.dat': Buffer.alloc(201 << 20) });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/e56d@v1.0.0`],
    expect: () => ({ [`${G}/e56d@v1.0.0`]: { error: 'module source tree too large (max size is 524288000 bytes)' } }),
  },
  {
    id: 'E59',
    title: 'non-ASCII names: UTF-8 flag and byte-order sorting',
    async setup(ctx) {
      const r = await ctx.repo('e59');
      await r.write({ 'go.mod': mod(`${G}/e59`), 'a\uff5e.txt': 'fullwidth tilde', 'a\u{10400}.txt': 'deseret (astral, a letter)', 'é.go': 'x', 'z.go': 'x', '中文/文件.go': 'x' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/e59@v1.0.0`],
  },

  // ---------------------------------------------------------------- X. More real-world shapes
  {
    id: 'X01',
    title: 'default branch is not main',
    async setup(ctx) {
      const r = await ctx.repo('x01', { defaultBranch: 'develop' });
      await r.write({ 'go.mod': mod(`${G}/x01`), 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v0.1.0');
      await r.write({ 'q.go': 'package p\n' });
      await r.commit(t(1));
      await r.publish('refs/heads/develop');
    },
    queries: () => [`${G}/x01@latest`, `${G}/x01@develop`, `${G}/x01@HEAD`],
    lists: [`${G}/x01`],
  },
  {
    id: 'X02',
    title: 'monorepo with nested modules, major subdirectories and many tags',
    async setup(ctx) {
      const r = await ctx.repo('x02');
      await r.write({
        LICENSE: 'Apache\n',
        'go.mod': mod(`${G}/x02`, '1.21'),
        'core.go': 'package x02\n',
        'service/a/go.mod': mod(`${G}/x02/service/a`, '1.21'),
        'service/a/a.go': 'package a\n',
        'service/b/go.mod': mod(`${G}/x02/service/b`, '1.21'),
        'service/b/b.go': 'package b\n',
        'tools/go.mod': mod(`${G}/x02/tools`),
        'tools/v3/go.mod': mod(`${G}/x02/tools/v3`),
        'tools/v3/t.go': 'package tools\n',
        'internal/x.go': 'package internal\n',
      });
      await r.commit(t(0));
      for (const tag of ['v1.0.0', 'service/a/v1.0.0', 'service/b/v0.3.0', 'tools/v1.0.0', 'tools/v3.0.0']) await r.tag(tag);
      await r.write({ 'service/a/a2.go': 'package a\n' });
      await r.commit(t(1));
      await r.tag('service/a/v1.1.0');
      await r.write({ 'core2.go': 'package x02\n' });
      await r.commit(t(2));
      await r.publish();
    },
    queries: () => [
      `${G}/x02@latest`,
      `${G}/x02@main`,
      `${G}/x02/service/a@latest`,
      `${G}/x02/service/a@main`,
      `${G}/x02/service/b@latest`,
      `${G}/x02/tools/v3@v3.0.0`,
      `${G}/x02/tools@v1.0.0`,
      `${G}/x02/tools/v3@main`,
    ],
    lists: [`${G}/x02`, `${G}/x02/service/a`, `${G}/x02/tools/v3`],
  },
  {
    id: 'X03',
    title: 'retract ranges, rationale comments, and a syntax error that disables retractions',
    async setup(ctx) {
      const a = await ctx.repo('x03a');
      await a.write({ 'go.mod': mod(`${G}/x03a`), 'p.go': 'package p\n' });
      for (let i = 0; i < 5; i++) {
        await a.write({ [`f${i}.go`]: 'package p\n' });
        await a.commit(t(i));
        await a.tag(`v1.${i}.0`);
      }
      await a.write({ 'go.mod': mod(`${G}/x03a`) + 'retract [v1.1.0, v1.3.0] // bad range\nretract v1.5.0 // future\n' });
      await a.commit(t(6));
      await a.tag('v1.5.0');
      await a.publish();
      const b = await ctx.repo('x03b');
      await b.write({ 'go.mod': mod(`${G}/x03b`), 'p.go': 'package p\n' });
      await b.commit(t(0));
      await b.tag('v1.0.0');
      await b.write({ 'go.mod': mod(`${G}/x03b`) + 'retract v1.1.0\nrequire bad.example/x\n' });
      await b.commit(t(1));
      await b.tag('v1.1.0');
      await b.publish();
    },
    queries: () => [`${G}/x03a@latest`, `${G}/x03a@main`, `${G}/x03b@latest`, `${G}/x03b@main`],
    lists: [`${G}/x03a`, `${G}/x03b`],
  },
  {
    id: 'X04',
    title: 'canonical and build-metadata tags on one commit; metadata tag over a higher ancestor',
    async setup(ctx) {
      const a = await ctx.repo('x04a');
      await a.write({ 'p.go': 'package p\n' });
      await a.commit(t(0));
      await a.tag('v1.0.0');
      await a.tag('v1.0.0+build.5');
      await a.publish();
      const b = await ctx.repo('x04b');
      await b.write({ 'p.go': 'package p\n' });
      await b.commit(t(0));
      await b.tag('v1.3.0');
      await b.write({ 'q.go': 'package p\n' });
      await b.commit(t(1));
      await b.tag('v1.2.0+meta');
      await b.publish();
    },
    queries: () => [`${G}/x04a@main`, `${G}/x04a@v1.0.0+build.5`, `${G}/x04b@main`, `${G}/x04b@latest`],
  },
  {
    id: 'X05',
    title: 'odd tags: a tag on a tree, a tag of a tag, a non-semver release tag',
    async setup(ctx) {
      const r = await ctx.repo('x05');
      await r.write({ 'go.mod': mod(`${G}/x05`), 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0', { annotated: true });
      await r.git('tag', '-a', '-m', 'tag of tag', 'v1.0.1', 'v1.0.0');
      await r.git('tag', 'v1.0.2', 'HEAD^{tree}');
      await r.write({ 'q.go': 'package p\n' });
      await r.commit(t(1));
      await r.tag('release-2020');
      await r.publish();
    },
    queries: () => [`${G}/x05@v1.0.1`, `${G}/x05@v1.0.2`, `${G}/x05@release-2020`, `${G}/x05@latest`],
    lists: [`${G}/x05`],
  },
  {
    id: 'X06',
    title: 'go.mod stored with CRLF, executables and deep trees',
    async setup(ctx) {
      const r = await ctx.repo('x06');
      const files: Record<string, string | { exec: string }> = { 'go.mod': `module ${G}/x06\r\n\r\ngo 1.20\r\n`, 'run.sh': { exec: '#!/bin/sh\necho hi\n' } };
      for (let i = 0; i < 40; i++) files[`a/b${i % 4}/c${i % 7}/d${i}.go`] = `package d // ${i}\n`;
      await r.write(files);
      await r.commit(t(0));
      await r.tag('v0.9.0');
      await r.publish();
    },
    queries: () => [`${G}/x06@v0.9.0`],
  },
  {
    id: 'X07',
    title: '.git-qualified module path on another host',
    async setup(ctx) {
      const r = await ctx.qualifiedRepo('x07');
      await r.write({ 'go.mod': mod(`${Q}/x07.git`), 'p.go': 'package p\n', 'tools/go.mod': mod(`${Q}/x07.git/tools`), 'tools/v2/go.mod': mod(`${Q}/x07.git/tools/v2`) });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.tag('tools/v1.0.0');
      await r.tag('tools/v2.0.0');
      await r.publish();
    },
    queries: () => [`${Q}/x07.git@v1.0.0`, `${Q}/x07.git/tools@v1.0.0`, `${Q}/x07.git/tools/v2@v2.0.0`, `${Q}/x07.git@latest`],
    lists: [`${Q}/x07.git`, `${Q}/x07.git/tools/v2`],
  },
  {
    id: 'X08',
    title: 'tag moved onto a descendant (fresh ls-remote), and a deleted branch',
    async setup(ctx) {
      const r = await ctx.repo('x08');
      await r.write({ 'go.mod': mod(`${G}/x08`), 'p.go': 'package p\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.write({ 'q.go': 'package p\n' });
      await r.commit(t(1));
      await r.git('tag', '-f', 'v1.0.0');
      await r.publish();
    },
    queries: () => [`${G}/x08@v1.0.0`, `${G}/x08@main`],
  },
  // ---------------------------------------------------------------- V. Import-path discovery and credential kinds (the discovery world)
  {
    id: 'V01',
    title: 'vanity root: a module below a go.example.test prefix (checked against the prefix page)',
    world: 'discovery',
    async setup(ctx) {
      const w = await ctx.discovery();
      const r = await w.repo('vanity/lib');
      await r.write({ 'go.mod': mod('go.example.test/lib', '1.21'), 'sub/s.go': 'package sub\n' });
      await r.commit(t(0));
      await r.tag('v0.3.0');
      await r.write({ 'sub/go.mod': mod('go.example.test/lib/sub', '1.21') });
      await r.commit(t(1));
      await r.tag('sub/v0.1.0');
      await r.publish();
      w.vanity('lib', 'go.example.test/lib git {base}/vanity/lib');
    },
    queries: () => ['go.example.test/lib@v0.3.0', 'go.example.test/lib@latest', 'go.example.test/lib/sub@latest', 'go.example.test/lib@v9.9.9'],
    lists: ['go.example.test/lib', 'go.example.test/lib/sub'],
    expect: () => ({ 'go.example.test/lib@latest': { version: 'v0.3.0' }, 'go.example.test/lib/sub@latest': { version: 'v0.1.0' }, 'go.example.test/lib@v9.9.9': { error: 'unknown revision v9.9.9' } }),
  },
  {
    id: 'V02',
    title: 'GitLab nested subgroup, visible only to discovery with the deploy token (Basic user + token)',
    world: 'discovery',
    async setup(ctx) {
      const w = await ctx.discovery();
      const r = await w.repo('gitlab/group/sub/project');
      await r.write({ 'go.mod': mod('gitlab.example.test/group/sub/project', '1.21'), 'p.go': 'package project\n' });
      await r.commit(t(0));
      await r.tag('v1.0.0');
      await r.write({ 'p.go': 'package project\n\nconst V = 2\n' });
      await r.commit(t(1));
      await r.tag('v1.1.0');
      await r.publish();
    },
    queries: () => ['gitlab.example.test/group/sub/project@latest', 'gitlab.example.test/group/sub/project@v1.0.0', 'gitlab.example.test/group/sub/project/pkg@latest'],
    lists: ['gitlab.example.test/group/sub/project'],
    expect: () => ({
      'gitlab.example.test/group/sub/project@latest': { version: 'v1.1.0' },
      'gitlab.example.test/group/sub/project': { versions: ['v1.0.0', 'v1.1.0'] },
    }),
  },
  {
    id: 'V03',
    title: 'go-import "mod" root: the module comes from the private GOPROXY the page names (Basic credentials, through HTTPS_PROXY)',
    world: 'discovery',
    async setup(ctx) {
      const w = await ctx.discovery();
      w.vanity('modroot', 'go.example.test/modroot mod https://go.example.test/goproxy');
      for (const [v, n] of [['v1.0.0', 0], ['v1.1.0-rc.1', 1], ['v1.0.1', 2]] as const) {
        await w.publishToModRoot('go.example.test/modroot', v, t(n), { 'go.mod': mod('go.example.test/modroot', '1.21'), 'm.go': `package modroot\n\nconst V = ${n}\n` });
      }
      await w.publishToModRoot('go.example.test/modroot/v2', 'v2.0.0', t(3), { 'go.mod': mod('go.example.test/modroot/v2', '1.21'), 'm.go': 'package modroot\n' });
    },
    queries: () => ['go.example.test/modroot@latest', 'go.example.test/modroot@v1.0.0', 'go.example.test/modroot@v1.1.0-rc.1', 'go.example.test/modroot/v2@v2.0.0'],
    lists: ['go.example.test/modroot', 'go.example.test/modroot/v2'],
    expect: () => ({ 'go.example.test/modroot@latest': { version: 'v1.0.1' }, 'go.example.test/modroot': { versions: ['v1.0.0', 'v1.0.1', 'v1.1.0-rc.1'] } }),
  },
  {
    id: 'V04',
    title: 'conflicting go-import tags: both fail with the go command message',
    world: 'discovery',
    async setup(ctx) {
      const w = await ctx.discovery();
      w.vanity('twice', 'go.example.test/twice git {base}/vanity/lib', 'go.example.test/twice/x git {base}/vanity/lib');
    },
    queries: () => ['go.example.test/twice/x@latest'],
    lists: ['go.example.test/twice/x'],
    expect: () => ({ 'go.example.test/twice/x@latest': { error: 'multiple meta tags match import path "go.example.test/twice/x"' } }),
  },
  {
    id: 'V05',
    title: 'no go-import tags (one only in the body): both fail with the go command message',
    world: 'discovery',
    async setup(ctx) {
      const w = await ctx.discovery();
      w.vanityHtml('nometa', '<html><head><title>nothing here</title></head><body><meta name="go-import" content="go.example.test/nometa git https://x/y"></body></html>');
    },
    queries: () => ['go.example.test/nometa@latest'],
    expect: () => ({ 'go.example.test/nometa@latest': { error: 'no go-import meta tags ()' } }),
  },
  {
    id: 'V06',
    title: 'a host refusing the credentials (401): both fail with its answer; modproxy says 502 and leaks no secret',
    world: 'discovery',
    async setup() {},
    queries: () => ['gitlab.example.test/locked/x@latest'],
    expect: () => ({ 'gitlab.example.test/locked/x@latest': { error: 'reading https://gitlab.example.test/locked/x?go-get=1: 401 Unauthorized' } }),
    async after(ctx) {
      const w = await ctx.discovery();
      const r = await fetch(`${w.proxy.url}/gitlab.example.test/locked/x/@v/list`);
      const body = await r.text();
      if (r.status !== 502 || !body.includes('proxy configuration error')) throw new Error(`V06: modproxy answered ${r.status} ${body}`);
      if (Object.values(SECRETS).some((secret) => body.includes(secret) || w.proxy.output().includes(secret))) throw new Error('V06: a secret in the answer or the logs');
    },
  },
  {
    id: 'V07',
    title: 'per-path-prefix credentials: another token on the same git host (Basic bot:token for gitlab/other/)',
    world: 'discovery',
    async setup(ctx) {
      const w = await ctx.discovery();
      const r = await w.repo('gitlab/other/tools');
      await r.write({ 'go.mod': mod('gitlab.example.test/other/tools', '1.21'), 't.go': 'package tools\n' });
      await r.commit(t(0));
      await r.tag('v0.1.0');
      await r.write({ 't.go': 'package tools\n\nconst T = 1\n' });
      const h = await r.commit(t(1));
      await r.publish();
      return { h };
    },
    queries: (v) => ['gitlab.example.test/other/tools@v0.1.0', 'gitlab.example.test/other/tools@main', `gitlab.example.test/other/tools@${v.h.slice(0, 12)}`],
    lists: ['gitlab.example.test/other/tools'],
    expect: (v) => ({ 'gitlab.example.test/other/tools@main': { version: `v0.1.1-0.${ts(1)}-${v.h.slice(0, 12)}` } }),
  },
  {
    id: 'V08',
    title: 'bearer credentials (Gitea access token, from a file secret), the repository reached through HTTPS_PROXY',
    world: 'discovery',
    async setup(ctx) {
      const w = await ctx.discovery();
      const r = await w.repo('gitea/org/repo');
      await r.write({ 'go.mod': mod('gitea.example.test/org/repo', '1.21'), 'r.go': 'package repo\n' });
      await r.commit(t(0));
      await r.tag('v1.2.3');
      await r.publish();
    },
    queries: () => ['gitea.example.test/org/repo@latest', 'gitea.example.test/org/repo@v1.2.3'],
    lists: ['gitea.example.test/org/repo'],
    expect: () => ({ 'gitea.example.test/org/repo@latest': { version: 'v1.2.3' } }),
  },
  {
    id: 'V09',
    title: 'a root in another version control system (hg): refused with the go command message for GOVCS=*:git',
    world: 'discovery',
    async setup(ctx) {
      const w = await ctx.discovery();
      w.vanity('hgrepo', 'go.example.test/hgrepo hg https://go.example.test/hg/hgrepo');
    },
    queries: () => ['go.example.test/hgrepo@latest', 'go.example.test/hgrepo/sub@v1.0.0'],
    expect: () => ({ 'go.example.test/hgrepo@latest': { error: "GOVCS disallows using hg for private go.example.test/hgrepo; see 'go help vcs'" } }),
  },
  {
    id: 'V10',
    title: 'go-import with a fourth field, the module\'s subdirectory in the repository (go 1.25+): tags carry that directory',
    world: 'discovery',
    toolchain: 'newer',
    async setup(ctx) {
      const w = await ctx.discovery();
      const r = await w.repo('vanity/mono');
      await r.write({ 'README': 'a repository whose Go module lives in go/sub\n', 'go/sub/go.mod': mod('go.example.test/mono', '1.21'), 'go/sub/m.go': 'package mono\n' });
      await r.commit(t(0));
      await r.tag('go/sub/v1.0.0');
      await r.write({ 'go/sub/m.go': 'package mono\n\nconst V = 2\n', 'go/sub/LICENSE': 'MIT\n' });
      await r.commit(t(1));
      await r.tag('go/sub/v1.1.0');
      await r.tag('v9.0.0'); // a root tag: not this module's
      await r.publish();
      w.vanity('mono', 'go.example.test/mono git {base}/vanity/mono go/sub');
      // A leading hyphen or slash in the subdirectory is refused (validateRepoSubDir).
      w.vanity('badsub', 'go.example.test/badsub git {base}/vanity/mono -x');
      w.vanity('rootsub', 'go.example.test/rootsub git {base}/vanity/mono /go/sub');
    },
    queries: () => [
      'go.example.test/mono@latest',
      'go.example.test/mono@v1.0.0',
      'go.example.test/mono@v9.0.0',
      'go.example.test/mono@main',
      'go.example.test/badsub@latest',
      'go.example.test/rootsub@latest',
    ],
    lists: ['go.example.test/mono'],
    expect: () => ({
      'go.example.test/mono@latest': { version: 'v1.1.0' },
      'go.example.test/mono': { versions: ['v1.0.0', 'v1.1.0'] },
      'go.example.test/badsub@latest': { error: 'invalid subdirectory "-x": leading hyphen' },
      'go.example.test/rootsub@latest': { error: 'invalid subdirectory "/go/sub": leading slash' },
    }),
  },
];
