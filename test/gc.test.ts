// modproxy-admin gc, run as its own process (the bin, as an operator runs
// it) on both backends: local disk and GCS (the HTTP double). It deletes only
// bodies no record names, stale lease objects and old probes, dry run by
// default; and it never deletes a body a concurrent build is about to name —
// shown with a real build paused between writing its body and its record.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageFromConfig } from '../lib/app.js';
import { parseConfig } from '../lib/config/load.js';
import { blobKey, leaseObjectKey, probeKey, zipRecordKey } from '../lib/records/layout.js';
import { sha256Hex } from '../lib/records/manifest.js';
import type { ObjectStorage } from '../lib/storage/storage.js';
import { runAdminProcessRaw } from './support/adminProcess.js';
import { startGcsDouble, type GcsDouble } from './support/gcsDouble.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { startMetadataServer } from './support/metadataServer.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { publishTaggedModule } from './support/taggedModule.js';

const MODULE = 'github.com/gc/m';
const BUCKET = 'gc-bucket';
const DAY = 86_400_000;
let tmp: string;
let git: GitHttpServer;
let gcs: GcsDouble;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-gc-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  await publishTaggedModule(tmp, 'gc/m', MODULE, 3);
  gcs = await startGcsDouble();
  gcs.createBucket(BUCKET);
});

