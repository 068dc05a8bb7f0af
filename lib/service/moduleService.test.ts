// The module service over in-memory storage and an in-memory source: what it
// commits, what it serves from storage without asking the source, how it
// falls back when the source is down, and what it remembers as not found.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNotFound } from '../errors.js';
import { hashGoMod } from '../gomod/dirhash.js';
import { createLogger } from '../log/logger.js';
import { leaseName, leaseObjectKey, manifestKey, zipRecordKey } from '../records/layout.js';
import { Leases } from '../records/lease.js';
import { commitZip, readManifest, readZipRecord } from '../records/manifest.js';
import { MemoryStorage } from '../storage/memoryStorage.js';
import { aroundStorage } from '../../test/support/aroundStorage.js';
import { spoolLeftovers } from '../../test/support/spoolLeftovers.js';
import { MemorySources } from '../../test/support/memorySource.js';
import type { Artifact } from './artifact.js';
import { ModuleService, pickLatest } from './moduleService.js';

const nullLogger = createLogger({ write: () => {} });
const M = 'example.com/m';

function modules() {
  return {
    [M]: {
      versions: {
        'v1.0.0': { time: '2021-01-01T00:00:00Z', mod: `module ${M}\n`, files: { 'go.mod': `module ${M}\n`, 'a.go': 'package m\n' } },
        'v1.1.0': { time: '2021-02-01T00:00:00Z', mod: `module ${M}\n\ngo 1.21\n`, files: { 'go.mod': `module ${M}\n\ngo 1.21\n`, 'b.go': 'package m\n' } },
        'v1.2.0': { time: '2021-03-01T00:00:00Z', mod: `module ${M}\n`, files: { zipError: 'C.go: case-insensitive file name collision' } },
      },
      aliases: { main: 'v1.1.0' },
    },
  };
}

async function bytes(a: Artifact, range?: { start: number; end: number }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await a.open(range)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function text(a: Artifact): Promise<string> {
  return (await bytes(a)).toString('utf8');
}

const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

let tmp: string;
let storage: MemoryStorage;
let sources: MemorySources;
let clock: number;
let service: ModuleService;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-service-'));
  storage = new MemoryStorage();
  sources = new MemorySources(modules());
  clock = Date.UTC(2024, 0, 1);
  service = new ModuleService({ storage, sources, log: nullLogger, tmpDir: tmp, now: () => clock });
});

