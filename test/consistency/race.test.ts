// Races: several modproxy processes share one storage (the GCS double, or one
// directory on disk); many concurrent clients ask for .info/.mod/.zip of the
// same fresh version while its tag is flipped between two commits upstream.
// Every response for a version must agree with every other, and the go command
// must download it with hashes matching what was served.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashGoMod } from '../../lib/gomod/dirhash.js';
import { Limiter } from '../../lib/util/limiter.js';
import { startGitHttpServer, type GitHttpServer } from '../support/gitHttpServer.js';
import { GoRunner } from '../support/goRunner.js';
import { startProxyProcess, type ProxyProcess } from '../support/proxyProcess.js';
import { checkStorageInvariants, replicaConfig, storageUnderTest, zipH1, type Backend, type StorageUnderTest } from '../support/replicas.js';
import { RepoBuilder } from '../support/repoBuilder.js';

const pexec = promisify(execFile);
const REPLICAS = 4;
const TRIALS = 50;
const REQUESTS_PER_TRIAL = 12;
const MODULE = 'github.com/race/m';

for (const backend of ['gcs', 'fs'] as Backend[]) {
  describe(`races between ${REPLICAS} replicas on ${backend} storage while the tag moves`, () => {
    let tmp: string;
    let git: GitHttpServer;
    let sut: StorageUnderTest;
    let replicas: ProxyProcess[] = [];
    let repo: RepoBuilder;
    const commits: string[] = [];

    beforeAll(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), `modproxy-race-${backend}-`));
      git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
      repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'race/m');
      await repo.write({ 'go.mod': `module ${MODULE}\n`, 'a.go': 'package m // commit A\n' });
      commits.push(await repo.commit('2020-01-01T00:00:00Z'));
      await repo.write({ 'go.mod': `module ${MODULE}\n\ngo 1.21\n`, 'a.go': 'package m // commit B\n', 'b.go': 'package m\n' });
      commits.push(await repo.commit('2020-02-01T00:00:00Z'));
      await repo.publish();
      sut = await storageUnderTest(backend, tmp);
      replicas = await Promise.all(
        Array.from({ length: REPLICAS }, (_, i) =>
          startProxyProcess(replicaConfig(sut, path.join(tmp, `git-${i}`), git.url, ['github.com/race']), sut.env),
        ),
      );
    });

    afterAll(async () => {
      await Promise.all(replicas.map((r) => r.stop()));
      await sut?.close();
      await git?.close();
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it(`serves one copy per version over ${TRIALS} trials`, { timeout: 600_000 }, async () => {
      const runner = new GoRunner({ tmp: path.join(tmp, 'go'), insteadOf: {} });
      const goSlots = new Limiter(4);
      const outcome = { trials: 0, requests: 0, failures: 0, servedFromA: 0, servedFromB: 0, goDownloads: 0 };
      const checks: Promise<void>[] = [];
      for (let t = 0; t < TRIALS; t++) {
        const version = `v1.0.${t}`;
        await repo.git('--git-dir', repo.bare, 'tag', '-f', version, commits[t % 2]);
        // Flip the tag between the two commits until the requests are done.
        let flipping = true;
        const flipper = (async () => {
          for (let i = 0; flipping; i++) {
            await pexec('git', ['--git-dir', repo.bare, 'tag', '-f', version, commits[(t + i + 1) % 2]]);
            await new Promise((r) => setTimeout(r, 3 + (i % 7)));
          }
        })();
        const kinds = ['info', 'mod', 'zip'] as const;
        const responses = await Promise.all(
          Array.from({ length: REQUESTS_PER_TRIAL }, async (_, i) => {
            const kind = kinds[i % 3];
            const replica = replicas[(i * 7 + t) % REPLICAS];
            const res = await fetch(`${replica.url}/${MODULE}/@v/${version}.${kind}`);
            return { kind, status: res.status, body: Buffer.from(await res.arrayBuffer()) };
          }),
        );
        flipping = false;
        await flipper;
        outcome.trials++;
        outcome.requests += responses.length;
        for (const r of responses) {
          if (r.status !== 200) outcome.failures++;
          expect(r.status, `${version}.${r.kind}: ${r.body.toString()}`).toBe(200);
        }
        // Every response of a kind is the same bytes.
        for (const kind of kinds) {
          const bodies = responses.filter((r) => r.kind === kind).map((r) => r.body.toString('base64'));
          expect(new Set(bodies).size, `${version}: distinct ${kind} bodies`).toBe(1);
        }
        // .info, .mod and .zip describe the same commit.
        const info = JSON.parse(responses.find((r) => r.kind === 'info')!.body.toString()) as { Version: string; Origin: { Hash: string } };
        const mod = responses.find((r) => r.kind === 'mod')!.body;
        const zip = responses.find((r) => r.kind === 'zip')!.body;
        const fromB = info.Origin.Hash === commits[1];
        expect(info.Version).toBe(version);
        expect(commits).toContain(info.Origin.Hash);
        expect(mod.toString()).toBe(fromB ? `module ${MODULE}\n\ngo 1.21\n` : `module ${MODULE}\n`);
        // Entry names are stored uncompressed in the zip: b.go exists only in commit B.
        expect(zip.includes(Buffer.from(`${MODULE}@${version}/b.go`)), `${version}: zip from the same commit as .info`).toBe(fromB);
        if (fromB) outcome.servedFromB++;
        else outcome.servedFromA++;

        // The go command agrees with what was served (fresh cache, random replica).
        const servedH1 = await zipH1(zip);
        const servedModH1 = hashGoMod(mod);
        checks.push(
          goSlots.run(async () => {
            const r = await runner.download(replicas[t % REPLICAS].url, `${MODULE}@${version}`);
            expect(r.Error, `${version}`).toBeUndefined();
            expect(r.Sum).toBe(servedH1);
            expect(r.GoModSum).toBe(servedModH1);
            outcome.goDownloads++;
          }),
        );
      }
      await Promise.all(checks);
      const stored = await checkStorageInvariants(sut.storage);
      expect(stored.manifests).toHaveLength(TRIALS);
      expect(stored.zips).toHaveLength(TRIALS);
      console.log(`race (${backend}): ${JSON.stringify(outcome)}`);
      expect(outcome.failures).toBe(0);
      // Both commits won some trials: the race really was a race.
      expect(outcome.servedFromA).toBeGreaterThan(0);
      expect(outcome.servedFromB).toBeGreaterThan(0);
    });
  });
}
