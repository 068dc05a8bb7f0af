// Pack transport pieces against hand-written bytes: a fetch response split at
// every awkward place, and packs git would never write.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BLOB, corruptPack, deltaChainPack, fetchResponse, packEntry, packOf } from '../../../test/support/packBytes.js';
import { FetchResponseParser, GitRemoteError, indexPackFile } from './packFetch.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'packfetch-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writePack(name: string, bytes: Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

describe('fetch response parser', () => {
  it('takes the pack out of side-band packets however the response is split', async () => {
    const pack = packOf([packEntry(BLOB, 5, zlib.deflateSync('hello'))]);
    const response = Buffer.concat([Buffer.from('0011shallow-info\n'), Buffer.from('0001'), fetchResponse(pack), Buffer.from('trailing junk')]);
    for (const size of [1, 3, 4, 5, 7, 64, response.length]) {
      const got: Buffer[] = [];
      const parser = new FetchResponseParser((d) => void got.push(Buffer.from(d)));
      for (let i = 0; i < response.length && !parser.done; i += size) await parser.push(response.subarray(i, i + size));
      parser.finish();
      expect(Buffer.concat(got).equals(pack), `split every ${size}`).toBe(true);
      expect(parser.packBytes).toBe(pack.length);
    }
  });

  it('reports the server error of an ERR line or side-band 3, a truncated response and a response with no pack', async () => {
    const err = new FetchResponseParser(() => {});
    await expect(err.push(Buffer.from('000fERR go away'))).rejects.toThrow('git server error: go away');
    const band3 = new FetchResponseParser(() => {});
    await expect(band3.push(Buffer.from('000dpackfile\n0009\x03boom'))).rejects.toThrow('git server error: boom');
    const truncated = new FetchResponseParser(() => {});
    await truncated.push(Buffer.from('000dpackfile\n0010\x01PACK'));
    expect(() => truncated.finish()).toThrow('truncated response from git server');
    const none = new FetchResponseParser(() => {});
    await none.push(Buffer.from('0000'));
    expect(() => none.finish()).toThrow('git server sent no pack');
  });
});

describe('indexPackFile', () => {
  it('refuses a pack whose checksum is right but whose compressed data is broken, as a fault of the host', async () => {
    const err = await indexPackFile(writePack('corrupt.pack', corruptPack())).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitRemoteError);
    expect((err as Error).message).toMatch(/^corrupt pack: /);
  });

  it('refuses an object larger than its header says, a pack claiming more objects than it can hold, and a bad checksum', async () => {
    const liar = packOf([packEntry(BLOB, 3, zlib.deflateSync('hello'))]);
    await expect(indexPackFile(writePack('liar.pack', liar))).rejects.toBeInstanceOf(GitRemoteError);
    const claims = packOf([packEntry(BLOB, 5, zlib.deflateSync('hello'))]);
    claims.writeUInt32BE(1 << 30, 8);
    await expect(indexPackFile(writePack('claims.pack', claims))).rejects.toThrow(/checksum mismatch|claims/);
    const fixed = packOf([]);
    const body = Buffer.concat([fixed.subarray(0, 8), Buffer.from([0x40, 0, 0, 0]), packEntry(BLOB, 5, zlib.deflateSync('hello'))]);
    const crypto = await import('node:crypto');
    const withSum = Buffer.concat([body, crypto.createHash('sha1').update(body).digest()]);
    await expect(indexPackFile(writePack('many.pack', withSum))).rejects.toThrow(/pack claims 1073741824 objects/);
  });

  it('resolves a delta chain deeper than git writes (5000) to the index git index-pack builds', async () => {
    const { pack } = deltaChainPack(5000);
    const file = writePack('chain.pack', pack);
    execFileSync('git', ['init', '-q', path.join(dir, 'repo')]);
    execFileSync('git', ['index-pack', '-o', path.join(dir, 'chain.idx'), file], { cwd: path.join(dir, 'repo') });
    const ours = await indexPackFile(file, { cacheBytes: 1 << 16 });
    expect(ours.count).toBe(5001);
    expect(ours.idx.equals(fs.readFileSync(path.join(dir, 'chain.idx')))).toBe(true);
  });

  it('streams a large object of a pack (declared size past the in-memory limit) to the same index', async () => {
    const big = Buffer.alloc(3 << 20, 'abc');
    const file = writePack('big.pack', packOf([packEntry(BLOB, big.length, zlib.deflateSync(big)), packEntry(BLOB, 2, zlib.deflateSync('hi'))]));
    const whole = await indexPackFile(file);
    const streamed = await indexPackFile(file, { smallObjectBytes: 1 });
    expect(streamed.idx.equals(whole.idx)).toBe(true);
    expect(whole.count).toBe(2);
  });
});