afterEach(async () => {
  await service.idle();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * The test's storage where each call takes 5 ms, like a round trip; a call
 * that starts while none is in flight opens a new round.
 */
function roundTrips() {
  const rounds: string[][] = [];
  let inFlight = 0;
  const timed = <T>(what: string, call: () => Promise<T>): Promise<T> => {
    if (inFlight++ === 0) rounds.push([]);
    rounds[rounds.length - 1].push(what);
    return new Promise((r) => setTimeout(r, 5)).then(call).finally(() => inFlight--);
  };
  return { counted: aroundStorage(storage, timed, 'timed'), rounds };
}

/** The storage call that takes a step's lease on v1.0.0 for the first time. */
const lease = (step: 'manifest' | 'zip') => `create ${leaseObjectKey(leaseName(M, 'v1.0.0', step), 1)}`;

describe('ModuleService', () => {
  it('commits a version on first use: .info, .mod and the pin in the manifest, then the zip', async () => {
    const info = await service.info(M, 'v1.0.0');
    expect(await text(info)).toBe('{"Version":"v1.0.0","Time":"2021-01-01T00:00:00Z","Origin":{"VCS":"memory","URL":"memory://example.com/m"}}');
    expect(info.immutable).toBe(true);
    await service.idle();
    const m = await readManifest(storage, M, 'v1.0.0');
    expect(m?.source).toEqual({ kind: 'git', commit: crypto.createHash('sha1').update(`${M}@v1.0.0`).digest('hex'), dir: '' });
    expect(m?.mod.h1).toBe(hashGoMod(Buffer.from(`module ${M}\n`)));
    const z = await readZipRecord(storage, M, 'v1.0.0');
    expect(z && 'h1' in z.zip && z.zip.files).toBe(2);
    expect(sources.calls).toEqual([`query v1.0.0 ${M}`, `download v1.0.0 ${M}`, `zip v1.0.0 ${M}`]);
  });

  it('answers a cold version after three storage round trips, with leases on', async () => {
    const { counted, rounds } = roundTrips();
    const leases = new Leases(counted, { ttlMs: 60_000, maxWaitMs: 60_000, owner: 'r0' });
    const leased = new ModuleService({ storage: counted, sources, log: nullLogger, tmpDir: tmp, leases });
    await leased.info(M, 'v1.0.0');
    await leased.idle();
    const manifest = manifestKey(M, 'v1.0.0');
    // The version is looked up once; both leases are one create each, made together; the manifest's create
    // needs no read before it. What follows it (the index entry, the zip build) is not waited for.
    expect(rounds.findIndex((r) => r.includes(`create ${manifest}`))).toBe(2);
    expect(rounds.slice(0, 3).map((r) => r.sort())).toEqual([[`read ${manifest}`], [lease('manifest'), lease('zip')].sort(), [`create ${manifest}`]]);
    // The background zip build renews nothing: the zip lease claimed with the manifest is still fresh. After
    // this replica created the manifest, it looks for the zip record only before storing the zip's blob.
    expect(rounds.slice(3).flat().filter((c) => c.includes('leases/'))).toEqual([]);
    expect(rounds.slice(3).flat().filter((c) => c === `read ${zipRecordKey(M, 'v1.0.0')}`)).toHaveLength(1);
    expect(await readZipRecord(storage, M, 'v1.0.0')).not.toBeNull();
  });

  it('answers a cold version of a source that fetched ahead after two storage round trips: no manifest lease, the zip claimed alongside the commit', async () => {
    sources.modules[M]!.fetchesAhead = true;
    const { counted, rounds } = roundTrips();
    const replicas = [0, 1].map((i) => new ModuleService({ storage: counted, sources, log: nullLogger, tmpDir: tmp, leases: new Leases(counted, { ttlMs: 60_000, maxWaitMs: 60_000, pollMs: 1, owner: `r${i}` }) }));
    await replicas[0]!.info(M, 'v1.0.0');
    const manifest = manifestKey(M, 'v1.0.0');
    expect(rounds.slice(0, 2).map((r) => r.sort())).toEqual([[`read ${manifest}`], [`create ${manifest}`, lease('zip')].sort()]);
    // Another replica racing for the same version: one manifest, one zip build, however the claims fall.
    await Promise.all([replicas[1]!.info(M, 'v1.0.0'), replicas[1]!.zip(M, 'v1.0.0')]);
    await Promise.all(replicas.map((r) => r.idle()));
    expect(rounds.flat().filter((c) => c.includes(`leases/${leaseName(M, 'v1.0.0', 'manifest')}`))).toEqual([]);
    expect(sources.calls.filter((c) => c.startsWith('zip'))).toEqual([`zip v1.0.0 ${M}`]);
    expect(await readZipRecord(storage, M, 'v1.0.0')).not.toBeNull();
  });

  it('lets go of its zip claim at once when another replica holds the manifest lease', async () => {
    const mine = new Leases(storage, { ttlMs: 60_000, maxWaitMs: 60_000, pollMs: 1, owner: 'r0' });
    const theirs = new Leases(storage, { ttlMs: 60_000, maxWaitMs: 60_000, owner: 'r1' });
    expect(await theirs.tryAcquire(leaseName(M, 'v1.0.0', 'manifest'))).toBe(true);
    const waiting = new ModuleService({ storage, sources, log: nullLogger, tmpDir: tmp, leases: mine });
    const answer = waiting.info(M, 'v1.0.0');
    // While this replica waits for the other's manifest, the zip lease it claimed alongside is already let go:
    // the last object of its series is a release record.
    const zipSeries = async () => {
      const keys = await storage.list(`leases/${leaseName(M, 'v1.0.0', 'zip')}/`);
      return Promise.all(keys.map(async (k) => JSON.parse(Buffer.from((await storage.read(k))!).toString()) as { owner: string; released?: boolean }));
    };
    await expect.poll(async () => (await zipSeries()).map((b) => `${b.owner}${b.released ? ' released' : ''}`), { timeout: 5000 }).toEqual(['r0', 'r0 released']);
    // The other replica commits the version; this one answers with it, and never built anything.
    const other = new ModuleService({ storage, sources, log: nullLogger, tmpDir: tmp, eagerZip: false });
    await other.info(M, 'v1.0.0');
    expect(await text(await answer)).toContain('"Version":"v1.0.0"');
    await waiting.idle();
    expect(sources.calls.filter((c) => c.startsWith('download'))).toEqual([`download v1.0.0 ${M}`]);
  });

  it("removes the zips a crashed process was building, hours old, from its spool directory, and leaves newer ones and whatever is not its own", () => {
    const spool = spoolLeftovers();
    try {
      new ModuleService({ storage, sources, log: nullLogger, tmpDir: spool.dir });
      expect(fs.readdirSync(spool.dir).sort()).toEqual(spool.kept);
      expect(spool.kept).toContain(spool.inFlight);
    } finally {
      spool.remove();
    }
  });

  it('serves the zip it has just committed without reading its record or its body back from storage', async () => {
    const calls: string[] = [];
    const counted = aroundStorage(storage, (what, call) => {
      calls.push(what);
      return call();
    });
    const svc = new ModuleService({ storage: counted, sources, log: nullLogger, tmpDir: tmp });
    await svc.info(M, 'v1.0.0');
    await svc.idle();
    calls.length = 0;
    const z = await svc.zip(M, 'v1.0.0');
    expect(calls).toEqual([]);
    // What it serves is what storage holds under the record's blob name.
    const record = await readZipRecord(storage, M, 'v1.0.0');
    const stored = record && 'blob' in record.zip ? await storage.read(record.zip.blob) : null;
    expect(stored).not.toBeNull();
    expect(await bytes(z)).toEqual(Buffer.from(stored!));
    expect(z.sha256).toBe(sha256(stored!));
  });

  it('joins the zip build a cold version started without looking for its record in storage first', async () => {
    const calls: string[] = [];
    const counted = aroundStorage(storage, (what, call) => {
      calls.push(what);
      return call();
    });
    let reached!: () => void;
    const atBlob = new Promise<void>((r) => (reached = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // The background build waits before storing its blob until the .zip request has arrived.
    const hook = (point: string) => {
      if (point !== 'before-zip-blob') return undefined;
      reached();
      return gate;
    };
    const svc = new ModuleService({ storage: counted, sources, log: nullLogger, tmpDir: tmp, commitHook: hook });
    await svc.info(M, 'v1.0.0');
    await atBlob;
    const zip = svc.zip(M, 'v1.0.0');
    await new Promise((r) => setTimeout(r, 20));
    release();
    const z = await zip;
    await svc.idle();
    const record = await readZipRecord(storage, M, 'v1.0.0');
    expect(record && 'blob' in record.zip && record.zip.sha256).toBe(z.sha256);
    // The build, after this replica created the manifest, looks only before storing its blob; the request not at all.
    expect(calls.filter((c) => c === `read ${zipRecordKey(M, 'v1.0.0')}`)).toHaveLength(1);
  });

  it("looks for the zip record before building when another writer's manifest won, and serves that writer's zip", async () => {
    const other = Buffer.from('another writer built these bytes');
    const otherFile = path.join(tmp, 'other.zip');
    fs.writeFileSync(otherFile, other);
    const calls: string[] = [];
    const counted = aroundStorage(storage, (what, call) => {
      calls.push(what);
      return call();
    });
    let raced = false;
    // Just before our manifest is stored, another writer commits the version, manifest and zip, with the same pin.
    const hook = async (point: string) => {
      if (point !== 'before-manifest' || raced) return;
      raced = true;
      const theirs = new ModuleService({ storage, sources, log: nullLogger, tmpDir: tmp, eagerZip: false });
      await theirs.info(M, 'v1.0.0');
      const m = (await readManifest(storage, M, 'v1.0.0'))!;
      await commitZip(storage, { path: M, version: 'v1.0.0', source: m.source, zip: { file: otherFile, sha256: sha256(other), size: other.length, h1: 'h1:other', files: 1 } });
    };
    const svc = new ModuleService({ storage: counted, sources, log: nullLogger, tmpDir: tmp, commitHook: hook });
    await svc.info(M, 'v1.0.0');
    await svc.idle();
    expect(raced).toBe(true);
    // Our background build found their record before asking the source for a zip: no build, no blob, no second look.
    expect(calls.filter((c) => c === `read ${zipRecordKey(M, 'v1.0.0')}`)).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith('create blobs/'))).toEqual([]);
    expect(sources.calls.filter((c) => c.startsWith('zip'))).toEqual([]);
    const z = await svc.zip(M, 'v1.0.0');
    expect(z.sha256).toBe(sha256(other));
  });

  it('answers a zip it has committed from storage when its spooled copy is gone before it could be kept', async () => {
    let reached!: () => void;
    const atBlob = new Promise<void>((r) => (reached = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const hook = async (point: string) => {
      if (point === 'before-zip-blob') {
        reached();
        await gate;
      }
      // The record is stored; the spooled zip disappears before the service reads it to keep it.
      if (point === 'after-zip-record') for (const f of fs.readdirSync(tmp)) fs.rmSync(path.join(tmp, f), { force: true });
    };
    const svc = new ModuleService({ storage, sources, log: nullLogger, tmpDir: tmp, commitHook: hook });
    await svc.info(M, 'v1.0.0');
    await atBlob;
    // A .zip request that joins the build gets its answer, not the failure to keep a copy.
    const zip = svc.zip(M, 'v1.0.0');
    release();
    const z = await zip;
    await svc.idle();
    const record = await readZipRecord(storage, M, 'v1.0.0');
    expect(record && 'blob' in record.zip && record.zip.sha256).toBe(z.sha256);
    expect(sha256(await bytes(z))).toBe(z.sha256);
  });

  it("serves another writer's zip from storage when that writer's record won, not the bytes it built itself", async () => {
    const other = Buffer.from('another writer built these bytes');
    const otherFile = path.join(tmp, 'other.zip');
    fs.writeFileSync(otherFile, other);
    let raced = false;
    const svc = new ModuleService({
      storage,
      sources,
      log: nullLogger,
      tmpDir: tmp,
      // Between our record lookup and our blob, another writer commits its own zip of the version.
      commitHook: async (point) => {
        if (point !== 'before-zip-blob' || raced) return;
        raced = true;
        const m = (await readManifest(storage, M, 'v1.0.0'))!;
        await commitZip(storage, { path: M, version: 'v1.0.0', source: m.source, zip: { file: otherFile, sha256: sha256(other), size: other.length, h1: 'h1:other', files: 1 } });
      },
    });
    await svc.info(M, 'v1.0.0');
    await svc.idle();
    expect(raced).toBe(true);
    const z = await svc.zip(M, 'v1.0.0');
    expect(z.sha256).toBe(sha256(other));
    expect(await bytes(z)).toEqual(other);
  });

  it('serves committed versions from storage without asking the source', async () => {
    await service.zip(M, 'v1.1.0');
    await service.idle();
    const zipBefore = await service.zip(M, 'v1.1.0');
    sources.calls.length = 0;
    sources.down = true;
    const again = new ModuleService({ storage, sources, log: nullLogger, tmpDir: tmp });
    expect(await text(await again.info(M, 'v1.1.0'))).toContain('"Version":"v1.1.0"');
    expect(await text(await again.mod(M, 'v1.1.0'))).toBe(`module ${M}\n\ngo 1.21\n`);
    const zip = await again.zip(M, 'v1.1.0');
    expect(zip.sha256).toBe(zipBefore.sha256);
    expect(sha256(await bytes(zip))).toBe(zipBefore.sha256);
    expect(sources.calls).toEqual([]);
  });

  it('gives a zip artifact whose bytes have its digest, and ranges of it', async () => {
    const zip = await service.zip(M, 'v1.0.0');
    const body = await bytes(zip);
    expect(body.length).toBe(zip.size);
    expect(sha256(body)).toBe(zip.sha256);
    expect(await bytes(zip, { start: 2, end: 9 })).toEqual(body.subarray(2, 10));
  });

  it('records a version without a zip, and answers it as not found', async () => {
    await expect(service.zip(M, 'v1.2.0')).rejects.toThrow(`${M}@v1.2.0: create zip: C.go: case-insensitive file name collision`);
    const z = await readZipRecord(storage, M, 'v1.2.0');
    expect(z?.zip).toEqual({ error: `${M}@v1.2.0: create zip: C.go: case-insensitive file name collision` });
  });

  it('resolves a query to a version; only an exact version is immutable', async () => {
    const a = await service.info(M, 'main');
    expect(await text(a)).toContain('"Version":"v1.1.0"');
    expect(a.immutable).toBe(false);
    expect(storage.objects.has(manifestKey(M, 'v1.1.0'))).toBe(true);
  });

  it('lists source versions merged with committed ones, and from storage alone when the source is down', async () => {
    expect(await text(await service.list(M))).toBe('v1.0.0\nv1.1.0\nv1.2.0\n');
    await service.info(M, 'v1.0.0');
    sources.down = true;
    clock += 60_000; // past the committed-versions cache
    expect(await text(await service.list(M))).toBe('v1.0.0\n');
  });

  it('leaves out a committed +incompatible version the source does not list, unless the source is down', async () => {
    const inc = `module ${M}\n`;
    sources = new MemorySources({
      [M]: {
        versions: {
          ...modules()[M].versions,
          'v2.0.0+incompatible': { time: '2021-04-01T00:00:00Z', mod: inc, files: { 'a.go': 'package m\n' } },
        },
        unlisted: ['v2.0.0+incompatible'],
      },
    });
    service = new ModuleService({ storage, sources, log: nullLogger, tmpDir: tmp, now: () => clock });
    await service.info(M, 'v2.0.0+incompatible');
    await service.info(M, 'v1.0.0');
    clock += 60_000; // past the committed-versions and list caches
    expect(await text(await service.list(M))).toBe('v1.0.0\nv1.1.0\nv1.2.0\n');
    sources.down = true;
    clock += 60_000;
    expect(await text(await service.list(M))).toBe('v1.0.0\nv2.0.0+incompatible\n');
  });

  it('falls back to the highest committed release for @latest when the source is down', async () => {
    await service.info(M, 'v1.0.0');
    sources.down = true;
    expect(await text(await service.latest(M))).toContain('"Version":"v1.0.0"');
  });

  it('remembers not found for a while, and only that', async () => {
    await expect(service.info(M, 'v9.9.9')).rejects.toSatisfy(isNotFound);
    const calls = sources.calls.length;
    await expect(service.info(M, 'v9.9.9')).rejects.toSatisfy(isNotFound);
    expect(sources.calls.length).toBe(calls);
    clock += 31_000;
    await expect(service.info(M, 'v9.9.9')).rejects.toSatisfy(isNotFound);
    expect(sources.calls.length).toBe(calls + 1);
    // A fault is never remembered.
    sources.down = true;
    await expect(service.info(M, 'v1.0.0-x')).rejects.toThrow('is down');
    sources.down = false;
    await expect(service.info(M, 'v1.0.0-x')).rejects.toSatisfy(isNotFound);
  });

  it('refuses a .mod of a version that resolves to another one', async () => {
    sources.modules[M].aliases = { 'v1.0.1': 'v1.0.0' };
    await expect(service.mod(M, 'v1.0.1')).rejects.toThrow(`${M}@v1.0.1: invalid version: version v1.0.1 resolves to v1.0.0`);
    expect(storage.objects.has(zipRecordKey(M, 'v1.0.1'))).toBe(false);
  });

  it('answers modules no source serves as not found', async () => {
    expect(service.serves('example.com/other')).toBe(false);
    await expect(service.info('example.com/other', 'v1.0.0')).rejects.toSatisfy(isNotFound);
  });
});

describe('pickLatest', () => {
  it('prefers the highest release, then the highest prerelease, then the newest pseudo-version', () => {
    expect(pickLatest(['v1.0.0', 'v1.1.0-rc.1', 'v0.9.0'])).toBe('v1.0.0');
    expect(pickLatest(['v1.1.0-rc.1', 'v1.1.0-rc.2'])).toBe('v1.1.0-rc.2');
    expect(pickLatest(['v0.0.0-20200101000000-aaaaaaaaaaaa', 'v0.0.0-20210101000000-bbbbbbbbbbbb'])).toBe('v0.0.0-20210101000000-bbbbbbbbbbbb');
  });
});
