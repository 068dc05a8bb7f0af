// Runs the real go command against either the fixture git server directly
// (GOPROXY=direct, with git's url.<base>.insteadOf rewriting https://<host>/
// to the loopback server) or through a modproxy URL. Every run gets a fresh
// module cache, so results follow the go command's fresh-cache semantics.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { goTool, type GoTool } from './goTool.js';

const pexec = promisify(execFile);

export interface GoRunnerOptions {
  /** Scratch directory for module caches and the git config. */
  tmp: string;
  /** https://<host>/ prefixes rewritten by git to loopback URLs, for direct mode. */
  insteadOf: Record<string, string>;
  /** The go command to run (default: goTool()); its GOROOT is set explicitly, as an unpacked copy needs. */
  go?: GoTool;
  /** Further lines of the git config (e.g. http.<url>.extraHeader credentials). */
  gitConfig?: string[];
}

export interface DownloadResult {
  Path?: string;
  Version?: string;
  Query?: string;
  Error?: string;
  Sum?: string;
  GoModSum?: string;
  Zip?: string;
  GoMod?: string;
  Info?: string;
}

let runCounter = 0;

export class GoRunner {
  private readonly gitconfig: string;

  constructor(private readonly opts: GoRunnerOptions) {
    fs.mkdirSync(opts.tmp, { recursive: true });
    this.gitconfig = path.join(opts.tmp, 'gitconfig');
    const lines: string[] = [];
    for (const [from, to] of Object.entries(opts.insteadOf)) lines.push(`[url "${to}"]`, `\tinsteadOf = ${from}`);
    lines.push('[protocol]', '\tversion = 2', ...(opts.gitConfig ?? []));
    fs.writeFileSync(this.gitconfig, lines.join('\n') + '\n');
  }

  env(goproxy: string, modcache: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: this.opts.tmp,
      GOPROXY: goproxy,
      GOSUMDB: 'off',
      GONOSUMDB: '',
      GOPRIVATE: '',
      GOFLAGS: '-modcacherw',
      GOMODCACHE: modcache,
      GOPATH: path.join(this.opts.tmp, 'gopath'),
      GOCACHE: path.join(this.opts.tmp, 'gocache'),
      GOENV: 'off',
      GOTOOLCHAIN: 'local',
      GO111MODULE: 'on',
      GIT_CONFIG_GLOBAL: this.gitconfig,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_TERMINAL_PROMPT: '0',
      ...(this.opts.go ? { GOROOT: this.opts.go.goroot } : {}),
      ...extra,
    };
  }

  private freshCache(): string {
    const dir = path.join(this.opts.tmp, `modcache-${process.pid}-${++runCounter}`);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** `go mod download -json <query>` with a fresh cache; never throws for go-level failures. */
  async download(goproxy: string, query: string, opts: { keepCache?: (dir: string) => Promise<void>; env?: Record<string, string> } = {}): Promise<DownloadResult> {
    const cache = this.freshCache();
    try {
      const { stdout } = await this.run(goproxy, cache, ['mod', 'download', '-json', query], opts.env);
      const r = JSON.parse(stdout) as DownloadResult;
      if (opts.keepCache) await opts.keepCache(cache);
      return r;
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  }

  /** `go list -m -versions [-retracted] <module>`: the version list, or the error text. */
  async listVersions(goproxy: string, modPath: string, retracted = false, env?: Record<string, string>): Promise<{ versions?: string[]; error?: string }> {
    const cache = this.freshCache();
    try {
      const args = ['list', '-m', '-versions'];
      if (retracted) args.push('-retracted');
      args.push(modPath);
      const { stdout, stderr, code } = await this.run(goproxy, cache, args, env);
      if (code !== 0) return { error: stderr.trim() };
      const fields = stdout.trim().split(/\s+/);
      return { versions: fields.slice(1) };
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  }

  async run(goproxy: string, cache: string, args: string[], extraEnv: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; code: number }> {
    try {
      const { stdout, stderr } = await pexec((this.opts.go ?? goTool()).bin, args, {
        cwd: this.opts.tmp,
        env: this.env(goproxy, cache, extraEnv),
        maxBuffer: 64 << 20,
        timeout: 300_000,
      });
      return { stdout, stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number };
      if (typeof e.code !== 'number') throw err;
      return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code };
    }
  }
}
