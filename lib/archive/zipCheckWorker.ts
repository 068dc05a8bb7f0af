// The body of one zip-check thread (zipCheckThreads.ts): it checks the zips it
// is sent, one at a time, with zipReader.ts, and answers with the result or
// with why the zip was refused.
import { parentPort } from 'node:worker_threads';
import { checkModuleZipFile, ZipCheckError } from './zipReader.js';
import type { ZipCheckReply, ZipCheckRequest } from './zipCheckThreads.js';

const port = parentPort;
if (!port) throw new Error('zipCheckWorker.ts runs only as a worker thread (see zipCheckThreads.ts)');

port.on('message', (req: ZipCheckRequest) => {
  // Nothing else runs on this thread: the check keeps the CPU until it is done, with no time slices.
  checkModuleZipFile(req.file, req.modPath, req.version, { ...req.limits, sliceMs: Infinity }).then(
    (zip) => port.postMessage({ ok: true, zip } satisfies ZipCheckReply),
    (err: unknown) =>
      port.postMessage({ ok: false, refused: err instanceof ZipCheckError, message: err instanceof Error ? err.message : String(err) } satisfies ZipCheckReply),
  );
});
