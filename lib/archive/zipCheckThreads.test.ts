import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeZipWriter } from './zipWriter.js';
import { checkModuleZipFile, ZipCheckError } from './zipReader.js';
import { ZIP_CHECK_NICE, ZipCheckThreads } from './zipCheckThreads.js';

const M = 'example.com/m';
const V = 'v1.0.0';
const P = `${M}@${V}/`;
let tmp: string;
let n = 0;
const pools: ZipCheckThreads[] = [];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-zipthreads-'));
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

function pool(opts: ConstructorParameters<typeof ZipCheckThreads>[0]): ZipCheckThreads {
  const p = new ZipCheckThreads(opts);
  pools.push(p);
  return p;
}

/** A zip of `files` (name under M@V/ → content) written by our zip writer, on disk. */
async function zipFile(files: Record<string, string>): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await nativeZipWriter(
    Object.entries(files).map(([k, v]) => ({ name: k.includes('@') ? k : P + k, read: async () => Buffer.from(v) })),
    out,
  );
  const f = path.join(tmp, `z${++n}.zip`);
  fs.writeFileSync(f, Buffer.concat(chunks));
  return f;
}

const small = () => zipFile({ 'go.mod': `module ${M}\n`, 'a.go': 'package m\n'.repeat(100) });

/** Many files: enough inflating and hashing that where it runs shows. */
async function many(count: number): Promise<string> {
  const files: Record<string, string> = { 'go.mod': `module ${M}\n` };
  for (let i = 0; i < count; i++) files[`p/f${i}.go`] = `package p // ${i}\n`.repeat(400);
  return zipFile(files);
}

describe('ZipCheckThreads', () => {
  it('gives what checkModuleZipFile gives, on a thread', async () => {
    const p = pool({ threads: 1 });
    const file = await small();
    expect(p.size).toBe(0);
    const checking = p.check(file, M, V);
    expect(p.size).toBe(1);
    expect(await checking).toEqual(await checkModuleZipFile(file, M, V));
  });

  it('refuses what checkModuleZipFile refuses, with the same ZipCheckError', async () => {
    const p = pool({ threads: 1 });
    const file = await zipFile({ 'go.mod': `module ${M}\n`, 'example.com/other@v1.0.0/x.go': 'package x\n' });
    const direct = await checkModuleZipFile(file, M, V).catch((e: unknown) => e);
    const threaded = await p.check(file, M, V).catch((e: unknown) => e);
    expect(direct).toBeInstanceOf(ZipCheckError);
    expect(threaded).toBeInstanceOf(ZipCheckError);
    expect((threaded as Error).message).toBe((direct as Error).message);
    // Limits reach the thread.
    const limited = await p.check(await small(), M, V, { maxEntries: 1 }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(ZipCheckError);
    expect((limited as Error).message).toMatch(/entries|files/);
  });

  it('queues checks beyond its threads and answers each with its own result', async () => {
    const p = pool({ threads: 2 });
    const files = await Promise.all([1, 2, 3, 4, 5].map((k) => zipFile({ 'go.mod': `module ${M}\n`, 'a.go': `package m // ${k}\n` })));
    const results = await Promise.all(files.map((f) => p.check(f, M, V)));
    expect(p.size).toBe(2);
    for (let i = 0; i < files.length; i++) expect(results[i]).toEqual(await checkModuleZipFile(files[i]!, M, V));
  });

  it('ends idle threads, and starts one again when needed', async () => {
    const p = pool({ threads: 1, idleMs: 20 });
    await p.check(await small(), M, V);
    expect(p.size).toBe(1);
    for (let i = 0; i < 200 && p.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(p.size).toBe(0);
    expect((await p.check(await small(), M, V)).files).toBe(2);
  });

  it('fails the check of a thread that dies with an internal error, not a verdict on the zip', async () => {
    // A heap too small for the thread to load its code: it dies at once.
    const p = pool({ threads: 1, maxHeapMiB: 1 });
    const err = await p.check(await small(), M, V).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ZipCheckError);
    expect((err as Error).message).toMatch(/zip check thread stopped/);
    expect(p.size).toBe(0);
  });

  it('fails queued checks once closed, and takes no more', async () => {
    const p = pool({ threads: 1 });
    const file = await many(200);
    const running = p.check(file, M, V).catch((e: unknown) => e);
    const queued = p.check(file, M, V).catch((e: unknown) => e);
    await p.close();
    expect((await queued) as Error).toBeInstanceOf(Error);
    expect(((await queued) as Error).message).toMatch(/stopped/);
    expect(await running).toBeInstanceOf(Error);
    expect(((await p.check(file, M, V).catch((e: unknown) => e)) as Error).message).toMatch(/stopped/);
    expect(p.size).toBe(0);
  });

  it('runs its threads at a lower priority than the event loop (Linux)', async () => {
    /** The nice value of each thread of this process (field 19 of /proc/self/task/<tid>/stat). */
    const niceValues = () =>
      fs.readdirSync('/proc/self/task').map((tid) => {
        const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      });
    const before = niceValues().filter((n) => n === ZIP_CHECK_NICE).length;
    const p = pool({ threads: 2 });
    const files = await Promise.all([1, 2].map(() => small()));
    await Promise.all(files.map((f) => p.check(f, M, V)));
    expect(p.size).toBe(2);
    expect(niceValues().filter((n) => n === ZIP_CHECK_NICE).length).toBe(before + 2);
    expect(os.getPriority()).toBe(0);
  });

  it('leaves the event loop free while it checks', async () => {
    const p = pool({ threads: 1 });
    const file = await many(3000);
    await p.check(await small(), M, V); // the thread has started and loaded its code
    const busy = async (check: () => Promise<unknown>) => {
      const before = performance.eventLoopUtilization();
      await check();
      return performance.eventLoopUtilization(before).active;
    };
    const inThread = await busy(() => checkModuleZipFile(file, M, V));
    const onThread = await busy(() => p.check(file, M, V));
    // The event loop's own work: inflating and hashing 3,000 files in this thread, next to posting a message.
    expect(onThread).toBeLessThan(inThread / 4);
  });
});
