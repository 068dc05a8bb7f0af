// metrics.cloudMonitoring: a real modproxy process on each storage backend
// pushes its /metrics registry to the timeSeries.create double with the
// access token of the metadata server (as on Cloud Run), the project and
// region it reports, and keeps serving while the API refuses its writes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEntry, tsxEntry } from './support/entryProcess.js';
import { startCloudMonitoringDouble, type CloudMonitoringDouble } from './support/cloudMonitoringDouble.js';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { startMetadataServer, type MetadataServer } from './support/metadataServer.js';
import { startProxyProcess, type ProxyProcess } from './support/proxyProcess.js';
import { replicaConfig, storageUnderTest, type Backend, type StorageUnderTest } from './support/replicas.js';
import { RepoBuilder } from './support/repoBuilder.js';

const MODULE = 'github.com/cm/m';
const TOKEN = 'ya29.metadata-token-for-monitoring';
let tmp: string;
let git: GitHttpServer;
let metadata: MetadataServer;
let monitoring: CloudMonitoringDouble;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-cm-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  const repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), 'cm/m');
  await repo.write({ 'go.mod': `module ${MODULE}\n`, 'a.go': 'package m\n' });
  await repo.commit('2020-01-01T00:00:00Z');
  await repo.tag('v1.0.0');
  await repo.publish();
  metadata = await startMetadataServer({ email: 'modproxy@cm-project.iam.gserviceaccount.com', accessToken: TOKEN, projectId: 'cm-project', region: 'europe-west4' });
  monitoring = await startCloudMonitoringDouble({ accessTokens: [TOKEN] });
});

afterAll(async () => {
  await monitoring?.close();
  await metadata?.close();
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Waits (bounded by the test's timeout) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 100));
}

describe.each<Backend>(['fs', 'gcs'])('on %s storage', (backend) => {
  let sut: StorageUnderTest;
  let proxy: ProxyProcess;
  const env = (service = `modproxy-${backend}`) => ({
    ...sut.env,
    // Credentials and project from the metadata server, as on Cloud Run (the GCS double needs none).
    GOOGLE_APPLICATION_CREDENTIALS: '',
    GOOGLE_CLOUD_PROJECT: '',
    GCE_METADATA_HOST: metadata.host,
    METADATA_SERVER_DETECTION: 'assume-present',
    K_SERVICE: service,
    K_REVISION: `${service}-00001-abc`,
  });

  beforeAll(async () => {
    sut = await storageUnderTest(backend, path.join(tmp, backend));
    const config = replicaConfig(sut, path.join(tmp, backend, 'git'), git.url, ['github.com/cm'], `metrics:\n  cloudMonitoring:\n    enabled: true\n    intervalSeconds: 5\n    apiEndpoint: "${monitoring.url}"\n`);
    proxy = await startProxyProcess(config, env());
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await sut?.close();
  });

  it('pushes requests, latency histograms and gauges as generic_task series of this instance', { timeout: 60_000 }, async () => {
    const start = monitoring.calls.length;
    expect((await fetch(`${proxy.url}/${MODULE}/@v/v1.0.0.info`)).status).toBe(200);
    const ns = `modproxy-${backend}`;
    const mine = () => monitoring.points.filter((p) => p.resource.labels.namespace === ns);
    const built = () => mine().filter((p) => p.metric.type === 'custom.googleapis.com/modproxy/http_requests_total' && p.metric.labels.outcome === 'build');
    await until(() => built().length >= 2);
    const calls = monitoring.calls.slice(start);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.project === 'cm-project' && c.series <= 200)).toBe(true);
    expect(calls.filter((c) => c.status !== 200)).toEqual([]);
    const [first] = built();
    expect(first.resource.labels).toMatchObject({ project_id: 'cm-project', location: 'europe-west4', namespace: ns, job: `modproxy-${backend}-00001-abc` });
    expect(first).toMatchObject({ metric: { labels: { route: 'info', status: '200', outcome: 'build' } }, metricKind: 'CUMULATIVE', valueType: 'DOUBLE', point: { value: { doubleValue: 1 } } });
    const latency = mine().find((p) => p.metric.type === 'custom.googleapis.com/modproxy/http_request_duration_seconds' && p.metric.labels.outcome === 'build')!;
    expect(latency).toMatchObject({ metricKind: 'CUMULATIVE', valueType: 'DISTRIBUTION', point: { value: { distributionValue: { count: '1' } } } });
    const cache = mine().find((p) => p.metric.type === 'custom.googleapis.com/modproxy/memory_cache_limit_bytes')!;
    expect(cache).toMatchObject({ metricKind: 'GAUGE', valueType: 'DOUBLE', point: { value: { doubleValue: 64 << 20 } } });
    expect(mine().some((p) => p.metric.type === 'custom.googleapis.com/modproxy/git_fetched_bytes_total' && (p.point.value.doubleValue as number) > 0)).toBe(true);
    expect(metadata.tokenRequests).toBeGreaterThan(0);
  });

  it('keeps serving while the API refuses writes, and logs each failed push once without the token', { timeout: 60_000 }, async () => {
    const before = monitoring.calls.length;
    monitoring.fail(403, 'Permission monitoring.timeSeries.create denied (or the resource may not exist).');
    try {
      await until(() => monitoring.calls.slice(before).some((c) => c.status === 403));
      expect((await fetch(`${proxy.url}/${MODULE}/@v/v1.0.0.info`)).status).toBe(200);
      await until(() => proxy.output().includes('Cloud Monitoring export failed'));
    } finally {
      monitoring.fail(undefined);
    }
    const lines = proxy.output().split('\n').filter((l) => l.includes('Cloud Monitoring export failed'));
    const failedCalls = monitoring.calls.slice(before).filter((c) => c.status === 403 && c.authorization === `Bearer ${TOKEN}`).length;
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(failedCalls);
    expect(JSON.parse(lines[0])).toMatchObject({ severity: 'WARNING', project: 'cm-project', reason: expect.stringContaining('PERMISSION_DENIED') });
    expect(proxy.output()).not.toContain(TOKEN);
  });

  it('pushes the last counts when the server entry gets SIGTERM', { timeout: 60_000 }, async () => {
    // An interval no test waits for: the only push is the one at shutdown.
    const config = replicaConfig(sut, path.join(tmp, backend, 'git-entry'), git.url, ['github.com/cm'], `metrics:\n  cloudMonitoring:\n    enabled: true\n    intervalSeconds: 3600\n    apiEndpoint: "${monitoring.url}"\n`);
    const service = `modproxy-entry-${backend}`;
    const entry = tsxEntry('functions/server.ts');
    const p = startEntry(entry.command, entry.args, { PORT: '0', MODPROXY_CONFIG: config, ...env(service) });
    try {
      const started = await p.waitForLine((l) => l.message === 'modproxy started');
      const url = `http://127.0.0.1:${started.port as number}`;
      expect((await fetch(`${url}/${MODULE}/@v/v1.0.0.info`)).status).toBe(200);
      expect(monitoring.points.filter((x) => x.resource.labels.namespace === service)).toEqual([]);
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    } finally {
      p.kill();
    }
    const pushed = monitoring.points.filter((x) => x.resource.labels.namespace === service && x.metric.type === 'custom.googleapis.com/modproxy/http_requests_total');
    // Built by this process, or read from storage when the tests above built it first.
    expect(pushed.filter((x) => x.metric.labels.route === 'info' && x.metric.labels.status === '200').map((x) => x.point.value.doubleValue)).toEqual([1]);
  });
});
