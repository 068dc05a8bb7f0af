// Deployable entry point: the `goproxy` HTTP function for Cloud Functions
// (2nd gen) and Cloud Run, run locally by `npm start` under functions-framework.
import * as functions from '@google-cloud/functions-framework';
import { createApp } from '../lib/app.js';
import { loadConfig } from '../lib/config/load.js';
import { createLogger } from '../lib/log/logger.js';

const log = createLogger();
const { config, source } = loadConfig();
const app = createApp(config, { log });
// Fail at start-up, not on the first request, when a secret cannot be loaded.
await app.ready();
log.info('modproxy started', {
  config: source,
  storage: config.storage.fs ? `fs:${config.storage.fs.dir}` : `gcs:${config.storage.gcs?.bucket}`,
  privateModules: config.privateModules.map((m) => m.pathPrefix),
});

functions.http('goproxy', (req, res) => app.handler(req, res));
