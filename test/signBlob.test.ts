// Signed URLs on Cloud Run, where the service account has no key file: the
// client learns its identity and a token from the metadata server and has IAM
// Credentials sign the URL (signBlob). Here both are loopback stand-ins, and the
// GCS test double verifies the resulting signature like GCS does.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GcsStorage } from '../lib/storage/gcsStorage.js';
import { startMetadataServer, type MetadataServer } from './support/metadataServer.js';
import { startGcsDouble, type GcsDouble } from './support/gcsDouble.js';
import { testServiceAccount, type TestServiceAccount } from './support/replicas.js';

let account: TestServiceAccount;
let gcs: GcsDouble;
let metadata: MetadataServer;
let iam: http.Server;
const iamCalls: string[] = [];
const listen = async (s: http.Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  account = testServiceAccount(fs.mkdtempSync(path.join(os.tmpdir(), 'signblob-')));
  gcs = await startGcsDouble({ signers: { [account.email]: account.publicKey } });
  gcs.createBucket('signed');
  // The GCE/Cloud Run metadata server (only what google-auth-library asks).
  metadata = await startMetadataServer({ email: account.email, accessToken: 'metadata-token' });
  // IAM Credentials signBlob: signs with the account's key, as Google does.
  iam = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      iamCalls.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      const { payload } = JSON.parse(Buffer.concat(chunks).toString()) as { payload: string };
      const signedBlob = crypto.sign('RSA-SHA256', Buffer.from(payload, 'base64'), account.privateKey).toString('base64');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keyId: 'k1', signedBlob }));
    });
  });
  process.env.GCE_METADATA_HOST = metadata.host;
  process.env.METADATA_SERVER_DETECTION = 'assume-present';
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
});

afterAll(async () => {
  await gcs?.close();
  await metadata?.close();
  iam?.close();
});

it('signs V4 URLs through IAM signBlob when the credentials hold no key', async () => {
  const iamHost = await listen(iam);
  const storage = new GcsStorage({
    bucket: 'signed',
    storage: new Storage({ apiEndpoint: gcs.url, projectId: 'test-project' }),
    signingEndpoint: `http://${iamHost}/v1/projects/-/serviceAccounts/`,
  });
  await storage.createIfAbsent('blobs/x', Buffer.from('zip bytes'));
  const url = await storage.signedReadUrl('blobs/x', 300);
  expect(iamCalls).toEqual([`POST /v1/projects/-/serviceAccounts/${encodeURIComponent(account.email).replace(/%40/g, '@')}:signBlob Bearer metadata-token`]);
  expect(url).toContain(`X-Goog-Credential=${encodeURIComponent(account.email)}`);
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(await res.text()).toBe('zip bytes');
});
