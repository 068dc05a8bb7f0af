// buildModuleZip's bounds, through its input seam (blobs by id): what it
// reads, and when it refuses without reading.
import crypto from 'node:crypto';
import { PassThrough } from 'node:stream';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { BuildLimitError, buildModuleZip, ZipCreateError, type ModuleZipInput } from './moduleZip.js';

const MiB = 1 << 20;

/** Blobs by id with declared sizes; `stored` holds the bytes of blobs that may be read. */
function input(files: { path: string; size: number; bytes?: Buffer; delta?: boolean }[], opts: { attributes?: string; maxHeldBytes?: number } = {}) {
  const reads: string[] = [];
  const byOid = new Map(files.map((f) => [f.path, f]));
  const blob = (oid: string) => {
    reads.push(oid);
    const f = byOid.get(oid)!;
    return f.bytes ?? Buffer.alloc(f.size);
  };
  const zipInput: ModuleZipInput = {
    modPath: 'example.com/m',
    version: 'v1.0.0',
    files: files.map((f) => ({ path: f.path, repoPath: f.path, kind: 'file', oid: f.path })),
    attributes: opts.attributes ? [{ dir: '', content: Buffer.from(opts.attributes) }] : [],
    readBlob: async (oid) => blob(oid),
    blobSize: async (oid) => byOid.get(oid)!.size,
    blobIsHeld: async (oid) => byOid.get(oid)!.delta === true,
    streamBlob: async function* (oid) {
      const data = blob(oid);
      for (let i = 0; i < data.length; i += 1 << 16) yield data.subarray(i, i + (1 << 16));
    },
    maxHeldBytes: opts.maxHeldBytes ?? 256 * MiB,
  };
  return { zipInput, reads };
}

async function collect(out: PassThrough): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of out) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('buildModuleZip', () => {
  it("refuses a module over 500 MiB on the sizes alone, with x/mod's text, reading nothing", async () => {
    const { zipInput, reads } = input([
      { path: 'go.mod', size: 20, bytes: Buffer.from('module example.com/m\n').subarray(0, 20) },
      { path: 'a.bin', size: 300 * MiB },
      { path: 'b.bin', size: 300 * MiB },
    ]);
    await expect(buildModuleZip(zipInput, new PassThrough())).rejects.toThrow(new ZipCreateError('module source tree too large (max size is 524288000 bytes)'));
    expect(reads.filter((r) => r !== 'go.mod')).toEqual([]);
  });

  it('streams large files and writes entries Go (and jszip) read back with their data descriptors', async () => {
    const big = crypto.randomBytes(5 * MiB);
    const { zipInput } = input([
      { path: 'go.mod', size: 21, bytes: Buffer.from('module example.com/m\n') },
      { path: 'big.bin', size: big.length, bytes: big },
      { path: 'small.go', size: 10, bytes: Buffer.from('package m\n') },
    ]);
    const out = new PassThrough();
    const [zip, result] = await Promise.all([collect(out), buildModuleZip(zipInput, out)]);
    const z = await JSZip.loadAsync(zip);
    expect(Buffer.compare(await z.file('example.com/m@v1.0.0/big.bin')!.async('nodebuffer'), big)).toBe(0);
    expect(await z.file('example.com/m@v1.0.0/small.go')!.async('string')).toBe('package m\n');
    expect(result.files).toBe(3);
    expect(result.size).toBe(21 + big.length + 10);
  });

  it('refuses to hold a file over resolve.maxBuildMemoryBytes (a delta, or a converted file), before reading it', async () => {
    const held = input(
      [
        { path: 'go.mod', size: 21, bytes: Buffer.from('module example.com/m\n') },
        { path: 'big.txt', size: 8 * MiB, delta: true },
      ],
      { maxHeldBytes: 4 * MiB },
    );
    await expect(buildModuleZip(held.zipInput, new PassThrough())).rejects.toThrow(BuildLimitError);
    expect(held.reads).not.toContain('big.txt');

    const converted = input(
      [
        { path: 'go.mod', size: 21, bytes: Buffer.from('module example.com/m\n') },
        { path: 'big.txt', size: 8 * MiB },
      ],
      { maxHeldBytes: 4 * MiB, attributes: '*.txt text eol=crlf\n' },
    );
    await expect(buildModuleZip(converted.zipInput, new PassThrough())).rejects.toThrow(/resolve\.maxBuildMemoryBytes/);
    expect(converted.reads).not.toContain('big.txt');
  });
});
