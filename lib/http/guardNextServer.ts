// The request listener in front of functions-framework's express app.
//
// functions-framework (5.x, build/src/server.js) builds an express app whose
// first middlewares are body-parser's json, text, urlencoded and raw parsers
// with a 1 GiB limit (decompressing gzip bodies too), on every path and
// method, before the function runs. It has no option, environment variable
// or registration setting to turn them off or bound them, and nothing of
// ours runs before them inside express. What it does, once, after loading
// the function's module, is `http.createServer(app)` (then listen). So
// functions/index.ts replaces http.createServer for that one call with one
// that makes the server's request listener ours:
// - the body guard (bodyGuard.ts) first: a request whose body is refused is
//   answered 413 and its connection closed before express sees it; the token
//   endpoints' bodies reach body-parser only with a declared length of at
//   most 64 KiB, uncompressed;
// - then hits held in memory, answered at once (the handler's answerNow):
//   express and functions-framework's middlewares (execution ids, timeouts,
//   route matching) cost a request some 300 µs of CPU, ten times what the
//   hit itself costs, and a hit needs none of them;
// - everything else goes to the express app, and through it to the function.
import http from 'node:http';
import type { Logger } from '../log/logger.js';
import { installBodyGuard } from './bodyGuard.js';
import { boundRequestTime } from './server.js';

/** Answers a request before the app when it can (true), else does nothing (false). */
export type AnswerFirst = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/** Makes the next http.createServer call (functions-framework's) create a server whose request listener is ours. */
export function guardNextHttpServer(log: Logger, answerFirst: AnswerFirst): void {
  const original = http.createServer;
  const guarded = (...args: unknown[]): http.Server => {
    http.createServer = original;
    const app = args.find((a): a is http.RequestListener => typeof a === 'function');
    const options = args.find((a): a is http.ServerOptions => typeof a === 'object' && a !== null);
    const server = options ? original(options) : original();
    boundRequestTime(server);
    if (app) {
      const listener: http.RequestListener = (req, res) => {
        if (!answerFirst(req, res)) app(req, res);
      };
      installBodyGuard(server, listener, log, { mark: true });
    }
    return server;
  };
  http.createServer = guarded as typeof http.createServer;
}
