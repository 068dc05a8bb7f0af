import { Counter, Histogram, Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { RequestTally } from './requestTally.js';

const buckets = [0.005, 0.01, 0.1, 1, 10];
const observations: Array<[string, number, string, number]> = [
  ['mod', 200, 'memory', 0.0001],
  ['mod', 200, 'memory', 0.005],
  ['mod', 200, 'storage', 0.02],
  ['zip', 200, 'build', 2.5],
  ['zip', 502, 'build', 30],
  ['info', 404, 'none', 0.1],
  ['mod', 304, 'memory', 0.01],
];

/** The same observations through prom-client's own Counter and Histogram: the reference. */
async function reference(): Promise<{ text: string; json: unknown }> {
  const registry = new Registry();
  const c = new Counter({ name: 'req_total', help: 'h', labelNames: ['route', 'status', 'outcome'], registers: [registry] });
  const h = new Histogram({ name: 'req_seconds', help: 'h', labelNames: ['route', 'outcome'], buckets, registers: [registry] });
  for (const [route, status, outcome, s] of observations) {
    c.inc({ route, status: String(status), outcome });
    h.observe({ route, outcome }, s);
  }
  return { text: await registry.metrics(), json: await registry.getMetricsAsJSON() };
}

it("exposes exactly what prom-client's Counter and Histogram expose for the same requests (text and JSON)", async () => {
  const registry = new Registry();
  const tally = new RequestTally({ registry, counter: { name: 'req_total', help: 'h' }, histogram: { name: 'req_seconds', help: 'h', buckets } });
  for (const [route, status, outcome, s] of observations) tally.record(route, status, outcome, s);
  const ref = await reference();
  const sorted = (t: string) => t.split('\n').sort().join('\n');
  expect(sorted(await registry.metrics())).toBe(sorted(ref.text));
  const normalize = (j: unknown) => JSON.parse(JSON.stringify(j, (_k, v: unknown) => (v === null ? undefined : v)));
  const byName = (j: Array<{ name: string; values: Array<{ metricName?: string; labels: object; value: number }> }>) =>
    Object.fromEntries(j.map((m) => [m.name, m.values.map((v) => JSON.stringify([v.metricName ?? m.name, v.labels, v.value])).sort()]));
  expect(byName(normalize(await registry.getMetricsAsJSON()))).toEqual(byName(normalize(ref.json)));
});

it('starts again from zero when the registry is reset', async () => {
  const registry = new Registry();
  const tally = new RequestTally({ registry, counter: { name: 'req_total', help: 'h' }, histogram: { name: 'req_seconds', help: 'h', buckets } });
  tally.record('mod', 200, 'memory', 0.001);
  registry.resetMetrics();
  tally.record('mod', 200, 'memory', 0.001);
  const text = await registry.metrics();
  expect(text).toContain('req_total{route="mod",status="200",outcome="memory"} 1');
  expect(text).toContain('req_seconds_count{route="mod",outcome="memory"} 1');
});
