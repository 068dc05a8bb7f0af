// A modproxy process for multi-process tests and benchmarks: the real app on
// 127.0.0.1 with the configuration in $MODPROXY_CONFIG (YAML text); prints its
// URL on stdout when ready.
//
// $MODPROXY_TEST_CRASH_AT names a point of the commit path ("before-manifest",
// "after-zip-blob", ...): the process kills itself with SIGKILL there, as a
// crashed replica would stop. This hook exists only in this test entry point.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../lib/app.js';
import { parseConfig } from '../../lib/config/load.js';
import { createLogger } from '../../lib/log/logger.js';

const crashAt = process.env.MODPROXY_TEST_CRASH_AT;
const config = parseConfig(process.env.MODPROXY_CONFIG ?? '', 'test config');
const log = createLogger({ minSeverity: (process.env.MODPROXY_LOG_LEVEL as 'INFO' | undefined) ?? 'WARNING', write: (l) => process.stderr.write(l + '\n') });
const app = createApp(config, {
  log,
  commitHook: crashAt
    ? (point) => {
        if (point === crashAt) process.kill(process.pid, 'SIGKILL');
      }
    : undefined,
});
const server = http.createServer((req, res) => void app.handler(req, res));
server.keepAliveTimeout = 30_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
// Exit normally on signals so --cpu-prof and similar can write their output.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => server.close(() => process.exit(0)));