afterAll(async () => {
  await gcs?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface Backend {
  name: string;
  config: (dir: string) => string;
  /** Moves an object's creation time back by `ms` (as if it had been written then). */
  age: (dir: string, key: string, ms: number) => void;
}

const backends: Backend[] = [
  {
    name: 'fs',
    config: (dir) => testConfig(dir, { 'github.com': git.url }, ['github.com/gc'], 'coordination:\n  leases: true\n'),
    age: (dir, key, ms) => {
      const t = new Date(Date.now() - ms);
      fs.utimesSync(path.join(dir, 'storage', ...key.split('/')), t, t);
    },
  },
  {
    name: 'gcs',
    config: (dir) => {
      const prefix = `${path.basename(dir)}/`;
      return testConfig(dir, { 'github.com': git.url }, ['github.com/gc'], 'coordination:\n  leases: true\n').replace(
        /^storage:\n {2}fs:\n.*\n/,
        `storage:\n  gcs:\n    bucket: ${BUCKET}\n    prefix: "${prefix}"\n    apiEndpoint: "${gcs.url}"\n    anonymous: true\n`,
      );
    },
    age: (dir, key, ms) => {
      const o = gcs.objects(BUCKET).get(`${path.basename(dir)}/${key}`);
      if (!o) throw new Error(`no object ${key}`);
      o.timeCreated = new Date(Date.now() - ms).toISOString();
    },
  },
];

/** Runs the modproxy-admin bin as its own process. */
function admin(configYaml: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return adminWithEnv({}, configYaml, ...args);
}

async function adminWithEnv(env: Record<string, string>, configYaml: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runAdminProcessRaw(configYaml, args, env);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

async function fetchOk(proxy: ProxyFixture, version: string, ext: 'zip' | 'mod'): Promise<Buffer> {
  const r = await fetch(`${proxy.url}/${MODULE}/@v/${version}.${ext}`);
  const body = Buffer.from(await r.arrayBuffer());
  expect(r.status, `${body.toString().slice(0, 200)}\n${proxy.logs.filter((l) => /WARN|ERROR/.test(l)).join('\n').slice(0, 3000)}`).toBe(200);
  return body;
}

async function zipBlobOf(storage: ObjectStorage, version: string): Promise<string> {
  const record = JSON.parse(Buffer.from((await storage.read(zipRecordKey(MODULE, version)))!).toString()) as { zip: { blob: string } };
  return record.zip.blob;
}

/** Commit hooks that pause or fail a build at one point, as a slow or crashing replica would. */
class BuildControl {
  mode: 'pass' | 'crash' | 'pause' = 'pass';
  private release?: () => void;
  private arrived?: () => void;
  hook = async (point: string): Promise<void> => {
    if (point !== 'after-zip-blob' || this.mode === 'pass') return;
    if (this.mode === 'crash') throw new Error('replica crashed between body and record');
    this.arrived?.();
    await new Promise<void>((r) => (this.release = r));
  };
  /** From now on builds stop after writing their zip body; resolves when one has. */
  pause(): Promise<void> {
    this.mode = 'pause';
    return new Promise<void>((r) => (this.arrived = r));
  }
  resume(): void {
    this.mode = 'pass';
    this.release?.();
  }
}

describe.each(backends)('modproxy-admin gc on $name', (backend) => {
  it('dry run lists, --delete removes only unnamed old bodies, stale leases and old probes', async () => {
    const dir = path.join(tmp, `${backend.name}-sweep`);
    const config = backend.config(dir);
    const proxy = await startProxy(config);
    const storage = storageFromConfig(parseConfig(config, 'test'));
    try {
      await fetchOk(proxy, 'v1.0.0', 'zip');
      await proxy.app.service.idle();
      const named = await zipBlobOf(storage, 'v1.0.0');
      backend.age(dir, named, 30 * DAY); // old, but named by a record: kept

      const put = async (key: string, body: string, ageMs: number) => {
        expect(await storage.createIfAbsent(key, Buffer.from(body))).toBe('created');
        if (ageMs > 0) backend.age(dir, key, ageMs);
      };
      const oldOrphan = blobKey(sha256Hex(Buffer.from('old orphan')));
      const youngOrphan = blobKey(sha256Hex(Buffer.from('young orphan')));
      await put(oldOrphan, 'old orphan', 3 * DAY);
      await put(youngOrphan, 'young orphan', 60 * 60_000);
      const lease = (name: string, seq: number) => leaseObjectKey(`github.com/gc/x/@v/${name}/zip`, seq);
      const lease1 = JSON.stringify({ owner: 'r0', expiresAt: Date.now() - 10 * DAY });
      await put(lease('v0.1.0', 1), lease1, 10 * DAY);
      await put(lease('v0.1.0', 2), JSON.stringify({ owner: 'r0', expiresAt: Date.now() - 9 * DAY, released: true }), 9 * DAY);
      // A live lease, created long ago with a long TTL: never removed; its superseded predecessor is.
      await put(lease('v0.2.0', 1), lease1, 10 * DAY);
      await put(lease('v0.2.0', 2), JSON.stringify({ owner: 'r1', expiresAt: Date.now() + DAY }), 3 * DAY);
      // Expired, but not long enough ago.
      await put(lease('v0.3.0', 1), JSON.stringify({ owner: 'r1', expiresAt: Date.now() - 60_000 }), 3 * DAY);
      const oldProbe = probeKey(new Date(Date.now() - 5 * DAY), crypto.randomUUID());
      await put(oldProbe, 'probe', 5 * DAY);

      const garbage = [oldOrphan, lease('v0.1.0', 1), lease('v0.1.0', 2), lease('v0.2.0', 1), oldProbe].sort();
      const kept = [named, youngOrphan, lease('v0.2.0', 2), lease('v0.3.0', 1)];

      const dry = await admin(config, 'gc');
      expect(dry.err).toBe('');
      expect(dry.code).toBe(0);
      const listed = dry.out.split('\n').filter((l) => l.startsWith('would delete ')).map((l) => l.split(' ')[2]).sort();
      expect(listed).toEqual(garbage);
      expect(dry.out).toContain(`${oldOrphan} 10 bytes (body no record names;`);
      expect(dry.out).toMatch(/gc \(dry run\): would delete 5 objects, \d+ bytes \(grace 48h; kept 1 bodies records name and 1 unnamed ones younger than the grace period\); run with --delete/);
      for (const k of [...garbage, ...kept]) expect(await storage.stat(k), k).not.toBeNull();

      const del = await admin(config, 'gc', '--delete');
      expect(del.err).toBe('');
      expect(del.code).toBe(0);
      expect(del.out.split('\n').filter((l) => l.startsWith('deleted ')).map((l) => l.split(' ')[1]).sort()).toEqual(garbage);
      for (const k of garbage) expect(await storage.stat(k), k).toBeNull();
      for (const k of kept) expect(await storage.stat(k), k).not.toBeNull();

      // Nothing the proxy serves went: every body matches its record, and a fresh replica serves from storage.
      const verify = await admin(config, 'verify');
      expect(verify.code, verify.err).toBe(0);
      const fresh = await startProxy(config);
      try {
        await fetchOk(fresh, 'v1.0.0', 'zip');
      } finally {
        await fresh.close();
      }
      expect((await admin(config, 'gc', '--delete')).out).toMatch(/gc: deleted 0 objects, 0 bytes/);
    } finally {
      await proxy.close();
    }
  });

  it('never deletes a body a concurrent build is about to name', async () => {
    const dir = path.join(tmp, `${backend.name}-race`);
    const config = backend.config(dir);
    const build = new BuildControl();
    const proxy = await startProxy(config, { commitHook: build.hook });
    const storage = storageFromConfig(parseConfig(config, 'test'));
    try {
      // (1) A build paused between its body and its record: the body is unnamed, but young.
      const paused = build.pause();
      const pending = fetch(`${proxy.url}/${MODULE}/@v/v1.1.0.zip`);
      await paused;
      const during = await admin(config, 'gc', '--delete');
      expect(during.code, during.err).toBe(0);
      expect(during.out).toMatch(/gc: deleted 0 objects, 0 bytes .*1 unnamed ones younger than the grace period/);
      build.resume();
      const r = await pending;
      expect(r.status).toBe(200);
      await r.arrayBuffer();
      await proxy.app.service.idle();

      // (2) A replica crashed between body and record days ago: its body is old garbage.
      // A new build of the same version makes the same bytes; paused before its record,
      // while gc deletes the old body. It must not be naming that one.
      build.mode = 'crash';
      const crashed = await fetch(`${proxy.url}/${MODULE}/@v/v1.2.0.zip`);
      expect(crashed.status).toBeGreaterThanOrEqual(500);
      await crashed.arrayBuffer();
      await proxy.app.service.idle();
      expect(await storage.stat(zipRecordKey(MODULE, 'v1.2.0'))).toBeNull();
      const before = new Set(await storage.list('blobs/'));
      const named = new Set([await zipBlobOf(storage, 'v1.1.0')]);
      const orphans = [...before].filter((k) => !named.has(k));
      expect(orphans).toHaveLength(1);
      backend.age(dir, orphans[0], 3 * DAY);

      const pausedAgain = build.pause();
      const second = fetch(`${proxy.url}/${MODULE}/@v/v1.2.0.zip`);
      await pausedAgain;
      const sweep = await admin(config, 'gc', '--delete');
      expect(sweep.code, sweep.err).toBe(0);
      expect(sweep.out).toContain(`deleted ${orphans[0]} `);
      build.resume();
      const served = await second;
      const zip = Buffer.from(await served.arrayBuffer());
      expect(served.status, zip.toString().slice(0, 200)).toBe(200);
      const blob = await zipBlobOf(storage, 'v1.2.0');
      expect(blob).not.toBe(orphans[0]);
      expect(await storage.stat(blob)).not.toBeNull();
      const verify = await admin(config, 'verify');
      expect(verify.code, verify.err).toBe(0);
      const fresh = await startProxy(config);
      try {
        expect((await fetchOk(fresh, 'v1.2.0', 'zip')).equals(zip)).toBe(true);
      } finally {
        await fresh.close();
      }
    } finally {
      build.resume();
      await proxy.close();
    }
  });

  it('deletes no body while a record cannot be read with certainty, and exits 1', async () => {
    const dir = path.join(tmp, `${backend.name}-corrupt`);
    const config = backend.config(dir);
    const storage = storageFromConfig(parseConfig(config, 'test'));
    const orphan = blobKey(sha256Hex(Buffer.from('orphan')));
    await storage.createIfAbsent(orphan, Buffer.from('orphan'));
    backend.age(dir, orphan, 3 * DAY);
    // A record of a schema this gc does not know might name bodies elsewhere.
    await storage.createIfAbsent(zipRecordKey(MODULE, 'v9.0.0'), Buffer.from(JSON.stringify({ schema: 99, path: MODULE, version: 'v9.0.0' })));
    const staleLease = leaseObjectKey('github.com/gc/y/@v/v1.0.0/zip', 1);
    await storage.createIfAbsent(staleLease, Buffer.from(JSON.stringify({ owner: 'r', expiresAt: Date.now() - 10 * DAY })));
    backend.age(dir, staleLease, 10 * DAY);
    const r = await admin(config, 'gc', '--delete');
    expect(r.code).toBe(1);
    expect(r.err).toContain(`gc: bodies: ${zipRecordKey(MODULE, 'v9.0.0')} is corrupt or of an unknown schema`);
    expect(await storage.stat(orphan)).not.toBeNull();
    // The rest of gc still ran.
    expect(r.out).toContain(`deleted ${staleLease} `);
    expect(await storage.stat(staleLease)).toBeNull();
  });

  it('refuses a grace period shorter than the reuse rule allows, and bad arguments', async () => {
    const config = backend.config(path.join(tmp, `${backend.name}-args`));
    const short = await admin(config, 'gc', '--grace', '30m');
    expect(short.code).toBe(2);
    expect(short.err).toMatch(/--grace: at least 2h/);
    expect((await admin(config, 'gc', '--bogus')).code).toBe(2);
  });
});

describe('the permission split on GCS', () => {
  it('gc --delete fails (exit 1, nothing deleted) as the append-only serving identity, and deletes as the admin identity', async () => {
    const serving = await startMetadataServer({ email: 'modproxy@p.iam.gserviceaccount.com', accessToken: `ya29.serving-${crypto.randomBytes(6).toString('hex')}` });
    const adminId = await startMetadataServer({ email: 'modproxy-admin@p.iam.gserviceaccount.com', accessToken: `ya29.admin-${crypto.randomBytes(6).toString('hex')}` });
    const double = await startGcsDouble();
    try {
      double.createBucket(BUCKET);
      const config = `storage:\n  gcs:\n    bucket: ${BUCKET}\n    apiEndpoint: "${double.url}"\n`;
      // Planted without authentication, then the bucket is locked down.
      const planter = storageFromConfig(parseConfig(config.replace('apiEndpoint', 'anonymous: true\n    apiEndpoint'), 'test'));
      const orphan = blobKey(sha256Hex(Buffer.from('orphan')));
      await planter.createIfAbsent(orphan, Buffer.from('orphan'));
      double.objects(BUCKET).get(orphan)!.timeCreated = new Date(Date.now() - 3 * DAY).toISOString();
      double.setAccessTokens([serving.accessToken, adminId.accessToken]);
      double.setAppendOnlyTokens({ [serving.accessToken]: 'modproxy@p.iam.gserviceaccount.com' });
      const as = (m: { host: string }) => ({ GCE_METADATA_HOST: m.host, METADATA_SERVER_DETECTION: 'assume-present', GOOGLE_APPLICATION_CREDENTIALS: '', STORAGE_EMULATOR_HOST: '' });

      // The serving identity may list and read: the dry run works.
      const dry = await adminWithEnv(as(serving), config, 'gc');
      expect(dry.code, dry.err).toBe(0);
      expect(dry.out).toContain(`would delete ${orphan} 6 bytes`);
      const refused = await adminWithEnv(as(serving), config, 'gc', '--delete');
      expect(refused.code).toBe(1);
      expect(refused.err).toContain(`gc: could not delete ${orphan}: GCS delete ${orphan} failed (HTTP 403)`);
      expect(refused.err).toContain('run gc as the admin identity');
      expect(double.objects(BUCKET).has(orphan)).toBe(true);

      const done = await adminWithEnv(as(adminId), config, 'gc', '--delete');
      expect(done.code, done.err).toBe(0);
      expect(done.out).toContain(`deleted ${orphan} 6 bytes`);
      expect(double.objects(BUCKET).has(orphan)).toBe(false);
    } finally {
      await double.close();
      await serving.close();
      await adminId.close();
    }
  });
});
