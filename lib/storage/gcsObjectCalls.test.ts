// The cold path's GCS reads and creates on node:http, against the GCS double,
// with the settings of a real @google-cloud/storage client.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { IdempotencyStrategy, Storage, type StorageOptions } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectProxy } from '../../test/support/connectProxy.js';
import { startGcsDouble, type GcsDouble } from '../../test/support/gcsDouble.js';
import { GcsCallError, GcsObjectCalls } from './gcsObjectCalls.js';
import { defaultClientOptions } from './gcsStorage.js';

let gcs: GcsDouble;
let n = 0;

beforeAll(async () => {
  gcs = await startGcsDouble();
});
afterAll(async () => {
  await gcs?.close();
});

/**
 * Calls on a fresh bucket, with a client built from `options`. The waits between attempts are recorded and
 * move a clock of their own instead of being slept.
 */
function callsOn(options: StorageOptions = {}, env: NodeJS.ProcessEnv = {}): { calls: GcsObjectCalls; bucket: string; waits: number[] } {
  const bucket = `calls-${++n}`;
  gcs.createBucket(bucket);
  const waits: number[] = [];
  let clock = 0;
  const storage = new Storage({ apiEndpoint: gcs.url, projectId: 'test', ...options });
  const calls = new GcsObjectCalls({
    settings: storage,
    bucket,
    env,
    random: () => 0.5,
    now: () => clock,
    sleep: async (ms) => {
      waits.push(ms);
      clock += ms;
    },
  });
  return { calls, bucket, waits };
}

const META = { contentType: 'application/json', cacheControl: 'private, max-age=31536000, immutable' };

