// Zip checks on worker threads. Checking a zip from a parent proxy
// (zipReader.ts) inflates and hashes every file in it: CPU work with no I/O
// between entries. On the event loop it ran in 4 ms slices, and every request
// the process served meanwhile waited behind them, step after step: a cold
// public .info took 30–80 ms while the zips of the versions before it were
// checked, 14–21 ms when none was (npm run bench public). On threads, the
// operating system shares the CPUs and the event loop stays free.
//
// A thread checks one zip at a time; checks beyond the thread count queue in
// order. Threads start when needed (a fresh thread loads zipReader.ts: tens of
// milliseconds) and end after a while idle, so an instance that serves only
// hits holds none. A thread that dies (its heap limit, a crash) fails the
// check it was running with an internal error, never with a verdict on the zip.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { ZipCheckError, type CheckedZip, type ZipChecker, type ZipReadLimits } from './zipReader.js';

/** The nice value of a zip-check thread on Linux: it yields the CPU to the event loop (zipCheckWorker.ts). */
export const ZIP_CHECK_NICE = 10;

/** What a zip-check thread is sent (zipCheckWorker.ts). */
export interface ZipCheckRequest {
  file: string;
  modPath: string;
  version: string;
  limits?: ZipReadLimits;
}

/** What it answers: the checked zip, or why not (`refused`: the zip breaks the rules, a ZipCheckError). */
export type ZipCheckReply = { ok: true; zip: CheckedZip } | { ok: false; refused: boolean; message: string };

export interface ZipCheckThreadsOptions {
  /** Threads at most (default: the CPUs this process may use, at most 4). */
  threads?: number;
  /** How long a thread waits for work before it ends (default 60 s). */
  idleMs?: number;
  /** Each thread's V8 heap limit (default 256 MiB; zip data lives outside it, in buffers bounded by zipReader.ts). */
  maxHeapMiB?: number;
}

interface Job {
  req: ZipCheckRequest;
  resolve: (zip: CheckedZip) => void;
  reject: (err: Error) => void;
}

interface Thread {
  worker: Worker;
  job?: Job;
  idleTimer?: NodeJS.Timeout;
}

export class ZipCheckThreads {
  private readonly max: number;
  private readonly idleMs: number;
  private readonly maxHeapMiB: number;
  private readonly threads = new Set<Thread>();
  private readonly queue: Job[] = [];
  private closed = false;

  constructor(opts: ZipCheckThreadsOptions = {}) {
    this.max = Math.max(1, opts.threads ?? Math.min(4, os.availableParallelism()));
    this.idleMs = opts.idleMs ?? 60_000;
    this.maxHeapMiB = opts.maxHeapMiB ?? 256;
  }

  /** Threads running now (busy or idle). */
  get size(): number {
    return this.threads.size;
  }

  /** checkModuleZipFile on a thread: the same result, or the same ZipCheckError. */
  readonly check: ZipChecker = (file, modPath, version, limits) =>
    new Promise<CheckedZip>((resolve, reject) => {
      if (this.closed) {
        reject(new Error('zip checks have stopped (the process is shutting down)'));
        return;
      }
      this.queue.push({ req: { file, modPath, version, limits }, resolve, reject });
      this.dispatch();
    });

  /** Ends every thread; checks running or queued fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('zip checks have stopped (the process is shutting down)'));
    await Promise.all([...this.threads].map((t) => t.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let thread = [...this.threads].find((t) => !t.job);
      if (!thread) {
        if (this.threads.size >= this.max) return;
        thread = this.start();
      }
      this.run(thread, this.queue.shift()!);
    }
  }

  private run(thread: Thread, job: Job): void {
    clearTimeout(thread.idleTimer);
    thread.idleTimer = undefined;
    thread.job = job;
    // A running check keeps the process alive; an idle thread does not.
    thread.worker.ref();
    thread.worker.postMessage(job.req);
  }

  private start(): Thread {
    const thread: Thread = { worker: startWorker(this.maxHeapMiB) };
    this.threads.add(thread);
    thread.worker.on('message', (reply: ZipCheckReply) => {
      const job = thread.job;
      thread.job = undefined;
      if (job) {
        if (reply.ok) job.resolve(reply.zip);
        else job.reject(reply.refused ? new ZipCheckError(reply.message) : new Error(reply.message));
      }
      if (this.queue.length > 0) {
        this.run(thread, this.queue.shift()!);
        return;
      }
      thread.worker.unref();
      thread.idleTimer = setTimeout(() => {
        if (!thread.job) void thread.worker.terminate();
      }, this.idleMs);
      thread.idleTimer.unref();
    });
    let failure: Error | undefined;
    thread.worker.on('error', (err) => (failure = err));
    thread.worker.on('exit', (code) => {
      this.threads.delete(thread);
      clearTimeout(thread.idleTimer);
      const job = thread.job;
      thread.job = undefined;
      if (job) job.reject(new Error(`the zip check thread stopped (${failure ? failure.message : `exit code ${code}`})`));
      // Checks that were waiting for a thread get a new one.
      if (!this.closed) this.dispatch();
    });
    return thread;
  }
}

/** A thread running zipCheckWorker: the compiled .js, or the .ts through tsx when running from source (tests). */
function startWorker(maxHeapMiB: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: maxHeapMiB };
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./zipCheckWorker.js', here), { resourceLimits });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./zipCheckWorker.ts', here).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => (m.tsImport ?? m.default.tsImport)(${JSON.stringify(entry)}, ${JSON.stringify(here)}))`;
  return new Worker(code, { eval: true, resourceLimits });
}
