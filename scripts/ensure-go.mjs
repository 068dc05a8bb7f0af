#!/usr/bin/env node
// Makes sure a go command >= 1.21 is available for the tests and benchmarks,
// which use the real go command as the judge of what modproxy serves.
//
// Order: $MODPROXY_GO, `go` on PATH, the Debian package locations. If none is
// found and we run as root on Debian, install golang-1.23-go from
// bookworm-backports. Otherwise stop with a message saying what to install.
// Never skip silently: the tests that need go fail without it.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';

const MIN_MINOR = 21;
const candidates = [
  process.env.MODPROXY_GO,
  'go',
  '/usr/lib/go-1.23/bin/go',
  '/usr/lib/go-1.24/bin/go',
  '/usr/lib/go-1.22/bin/go',
  '/usr/lib/go/bin/go',
  '/usr/local/go/bin/go',
].filter(Boolean);

function goVersion(bin) {
  const r = spawnSync(bin, ['env', 'GOVERSION'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } });
  if (r.status !== 0) return null;
  const m = /^go1\.(\d+)/.exec(r.stdout.trim());
  return m ? { bin, version: r.stdout.trim(), minor: Number(m[1]) } : null;
}

function findGo() {
  for (const c of candidates) {
    const v = goVersion(c);
    if (v && v.minor >= MIN_MINOR) return v;
  }
  return null;
}

function isDebianBookworm() {
  try {
    return /VERSION_CODENAME=bookworm/.test(fs.readFileSync('/etc/os-release', 'utf8'));
  } catch {
    return false;
  }
}

function install() {
  const sources = '/etc/apt/sources.list.d/modproxy-bookworm-backports.sources';
  const have = spawnSync('sh', ['-c', 'grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/'], {}).status === 0;
  if (!have) {
    fs.writeFileSync(
      sources,
      [
        'Types: deb',
        'URIs: http://deb.debian.org/debian',
        'Suites: bookworm-backports',
        'Components: main',
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
        '',
      ].join('\n'),
    );
  }
  console.error('ensure-go: installing golang-1.23-go from bookworm-backports ...');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'golang-1.23-go'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

let found = findGo();
if (!found) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && isDebianBookworm()) {
    install();
    found = findGo();
  }
}
if (!found) {
  console.error(
    [
      'modproxy tests need the go command (>= 1.21), and none was found.',
      'Install it, then run the tests again:',
      '  Debian 12:  add bookworm-backports and `apt-get install golang-1.23-go` (binary in /usr/lib/go-1.23/bin)',
      '  elsewhere:  install Go >= 1.21 from https://go.dev/dl/ and put it on PATH, or set MODPROXY_GO=/path/to/go',
    ].join('\n'),
  );
  process.exit(1);
}
// Tests read this file to find the same go binary.
fs.mkdirSync('node_modules/.cache/modproxy', { recursive: true });
fs.writeFileSync('node_modules/.cache/modproxy/go.json', JSON.stringify(found));
console.error(`ensure-go: using ${found.bin} (${found.version})`);
