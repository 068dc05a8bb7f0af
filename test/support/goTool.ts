// Locates the go command that scripts/ensure-go.mjs found (or installed), so
// every test drives the same real go binary.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface GoTool {
  bin: string;
  version: string;
  /** GOROOT of that go, whose src/ holds the toolchain's own x/mod copy. */
  goroot: string;
}

let cached: GoTool | undefined;

export function goTool(): GoTool {
  if (cached) return cached;
  const marker = path.resolve('node_modules/.cache/modproxy/go.json');
  const candidates: string[] = [];
  if (process.env.MODPROXY_GO) candidates.push(process.env.MODPROXY_GO);
  if (fs.existsSync(marker)) candidates.push((JSON.parse(fs.readFileSync(marker, 'utf8')) as { bin: string }).bin);
  candidates.push('go', '/usr/lib/go-1.23/bin/go', '/usr/lib/go/bin/go');
  for (const bin of candidates) {
    const r = spawnSync(bin, ['env', 'GOVERSION', 'GOROOT'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } });
    if (r.status === 0) {
      const [version, goroot] = r.stdout.trim().split('\n');
      cached = { bin, version, goroot };
      return cached;
    }
  }
  throw new Error('no go command found: run `node scripts/ensure-go.mjs` (npm test does) or set MODPROXY_GO');
}

let cachedNewer: GoTool | undefined;

/**
 * A go command >= 1.24 (GOAUTH exists only since then), from
 * scripts/ensure-newer-go.mjs (npm test runs it) or $MODPROXY_GO_NEW. It may be
 * a Debian package unpacked outside /usr/lib, so run it with GOROOT set to
 * `goroot` (GoRunner does when given this tool).
 */
export function newerGoTool(): GoTool {
  if (cachedNewer) return cachedNewer;
  const marker = path.resolve('node_modules/.cache/modproxy/go-newer.json');
  const candidates: Array<{ bin: string; goroot?: string }> = [];
  if (process.env.MODPROXY_GO_NEW) candidates.push({ bin: process.env.MODPROXY_GO_NEW });
  if (fs.existsSync(marker)) candidates.push(JSON.parse(fs.readFileSync(marker, 'utf8')) as { bin: string; goroot: string });
  for (const { bin, goroot } of candidates) {
    const env: NodeJS.ProcessEnv = { ...process.env, GOTOOLCHAIN: 'local', GOENV: 'off' };
    if (goroot) env.GOROOT = goroot;
    const r = spawnSync(bin, ['env', 'GOVERSION', 'GOROOT'], { encoding: 'utf8', env });
    const [version, root] = r.status === 0 ? r.stdout.trim().split('\n') : [];
    const minor = Number(/^go1\.(\d+)/.exec(version ?? '')?.[1] ?? 0);
    if (minor >= 24) {
      cachedNewer = { bin, version, goroot: root };
      return cachedNewer;
    }
  }
  throw new Error('no go command >= 1.24 found: run `node scripts/ensure-newer-go.mjs` (npm test does) or set MODPROXY_GO_NEW');
}

/**
 * Builds the Go main package in `dir` into `out`, offline: its go.mod must
 * replace every dependency with a local copy (the toolchain's vendored x/mod),
 * and a private GOPATH, module cache and build cache live under `tmp`. A
 * toolchain unpacked outside its own GOROOT (newerGoTool) needs `goroot`.
 */
export function offlineGoBuild(goBin: string, dir: string, out: string, tmp: string, what: string, goroot?: string): void {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(goroot ? { GOROOT: goroot } : {}),
    GOFLAGS: '-mod=mod -modcacherw',
    GOPROXY: 'off',
    GOSUMDB: 'off',
    GONOSUMDB: '',
    GOTOOLCHAIN: 'local',
    GOWORK: 'off',
    GO111MODULE: 'on',
    CGO_ENABLED: '0',
    GOPATH: path.join(tmp, 'gopath'),
    GOMODCACHE: path.join(tmp, 'gopath/pkg/mod'),
    GOCACHE: path.join(tmp, 'gocache'),
  };
  const r = spawnSync(goBin, ['build', '-trimpath', '-o', out, '.'], { cwd: dir, env, encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`building ${what} failed:\n${r.stderr}${r.stdout}${r.error ?? ''}`);
}
