// Shared set-up for consistency tests: storage backends (local disk, or the
// GCS test double driven through the real @google-cloud/storage client),
// proxy replicas on them, and checks of what storage holds.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Storage } from '@google-cloud/storage';
import { FsStorage } from '../../lib/storage/fsStorage.js';
import { GcsStorage } from '../../lib/storage/gcsStorage.js';
import type { ObjectStorage } from '../../lib/storage/storage.js';
import { parseRecordKey, VERSIONS_ROOT } from '../../lib/records/layout.js';
import type { Manifest, ZipRecord } from '../../lib/records/manifest.js';
import { crc32cBase64, startGcsDouble, type GcsDouble } from './gcsDouble.js';
import { zipH1 } from './zipHash.js';

export { zipH1 };

export type Backend = 'fs' | 'gcs';

/** A test service account whose key signs V4 URLs, known to the GCS double. */
export interface TestServiceAccount {
  email: string;
  privateKey: string;
  publicKey: string;
  keyFile: string;
}

export function testServiceAccount(dir: string): TestServiceAccount {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const email = 'modproxy-test@test-project.iam.gserviceaccount.com';
  const keyFile = path.join(dir, 'service-account.json');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(keyFile, JSON.stringify({ type: 'service_account', project_id: 'test-project', client_email: email, private_key: privateKey, private_key_id: 'test-key' }));
  return { email, privateKey, publicKey, keyFile };
}

