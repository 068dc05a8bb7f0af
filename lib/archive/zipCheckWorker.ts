// The body of one zip-check thread (zipCheckThreads.ts): it checks the zips it
// is sent, one at a time, with zipReader.ts, and answers with the result or
// with why the zip was refused.
import fs from 'node:fs';
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import { checkModuleZipFile, ZipCheckError } from './zipReader.js';
import { ZIP_CHECK_NICE, type ZipCheckReply, type ZipCheckRequest } from './zipCheckThreads.js';

const port = parentPort;
if (!port) throw new Error('zipCheckWorker.ts runs only as a worker thread (see zipCheckThreads.ts)');

lowerPriority();

/**
 * Checks are background work, and the CPUs are few (often one or two): a
 * check must not take the CPU from the event loop that serves requests. On
 * Linux a thread is scheduled on its own, so this one's nice value is raised
 * (/proc/thread-self names its thread id); elsewhere, or where that fails, it
 * keeps the process's priority.
 */
function lowerPriority(): void {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(tid) && tid > 0) os.setPriority(tid, ZIP_CHECK_NICE);
  } catch {
    // not Linux, or not allowed: the default priority
  }
}

port.on('message', (req: ZipCheckRequest) => {
  // Nothing else runs on this thread: the check keeps the CPU until it is done, with no time slices.
  checkModuleZipFile(req.file, req.modPath, req.version, { ...req.limits, sliceMs: Infinity }).then(
    (zip) => port.postMessage({ ok: true, zip } satisfies ZipCheckReply),
    (err: unknown) =>
      port.postMessage({ ok: false, refused: err instanceof ZipCheckError, message: err instanceof Error ? err.message : String(err) } satisfies ZipCheckReply),
  );
});
