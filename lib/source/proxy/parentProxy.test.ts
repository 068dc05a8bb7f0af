// The parent-proxy client against loopback HTTP servers: status mapping, body
// caps, deadlines, redirects and credential scoping, and verification.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeZipWriter } from '../../archive/zipWriter.js';
import { ProxyError } from '../../errors.js';
import { hashGoMod } from '../../gomod/dirhash.js';
import { newestListed, ParentProxy } from './parentProxy.js';
import { GoSumVerifier, NoVerifier } from './verifier.js';
import { spoolLeftovers } from '../../../test/support/spoolLeftovers.js';
import { zipH1 } from '../../../test/support/zipHash.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
interface Server {
  url: string;
  seen: Array<{ url: string; auth?: string }>;
  handle: Handler;
  close(): Promise<void>;
}

async function serve(): Promise<Server> {
  const s: Server = {
    url: '',
    seen: [],
    handle: (_req, res) => res.writeHead(404).end(),
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    s.seen.push({ url: req.url ?? '', auth: req.headers.authorization });
    s.handle(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  s.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return s;
}

const M = 'example.com/Mod';
const MOD = Buffer.from('module example.com/Mod\n');
let tmp: string;
let zip: Buffer;
let otherZip: Buffer;
let goSum: string;
let a: Server;
let b: Server;

async function makeZip(code: string): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await nativeZipWriter(
    [
      { name: `${M}@v1.0.0/go.mod`, read: async () => MOD },
      { name: `${M}@v1.0.0/a.go`, read: async () => Buffer.from(code) },
    ],
    out,
  );
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-parent-'));
  zip = await makeZip('package m\n');
  otherZip = await makeZip('package m // with a backdoor\n');
  goSum = `${M} v1.0.0 ${await zipH1(zip)}\n${M} v1.0.0/go.mod ${hashGoMod(MOD)}\n`;
  a = await serve();
  b = await serve();
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const parent = (opts: Partial<ConstructorParameters<typeof ParentProxy>[0]> = {}) =>
  new ParentProxy({ url: a.url, verifier: new GoSumVerifier(goSum), tmpDir: tmp, ...opts });

const failure = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProxyError);
  return err as ProxyError & { status?: number };
};