export interface StorageUnderTest {
  backend: Backend;
  /** The `storage:` section of a proxy config for this backend. */
  configYaml: string;
  /** Environment for proxy processes (credentials for GCS). */
  env: Record<string, string>;
  /** A client on the same storage, for assertions. */
  storage: ObjectStorage;
  gcs?: GcsDouble;
  /**
   * Replaces the bytes of an existing object behind the proxy's back (an
   * operator's overwrite, a restore from the wrong backup): on disk the file
   * is rewritten in place; on GCS the object gets a new generation with the
   * new bytes and matching hashes, as any upload would leave it.
   */
  overwrite(key: string, data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/**
 * Live mode: with MODPROXY_TEST_GCS_BUCKET set (and Application Default
 * Credentials that can create, read, list objects and sign URLs in it), every
 * suite that uses GCS runs against that real bucket instead of the double, in
 * a fresh object-name prefix per storage.
 */
export const liveGcsBucket = process.env.MODPROXY_TEST_GCS_BUCKET;

export async function storageUnderTest(backend: Backend, dir: string, sa?: TestServiceAccount): Promise<StorageUnderTest> {
  if (backend === 'gcs' && liveGcsBucket) {
    const prefix = `modproxy-test/${Date.now()}-${crypto.randomBytes(4).toString('hex')}/`;
    return {
      backend,
      configYaml: `storage:\n  gcs:\n    bucket: ${liveGcsBucket}\n    prefix: "${prefix}"\n`,
      env: {},
      storage: new GcsStorage({ bucket: liveGcsBucket, prefix }),
      overwrite: async (key, data) => {
        await new Storage().bucket(liveGcsBucket).file(prefix + key).save(Buffer.from(data), { resumable: false });
      },
      close: async () => {},
    };
  }
  if (backend === 'fs') {
    const d = path.join(dir, 'storage');
    const overwrite = async (key: string, data: Uint8Array) => {
      const file = path.join(d, ...key.split('/'));
      if (!fs.existsSync(file)) throw new Error(`no object ${key}`);
      fs.chmodSync(file, 0o644); // bodies are written read-only
      fs.writeFileSync(file, data);
    };
    return { backend, configYaml: `storage:\n  fs:\n    dir: "${d}"\n`, env: {}, storage: new FsStorage(d), overwrite, close: async () => {} };
  }
  const account = sa ?? testServiceAccount(dir);
  const gcs = await startGcsDouble({ signers: { [account.email]: account.publicKey } });
  const bucket = `modproxy-${crypto.randomBytes(4).toString('hex')}`;
  gcs.createBucket(bucket);
  const client = new Storage({ apiEndpoint: gcs.url, projectId: 'test-project', credentials: { client_email: account.email, private_key: account.privateKey } });
  return {
    backend,
    // The double authenticates nobody here, like an emulator (test/gcsAuth.test.ts covers credentials).
    configYaml: `storage:\n  gcs:\n    bucket: ${bucket}\n    apiEndpoint: "${gcs.url}"\n    anonymous: true\n`,
    env: { GOOGLE_APPLICATION_CREDENTIALS: account.keyFile, GOOGLE_CLOUD_PROJECT: 'test-project' },
    storage: new GcsStorage({ bucket, storage: client }),
    gcs,
    overwrite: async (key, data) => {
      const objects = gcs.objects(bucket);
      const o = objects.get(key);
      if (!o) throw new Error(`no object ${key}`);
      const bytes = Buffer.from(data);
      objects.set(key, {
        ...o,
        data: bytes,
        generation: String(Math.max(Number(o.generation) + 1, Date.now() * 1000)),
        metageneration: '1',
        timeCreated: new Date().toISOString(),
        updated: new Date().toISOString(),
        md5Hash: crypto.createHash('md5').update(bytes).digest('base64'),
        crc32c: crc32cBase64(bytes),
      });
    },
    close: () => gcs.close(),
  };
}

/** A proxy config: the backend's storage section plus git hosts and prefixes. */
export function replicaConfig(sut: StorageUnderTest, gitWorkDir: string, gitBaseUrl: string, prefixes: string[], extra = ''): string {
  return [
    sut.configYaml.trimEnd(),
    'gitHub:',
    '  - host: github.com',
    `    gitBaseUrl: "${gitBaseUrl}"`,
    'privateModules:',
    ...prefixes.map((p) => `  - pathPrefix: "${p}"`),
    'resolve:',
    `  gitWorkDir: "${gitWorkDir}"`,
    extra,
  ].join('\n');
}

/**
 * What storage must always satisfy, crash or not: every record parses, names
 * the version its key says, and names only bodies that exist in full with the
 * recorded sha256 (and, for zips, the recorded h1). Returns the records.
 */
export async function checkStorageInvariants(storage: ObjectStorage): Promise<{ manifests: Manifest[]; zips: ZipRecord[] }> {
  const manifests: Manifest[] = [];
  const zips: ZipRecord[] = [];
  for (const key of await storage.list(VERSIONS_ROOT)) {
    const data = await storage.read(key);
    if (!data) throw new Error(`listed ${key} cannot be read`);
    const record = JSON.parse(Buffer.from(data).toString('utf8')) as Manifest & ZipRecord;
    const named = parseRecordKey(key);
    if (!named || named.path !== record.path || named.version !== record.version) throw new Error(`${key} holds the record of ${record.path}@${record.version}`);
    if (named.kind === 'manifest') {
      manifests.push(record);
      if (record.mod.blob) {
        const body = await storage.read(record.mod.blob);
        if (!body || crypto.createHash('sha256').update(body).digest('hex') !== record.mod.sha256) throw new Error(`${key}: go.mod body missing or wrong`);
      }
    } else {
      zips.push(record);
      if (!('error' in record.zip)) {
        const body = await storage.read(record.zip.blob);
        if (!body) throw new Error(`${key}: zip body ${record.zip.blob} missing`);
        if (crypto.createHash('sha256').update(body).digest('hex') !== record.zip.sha256) throw new Error(`${key}: zip body does not match its sha256`);
        if ((await zipH1(Buffer.from(body))) !== record.zip.h1) throw new Error(`${key}: zip body does not match its h1`);
      }
    }
  }
  for (const z of zips) {
    const m = manifests.find((x) => x.path === z.path && x.version === z.version);
    if (!m) throw new Error(`zip record of ${z.path}@${z.version} without a manifest`);
    if (JSON.stringify(m.source) !== JSON.stringify(z.source)) throw new Error(`zip record of ${z.path}@${z.version} built from another source`);
  }
  return { manifests, zips };
}
