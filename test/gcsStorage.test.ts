// The GCS backend against the storage contract: always through the real
// @google-cloud/storage client against the GCS test double, and also against
// a real bucket in live mode (MODPROXY_TEST_GCS_BUCKET + credentials).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
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

  it('refuses a body changed on the way, up or down (end-to-end MD5)', async () => {
    const { gcs, bucket } = await onDouble();
    // A relay that changes one byte of every body carrying the marker, in both directions.
    const flip = (b: Buffer) => Buffer.from(b.toString('latin1').replaceAll('MARKER-A', 'MARKER-B'), 'latin1');
    const hopByHop = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'content-encoding']);
    const relay = http.createServer(async (req, res) => {
      try {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const upstream = await fetch(gcs.url + req.url, {
          method: req.method,
          headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => !hopByHop.has(k)) as [string, string][]),
          body: req.method === 'GET' || req.method === 'HEAD' ? undefined : flip(Buffer.concat(chunks)),
        });
        const body = flip(Buffer.from(await upstream.arrayBuffer()));
        const headers: Record<string, string> = {};
        upstream.headers.forEach((v, k) => {
          if (!hopByHop.has(k)) headers[k] = v;
        });
        res.writeHead(upstream.status, { ...headers, 'content-length': body.length });
        res.end(body);
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    try {
      const port = (relay.address() as { port: number }).port;
      const viaRelay = new GcsStorage({ bucket, storage: new Storage({ apiEndpoint: `http://127.0.0.1:${port}`, projectId: 'test' }) });
      const direct = new GcsStorage({ bucket, storage: new Storage({ apiEndpoint: gcs.url, projectId: 'test' }) });
      // Down: the object is intact in storage, changed on its way to the reader.
      expect(await direct.createIfAbsent('down', Buffer.from('body MARKER-A body'))).toBe('created');
      await expect(viaRelay.read('down')).rejects.toThrow();
      // Up: the object arrives changed; the writer is told, rather than told it was created.
      await expect(viaRelay.createIfAbsent('up', Buffer.from('body MARKER-A body'))).rejects.toThrow();
      // Bodies the relay leaves alone go through it both ways.
      expect(await viaRelay.createIfAbsent('plain', Buffer.from('plain body'))).toBe('created');
      expect(Buffer.from((await viaRelay.read('plain'))!).toString()).toBe('plain body');
    } finally {
      relay.closeAllConnections();
      await new Promise((r) => relay.close(r));
    }
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
