// Builds fixture git repositories deterministically with the real git CLI:
// fixed author/committer identities and dates, so commit hashes are the same
// on every run. A work tree is built, then mirrored into the bare repository
// that the test git server serves.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const pexec = promisify(execFile);

export type FileSpec = string | Buffer | { symlink: string } | { exec: string | Buffer } | null;

/** Seconds since the epoch or an ISO date; used for both author and committer unless authorDate is set. */
export type DateSpec = string | number;

function gitDate(d: DateSpec): string {
  if (typeof d === 'number') return `${d} +0000`;
  return d;
}

export class RepoBuilder {
  private constructor(
    readonly name: string,
    readonly work: string,
    readonly bare: string,
  ) {}

  /** A new repository `name` (e.g. "c/case1") served from `<reposRoot>/<name>`. */
  static async create(reposRoot: string, workRoot: string, name: string, opts: { defaultBranch?: string } = {}): Promise<RepoBuilder> {
    const work = path.join(workRoot, name);
    const bare = path.join(reposRoot, name);
    fs.mkdirSync(work, { recursive: true });
    fs.mkdirSync(path.dirname(bare), { recursive: true });
    const r = new RepoBuilder(name, work, bare);
    await r.git('init', '-q', '-b', opts.defaultBranch ?? 'main');
    await r.git('config', 'core.autocrlf', 'false');
    await r.git('config', 'core.symlinks', 'true');
    await pexec('git', ['init', '-q', '--bare', bare]);
    return r;
  }

  async git(...args: string[]): Promise<string> {
    return this.gitEnv({}, ...args);
  }

  async gitEnv(env: Record<string, string>, ...args: string[]): Promise<string> {
    const { stdout } = await pexec('git', args, {
      cwd: this.work,
      maxBuffer: 256 << 20,
      env: {
        PATH: process.env.PATH,
        HOME: this.work,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_AUTHOR_NAME: 'Fixture Author',
        GIT_AUTHOR_EMAIL: 'author@example.com',
        GIT_COMMITTER_NAME: 'Fixture Committer',
        GIT_COMMITTER_EMAIL: 'committer@example.com',
        ...env,
      },
    });
    return stdout;
  }

  /** Writes (or with null, deletes) files in the work tree and stages everything. */
  async write(files: Record<string, FileSpec>): Promise<void> {
    for (const [rel, spec] of Object.entries(files)) {
      const p = path.join(this.work, rel);
      if (spec === null) {
        fs.rmSync(p, { recursive: true, force: true });
        continue;
      }
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.rmSync(p, { force: true });
      if (typeof spec === 'string' || Buffer.isBuffer(spec)) {
        fs.writeFileSync(p, spec);
      } else if ('symlink' in spec) {
        fs.symlinkSync(spec.symlink, p);
      } else {
        fs.writeFileSync(p, spec.exec);
        fs.chmodSync(p, 0o755);
      }
    }
    await this.git('add', '-A');
  }

  /** Adds a submodule gitlink entry (no .gitmodules is written unless given as a file). */
  async gitlink(rel: string, commit: string): Promise<void> {
    await this.git('update-index', '--add', '--cacheinfo', `160000,${commit},${rel}`);
  }

  /** Commits what is staged; returns the full hash. */
  async commit(date: DateSpec, opts: { message?: string; authorDate?: DateSpec; allowEmpty?: boolean } = {}): Promise<string> {
    const args = ['commit', '-q', '--no-verify', '-m', opts.message ?? `commit at ${date}`];
    if (opts.allowEmpty !== false) args.push('--allow-empty');
    await this.gitEnv({ GIT_AUTHOR_DATE: gitDate(opts.authorDate ?? date), GIT_COMMITTER_DATE: gitDate(date) }, ...args);
    return (await this.git('rev-parse', 'HEAD')).trim();
  }

  /** A lightweight tag, or annotated with `annotated: true`. */
  async tag(name: string, opts: { at?: string; annotated?: boolean; date?: DateSpec } = {}): Promise<void> {
    const at = opts.at ?? 'HEAD';
    if (opts.annotated) {
      const d = gitDate(opts.date ?? 1577836800);
      await this.gitEnv({ GIT_COMMITTER_DATE: d }, 'tag', '-a', '-m', `tag ${name}`, name, at);
    } else {
      await this.git('tag', name, at);
    }
  }

  async branch(name: string, at = 'HEAD'): Promise<void> {
    await this.git('branch', '-f', name, at);
  }

  async checkout(name: string, opts: { orphan?: boolean } = {}): Promise<void> {
    if (opts.orphan) {
      await this.git('checkout', '-q', '--orphan', name);
      await this.git('rm', '-rq', '--cached', '--ignore-unmatch', '.');
      for (const e of fs.readdirSync(this.work)) if (e !== '.git') fs.rmSync(path.join(this.work, e), { recursive: true, force: true });
    } else {
      await this.git('checkout', '-q', name);
    }
  }

  async setRef(ref: string, commit: string): Promise<void> {
    await this.git('update-ref', ref, commit);
  }

  async deleteRef(ref: string): Promise<void> {
    await this.git('update-ref', '-d', ref);
  }

  async revParse(rev: string): Promise<string> {
    return (await this.git('rev-parse', rev)).trim();
  }

  /** Mirrors every ref into the served bare repository and points its HEAD at `head`. */
  async publish(head = 'refs/heads/main'): Promise<void> {
    await this.git('push', '-q', '--mirror', '--force', this.bare);
    await pexec('git', ['--git-dir', this.bare, 'symbolic-ref', 'HEAD', head]);
  }
}

/**
 * Two commits (same tree and parent, different messages) whose hashes share
 * their first `digits` hex digits, found by birthday search over SHA-1 of
 * candidate commit objects; written with `git hash-object`.
 */
export async function collidingCommits(r: RepoBuilder, digits: number, date: number): Promise<[string, string]> {
  const tree = (await r.git('rev-parse', 'HEAD^{tree}')).trim();
  const parent = (await r.git('rev-parse', 'HEAD')).trim();
  const body = (msg: string) =>
    `tree ${tree}\nparent ${parent}\nauthor Fixture Author <author@example.com> ${date} +0000\ncommitter Fixture Committer <committer@example.com> ${date} +0000\n\n${msg}\n`;
  const seen = new Map<string, string>();
  for (let i = 0; ; i++) {
    const text = body(`collision candidate ${i}`);
    const sha = crypto.createHash('sha1').update(`commit ${Buffer.byteLength(text)}\0${text}`).digest('hex');
    const key = sha.slice(0, digits);
    const other = seen.get(key);
    if (other !== undefined) {
      const shas: string[] = [];
      for (const t of [other, text]) {
        const file = path.join(r.work, '.git', 'candidate');
        fs.writeFileSync(file, t);
        shas.push((await r.git('hash-object', '-w', '-t', 'commit', file)).trim());
        fs.rmSync(file);
      }
      return [shas[0], shas[1]];
    }
    seen.set(key, text);
  }
}
