// /metrics (Prometheus text) counts requests by route and status, times them,
// and counts storage calls; request log lines carry the Cloud Trace id.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { startProxy, testConfig, type ProxyFixture } from './support/proxyFixture.js';
import { RepoBuilder } from './support/repoBuilder.js';

const MODULE = 'github.com/met/m';
let tmp: string;
let git: GitHttpServer;
let proxy: ProxyFixture;
let authed: ProxyFixture;
const savedProject = process.env.GOOGLE_CLOUD_PROJECT;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-metrics-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  const repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'met/m');
  await repo.write({ 'go.mod': `module ${MODULE}\n`, 'a.go': 'package m\n' });
  await repo.commit('2020-01-01T00:00:00Z');
  await repo.tag('v1.0.0');
  await repo.publish();
  proxy = await startProxy(testConfig(path.join(tmp, 'proxy'), { 'github.com': git.url }, ['github.com/met']));
  authed = await startProxy(
    testConfig(path.join(tmp, 'authed'), { 'github.com': git.url }, ['github.com/met'], 'clientAuth:\n  enabled: true\n  identities:\n    - name: ops\n      password: ops-password\n  acl:\n    - access: allow\n'),
  );
});

afterAll(async () => {
  if (savedProject === undefined) delete process.env.GOOGLE_CLOUD_PROJECT;
  else process.env.GOOGLE_CLOUD_PROJECT = savedProject;
  await proxy?.close();
  await authed?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The value of one sample line of the exposition text, or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((kv) => l.includes(kv)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

it('counts requests by route and status, times them, and counts storage calls', async () => {
  for (const p of ['@v/v1.0.0.info', '@v/v1.0.0.info', '@v/v1.0.0.mod', '@v/v1.9.9.info', '@v/list']) await (await fetch(`${proxy.url}/${MODULE}/${p}`)).text();
  const r = await fetch(`${proxy.url}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await r.text();
  expect(sample(text, 'modproxy_http_requests_total', 'route="info",status="200"')).toBe(2);
  expect(sample(text, 'modproxy_http_requests_total', 'route="info",status="404"')).toBe(1);
  expect(sample(text, 'modproxy_http_requests_total', 'route="mod",status="200"')).toBe(1);
  expect(sample(text, 'modproxy_http_requests_total', 'route="list",status="200"')).toBe(1);
  expect(sample(text, 'modproxy_http_request_duration_seconds_count', 'route="info"')).toBe(3);
  expect(sample(text, 'modproxy_storage_operations_total', 'op="createIfAbsent",result="ok"')).toBeGreaterThan(0);
  expect(sample(text, 'modproxy_builds_total', 'step="manifest",result="ok"')).toBe(1);
  expect(sample(text, 'modproxy_build_duration_seconds_count', 'step="manifest"')).toBe(1);
  expect(sample(text, 'modproxy_storage_operations_total', 'op="read",result="ok"')).toBeGreaterThan(0);
  expect(sample(text, 'modproxy_storage_operation_duration_seconds_count', 'op="read"')).toBeGreaterThan(0);
});

it('requires credentials for /metrics when clientAuth is on; /healthz and /readyz need none', async () => {
  expect((await fetch(`${authed.url}/metrics`)).status).toBe(401);
  const ok = await fetch(`${authed.url}/metrics`, { headers: { authorization: `Basic ${Buffer.from('ops:ops-password').toString('base64')}` } });
  expect(ok.status).toBe(200);
  expect(await ok.text()).toContain('modproxy_http_requests_total');
  expect((await fetch(`${authed.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${authed.url}/readyz`)).status).toBe(200);
});

it('puts the Cloud Trace id of traceparent or X-Cloud-Trace-Context in request log lines', async () => {
  process.env.GOOGLE_CLOUD_PROJECT = 'my-project';
  const id1 = '4bf92f3577b34da6a3ce929d0e0e4736';
  const id2 = '105445aa7843bc8bf206b12000100000';
  await (await fetch(`${proxy.url}/healthz`, { headers: { traceparent: `00-${id1}-00f067aa0ba902b7-01` } })).text();
  await (await fetch(`${proxy.url}/healthz`, { headers: { 'x-cloud-trace-context': `${id2}/1;o=1` } })).text();
  await (await fetch(`${proxy.url}/healthz`)).text();
  const lines = proxy.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'request').slice(-3);
  expect(lines.map((l) => l['logging.googleapis.com/trace'])).toEqual([`projects/my-project/traces/${id1}`, `projects/my-project/traces/${id2}`, undefined]);
});
