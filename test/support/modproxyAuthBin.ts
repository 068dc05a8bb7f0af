// Builds modproxy as `npm run build` does and lays it out as npm installs a
// package with a "bin": the package under node_modules/modproxy, and
// node_modules/.bin/modproxy-auth a relative symlink to the built file, made
// executable. The go command then runs it through that symlink, as it would
// after `npm install`, `npm link` or `npx`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface InstalledBin {
  /** node_modules/.bin/modproxy-auth: the symlink. */
  bin: string;
  /** The built file it points to. */
  target: string;
}

export function installModproxyAuthBin(dir: string): InstalledBin {
  const root = process.cwd();
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const home = path.join(dir, 'node_modules/modproxy');
  fs.mkdirSync(home, { recursive: true });
  execFileSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(home, 'dist')], { cwd: root, stdio: 'pipe', timeout: 240_000 });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(home, 'package.json'));
  // The package's own dependencies, where Node looks for them from dist/.
  fs.symlinkSync(fs.realpathSync(path.join(root, 'node_modules')), path.join(home, 'node_modules'));
  const target = path.join(home, pkg.bin['modproxy-auth']);
  fs.chmodSync(target, 0o755); // npm makes bin targets executable when it links them
  const binDir = path.join(dir, 'node_modules/.bin');
  fs.mkdirSync(binDir, { recursive: true });
  const bin = path.join(binDir, 'modproxy-auth');
  fs.symlinkSync(path.relative(binDir, target), bin);
  return { bin, target };
}
