// The functions-framework entry: the `goproxy` HTTP function for Cloud
// Functions (2nd gen), which runs `functions-framework --target=goproxy`.
// Elsewhere (`npm start`, the Procfile on Cloud Run) modproxy runs its own
// server, functions/server.ts.
//
// Request bodies, and hits. Before functions-framework's express app and its
// body parsers, the server's request listener is ours
// (lib/http/guardNextServer.ts): it refuses request bodies from their
// headers, and answers hits held in memory itself. Should a later
// functions-framework create its server some other way, the function
// refuses every request (500, one ERROR line) rather than run behind
// parsers that buffer: test/start.test.ts catches that before a deploy does.
// The remaining limit: under functions-framework a token request's body is
// parsed by body-parser (at most 64 KiB), not by our reader.
import * as functions from '@google-cloud/functions-framework';
import { passedBodyGuard } from '../lib/http/bodyGuard.js';
import { guardNextHttpServer } from '../lib/http/guardNextServer.js';
import { createLogger } from '../lib/log/logger.js';
import { start, startedFields } from './start.js';

const log = createLogger();
const started = await start(log, () => undefined);
const tls = started.config.tls;
if (tls && (tls.certFile ?? tls.cert ?? tls.keyFile ?? tls.key) !== undefined) {
  log.warn('tls certificate and key are used by the modproxy server entry (npm start), not under functions-framework, which listens with HTTP (Cloud Functions serves HTTPS in front of it)');
}
log.info('modproxy started', startedFields(started));

guardNextHttpServer(log, started.app.answerNow);
let unguardedReported = false;
functions.http('goproxy', (req, res) => {
  if (!passedBodyGuard(req)) {
    if (!unguardedReported) log.error('request refused: the request body guard is not in front of functions-framework (its server is created in a way this entry does not know); every request is refused');
    unguardedReported = true;
    res.status(500).set('content-type', 'text/plain; charset=utf-8').set('cache-control', 'no-store').send('internal error: server misconfigured\n');
    return;
  }
  void started.app.handler(req, res);
});
