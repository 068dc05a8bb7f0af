// Credentials on a custom storage.gcs.apiEndpoint (a Private Service Connect
// or regional endpoint): requests carry the Application Default Credentials'
// token, as they do on storage.googleapis.com. Here ADC is Cloud Run's: the
// real google-auth-library fetches a token from a metadata server stand-in,
// and the GCS double, like GCS, answers 401 to requests without it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageFromConfig } from '../lib/app.js';
import { parseConfig } from '../lib/config/load.js';
import { startGcsDouble, type GcsDouble } from './support/gcsDouble.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { startMetadataServer, type MetadataServer } from './support/metadataServer.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { RepoBuilder } from './support/repoBuilder.js';

const MODULE = 'github.com/auth/m';
const BUCKET = 'private-endpoint';
let tmp: string;
let git: GitHttpServer;
let gcs: GcsDouble;
let metadata: MetadataServer;
const proxies: ProxyFixture[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-gcs-auth-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  const repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'auth/m');
  await repo.write({ 'go.mod': `module ${MODULE}\n`, 'm.go': 'package m\n' });
  await repo.commit('2020-01-01T00:00:00Z');
  await repo.tag('v1.0.0');
  await repo.publish();
  metadata = await startMetadataServer({ email: 'modproxy@test-project.iam.gserviceaccount.com', accessToken: `ya29.test-${crypto.randomBytes(8).toString('hex')}` });
  gcs = await startGcsDouble({ accessTokens: [metadata.accessToken] });
  gcs.createBucket(BUCKET);
  // ADC as on Cloud Run: no key file, the metadata server.
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  delete process.env.STORAGE_EMULATOR_HOST;
  process.env.GCE_METADATA_HOST = metadata.host;
  process.env.METADATA_SERVER_DETECTION = 'assume-present';
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await gcs?.close();
  await metadata?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function gcsConfig(extra = ''): string {
  return `storage:\n  gcs:\n    bucket: ${BUCKET}\n    apiEndpoint: "${gcs.url}"\n${extra}`;
}

/** A proxy whose storage is built from its configuration (storageFromConfig), as deployed. */
async function proxyOn(storageYaml: string, name: string): Promise<ProxyFixture> {
  const config = testConfig(path.join(tmp, name), { 'github.com': git.url }, ['github.com/auth']).replace(/^storage:\n {2}fs:\n.*\n/, storageYaml);
  const p = await startProxy(config, { tmpDir: path.join(tmp, name, 'spool') });
  proxies.push(p);
  return p;
}

describe('storage.gcs.apiEndpoint with credentials from ADC', () => {
  it('serves a module through an endpoint that requires a token', async () => {
    const proxy = await proxyOn(gcsConfig(), 'authenticated');
    const seen = gcs.requests.length;
    for (const kind of ['info', 'mod', 'zip']) {
      const res = await fetch(`${proxy.url}/${MODULE}/@v/v1.0.0.${kind}`);
      expect(res.status, `${kind}: ${await res.clone().text()}`).toBe(200);
    }
    await proxy.app.service.idle();
    const requests = gcs.requests.slice(seen);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((r) => r.status === 401)).toEqual([]);
    expect(requests.every((r) => r.auth === 'Bearer accepted')).toBe(true);
    expect(metadata.tokenRequests).toBeGreaterThan(0);
  });

  it('authenticates resumable uploads (large objects) too', async () => {
    const storage = storageFromConfig(parseConfig(gcsConfig(), 'test config'));
    const file = path.join(tmp, 'large');
    fs.writeFileSync(file, crypto.randomBytes(17 << 20)); // over the 16 MiB single-request limit
    const seen = gcs.requests.length;
    expect(await storage.createIfAbsent('blobs/large', { file })).toBe('created');
    const uploads = gcs.requests.slice(seen).filter((r) => r.query.includes('uploadType=resumable'));
    expect(uploads.length).toBeGreaterThan(0);
    expect(uploads.filter((r) => r.status === 401)).toEqual([]);
    expect((await storage.stat('blobs/large'))?.size).toBe(17 << 20);
  });

  it('storage.gcs.anonymous sends no credentials (for emulators): an endpoint that requires them answers 401, the client 503', async () => {
    const proxy = await proxyOn(gcsConfig('    anonymous: true\n'), 'anonymous');
    const seen = gcs.requests.length;
    const res = await fetch(`${proxy.url}/${MODULE}/@v/v1.0.0.info`);
    expect(res.status).toBe(503);
    const requests = gcs.requests.slice(seen);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => r.status === 401 && r.auth === 'none')).toBe(true);
  });

  it('rejects storage.gcs.anonymous without an apiEndpoint', () => {
    expect(() => parseConfig(`storage:\n  gcs:\n    bucket: ${BUCKET}\n    anonymous: true\n`, 'test config')).toThrow(/storage\.gcs\.anonymous/);
  });
});
