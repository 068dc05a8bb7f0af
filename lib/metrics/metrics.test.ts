import { expect, it } from 'vitest';
import { ChildCache, noteOutcome, ProxyMetrics, type RequestNote } from './metrics.js';

it('binds a label child once per combination of values', () => {
  const bound: string[][] = [];
  const cache = new ChildCache((values) => {
    bound.push(values);
    return { values };
  });
  const x = cache.get('info', 200, 'memory');
  expect(cache.get('info', 200, 'memory')).toBe(x);
  expect(cache.get('info', 404, 'memory')).not.toBe(x);
  expect(cache.get('zip', 200)).toBe(cache.get('zip', 200));
  expect(bound).toEqual([
    ['info', '200', 'memory'],
    ['info', '404', 'memory'],
    ['zip', '200', ''],
  ]);
});

it('counts requests by route, status and outcome through bound children', async () => {
  const m = new ProxyMetrics();
  m.observeRequest('info', 200, 'memory', 0.001);
  m.observeRequest('info', 200, 'memory', 0.002);
  m.observeRequest('zip', 200, 'build', 3);
  const text = (await m.scrape()).body;
  expect(text).toContain('modproxy_http_requests_total{route="info",status="200",outcome="memory"} 2');
  expect(text).toContain('modproxy_http_requests_total{route="zip",status="200",outcome="build"} 1');
  expect(text).toContain('modproxy_http_request_duration_seconds_count{route="info",outcome="memory"} 2');
});

it('keeps the dearest outcome a request reached', () => {
  const note: RequestNote = {};
  noteOutcome(note, 'storage');
  noteOutcome(note, 'memory');
  expect(note.outcome).toBe('storage');
  noteOutcome(note, 'build');
  noteOutcome(note, 'source');
  expect(note.outcome).toBe('build');
  noteOutcome(undefined, 'parent');
});
