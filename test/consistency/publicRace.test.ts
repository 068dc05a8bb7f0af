// Four replicas (processes) share one storage and race on cold public
// versions: each version is fetched from the parent proxy, verified against a
// real checksum database (x/mod's sumdb server), and stored once. Every answer
// for an artifact agrees with every other, the stored records are one copy
// each, and the go command downloads them with direct mode's hashes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFileProxyServer, type FileProxyServer } from '../support/fileProxyServer.js';
import { startProxyProcess, type ProxyProcess } from '../support/proxyProcess.js';
import { escapedPath, makePublicFixture, PUBLIC_VERSIONS, type PublicFixture } from '../support/publicFixture.js';
import { checkStorageInvariants, replicaConfig, storageUnderTest, zipH1, type Backend, type StorageUnderTest } from '../support/replicas.js';
import { SumdbServer } from '../support/sumdbServer.js';

const REPLICAS = 4;
const DB = 'sumdb.test';

for (const backend of ['gcs', 'fs'] as Backend[]) {
  describe(`${REPLICAS} replicas on ${backend} storage racing on cold public versions`, () => {
    let tmp: string;
    let fx: PublicFixture;
    let parent: FileProxyServer;
    let db: SumdbServer;
    let sut: StorageUnderTest;
    let replicas: ProxyProcess[] = [];

    beforeAll(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), `modproxy-public-race-${backend}-`));
      fx = await makePublicFixture(tmp);
      parent = await startFileProxyServer(fx.downloadRoot);
      db = await SumdbServer.start({ name: DB });
      const lines = fx.goSum.trim().split('\n');
      for (let i = 0; i < lines.length; i += 2) await db.add([lines[i], lines[i + 1]]);
      sut = await storageUnderTest(backend, tmp);
      const extra = ['parentProxy:', `  url: "${parent.url}"`, 'publicModules:', '  sumDatabase:', `    name: ${DB}`, `    url: "${db.url}"`, `    publicKey: "${db.vkey}"`].join('\n');
      replicas = await Promise.all(
        Array.from({ length: REPLICAS }, (_, i) => startProxyProcess(replicaConfig(sut, path.join(tmp, `git-${i}`), fx.git.url, ['github.com/priv'], extra), sut.env)),
      );
    }, 300_000);

    afterAll(async () => {
      await Promise.all(replicas.map((r) => r.stop()));
      await sut?.close();
      await db?.close();
      await parent?.close();
      await fx?.git.close();
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('stores one copy of each version, and every replica serves it', { timeout: 300_000 }, async () => {
      const kinds = ['info', 'mod', 'zip'] as const;
      const responses = await Promise.all(
        PUBLIC_VERSIONS.flatMap(([m, v]) =>
          Array.from({ length: 12 }, async (_, i) => {
            const kind = kinds[i % 3];
            const res = await fetch(`${replicas[i % REPLICAS].url}/${escapedPath(m)}/@v/${v}.${kind}`);
            return { key: `${m}@${v}.${kind}`, m, v, kind, status: res.status, body: Buffer.from(await res.arrayBuffer()) };
          }),
        ),
      );
      for (const r of responses) expect(r.status, `${r.key}: ${r.body.toString().slice(0, 300)}`).toBe(200);
      for (const key of new Set(responses.map((r) => r.key))) {
        expect(new Set(responses.filter((r) => r.key === key).map((r) => r.body.toString('base64'))).size, `${key}: distinct bodies`).toBe(1);
      }
      for (const [m, v] of PUBLIC_VERSIONS) {
        const zip = responses.find((r) => r.m === m && r.v === v && r.kind === 'zip')!.body;
        expect(await zipH1(zip)).toBe(fx.direct.get(`${m}@${v}`)!.Sum);
      }
      // Wait until every replica's background work has landed, then check the records.
      const deadline = Date.now() + 60_000;
      let stored = await checkStorageInvariants(sut.storage);
      while (stored.zips.length < PUBLIC_VERSIONS.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        stored = await checkStorageInvariants(sut.storage);
      }
      expect(stored.manifests.map((x) => `${x.path}@${x.version}`).sort()).toEqual(PUBLIC_VERSIONS.map(([m, v]) => `${m}@${v}`).sort());
      expect(stored.zips).toHaveLength(PUBLIC_VERSIONS.length);
      const zipBlobs = (await sut.storage.list('blobs/')).filter((k) => stored.zips.some((z) => 'blob' in z.zip && z.zip.blob === k));
      expect(zipBlobs).toHaveLength(PUBLIC_VERSIONS.length);
      const zipFetches = parent.requests.filter((p) => p.endsWith('.zip')).length;
      console.log(JSON.stringify({ backend, parentZipFetches: zipFetches, parentRequests: parent.requests.length, versions: PUBLIC_VERSIONS.length }));

      // The go command, with a fresh cache, gets direct mode's hashes from any replica.
      for (const [i, [m, v]] of PUBLIC_VERSIONS.entries()) {
        const got = await fx.runner.download(replicas[i % REPLICAS].url, `${m}@${v}`);
        expect(got.Error).toBeUndefined();
        expect(got.Sum).toBe(fx.direct.get(`${m}@${v}`)!.Sum);
        expect(got.GoModSum).toBe(fx.direct.get(`${m}@${v}`)!.GoModSum);
      }
    });
  });
}
