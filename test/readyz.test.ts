// /readyz: 200 when storage reads and takes a probe write and configuration
// secrets are loaded; 503 with the reason otherwise. /healthz: constant, no I/O.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGcsDouble, type GcsDouble } from './support/gcsDouble.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';

const BUCKET = 'ready-bucket';
let tmp: string;
let gcs: GcsDouble;
let onFs: ProxyFixture;
let onGcs: ProxyFixture;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-readyz-'));
  gcs = await startGcsDouble();
  gcs.createBucket(BUCKET);
  const base = testConfig(path.join(tmp, 'proxy'), { 'github.com': 'http://127.0.0.1:9' }, ['github.com/ready']);
  onFs = await startProxy(base);
  const storage = `storage:\n  gcs:\n    bucket: ${BUCKET}\n    apiEndpoint: "${gcs.url}"\n    anonymous: true\n    requestBudgetSeconds: 2\n`;
  onGcs = await startProxy(base.replace(/^storage:\n {2}fs:\n.*\n/, storage), { tmpDir: path.join(tmp, 'spool') });
});

afterAll(async () => {
  await onFs?.close();
  await onGcs?.close();
  await gcs?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const get = async (proxy: ProxyFixture, p: string) => {
  const r = await fetch(proxy.url + p);
  return { status: r.status, text: await r.text() };
};

it('is ready on healthy fs storage, having written one probe object under probes/', async () => {
  expect(await get(onFs, '/readyz')).toEqual({ status: 200, text: 'ready\n' });
  const probes = path.join(tmp, 'proxy', 'storage', 'probes');
  const days = fs.readdirSync(probes);
  expect(days).toHaveLength(1);
  expect(days[0]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  expect(fs.readdirSync(path.join(probes, days[0]))[0]).toMatch(/^\d{4}-[0-9a-f-]{36}$/);
});

it('is not ready (503, with the reason) while storage fails, and ready again once it recovers', { timeout: 60_000 }, async () => {
  expect((await get(onGcs, '/readyz')).status).toBe(200);
  expect([...gcs.objects(BUCKET).keys()].some((k) => k.startsWith('probes/'))).toBe(true);
  gcs.setFaults({ rate: 1, kinds: [503] });
  try {
    const r = await get(onGcs, '/readyz');
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/^not ready: storage: /);
    const seen = gcs.requests.length;
    expect(await get(onGcs, '/healthz'), 'liveness does no I/O').toEqual({ status: 200, text: 'ok\n' });
    expect(gcs.requests.length).toBe(seen);
  } finally {
    gcs.setFaults(undefined);
  }
  expect((await get(onGcs, '/readyz')).status).toBe(200);
});

it('is not ready when only writes fail', { timeout: 60_000 }, async () => {
  // A new minute's probe is needed to see a write fail: a fresh proxy has none.
  const p = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': 'http://127.0.0.1:9' }, ['github.com/ready']).replace(/^storage:\n {2}fs:\n.*\n/, `storage:\n  gcs:\n    bucket: ${BUCKET}\n    apiEndpoint: "${gcs.url}"\n    anonymous: true\n    requestBudgetSeconds: 2\n`));
  gcs.setFaults({ rate: 1, kinds: [503], match: /^POST / });
  try {
    expect(await get(p, '/readyz')).toEqual({ status: 503, text: 'not ready: storage: write probe failed\n' });
  } finally {
    gcs.setFaults(undefined);
    await p.close();
  }
});
