// The app `modproxy-admin prefetch` and `import` commit through: the server's
// own wiring (createApp) from the server's configuration, on the same storage,
// so that versions are verified and committed exactly as a request would
// commit them. Log lines (warnings and worse) go to stderr, one JSON per line,
// leaving stdout to the command's results.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, type App, type AppDeps } from '../../app.js';
import type { Config } from '../../config/schema.js';
import { createLogger } from '../../log/logger.js';
import type { ObjectStorage } from '../../storage/storage.js';
import type { AdminIo } from '../modproxyAdmin.js';

export interface AdminApp {
  app: App;
  /** Waits for background commits, then removes the scratch directory. */
  close(): Promise<void>;
}

export function createAdminApp(config: Config, storage: ObjectStorage, io: AdminIo, deps: AppDeps = {}): AdminApp {
  const tmpDir = fs.mkdtempSync(path.join(io.tmpDir ?? os.tmpdir(), 'modproxy-admin-'));
  // The operator asked for these versions: `offline` (serve only what is stored) does not apply to this run.
  const app = createApp({ ...config, offline: false }, {
    storage,
    tmpDir,
    log: createLogger({ write: (line) => io.err(line.replace(/\n$/, '')), minSeverity: 'WARNING', fields: { command: 'modproxy-admin' } }),
    ...deps,
  });
  return {
    app,
    async close() {
      try {
        await app.service.idle();
      } finally {
        await fs.promises.rm(tmpDir, { recursive: true, force: true });
      }
    },
  };
}
