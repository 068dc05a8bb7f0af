// Operations endpoints, outside the GOPROXY protocol: /readyz (can this
// replica serve: storage reads and takes writes, configuration secrets are
// loaded) and /index (the versions this deployment committed, in commit
// order, as index.golang.org lists proxy.golang.org's). /healthz stays in
// the handler: a constant, no I/O, for liveness.
import crypto from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { indexMonthPrefix, indexStartAfter, parseIndexKey, probeKey, PROBES_ROOT } from '../records/layout.js';
import type { ObjectStorage } from '../storage/storage.js';
import { textReply, type Reply } from './replies.js';

export interface ReadinessOptions {
  storage: ObjectStorage;
  /** Resolves once configuration secrets are loaded and checked (App.ready). */
  ready: () => Promise<void>;
  /** Create-if-absent a probe object (default true); off where the identity may only read. */
  writeProbe: boolean;
  log: Logger;
  now?: () => number;
  /** How long the secrets check may take before readiness says "not yet" (default 5 s). */
  readyWaitMs?: number;
}

/** A readiness check: 200 "ready", or 503 with the first reason it is not. */
export function createReadiness(opts: ReadinessOptions): () => Promise<Reply> {
  const processId = crypto.randomUUID();
  const now = opts.now ?? Date.now;
  // The probe names one object per minute: once created, the minute needs no second write.
  let probedKey: string | undefined;

  async function check(): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const pending = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), opts.readyWaitMs ?? 5000)));
      if ((await Promise.race([opts.ready().then(() => 'ok' as const), pending])) === 'pending') return 'configuration secrets are still loading';
    } catch (err) {
      return `configuration: ${errorMessage(err)}`;
    } finally {
      clearTimeout(timer);
    }
    try {
      await opts.storage.read(`${PROBES_ROOT}readiness`);
    } catch (err) {
      opts.log.warn('readiness: storage read failed', { reason: errorMessage(err) });
      return 'storage: read failed';
    }
    if (opts.writeProbe) {
      const key = probeKey(new Date(now()), processId);
      if (key !== probedKey) {
        try {
          await opts.storage.createIfAbsent(key, Buffer.from(`${new Date(now()).toISOString()}\n`), { contentType: 'text/plain' });
          probedKey = key;
        } catch (err) {
          opts.log.warn('readiness: storage write probe failed', { key, reason: errorMessage(err) });
          return 'storage: write probe failed';
        }
      }
    }
    return undefined;
  }

  return async () => {
    const reason = await check();
    // The reason names the failing part only; details (which may name buckets) stay in the log.
    return reason ? textReply(503, `not ready: ${reason}`, { 'retry-after': '5' }) : textReply(200, 'ready');
  };
}

/** index.golang.org's page size: the default and the largest limit. */
export const INDEX_MAX_LIMIT = 2000;
/** No index entry is older than the code that writes them (entries carry the commit's own time). */
const INDEX_FIRST_MONTH = '2026-01';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

export interface IndexOptions {
  storage: ObjectStorage;
  now?: () => number;
}

function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/**
 * `GET /index?since=<RFC3339>&limit=<n>`: newline-delimited JSON
 * {Path, Version, Timestamp} of committed versions, oldest first, from
 * `since` (inclusive), at most `limit` (default and maximum 2000), only
 * modules the requester may read. Entries are listed month by month, so one
 * storage listing is bounded by a month's commits.
 */
export function createIndex(opts: IndexOptions) {
  const now = opts.now ?? Date.now;
  return async (query: string, may: (modPath: string) => Promise<boolean>): Promise<Reply> => {
    const params = new URLSearchParams(query);
    const sinceText = params.get('since');
    let since = new Date(0);
    if (sinceText !== null && sinceText !== '') {
      const ms = Date.parse(sinceText);
      if (!RFC3339.test(sinceText) || Number.isNaN(ms)) return textReply(400, 'bad request: since must be an RFC 3339 time such as 2019-04-10T19:08:52.997264Z');
      since = new Date(ms);
    }
    let limit = INDEX_MAX_LIMIT;
    const limitText = params.get('limit');
    if (limitText !== null && limitText !== '') {
      if (!/^\d{1,9}$/.test(limitText) || Number(limitText) < 1) return textReply(400, `bad request: limit must be an integer from 1 to ${INDEX_MAX_LIMIT}`);
      limit = Math.min(Number(limitText), INDEX_MAX_LIMIT);
    }
    const sinceIso = since.toISOString();
    const lastMonth = new Date(now()).toISOString().slice(0, 7);
    let month = sinceIso.slice(0, 7) < INDEX_FIRST_MONTH ? INDEX_FIRST_MONTH : sinceIso.slice(0, 7);
    const lines: string[] = [];
    for (; month <= lastMonth && lines.length < limit; month = nextMonth(month)) {
      const startAfter = month === sinceIso.slice(0, 7) ? indexStartAfter(since) : undefined;
      for (const key of await opts.storage.list(indexMonthPrefix(month), { startAfter })) {
        const e = parseIndexKey(key);
        if (!e || e.timestamp < sinceIso || !(await may(e.path))) continue;
        lines.push(JSON.stringify({ Path: e.path, Version: e.version, Timestamp: e.timestamp }));
        if (lines.length >= limit) break;
      }
    }
    return {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: lines.map((l) => l + '\n').join(''),
    };
  };
}
