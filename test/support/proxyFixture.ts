// An in-process modproxy on 127.0.0.1 for tests: the real app (config,
// handler, service, storage) behind a plain Node HTTP server.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createApp, type App, type AppDeps } from '../../lib/app.js';
import { parseConfig } from '../../lib/config/load.js';
import { createLogger } from '../../lib/log/logger.js';

export interface ProxyFixture {
  url: string;
  app: App;
  logs: string[];
  close(): Promise<void>;
}

export async function startProxy(configYaml: string, deps: AppDeps = {}, tls?: { key: string; cert: string }): Promise<ProxyFixture> {
  const logs: string[] = [];
  const log = deps.log ?? createLogger({ write: (line) => logs.push(line), minSeverity: 'DEBUG' });
  const app = createApp(parseConfig(configYaml, 'test config'), { ...deps, log });
  await app.ready();
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => void app.handler(req, res);
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, handle) : http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    app,
    logs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A config for tests: fs storage and git work dir under `tmp`, hosts mapped to loopback git servers. */
export function testConfig(tmp: string, hosts: Record<string, string>, prefixes: string[], extra = ''): string {
  fs.mkdirSync(tmp, { recursive: true });
  const gitHub = Object.entries(hosts)
    .map(([host, base]) => `  - host: ${host}\n    gitBaseUrl: "${base}"`)
    .join('\n');
  return [
    'storage:',
    '  fs:',
    `    dir: "${path.join(tmp, 'storage')}"`,
    'gitHub:',
    gitHub,
    'privateModules:',
    ...prefixes.map((p) => `  - pathPrefix: "${p}"`),
    'resolve:',
    `  gitWorkDir: "${path.join(tmp, 'git')}"`,
    extra,
  ].join('\n');
}

/**
 * Config lines (for testConfig's `extra`) that serve public modules from a
 * parent proxy, verified with one checksum database, which modproxy also
 * proxies under /sumdb/<name>/.
 */
export function publicModulesConfig(parentUrl: string, db: { name: string; url: string; vkey: string }): string[] {
  return [
    'parentProxy:',
    `  url: "${parentUrl}"`,
    'publicModules:',
    '  sumDatabase:',
    `    name: ${db.name}`,
    `    url: "${db.url}"`,
    `    publicKey: "${db.vkey}"`,
    'sumDatabaseProxy:',
    '  sumDatabases:',
    `    - name: ${db.name}`,
    `      url: "${db.url}"`,
    `      publicKey: "${db.vkey}"`,
  ];
}