describe('ParentProxySource', () => {
  it('escapes paths and maps 404/410 to not found with the parent’s first line, sanitised', async () => {
    a.handle = (req, res) => {
      if (req.url === '/example.com/!mod/@v/list') return void res.writeHead(200).end('v1.0.0\nv1.1.0-pre\nnot-a-version\nv1.0.0-20200101000000-abcdefabcdef\nv2.0.0\n');
      if (req.url?.endsWith('/@v/v8.0.0.info')) return void res.writeHead(410).end('gone:\u001b[31m red\nsecond line');
      if (req.url?.endsWith('/@v/v1.0.0.info')) return void res.writeHead(200).end('{"Version":"v1.0.0","Time":"2020-01-01T00:00:00Z"}');
      res.writeHead(404).end('not found: example.com/Mod@v9.9.9: invalid version: unknown revision v9.9.9\n');
    };
    const src = parent().open(M);
    // As the go command reads a proxy's list: valid semver, not a pseudo-version, whatever the major version.
    expect(await src.list()).toEqual(['v1.0.0', 'v1.1.0-pre', 'v2.0.0']);
    const nf = await failure(src.query('v9.9.9'));
    expect(nf.kind).toBe('not-found');
    expect(nf.message).toBe('not found: example.com/Mod@v9.9.9: invalid version: unknown revision v9.9.9');
    // No @latest on the parent: the highest release of its list, as the go command falls back.
    expect((await src.latest()).version).toBe('v1.0.0');
    const gone = await failure(src.query('v8.0.0'));
    expect(gone.kind).toBe('gone');
    expect(gone.message).toBe('gone: [31m red');
  });

  it('splits list lines with Go’s strings.Fields, not JS’s \\s', async () => {
    a.handle = (_req, res) => void res.writeHead(200).end('\ufeffv3.0.0\nv1.2.0\u0085x\nv1.3.0\u00a0y\n\u2003v1.4.0\n');
    expect(await parent().open(M).list()).toEqual(['v1.2.0', 'v1.3.0', 'v1.4.0']);
    // A version listed twice is listed twice, as the go command's client keeps it.
    a.handle = (_req, res) => void res.writeHead(200).end('v1.1.0\nv1.0.0\nv1.1.0\n');
    expect(await parent().open(M).list()).toEqual(['v1.0.0', 'v1.1.0', 'v1.1.0']);
  });

  it('maps other statuses, bad JSON and wrong versions to upstream faults', async () => {
    const src = parent().open(M);
    a.handle = (_req, res) => void res.writeHead(500).end('boom');
    expect((await failure(src.list())).kind).toBe('upstream');
    a.handle = (_req, res) => void res.writeHead(403).end('forbidden');
    expect((await failure(src.list())).kind).toBe('upstream');
    a.handle = (_req, res) => void res.writeHead(503).end();
    expect((await failure(src.list())).status).toBe(503);
    a.handle = (_req, res) => void res.writeHead(200).end('{"Version":');
    expect((await failure(src.query('v1.0.0'))).message).toMatch(/invalid .info JSON/);
    a.handle = (_req, res) => void res.writeHead(200).end('{"Version":"v1.0.1","Time":"2020-01-01T00:00:00Z"}');
    expect((await failure(src.query('v1.0.0'))).message).toMatch(/instead of requested version v1.0.0/);
    a.handle = (_req, res) => void res.writeHead(200).end('{"Version":"v2.0.0","Time":"2020-01-01T00:00:00Z"}');
    expect((await failure(src.latest())).kind).toBe('upstream');
    a.handle = (_req, res) => void res.writeHead(200).end('{"Version":"v1.0.0","Time":"yesterday"}');
    expect((await failure(src.query('v1.0.0'))).message).toMatch(/parsing time "yesterday"/);
    a.handle = (_req, res) => void res.writeHead(200).end('{"Version":"v1.0.0","Time":"2020-01-01T00:00:00Z","Origin":{"VCS":"git","URL":"https://x","Hash":"abc","Evil":1}}');
    expect(await src.query('main')).toEqual({
      version: 'v1.0.0',
      time: new Date('2020-01-01T00:00:00Z'),
      timeText: '2020-01-01T00:00:00Z',
      origin: { VCS: 'git', URL: 'https://x', Hash: 'abc' },
    });
    // Read as the go command's json.Unmarshal reads it: a time Date would roll over is refused ...
    a.handle = (_req, res) => void res.writeHead(200).end('{"Version":"v1.0.0","Time":"2021-02-29T00:00:00Z"}');
    expect((await failure(src.query('v1.0.0'))).message).toMatch(/invalid .info JSON: parsing time .* day out of range/);
    a.handle = (_req, res) => void res.writeHead(200).end('{"Version":"v1.0.0","Time":"2020-01-01T00:00:00+24:00"}');
    expect((await failure(src.query('v1.0.0'))).message).toMatch(/a time the go command cannot write/);
    // ... and names match case-insensitively, the last wins, the zone and nanoseconds are kept as Go
    // writes them, and the Origin is cleaned as the go command cleans it for its cache.
    a.handle = (_req, res) =>
      void res
        .writeHead(200)
        .end('{"version":"v0.9.0","VERSION":"v1.0.0","time":"2020-01-01T01:00:00.123456789+01:00","origin":{"vcs":"git","TagSum":"t1:x","Ref":"refs/tags/v1.0.0"}}');
    expect(await src.query('v1.0.0')).toEqual({
      version: 'v1.0.0',
      time: new Date('2020-01-01T00:00:00.123Z'),
      timeText: '2020-01-01T01:00:00.123456789+01:00',
      origin: { VCS: 'git', URL: '', Ref: 'refs/tags/v1.0.0' },
    });
    // No Time at all is Go's zero time, not an error.
    a.handle = (_req, res) => void res.writeHead(200).end('{"Version":"v1.0.0"}');
    expect((await src.query('v1.0.0')).timeText).toBe('0001-01-01T00:00:00Z');
  });

  it('caps bodies (declared or streamed) and refuses a parent that never answers within the deadline', async () => {
    a.handle = (_req, res) => {
      res.writeHead(200);
      res.write('v1.0.0\n'.repeat(1000));
      res.end();
    };
    expect((await failure(parent({ limits: { list: 100 } }).open(M).list())).message).toMatch(/too large/);
    a.handle = () => {}; // never answers
    const t0 = Date.now();
    const slow = await failure(parent({ timeoutMs: 300 }).open(M).list());
    expect(slow.kind).toBe('upstream');
    expect(slow.status).toBe(504);
    expect(Date.now() - t0).toBeLessThan(5000);
    a.handle = (_req, res) => {
      res.writeHead(200);
      res.write('v1.0.0\n'); // then stalls mid-body
    };
    expect((await failure(parent({ timeoutMs: 300 }).open(M).list())).status).toBe(504);
  });

  it('sends credentials only to the parent’s origin, never after a redirect elsewhere, and follows only http(s)', async () => {
    const auth = async () => 'Bearer s3cret';
    b.seen.length = 0;
    b.handle = (req, res) => {
      if (req.url === '/back') return void res.writeHead(302, { location: `${a.url}/example.com/!mod/@v/list?again` }).end();
      res.writeHead(200).end('v1.0.0\n');
    };
    a.seen.length = 0;
    a.handle = (req, res) => {
      if (req.url === '/example.com/!mod/@v/list') return void res.writeHead(302, { location: `${b.url}/back` }).end();
      res.writeHead(200).end('v1.2.0\n');
    };
    expect(await parent({ authorization: auth }).open(M).list()).toEqual(['v1.2.0']);
    expect(a.seen.map((s) => s.auth)).toEqual(['Bearer s3cret', undefined]);
    expect(b.seen.map((s) => s.auth)).toEqual([undefined]);
    a.handle = (_req, res) => void res.writeHead(302, { location: 'file:///etc/passwd' }).end();
    expect((await failure(parent().open(M).list())).message).toMatch(/redirect to a file URL refused/);
    a.handle = (_req, res) => void res.writeHead(302, { location: '/loop' }).end();
    expect((await failure(parent().open(M).list())).message).toMatch(/too many redirects/);
  });

  it('verifies go.mod and the zip before anything is returned or written', async () => {
    let modBody: Buffer = MOD;
    let zipBody: Buffer = zip;
    a.handle = (req, res) => {
      if (req.url?.endsWith('.mod')) return void res.writeHead(200).end(modBody);
      if (req.url?.endsWith('.zip')) return void res.writeHead(200).end(zipBody);
      res.writeHead(404).end();
    };
    const src = parent().open(M);
    const rev = { version: 'v1.0.0', time: new Date(0) };
    const { mod, pin } = await src.download(rev);
    expect(Buffer.from(mod).equals(MOD)).toBe(true);
    expect(pin).toEqual({ kind: 'proxy', modH1: hashGoMod(MOD), zipH1: await zipH1(zip) });

    const collect = () => {
      const out = new PassThrough();
      const got: Buffer[] = [];
      out.on('data', (c: Buffer) => got.push(c));
      return { out, got };
    };
    const ok = collect();
    expect(await src.writeZip('v1.0.0', pin, ok.out)).toEqual({ h1: pin.kind === 'proxy' ? pin.zipH1 : '', files: 2 });
    expect(Buffer.concat(ok.got).equals(zip)).toBe(true);

    modBody = Buffer.from('module example.com/Mod\n\nrequire evil.com/x v1.0.0\n');
    expect((await failure(src.download(rev))).message).toMatch(/checksum mismatch/);
    const bad = collect();
    zipBody = otherZip; // a valid zip, other content
    const zerr = await failure(src.writeZip('v1.0.0', pin, bad.out));
    expect(zerr.kind).toBe('upstream');
    expect(zerr.message).toMatch(/checksum mismatch/);
    expect(bad.got).toEqual([]);
    zipBody = Buffer.concat([zip.subarray(0, 40), Buffer.alloc(10), zip.subarray(50)]); // not a valid zip
    const broken = await failure(src.writeZip('v1.0.0', pin, bad.out));
    expect(broken.message).toMatch(/invalid module zip/);
    expect(bad.got).toEqual([]);
    expect(fs.readdirSync(tmp)).toEqual([]);

    await new Promise((r) => setTimeout(r, 50)); // the zip fetched ahead by the failed download is removed
    expect(fs.readdirSync(tmp)).toEqual([]);
    const none = await failure(new ParentProxy({ url: a.url, verifier: new NoVerifier(), tmpDir: tmp }).open(M).download(rev));
    expect(none.kind).toBe('upstream');
    expect(none.message).toMatch(/publicModules.sumDatabase/);
  });

  it('asks for the go.mod of a canonical version while its .info is on the way, and for the zip while the go.mod is checked', async () => {
    // This parent answers .info only once the .mod was asked for, and .mod only once the zip was:
    // a client that asks one after the other never gets an answer.
    const asked = new Set<string>();
    const waiting: Array<() => boolean> = [];
    const when = (ext: string, then: () => void) => {
      if (asked.has(ext)) then();
      else
        waiting.push(() => {
          if (!asked.has(ext)) return false;
          then();
          return true;
        });
    };
    a.handle = (req, res) => {
      const ext = path.extname(req.url ?? '');
      asked.add(ext);
      for (const w of waiting.splice(0)) if (!w()) waiting.push(w);
      if (ext === '.info') return when('.mod', () => void res.writeHead(200).end('{"Version":"v1.0.0","Time":"2020-01-01T00:00:00Z"}'));
      if (ext === '.mod') return when('.zip', () => void res.writeHead(200).end(MOD));
      if (ext === '.zip') return void res.writeHead(200).end(zip);
      res.writeHead(404).end();
    };
    const src = parent({ timeoutMs: 5000 }).open(M);
    const rev = await src.query('v1.0.0');
    const { pin } = await src.download(rev);
    const out = new PassThrough();
    out.resume();
    expect((await src.writeZip('v1.0.0', pin, out)).files).toBe(2);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it("removes the spool files a crashed process left, hours old, and leaves newer ones (another replica's downloads) and whatever is not its own", () => {
    const spool = spoolLeftovers();
    try {
      parent({ tmpDir: spool.dir });
      expect(fs.readdirSync(spool.dir).sort()).toEqual(spool.kept);
      expect(spool.kept).toContain(spool.inFlight);
    } finally {
      spool.remove();
    }
  });
});

describe('newestListed (the go command’s latestFromList)', () => {
  const lines = (text: string) => text.split('\n').map((l) => l.split(' ').filter(Boolean));
  const p = (ts: string) => `v0.0.0-${ts}-abcdefabcdef`;
  it('takes the newest pseudo-version or timestamped line, skips tagged versions without a time', () => {
    expect(newestListed(lines(`${p('20200101000000')}\nv1.0.0\n${p('20210101000000')}\n${p('20200601000000')}`))).toBe(p('20210101000000'));
    expect(newestListed(lines(`v1.0.0\nv2.0.0-pre`))).toBeUndefined();
    expect(newestListed(lines(`${p('20200101000000')}\nv1.0.0 2020-01-02T00:00:00Z`))).toBe('v1.0.0');
  });
  it('compares instants (zones, nanoseconds), keeps the first of equal times, and never picks Go’s zero time or an unparsable one', () => {
    expect(newestListed(lines('v1.0.0 2020-01-01T01:00:00+02:00\nv1.1.0 2020-01-01T00:00:00Z'))).toBe('v1.1.0');
    expect(newestListed(lines('v1.0.0 2020-01-01T00:00:00.0000001Z\nv1.1.0 2020-01-01T00:00:00.0000002Z'))).toBe('v1.1.0');
    expect(newestListed(lines('v1.0.0 2020-01-01T00:00:00Z\nv1.1.0 2020-01-01T00:00:00Z'))).toBe('v1.0.0');
    expect(newestListed(lines('v1.0.0 0001-01-01T00:00:00Z\nv1.1.0 0000-06-01T00:00:00Z\nv1.2.0 2020-02-30T00:00:00Z\nnot-semver 2030-01-01T00:00:00Z'))).toBeUndefined();
  });
});
