// Start-up shared by both entries (functions/server.ts, functions/index.ts):
// the configuration from $MODPROXY_CONFIG, the app, its secrets loaded. A
// start that cannot succeed — invalid configuration, a secret that cannot be
// read, a TLS file that is unusable — ends the process with exit code 1
// after one structured ERROR line that names the problem: no stack trace,
// and no secret value (the messages name sources, never contents).
import { createApp, type App } from '../lib/app.js';
import { loadConfig } from '../lib/config/load.js';
import type { Config } from '../lib/config/schema.js';
import { errorMessage } from '../lib/errors.js';
import { applyOutgoingMinVersion } from '../lib/http/tls.js';
import type { Logger } from '../lib/log/logger.js';

export interface Started {
  config: Config;
  /** Where the configuration came from (a file, inline YAML, the embedded default). */
  source: string;
  app: App;
}

/** The one line a failed start leaves, then exit code 1. */
export function exitOnStartFailure(log: Logger, err: unknown): never {
  log.error(`modproxy cannot start: ${errorMessage(err)}`);
  process.exit(1);
}

/**
 * Loads the configuration, creates the app and waits for its secrets; then
 * `more` (what else the entry needs before it serves). Any failure exits.
 */
export async function start<T>(log: Logger, more: (s: Started) => Promise<T> | T): Promise<Started & { extra: T }> {
  try {
    const { config, source } = loadConfig();
    // Before any connection is made: every TLS context created later takes it.
    applyOutgoingMinVersion(config.tls);
    const app = createApp(config, { log });
    // Fail at start-up, not on the first request, when a secret cannot be loaded.
    await app.ready();
    loadLazyModules();
    const started = { config, source, app };
    return { ...started, extra: await more(started) };
  } catch (err) {
    exitOnStartFailure(log, err);
  }
}

/**
 * Node loads its fetch implementation (undici) on first use: 35–100 ms that
 * would otherwise land on the first request that asks a parent proxy,
 * checksum database or discovery host. Loaded at start-up instead (Cloud Run
 * gives start-up extra CPU); nothing is sent.
 */
function loadLazyModules(): void {
  new Request('http://127.0.0.1/');
}

/** The fields of the "modproxy started" line. */
export function startedFields({ config, source }: Started): Record<string, unknown> {
  return {
    config: source,
    storage: config.storage.fs ? `fs:${config.storage.fs.dir}` : `gcs:${config.storage.gcs?.bucket}`,
    privateModules: config.privateModules.map((m) => m.pathPrefix),
  };
}
