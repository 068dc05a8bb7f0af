// A modproxy process for the benchmarks: the real app on 127.0.0.1, config
// from $MODPROXY_CONFIG (YAML text), prints its URL on stdout when ready.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../lib/app.js';
import { parseConfig } from '../lib/config/load.js';
import { createLogger } from '../lib/log/logger.js';

const config = parseConfig(process.env.MODPROXY_CONFIG ?? '', 'bench config');
const app = createApp(config, { log: createLogger({ minSeverity: (process.env.MODPROXY_LOG_LEVEL as 'INFO' | undefined) ?? 'WARNING', write: (l) => process.stderr.write(l + '\n') }) });
const server = http.createServer((req, res) => void app.handler(req, res));
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
// Exit normally on signals so --cpu-prof and similar can write their output.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => server.close(() => process.exit(0)));
