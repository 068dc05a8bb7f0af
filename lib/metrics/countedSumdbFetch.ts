// Counts the requests sent to a checksum database (a decorator at the
// SumdbFetch seam): lookups, tiles (those read to verify lookups and those
// passed through by the /sumdb/ proxy) and tree heads, by result.
import { SumdbHttpStatusError, type SumdbFetch } from '../sumdb/client.js';
import type { ProxyMetrics } from './metrics.js';

export function countedSumdbFetch(metrics: ProxyMetrics, database: string, inner: SumdbFetch): SumdbFetch {
  const child = (kind: string, result: string) => metrics.sumdbFetches.labels(database, kind, result);
  const counters = {
    lookup: { ok: child('lookup', 'ok'), not_found: child('lookup', 'not_found'), error: child('lookup', 'error') },
    tile: { ok: child('tile', 'ok'), not_found: child('tile', 'not_found'), error: child('tile', 'error') },
    latest: { ok: child('latest', 'ok'), not_found: child('latest', 'not_found'), error: child('latest', 'error') },
  };
  return async (path, opts) => {
    const c = path.startsWith('/lookup/') ? counters.lookup : path.startsWith('/tile/') ? counters.tile : counters.latest;
    try {
      const body = await inner(path, opts);
      c.ok.inc();
      return body;
    } catch (err) {
      (err instanceof SumdbHttpStatusError && (err.status === 404 || err.status === 410) ? c.not_found : c.error).inc();
      throw err;
    }
  };
}
