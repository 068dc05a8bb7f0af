// The Cloud Monitoring push against the timeSeries.create double
// (test/support/cloudMonitoringDouble.ts): the request shape of each metric
// kind, batches of at most 200 series, points moving forward, failures
// logged once per push without the token.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../log/logger.js';
import { startCloudMonitoringDouble, type CloudMonitoringDouble } from '../../test/support/cloudMonitoringDouble.js';
import { CloudMonitoringExporter } from './cloudMonitoring.js';

const TOKEN = 'ya29.test-token-never-logged';
let double: CloudMonitoringDouble;

beforeAll(async () => {
  double = await startCloudMonitoringDouble({ accessTokens: [TOKEN] });
});
afterAll(async () => {
  await double?.close();
});

function exporter(registry: Registry, logs: string[], clock: { t: number }, project = 'my-project') {
  return new CloudMonitoringExporter({
    registry,
    credentials: { accessToken: async () => TOKEN, projectId: async () => project },
    log: createLogger({ write: (l) => logs.push(l), minSeverity: 'DEBUG' }),
    location: 'europe-west1',
    namespace: 'svc',
    job: 'svc-00001',
    taskId: 'instance-1',
    intervalMs: 60_000,
    endpoint: double.url,
    now: () => clock.t,
  });
}

it('writes counters as CUMULATIVE, gauges as GAUGE, histograms as DISTRIBUTION with explicit buckets', async () => {
  const registry = new Registry();
  const c = new Counter({ name: 'modproxy_things_total', help: 'h', labelNames: ['kind'], registers: [registry] });
  const g = new Gauge({ name: 'modproxy_level', help: 'h', registers: [registry] });
  const h = new Histogram({ name: 'modproxy_wait_seconds', help: 'h', labelNames: ['step'], buckets: [1, 2], registers: [registry] });
  c.inc({ kind: 'a' }, 3);
  g.set(7);
  for (const v of [0.5, 1.5, 3]) h.observe({ step: 'zip' }, v);
  const clock = { t: Date.parse('2026-01-01T00:00:00Z') };
  const logs: string[] = [];
  const e = exporter(registry, logs, clock, 'cm-project-1');
  clock.t += 60_000;
  const before = double.calls.length;
  await e.push();
  const calls = double.calls.slice(before);
  expect(calls.map((x) => [x.status, x.error])).toEqual([[200, undefined]]);
  expect(calls[0].project).toBe('cm-project-1');
  const points = double.points.filter((p) => p.resource.labels.project_id === 'cm-project-1');
  const byType = (t: string) => points.filter((p) => p.metric.type === `custom.googleapis.com/modproxy/${t}`);
  const resource = { type: 'generic_task', labels: { project_id: 'cm-project-1', location: 'europe-west1', namespace: 'svc', job: 'svc-00001', task_id: 'instance-1' } };
  expect(byType('things_total')).toEqual([
    {
      metric: { type: 'custom.googleapis.com/modproxy/things_total', labels: { kind: 'a' } },
      resource,
      metricKind: 'CUMULATIVE',
      valueType: 'DOUBLE',
      point: { interval: { startTime: '2026-01-01T00:00:00.000Z', endTime: '2026-01-01T00:01:00.000Z' }, value: { doubleValue: 3 } },
    },
  ]);
  expect(byType('level')).toEqual([
    { metric: { type: 'custom.googleapis.com/modproxy/level', labels: {} }, resource, metricKind: 'GAUGE', valueType: 'DOUBLE', point: { interval: { endTime: '2026-01-01T00:01:00.000Z' }, value: { doubleValue: 7 } } },
  ]);
  expect(byType('wait_seconds')).toEqual([
    {
      metric: { type: 'custom.googleapis.com/modproxy/wait_seconds', labels: { step: 'zip' } },
      resource,
      metricKind: 'CUMULATIVE',
      valueType: 'DISTRIBUTION',
      point: {
        interval: { startTime: '2026-01-01T00:00:00.000Z', endTime: '2026-01-01T00:01:00.000Z' },
        // (-inf,1): 0.5; [1,2): 1.5; [2,+inf): 3.
        value: { distributionValue: { count: '3', mean: 5 / 3, bucketOptions: { explicitBuckets: { bounds: [1, 2] } }, bucketCounts: ['1', '1', '1'] } },
      },
    },
  ]);
  // The next push: later points, larger cumulative values; the double accepts them in order.
  c.inc({ kind: 'a' });
  clock.t += 60_000;
  await e.push();
  expect(double.calls.at(-1)!.status).toBe(200);
  expect(byType('things_total').length).toBe(1);
  expect(double.points.filter((p) => p.resource.labels.project_id === 'cm-project-1' && p.metric.type.endsWith('/things_total')).map((p) => p.point.value)).toEqual([{ doubleValue: 3 }, { doubleValue: 4 }]);
  expect(logs.filter((l) => l.includes('Cloud Monitoring'))).toEqual([]);
});

it('sends at most 200 series per call', async () => {
  const registry = new Registry();
  const c = new Counter({ name: 'modproxy_many_total', help: 'h', labelNames: ['n'], registers: [registry] });
  for (let i = 0; i < 450; i++) c.inc({ n: String(i) });
  const clock = { t: Date.now() };
  const e = exporter(registry, [], clock, 'cm-project-2');
  clock.t += 10_000;
  const before = double.calls.length;
  await e.push();
  const calls = double.calls.slice(before);
  expect(calls.map((x) => [x.status, x.series])).toEqual([
    [200, 200],
    [200, 200],
    [200, 50],
  ]);
  expect(new Set(double.points.filter((p) => p.resource.labels.project_id === 'cm-project-2').map((p) => p.metric.labels.n)).size).toBe(450);
});

it('logs a failed push once, with the API message and without the token, and tries again next time', async () => {
  const registry = new Registry();
  const c = new Counter({ name: 'modproxy_many_total', help: 'h', labelNames: ['n'], registers: [registry] });
  for (let i = 0; i < 250; i++) c.inc({ n: String(i) });
  const clock = { t: Date.now() };
  const logs: string[] = [];
  const e = exporter(registry, logs, clock, 'cm-project-3');
  double.fail(403, 'Permission monitoring.timeSeries.create denied (or the resource may not exist).');
  try {
    clock.t += 10_000;
    await e.push();
  } finally {
    double.fail(undefined);
  }
  const lines = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.message).startsWith('Cloud Monitoring export failed'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ severity: 'WARNING', failedCalls: 2, calls: 2, series: 250, reason: 'HTTP 403: PERMISSION_DENIED: Permission monitoring.timeSeries.create denied (or the resource may not exist).' });
  expect(logs.join('\n')).not.toContain(TOKEN);
  clock.t += 10_000;
  await e.push();
  expect(double.calls.slice(-2).map((x) => x.status)).toEqual([200, 200]);
});

it('a push that cannot get credentials is logged, not thrown', async () => {
  const logs: string[] = [];
  const e = new CloudMonitoringExporter({
    registry: new Registry(),
    credentials: { accessToken: async () => Promise.reject(new Error('Could not load the default credentials')), projectId: async () => 'p-1234' },
    log: createLogger({ write: (l) => logs.push(l), minSeverity: 'DEBUG' }),
    location: 'us-central1',
    intervalMs: 60_000,
    endpoint: double.url,
  });
  await e.push();
  expect(logs.map((l) => JSON.parse(l) as { message: string; reason: string })).toEqual([
    expect.objectContaining({ message: 'Cloud Monitoring export failed: no credentials or project', reason: 'Could not load the default credentials' }),
  ]);
});
