// The GCS backend against the storage contract: always through the real
// @google-cloud/storage client against the GCS test double, and also against
// a real bucket in live mode (MODPROXY_TEST_GCS_BUCKET + credentials).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Storage } from '@google-cloud/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { GcsStorage } from '../lib/storage/gcsStorage.js';
import { startGcsDouble, type GcsDouble } from './support/gcsDouble.js';
import { liveGcsBucket, testServiceAccount } from './support/replicas.js';
import { deletableContract, storageContract } from './support/storageContract.js';

const doubles: GcsDouble[] = [];
afterAll(async () => {
  await Promise.all(doubles.map((d) => d.close()));
});

async function onDouble(opts: { prefix?: string } = {}): Promise<{ storage: GcsStorage; gcs: GcsDouble; bucket: string }> {
  const account = testServiceAccount(fs.mkdtempSync(path.join(os.tmpdir(), 'gcs-contract-')));
  const gcs = await startGcsDouble({ signers: { [account.email]: account.publicKey } });
  doubles.push(gcs);
  const bucket = `b-${crypto.randomBytes(3).toString('hex')}`;
  gcs.createBucket(bucket);
  const client = new Storage({ apiEndpoint: gcs.url, projectId: 'test', credentials: { client_email: account.email, private_key: account.privateKey } });
  return { storage: new GcsStorage({ bucket, storage: client, prefix: opts.prefix, simpleUploadMaxBytes: 1024 }), gcs, bucket };
}

storageContract('gcs (test double)', async () => (await onDouble()).storage);
storageContract('gcs (test double, with a prefix)', async () => (await onDouble({ prefix: 'team/a/' })).storage);
deletableContract('gcs (test double, with a prefix)', async () => (await onDouble({ prefix: 'team/a/' })).storage);

describe('gcs specifics', () => {
  it('keeps every object under the prefix, and uploads large bodies resumably', async () => {
    const { storage, gcs, bucket } = await onDouble({ prefix: 'p/' });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gcs-big-')), 'big');
    fs.writeFileSync(file, crypto.randomBytes(300 * 1024)); // over simpleUploadMaxBytes (1 KiB here)
    expect(await storage.createIfAbsent('blobs/big', { file })).toBe('created');
    expect(await storage.createIfAbsent('blobs/big', { file })).toBe('exists');
    expect([...gcs.objects(bucket).keys()]).toEqual(['p/blobs/big']);
    expect(gcs.requests.some((r) => r.query?.includes('uploadType=resumable'))).toBe(true);
    expect(await storage.list('blobs/')).toEqual(['blobs/big']);
  });

  it('signs V4 URLs the storage serves', async () => {
    const { storage } = await onDouble();
    await storage.createIfAbsent('x/y', Buffer.from('signed content'));
    const url = await storage.signedReadUrl('x/y', 60);
    expect(url).toContain('X-Goog-Algorithm=GOOG4-RSA-SHA256');
    expect(await (await fetch(url)).text()).toBe('signed content');
  });
});

describe.skipIf(!liveGcsBucket)(`live mode against gs://${liveGcsBucket ?? '(MODPROXY_TEST_GCS_BUCKET not set)'}`, () => {
  storageContract('gcs (live)', () => new GcsStorage({ bucket: liveGcsBucket!, prefix: `modproxy-test/${Date.now()}-${crypto.randomBytes(4).toString('hex')}/` }));
});
