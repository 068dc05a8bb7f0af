// Modules of a go-import "mod" root, read from a GOPROXY file tree on loopback:
// the zip hash is pinned when the version is first resolved (no checksum
// database knows private modules), and a zip that changes afterwards is refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkModuleZipFile, type ZipChecker } from '../../archive/zipReader.js';
import { NotFoundError, UpstreamError } from '../../errors.js';
import { hashGoMod } from '../../gomod/dirhash.js';
import { startFileProxyServer, type FileProxyServer } from '../../../test/support/fileProxyServer.js';
import { moduleZipBytes } from '../../../test/support/moduleZipBytes.js';
import { zipH1 } from '../../../test/support/zipHash.js';
import { ModRootSources } from './modRoots.js';

const M = 'go.example.test/modroot';
const MOD = Buffer.from(`module ${M}\n`);

const makeZip = (code: string) => moduleZipBytes(M, 'v1.0.0', { 'go.mod': MOD, 'm.go': code });

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });

describe('go-import "mod" roots', () => {
  let tmp: string;
  let server: FileProxyServer;
  let zip: Buffer;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modroots-'));
    const dir = path.join(tmp, 'tree', 'goproxy', 'go.example.test', 'modroot', '@v');
    fs.mkdirSync(dir, { recursive: true });
    zip = await makeZip('package modroot\n');
    fs.writeFileSync(path.join(dir, 'v1.0.0.zip'), zip);
    fs.writeFileSync(path.join(dir, 'v1.0.0.mod'), MOD);
    fs.writeFileSync(path.join(dir, 'v1.0.0.info'), JSON.stringify({ Version: 'v1.0.0', Time: '2024-01-02T03:04:05Z' }));
    server = await startFileProxyServer(path.join(tmp, 'tree'));
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const root = () => ({ root: M, vcs: 'mod', repoUrl: `${server.url}/goproxy` });

  it('pins the zip hash of a version when it is resolved, and serves that zip (fetched and checked once)', async () => {
    const checked: string[] = [];
    const checkZip: ZipChecker = (file, m, v) => {
      checked.push(`${m}@${v}`);
      return checkModuleZipFile(file, m, v);
    };
    server.requests.length = 0;
    const src = new ModRootSources({ tmpDir: path.join(tmp, 'spool'), checkZip }).open(M, root());
    expect(await src.list()).toEqual(['v1.0.0']);
    const rev = await src.latest();
    const { mod, pin } = await src.download(rev);
    expect(Buffer.from(mod)).toEqual(MOD);
    expect(pin).toEqual({ kind: 'proxy', modH1: hashGoMod(MOD), zipH1: await zipH1(zip) });
    await expect(src.writeZip('v1.0.0', pin, sink())).resolves.toMatchObject({ h1: await zipH1(zip) });
    expect(server.requests.filter((p) => p.endsWith('.zip'))).toEqual([`/goproxy/${M}/@v/v1.0.0.zip`]);
    expect(checked).toEqual([`${M}@v1.0.0`]);
    expect(fs.readdirSync(path.join(tmp, 'spool'))).toEqual([]);
  });

  it('refuses a zip that changed after the pin (502, never stored)', async () => {
    const src = new ModRootSources({ tmpDir: path.join(tmp, 'spool') }).open(M, root());
    const { pin } = await src.download(await src.query('v1.0.0'));
    server.overrides.set(`/goproxy/${M}/@v/v1.0.0.zip`, await makeZip('package modroot // changed\n'));
    try {
      // Later, on another replica: a fresh source makes the zip from the recorded pin.
      const later = new ModRootSources({ tmpDir: path.join(tmp, 'spool') }).open(M, root());
      const err = await later.writeZip('v1.0.0', pin, sink()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamError);
      expect((err as Error).message).toContain(`module proxy ${server.url}/goproxy (go-import "mod" for ${M}): ${M}/@v/v1.0.0.zip: checksum mismatch`);
    } finally {
      server.overrides.clear();
    }
  });

  it('a root whose URL is not http(s) is not found', () => {
    expect(() => new ModRootSources().open(M, { root: M, vcs: 'mod', repoUrl: 'ssh://proxy.example.test/x' })).toThrow(NotFoundError);
  });
});
