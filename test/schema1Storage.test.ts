// Records written by earlier code stay readable: test/fixtures/schema1-storage
// was committed by the code at b3c21ea (schema 1, git-shaped sources; see
// test/fixtures/make-schema1-storage.ts). Served from a copy of it, with no
// git server reachable, every answer is byte for byte what that code served.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';

const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');
const answers = JSON.parse(fs.readFileSync(path.join(fixtures, 'schema1-answers.json'), 'utf8')) as Record<string, { status: number; sha256: string }>;

let tmp: string;
let proxy: ProxyFixture;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-schema1-'));
  fs.cpSync(path.join(fixtures, 'schema1-storage'), path.join(tmp, 'proxy', 'storage'), { recursive: true });
  // A port nothing listens on: any attempt to reach git fails.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  proxy = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': `http://127.0.0.1:${port}` }, ['github.com/o']));
});

afterAll(async () => {
  await proxy?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

it('serves records of schema 1 exactly as the code that wrote them did', async () => {
  expect(Object.keys(answers).length).toBe(12);
  for (const [p, want] of Object.entries(answers)) {
    const r = await fetch(proxy.url + p);
    const body = Buffer.from(await r.arrayBuffer());
    expect({ p, status: r.status, sha256: crypto.createHash('sha256').update(body).digest('hex') }).toEqual({ p, status: want.status, sha256: want.sha256 });
  }
});
