// modproxy's own server entry, what `npm start` and the Procfile (Cloud Run)
// run: `node dist/functions/server.js`. It listens on $PORT (default 8080)
// on every interface, with HTTPS when tls.certFile/keyFile (or tls.cert/key)
// are configured, with the configuration in $MODPROXY_CONFIG as the
// functions-framework entry (functions/index.ts, for Cloud Functions) reads
// it. Unlike functions-framework, it reads no request body but the token
// endpoints' (at most 64 KiB): lib/http/bodyGuard.ts refuses the others from
// their headers.
import type { AddressInfo } from 'node:net';
import { createSecretLoader } from '../lib/config/secrets.js';
import { createProxyServer } from '../lib/http/server.js';
import { loadServerTls } from '../lib/http/tls.js';
import { createLogger } from '../lib/log/logger.js';
import { exitOnStartFailure, start, startedFields } from './start.js';

/** Cloud Run allows 10 s between SIGTERM and SIGKILL; finish what is in flight within that. */
const SHUTDOWN_GRACE_MS = 8_000;

const log = createLogger();
const started = await start(log, (s) => loadServerTls(s.config.tls, createSecretLoader()));
const tls = started.extra;
const server = createProxyServer({ handler: started.app.handler, log, tls });
const port = Number(process.env.PORT || 8080);
let address: AddressInfo;
try {
  address = await server.listen(port);
} catch (err) {
  exitOnStartFailure(log, new Error(`cannot listen on port ${port}: ${(err as Error).message}`));
}
log.info('modproxy started', {
  ...startedFields(started),
  port: address.port,
  scheme: tls ? 'https' : 'http',
  ...(tls?.minVersion ? { tlsMinVersion: tls.minVersion } : {}),
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info(`${signal}: finishing requests in flight, then exiting`);
    // The last metrics go out while requests finish (when a push is configured).
    void Promise.all([server.close(SHUTDOWN_GRACE_MS), started.app.shutdown()]).then(() => process.exit(0));
  });
}