describe('GcsObjectCalls', () => {
  it('creates an object once (412 is "exists"), reads it back whole, and reads an absent one as null: one request each', async () => {
    const { calls, bucket } = callsOn();
    const name = 'github.com/!acme/lib/@v/v1.0.0+incompatible/manifest';
    const seen = gcs.requests.length;
    expect(await calls.createIfAbsent(name, Buffer.from('{"first":true}'), META)).toBe('created');
    expect(await calls.createIfAbsent(name, Buffer.from('{"second":true}'), META)).toBe('exists');
    expect((await calls.download(name))?.toString()).toBe('{"first":true}');
    expect(await calls.download(`${name}-absent`)).toBeNull();
    const escaped = encodeURIComponent(name);
    expect(gcs.requests.slice(seen).map((r) => `${r.method} ${r.path}?${r.query} ${r.status}`)).toEqual([
      `POST /upload/storage/v1/b/${bucket}/o?uploadType=multipart&ifGenerationMatch=0 200`,
      `POST /upload/storage/v1/b/${bucket}/o?uploadType=multipart&ifGenerationMatch=0 412`,
      `GET /storage/v1/b/${bucket}/o/${escaped}?alt=media 200`,
      `GET /storage/v1/b/${bucket}/o/${escaped}-absent?alt=media 404`,
    ]);
    const stored = gcs.objects(bucket).get(name)!;
    expect(stored.contentType).toBe('application/json');
    expect((stored as typeof stored & { cacheControl?: string }).cacheControl).toBe(META.cacheControl);
  });

  // (A body changed on the way, up or down, is refused: test/gcsStorage.test.ts, through a relay.)
  it('creates a larger body in one request, byte for byte', async () => {
    const { calls, bucket } = callsOn();
    const data = Buffer.alloc(300 << 10, 7);
    expect(await calls.createIfAbsent('blob', data, META)).toBe('created');
    expect(gcs.objects(bucket).get('blob')!.data.equals(data)).toBe(true);
  });

  it('retries 503s with the library back-off (multiplier^n s plus jitter, capped), then fails with the status', async () => {
    const { calls, waits } = callsOn({ retryOptions: { maxRetries: 3, retryDelayMultiplier: 3, maxRetryDelay: 5 } });
    gcs.setFaults({ rate: 1, kinds: [503] });
    try {
      const seen = gcs.requests.length;
      const failure = await calls.createIfAbsent('x', Buffer.from('x'), META).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(GcsCallError);
      expect((failure as GcsCallError).code).toBe(503);
      expect(gcs.requests.length - seen).toBe(4);
      // 3^0 s + 0.5 s of jitter, 3^1 s + 0.5 s, then the 5 s cap.
      expect(waits).toEqual([1500, 3500, 5000]);
    } finally {
      gcs.setFaults(undefined);
    }
  });

  it('gets through once a fault passes, and does not retry what retryableErrorFn refuses', async () => {
    const { calls } = callsOn({ retryOptions: { maxRetries: 5 } });
    gcs.setFaults({ rate: 0.5, kinds: [429, 503], seed: 11 });
    try {
      for (let i = 0; i < 10; i++) expect(await calls.createIfAbsent(`k${i}`, Buffer.from(`v${i}`), META)).toBe('created');
      for (let i = 0; i < 10; i++) expect((await calls.download(`k${i}`))?.toString()).toBe(`v${i}`);
    } finally {
      gcs.setFaults(undefined);
    }
    const { calls: strict } = callsOn({ retryOptions: { maxRetries: 5, retryableErrorFn: () => false } });
    gcs.setFaults({ rate: 1, kinds: [503] });
    try {
      const seen = gcs.requests.length;
      await expect(strict.download('k0')).rejects.toMatchObject({ code: 503 });
      expect(gcs.requests.length - seen).toBe(1);
    } finally {
      gcs.setFaults(undefined);
    }
  });

  it('retries nothing with autoRetry off or IdempotencyStrategy.RetryNever', async () => {
    const off = callsOn({ retryOptions: { autoRetry: false, maxRetries: 5 } });
    const never = callsOn({ retryOptions: { idempotencyStrategy: IdempotencyStrategy.RetryNever, maxRetries: 5 } });
    gcs.setFaults({ rate: 1, kinds: [503] });
    try {
      for (const { calls, waits } of [off, never]) {
        const seen = gcs.requests.length;
        await expect(calls.createIfAbsent('x', Buffer.from('x'), META)).rejects.toMatchObject({ code: 503 });
        expect(gcs.requests.length - seen).toBe(1);
        expect(waits).toEqual([]);
      }
    } finally {
      gcs.setFaults(undefined);
    }
  });

  it('gives each attempt the client timeout: a storage that never answers ends in a timeout error, after the retries', async () => {
    // modproxy's client options (which retry timeouts, unlike the library's default), with a short timeout.
    const ours = defaultClientOptions();
    const { calls, waits } = callsOn({ ...ours, timeout: 200, retryOptions: { ...ours.retryOptions, maxRetries: 1 } });
    gcs.setFaults({ rate: 1, kinds: ['timeout'] });
    try {
      const started = performance.now();
      await expect(calls.download('anything')).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      expect(waits).toEqual([1500]);
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      gcs.setFaults(undefined);
    }
  });

  it('stops retrying when totalTimeout leaves no time for the next wait', async () => {
    const { calls, waits } = callsOn({ retryOptions: { maxRetries: 5, totalTimeout: 1 } });
    gcs.setFaults({ rate: 1, kinds: [503] });
    try {
      const seen = gcs.requests.length;
      await expect(calls.download('anything')).rejects.toMatchObject({ code: 503 });
      // The first wait (1.5 s) is cut to the 1 s left; after it nothing is left.
      expect(waits).toEqual([1000]);
      expect(gcs.requests.length - seen).toBe(2);
    } finally {
      gcs.setFaults(undefined);
    }
  });

  it('sends a create again at once when its pooled connection was closed by the server, not after a back-off', async () => {
    // In front of the double: a relay that drops its first connection when a second request arrives on it.
    const connections = new WeakMap<Socket, { n: number; requests: number }>();
    let opened = 0;
    const front = http.createServer((req, res) => {
      const conn = connections.get(req.socket) ?? { n: ++opened, requests: 0 };
      connections.set(req.socket, conn);
      if (conn.n === 1 && ++conn.requests === 2) return void req.socket.destroy();
      const target = new URL(gcs.url);
      const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    try {
      const { calls, bucket, waits } = callsOn({ apiEndpoint: `http://127.0.0.1:${(front.address() as AddressInfo).port}` });
      expect(await calls.createIfAbsent('first', Buffer.from('1'), META)).toBe('created');
      expect(await calls.createIfAbsent('second', Buffer.alloc(64 << 10, 2), META)).toBe('created');
      expect(waits).toEqual([]);
      expect(opened).toBe(2);
      expect(gcs.objects(bucket).get('second')!.data.length).toBe(64 << 10);
    } finally {
      front.closeAllConnections();
      await new Promise((r) => front.close(r));
    }
  });

  it('goes through the environment’s proxy, as the library does', async () => {
    const relay = await startConnectProxy({ [`storage.example.test:${new URL(gcs.url).port}`]: Number(new URL(gcs.url).port) });
    try {
      const apiEndpoint = `http://storage.example.test:${new URL(gcs.url).port}`;
      const { calls, bucket } = callsOn({ apiEndpoint }, { HTTP_PROXY: relay.url });
      expect(await calls.createIfAbsent('via-proxy', Buffer.from('p'), META)).toBe('created');
      expect((await calls.download('via-proxy'))?.toString()).toBe('p');
      expect(relay.relayed).toEqual([`${apiEndpoint}/upload/storage/v1/b/${bucket}/o?uploadType=multipart&ifGenerationMatch=0`, `${apiEndpoint}/storage/v1/b/${bucket}/o/via-proxy?alt=media`]);
    } finally {
      await relay.close();
    }
  });
});
