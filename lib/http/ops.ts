// Operations endpoints, outside the GOPROXY protocol: /readyz (can this
// replica serve: storage reads and takes writes, configuration secrets are
// loaded). /healthz stays in the handler: a constant, no I/O, for liveness.
import crypto from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { probeKey, PROBES_ROOT } from '../records/layout.js';
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
