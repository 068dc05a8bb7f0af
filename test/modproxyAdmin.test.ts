// modproxy-admin ls and verify, run as the real command (its own process, with
// the server's MODPROXY_CONFIG) on both storage backends (disk and the GCS
// double), against what a real modproxy process committed: verify re-reads
// every body and catches one altered behind the proxy's back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readZipRecord } from '../lib/records/manifest.js';
import { runAdminProcess } from './support/adminProcess.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { startProxyProcess, type ProxyProcess } from './support/proxyProcess.js';
import { replicaConfig, storageUnderTest, type Backend, type StorageUnderTest } from './support/replicas.js';
import { publishTaggedModule } from './support/taggedModule.js';

const MODULE = 'github.com/adm/m';
let tmp: string;
let git: GitHttpServer;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-admin-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  await publishTaggedModule(tmp, 'adm/m', MODULE, 2);
});

afterAll(async () => {
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe.each<Backend>(['fs', 'gcs'])('on %s storage', (backend) => {
  let sut: StorageUnderTest;
  let config: string;
  const admin = (...args: string[]) => runAdminProcess(config, args, { ...sut.env, TMPDIR: tmp });

  beforeAll(async () => {
    sut = await storageUnderTest(backend, path.join(tmp, backend));
    config = replicaConfig(sut, path.join(tmp, backend, 'git'), git.url, ['github.com/adm']);
    const proxy: ProxyProcess = await startProxyProcess(config, sut.env);
    try {
      for (const v of ['v1.0.0', 'v1.1.0']) {
        const r = await fetch(`${proxy.url}/${MODULE}/@v/${v}.zip`);
        expect(r.status, proxy.output()).toBe(200);
        await r.arrayBuffer();
      }
    } finally {
      // Stopped before the admin command runs: nothing but the command touches storage from here on.
      await proxy.stop();
    }
  }, 60_000);

  afterAll(async () => {
    await sut?.close();
  });

  it('ls lists committed versions', { timeout: 60_000 }, async () => {
    expect(await admin('ls')).toEqual({ code: 0, out: [`${MODULE} v1.0.0`, `${MODULE} v1.1.0`], err: [] });
    expect(await admin('ls', 'github.com/other')).toEqual({ code: 0, out: [], err: [] });
    expect((await admin('nonsense')).code).toBe(2);
  });

  it('verify checks every body against its record, and fails on one altered behind its back', { timeout: 60_000 }, async () => {
    expect(await admin('verify')).toEqual({ code: 0, out: ['verified 2 versions: all bodies match their records'], err: [] });
    const record = await readZipRecord(sut.storage, MODULE, 'v1.1.0');
    if (!record || 'error' in record.zip) throw new Error('no zip record for v1.1.0');
    const zip = record.zip;
    const bytes = Buffer.from((await sut.storage.read(zip.blob))!);
    bytes[bytes.length - 30] ^= 0xff; // a flipped byte in the zip's end record
    await sut.overwrite(zip.blob, bytes);
    const bad = await admin('verify');
    expect(bad.code).toBe(1);
    expect(bad.out).toEqual([expect.stringMatching(/^verified 2 versions: \d+ problems$/)]);
    expect(bad.err.length).toBeGreaterThan(0);
    expect(bad.err.every((l) => l.startsWith(`MISMATCH ${MODULE}@v1.1.0: zip`)), bad.err.join('\n')).toBe(true);
    expect(bad.err.some((l) => l.includes(`zip sha256 differs from the record's ${zip.sha256}`)), bad.err.join('\n')).toBe(true);
  });
});
