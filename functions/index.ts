// The functions-framework entry: the `goproxy` HTTP function for Cloud
// Functions (2nd gen), which runs `functions-framework --target=goproxy`.
// Elsewhere (`npm start`, the Procfile on Cloud Run) modproxy runs its own
// server, functions/server.ts.
//
// Request bodies. functions-framework (5.x, build/src/server.js) builds an
// express app whose first middlewares are body-parser's json, text,
// urlencoded and raw parsers with a 1 GiB limit (decompressing gzip bodies
// too), on every path and method, before the function runs. It has no
// option, environment variable or registration setting to turn them off or
// bound them, and nothing of ours runs before them inside express. What it
// does, once, after loading this module, is `http.createServer(app)` (then
// listen). So, once started, this module replaces http.createServer for
// that one call with one that puts the body guard (lib/http/bodyGuard.ts) in
// front of the express app as the server's request listener: a request
// whose body is refused is answered 413 and its connection closed before
// express sees it; the token endpoints' bodies reach body-parser only with a
// declared length of at most 64 KiB, uncompressed. Should a later
// functions-framework create its server some other way, the function
// refuses every request (500, one ERROR line) rather than run behind
// parsers that buffer: test/start.test.ts catches that before a deploy does.
// The remaining limit: under functions-framework a token request's body is
// parsed by body-parser (at most 64 KiB), not by our reader.
import http from 'node:http';
import * as functions from '@google-cloud/functions-framework';
import { installBodyGuard, passedBodyGuard } from '../lib/http/bodyGuard.js';
import { boundRequestTime } from '../lib/http/server.js';
import { createLogger, type Logger } from '../lib/log/logger.js';
import { start, startedFields } from './start.js';

function guardNextHttpServer(log: Logger): void {
  const original = http.createServer;
  const guarded = (...args: unknown[]): http.Server => {
    http.createServer = original;
    const listener = args.find((a): a is http.RequestListener => typeof a === 'function');
    const options = args.find((a): a is http.ServerOptions => typeof a === 'object' && a !== null);
    const server = options ? original(options) : original();
    boundRequestTime(server);
    if (listener) installBodyGuard(server, listener, log, { mark: true });
    return server;
  };
  http.createServer = guarded as typeof http.createServer;
}

const log = createLogger();
const started = await start(log, () => undefined);
const tls = started.config.tls;
if (tls && (tls.certFile ?? tls.cert ?? tls.keyFile ?? tls.key) !== undefined) {
  log.warn('tls certificate and key are used by the modproxy server entry (npm start), not under functions-framework, which listens with HTTP (Cloud Functions serves HTTPS in front of it)');
}
log.info('modproxy started', startedFields(started));

guardNextHttpServer(log);
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
