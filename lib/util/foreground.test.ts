import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { checkModuleZipFile } from '../archive/zipReader.js';
import { nativeZipWriter } from '../archive/zipWriter.js';
import { Foreground } from './foreground.js';

const tick = () => new Promise((r) => setTimeout(r, 5));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-foreground-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('Foreground', () => {
  it('gives background work its turn at once when no request is answered, else when the last one ends', async () => {
    const fg = new Foreground(60_000);
    expect(fg.turn()).toBeUndefined();
    const leaveA = fg.enter();
    const leaveB = fg.enter();
    let turned = false;
    void fg.turn()!.then(() => (turned = true));
    leaveA();
    leaveA(); // a second call changes nothing
    await tick();
    expect([turned, fg.size]).toEqual([false, 1]);
    leaveB();
    await tick();
    expect([turned, fg.size]).toEqual([true, 0]);
    expect(fg.turn()).toBeUndefined();
  });

  it('bounds each wait: a server that is never idle slows background work, never stops it', async () => {
    const fg = new Foreground(20);
    const leave = fg.enter();
    const started = performance.now();
    await fg.turn();
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    expect(fg.size).toBe(1);
    leave();
  });

  it('holds a zip check between its slices while a request is answered', async () => {
    const M = 'example.com/m';
    const V = 'v1.0.0';
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const files = [{ name: `${M}@${V}/go.mod`, read: async () => Buffer.from(`module ${M}\n`) }];
    for (let i = 0; i < 50; i++) files.push({ name: `${M}@${V}/f${i}.go`, read: async () => Buffer.from(`package m // ${i}\n`) });
    await nativeZipWriter(files, out);
    const file = path.join(tmp, 'm.zip');
    fs.writeFileSync(file, Buffer.concat(chunks));
    const fg = new Foreground(60_000);
    const leave = fg.enter();
    let done = false;
    const checked = checkModuleZipFile(file, M, V, { sliceMs: 0, turn: fg.turn }).then((r) => ((done = true), r));
    await tick();
    await tick();
    expect(done).toBe(false);
    leave();
    expect((await checked).files).toBe(51);
    // Without a request in flight, the same check runs straight through.
    expect((await checkModuleZipFile(file, M, V, { sliceMs: 0, turn: fg.turn })).files).toBe(51);
  });
});
