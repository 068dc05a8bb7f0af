// The GCS test double, driven by the real @google-cloud/storage client.
//
// With a custom apiEndpoint the library skips authentication
// (nodejs-common/util.js authorizeRequest returns the request unchanged when
// customEndpoint && !useAuthWithCustomEndpoint; resumable-upload.js swaps its
// auth client for plain gaxios), so no token is ever fetched. The
// `credentials` are still the auth client's, and getSignedUrl signs with the
// JWT client's private key locally (google-auth-library GoogleAuth.sign).
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CRC32C, Storage, type File, type StorageOptions } from '@google-cloud/storage';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { crc32cBase64, startGcsDouble, type GcsDouble } from './support/gcsDouble.js';
import { prng } from './support/prng.js';

const BUCKET = 'modproxy-test';
const EMAIL = 'modproxy@test-project.iam.gserviceaccount.com';
const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
/** A module-zip-like name with the characters GCS object names in this project carry. */
const ODD_NAME = 'mod/golang.org/x/text/@v/v0.3.0+incompatible!weird name.zip';

let double: GcsDouble;
let storage: Storage;

function makeStorage(extra: StorageOptions = {}, credentials = { client_email: EMAIL, private_key: privateKey }): Storage {
  return new Storage({
    apiEndpoint: double.url,
    projectId: 'test',
    credentials,
    // Shortest back-off the library accepts: save() and resumable session
    // creation use async-retry, whose minTimeout is 1000 ms, and throw
    // "minTimeout is greater than maxTimeout" when maxRetryDelay < 1 s.
    retryOptions: { maxRetries: 8, retryDelayMultiplier: 1.5, maxRetryDelay: 1, totalTimeout: 60 },
    ...extra,
  });
}

function randomBytes(seed: number, size: number): Buffer {
  const next = prng(seed);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(next() * 256);
  return out;
}

function libraryCrc32c(data: Buffer): string {
  const c = new CRC32C();
  c.update(data);
  return c.toString();
}

interface ClientError {
  code?: unknown;
  errors?: Array<{ reason?: string }>;
  message?: string;
}

async function rejection(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (err) {
    return err as ClientError;
  }
  throw new Error('expected the promise to reject');
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const liveObject = (name: string) => double.objects(BUCKET).get(name);

/** Back-off for clients that only read: retry-request accepts sub-second delays (save() does not). */
const FAST_READ_RETRIES = { maxRetries: 8, retryDelayMultiplier: 1.5, maxRetryDelay: 0.02, totalTimeout: 60 };

beforeAll(async () => {
  double = await startGcsDouble({ signers: { [EMAIL]: publicKey } });
  double.createBucket(BUCKET);
  storage = makeStorage();
});

afterEach(() => double.setFaults(undefined));

afterAll(async () => {
  await double?.close();
});

describe('hashes and wiring', () => {
  it('listens on 127.0.0.1 and computes CRC-32C like GCS and the client', () => {
    expect(double.url).toBe(`http://127.0.0.1:${double.port}`);
    // The standard CRC-32C check value: crc32c("123456789") = 0xE3069283.
    expect(crc32cBase64(Buffer.from('123456789'))).toBe(Buffer.from([0xe3, 0x06, 0x92, 0x83]).toString('base64'));
    const data = randomBytes(1, 100_003);
    expect(crc32cBase64(data)).toBe(libraryCrc32c(data));
  });
});

describe('conditional writes', () => {
  for (const resumable of [false, true]) {
    it(`save with ifGenerationMatch: 0 creates once, then 412 (resumable: ${resumable})`, async () => {
      const name = `create-once-${resumable}/${ODD_NAME}`;
      const file = storage.bucket(BUCKET).file(name);
      await file.save('first', { resumable, preconditionOpts: { ifGenerationMatch: 0 } });
      const stored = liveObject(name)!;
      expect(stored.data.toString()).toBe('first');
      expect(stored.metageneration).toBe('1');
      const [meta] = await file.getMetadata();
      expect(meta.name).toBe(name);
      expect(meta.generation).toBe(stored.generation);
      expect(meta.size).toBe('5');
      expect(meta.crc32c).toBe(libraryCrc32c(Buffer.from('first')));
      expect(meta.md5Hash).toBe(crypto.createHash('md5').update('first').digest('base64'));

      const err = await rejection(file.save('second', { resumable, preconditionOpts: { ifGenerationMatch: 0 } }));
      expect(err.code).toBe(412);
      expect(err.errors?.[0]?.reason).toBe('conditionNotMet');
      expect(liveObject(name)!.data.toString()).toBe('first');
      expect(liveObject(name)!.generation).toBe(stored.generation);

      // The wire: the precondition rides on the create request; for resumable
      // uploads the 412 comes back on the PUT that completes the session.
      const writes = double.requests.filter(r => r.path === `/upload/storage/v1/b/${BUCKET}/o`);
      const last = writes[writes.length - 1];
      expect(last.status).toBe(412);
      if (resumable) {
        expect(last.method).toBe('PUT');
        const init = writes.filter(r => r.method === 'POST').pop()!;
        expect(new URLSearchParams(init.query).get('uploadType')).toBe('resumable');
        expect(new URLSearchParams(init.query).get('ifGenerationMatch')).toBe('0');
        expect(init.status).toBe(200);
      } else {
        expect(last.method).toBe('POST');
        expect(new URLSearchParams(last.query).get('uploadType')).toBe('multipart');
        expect(new URLSearchParams(last.query).get('ifGenerationMatch')).toBe('0');
      }
    });

    it(`save with ifGenerationMatch: <generation> replaces only that generation (resumable: ${resumable})`, async () => {
      const name = `replace-${resumable}`;
      const file = storage.bucket(BUCKET).file(name);
      await file.save('v1', { resumable, preconditionOpts: { ifGenerationMatch: 0 } });
      const g1 = liveObject(name)!.generation;
      await file.save('v2', { resumable, preconditionOpts: { ifGenerationMatch: Number(g1) } });
      const g2 = liveObject(name)!.generation;
      expect(BigInt(g2)).toBeGreaterThan(BigInt(g1));
      expect(liveObject(name)!.data.toString()).toBe('v2');

      const err = await rejection(file.save('v3', { resumable, preconditionOpts: { ifGenerationMatch: Number(g1) } }));
      expect(err.code).toBe(412);
      expect(err.errors?.[0]?.reason).toBe('conditionNotMet');
      expect(liveObject(name)!.generation).toBe(g2);
      expect(liveObject(name)!.data.toString()).toBe('v2');
    });
  }

  it('many concurrent conditional creates of one name: exactly one wins', async () => {
    const name = 'race/one-name';
    const writers = Array.from({ length: 24 }, (_, i) =>
      storage.bucket(BUCKET).file(name).save(`writer-${i}`, { resumable: i % 2 === 1, preconditionOpts: { ifGenerationMatch: 0 } }),
    );
    const results = await Promise.allSettled(writers);
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as ClientError).code).toBe(412);
    expect(liveObject(name)!.data.toString()).toBe(`writer-${winners[0]}`);
  });
});

describe('reads', () => {
  const name = `reads/${ODD_NAME}`;
  const content = randomBytes(2, 300 * 1024 + 17);

  beforeAll(async () => {
    await storage.bucket(BUCKET).file(name).save(content, { resumable: false, contentType: 'application/zip' });
  });

  it('createReadStream whole, ranged, open-ended and tail; download()', async () => {
    const file = storage.bucket(BUCKET).file(name);
    const before = double.requests.length;
    expect((await readAll(file.createReadStream())).equals(content)).toBe(true);
    expect((await readAll(file.createReadStream({ start: 10, end: 19 }))).equals(content.subarray(10, 20))).toBe(true);
    expect((await readAll(file.createReadStream({ start: content.length - 5 }))).equals(content.subarray(-5))).toBe(true);
    expect((await readAll(file.createReadStream({ end: -7 }))).equals(content.subarray(-7))).toBe(true);
    const [downloaded] = await file.download();
    expect(downloaded.equals(content)).toBe(true);
    const [part] = await file.download({ start: 1000, end: 1999 });
    expect(part.equals(content.subarray(1000, 2000))).toBe(true);
    const statuses = double.requests.slice(before).map(r => r.status);
    expect(statuses).toEqual([200, 206, 206, 206, 200, 206]);
  });

  it('an unsatisfiable range is 416', async () => {
    const file = storage.bucket(BUCKET).file(name);
    const err = await rejection(readAll(file.createReadStream({ start: content.length + 10 })));
    expect(err.code).toBe(416);
    const res = await fetch(`${double.url}/storage/v1/b/${BUCKET}/o/${encodeURIComponent(name)}?alt=media`, { headers: { Range: `bytes=${content.length}-` } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${content.length}`);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(416);
  });

  it('media headers carry the hashes; the client rejects bytes that do not match them', async () => {
    const res = await fetch(`${double.url}/storage/v1/b/${BUCKET}/o/${encodeURIComponent(name)}?alt=media`);
    const stored = liveObject(name)!;
    expect(res.status).toBe(200);
    expect(res.headers.get('x-goog-hash')).toBe(`crc32c=${stored.crc32c},md5=${stored.md5Hash}`);
    expect(res.headers.get('x-goog-generation')).toBe(stored.generation);
    expect(res.headers.get('x-goog-metageneration')).toBe('1');
    expect(res.headers.get('x-goog-stored-content-encoding')).toBe('identity');
    expect(res.headers.get('x-goog-stored-content-length')).toBe(String(content.length));
    expect(res.headers.get('content-length')).toBe(String(content.length));
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('etag')).toBeTruthy();
    expect(Buffer.from(await res.arrayBuffer()).equals(content)).toBe(true);

    // Corrupt the stored bytes behind the double's back: the advertised hashes
    // no longer match and the client's whole-object validation must fail.
    const corruptName = 'reads/corrupt';
    await storage.bucket(BUCKET).file(corruptName).save('intact bytes', { resumable: false });
    liveObject(corruptName)!.data = Buffer.from('broken bytes');
    const err = await rejection(storage.bucket(BUCKET).file(corruptName).download());
    expect(err.code).toBe('CONTENT_DOWNLOAD_MISMATCH');
  });

  it('gzip-stored objects: served compressed to the client, transcoded for identity-only readers', async () => {
    const n = 'reads/gzipped.txt';
    const text = 'module example.com/m\n'.repeat(50);
    await storage.bucket(BUCKET).file(n).save(text, { gzip: true, resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    const stored = liveObject(n)!;
    expect(stored.data.length).toBeLessThan(text.length);
    expect((await storage.bucket(BUCKET).file(n).download())[0].toString()).toBe(text);
    const res = await fetch(`${double.url}/storage/v1/b/${BUCKET}/o/${encodeURIComponent(n)}?alt=media`, { headers: { 'accept-encoding': 'identity' } });
    expect(res.headers.get('x-goog-stored-content-encoding')).toBe('gzip');
    expect(await res.text()).toBe(text);
  });

  it('empty objects, simple and resumable', async () => {
    await storage.bucket(BUCKET).file('reads/empty-simple').save('', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    await storage.bucket(BUCKET).file('reads/empty-resumable').save('', { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } });
    await pipeline(Readable.from([]), storage.bucket(BUCKET).file('reads/empty-chunked').createWriteStream({ chunkSize: 256 * 1024, preconditionOpts: { ifGenerationMatch: 0 } }));
    for (const n of ['reads/empty-simple', 'reads/empty-resumable', 'reads/empty-chunked']) {
      expect(liveObject(n)!.data.length).toBe(0);
      expect(liveObject(n)!.crc32c).toBe('AAAAAA==');
      expect((await storage.bucket(BUCKET).file(n).download())[0].length).toBe(0);
    }
  });

  it('download of a named generation; a stale generation is 404', async () => {
    const n = 'reads/generations';
    await storage.bucket(BUCKET).file(n).save('one', { resumable: false });
    const g1 = liveObject(n)!.generation;
    await storage.bucket(BUCKET).file(n).save('two', { resumable: false });
    const g2 = liveObject(n)!.generation;
    const [current] = await storage.bucket(BUCKET).file(n, { generation: Number(g2) }).download();
    expect(current.toString()).toBe('two');
    const err = await rejection(storage.bucket(BUCKET).file(n, { generation: Number(g1) }).download());
    expect(err.code).toBe(404);
  });

  it('getMetadata, exists and read preconditions', async () => {
    const file = storage.bucket(BUCKET).file(name);
    const [meta] = await file.getMetadata();
    expect(meta.size).toBe(String(content.length));
    expect(meta.contentType).toBe('application/zip');
    expect(meta.bucket).toBe(BUCKET);
    expect(meta.kind).toBe('storage#object');
    expect((await file.exists())[0]).toBe(true);
    expect((await storage.bucket(BUCKET).file('reads/absent').exists())[0]).toBe(false);

    const missing = await rejection(storage.bucket(BUCKET).file('reads/absent').getMetadata());
    expect(missing.code).toBe(404);
    expect(missing.errors?.[0]?.reason).toBe('notFound');

    expect((await rejection(file.getMetadata({ ifMetagenerationMatch: 2 }))).code).toBe(412);
    expect((await rejection(file.getMetadata({ ifGenerationNotMatch: Number(meta.generation) }))).code).toBe(304);
    const [again] = await file.getMetadata({ ifGenerationMatch: Number(meta.generation) });
    expect(again.generation).toBe(meta.generation);
  });

  it('buckets: metadata, and 404 for unknown ones', async () => {
    const [meta] = await storage.bucket(BUCKET).getMetadata();
    expect(meta.name).toBe(BUCKET);
    expect(meta.kind).toBe('storage#bucket');
    expect((await storage.bucket(BUCKET).exists())[0]).toBe(true);
    expect((await storage.bucket('no-such-bucket').exists())[0]).toBe(false);
    const err = await rejection(storage.bucket('no-such-bucket').file('x').save('x', { resumable: false }));
    expect(err.code).toBe(404);
  });
});

describe('listing', () => {
  const names = ['list/a/1', 'list/a/2', 'list/b', 'list/c/x/y', 'list/d', 'list/e'];

  beforeAll(async () => {
    for (const n of names) await storage.bucket(BUCKET).file(n).save(n, { resumable: false });
  });

  it('pages with a delimiter, counting prefixes and items together', async () => {
    const pages: Array<{ items: string[]; prefixes: string[] }> = [];
    let query: Record<string, unknown> | null = { prefix: 'list/', delimiter: '/', autoPaginate: false, maxResults: 2 };
    while (query) {
      const [files, next, apiResponse] = await storage.bucket(BUCKET).getFiles(query);
      const resp = apiResponse as { prefixes?: string[] };
      pages.push({ items: files.map((f: File) => f.name), prefixes: resp.prefixes ?? [] });
      query = next as Record<string, unknown> | null;
      if (query) expect(typeof query.pageToken).toBe('string');
    }
    expect(pages).toEqual([
      { items: ['list/b'], prefixes: ['list/a/'] },
      { items: ['list/d'], prefixes: ['list/c/'] },
      { items: ['list/e'], prefixes: [] },
    ]);
  });

  it('lists everything in byte order with autoPaginate, honours start/endOffset and maxResults', async () => {
    const [all] = await storage.bucket(BUCKET).getFiles({ prefix: 'list/' });
    expect(all.map(f => f.name)).toEqual(names);
    expect(all[0].metadata.size).toBe(String('list/a/1'.length));
    const [window] = await storage.bucket(BUCKET).getFiles({ prefix: 'list/', startOffset: 'list/b', endOffset: 'list/e' });
    expect(window.map(f => f.name)).toEqual(['list/b', 'list/c/x/y', 'list/d']);
    const [firstFour, next] = await storage.bucket(BUCKET).getFiles({ prefix: 'list/', autoPaginate: false, maxResults: 4 });
    expect(firstFour.map(f => f.name)).toEqual(names.slice(0, 4));
    const [rest, none] = await storage.bucket(BUCKET).getFiles({ ...(next as object), autoPaginate: false });
    expect(rest.map(f => f.name)).toEqual(names.slice(4));
    expect(none).toBeNull();
  });
});

describe('delete', () => {
  it('honours ifGenerationMatch, then 404s', async () => {
    const name = `delete/${ODD_NAME}`;
    const file = storage.bucket(BUCKET).file(name);
    await file.save('doomed', { resumable: false });
    const generation = Number(liveObject(name)!.generation);
    expect((await rejection(file.delete({ ifGenerationMatch: generation - 1 }))).code).toBe(412);
    expect(liveObject(name)).toBeDefined();
    await file.delete({ ifGenerationMatch: generation });
    expect(liveObject(name)).toBeUndefined();
    expect((await file.exists())[0]).toBe(false);
    expect(double.requests.filter(r => r.method === 'DELETE').pop()?.status).toBe(204);
    expect((await rejection(file.delete())).code).toBe(404);
    await file.delete({ ignoreNotFound: true });
  });
});

describe('resumable streams', () => {
  async function* chunksOf(data: Buffer, size: number) {
    for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
  }

  // 300 KiB is not a multiple of 256 KiB: GCS keeps only whole 256 KiB units
  // of each chunk and the client must resend the tail it reads off `Range`.
  for (const chunkKiB of [undefined, 256, 300]) {
    it(`createWriteStream uploads a multi-MiB stream (chunkSize ${chunkKiB ?? 'unset'} KiB)`, async () => {
      const name = `stream/${chunkKiB}/${ODD_NAME}`;
      const data = randomBytes(3, 3 * 1024 * 1024 + 12_345);
      const before = double.requests.length;
      await pipeline(
        Readable.from(chunksOf(data, 100_001)),
        storage
          .bucket(BUCKET)
          .file(name)
          .createWriteStream({ resumable: true, ...(chunkKiB && { chunkSize: chunkKiB * 1024 }), preconditionOpts: { ifGenerationMatch: 0 } }),
      );
      const stored = liveObject(name)!;
      expect(stored.data.equals(data)).toBe(true);
      expect(stored.crc32c).toBe(libraryCrc32c(data));
      const session = double.requests.slice(before).filter(r => r.method === 'PUT');
      // Each PUT sends up to chunkSize bytes from the persisted offset; the
      // server persists up to the last whole 256 KiB unit of a non-final chunk.
      let expected308 = 0;
      for (let offset = 0; chunkKiB !== undefined && offset + chunkKiB * 1024 < data.length; expected308++) {
        offset = Math.floor((offset + chunkKiB * 1024) / (256 * 1024)) * 256 * 1024;
      }
      expect(session.filter(r => r.status === 308).length).toBe(expected308);
      expect(session[session.length - 1].status).toBe(200);
      expect(session).toHaveLength(expected308 + 1);

      // A second create of the same name fails with 412 and changes nothing.
      const err = await rejection(
        pipeline(
          Readable.from(chunksOf(data.subarray(0, 600_000), 65_536)),
          storage.bucket(BUCKET).file(name).createWriteStream({ resumable: true, chunkSize: 256 * 1024, preconditionOpts: { ifGenerationMatch: 0 } }),
        ),
      );
      expect(err.code).toBe(412);
      expect(liveObject(name)!.generation).toBe(stored.generation);
      expect(liveObject(name)!.data.equals(data)).toBe(true);
    });
  }
});

describe('V4 signed URLs', () => {
  const name = `signed/${ODD_NAME}`;
  const content = Buffer.from('signed content for the go command\n');

  /** An independent V4 signer (for HEAD, which getSignedUrl has no action for). */
  function signManually(method: string, objectName: string, host: string, expiresSeconds = 300, at = new Date()): string {
    const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
    const timestamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const scope = `${timestamp.slice(0, 8)}/auto/storage/goog4_request`;
    const path = `/${BUCKET}/${objectName.split('/').map(rfc3986).join('/')}`;
    const params: Record<string, string> = {
      'X-Goog-Algorithm': 'GOOG4-RSA-SHA256',
      'X-Goog-Credential': `${EMAIL}/${scope}`,
      'X-Goog-Date': timestamp,
      'X-Goog-Expires': String(expiresSeconds),
      'X-Goog-SignedHeaders': 'host',
    };
    const query = Object.keys(params).sort().map(k => `${rfc3986(k)}=${rfc3986(params[k])}`).join('&');
    const canonicalRequest = [method, path, query, `host:${host}\n`, 'host', 'UNSIGNED-PAYLOAD'].join('\n');
    const stringToSign = ['GOOG4-RSA-SHA256', timestamp, scope, crypto.createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
    const signature = crypto.sign('RSA-SHA256', Buffer.from(stringToSign), privateKey).toString('hex');
    return `${double.url}${path}?${query}&X-Goog-Signature=${signature}`;
  }

  async function xmlCode(res: Response): Promise<string | undefined> {
    return /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1];
  }

  beforeAll(async () => {
    await storage.bucket(BUCKET).file(name).save(content, { resumable: false, contentType: 'application/zip' });
  });

  it('a URL from getSignedUrl fetches the object, whole and ranged', async () => {
    const [url] = await storage.bucket(BUCKET).file(name).getSignedUrl({ version: 'v4', action: 'read', expires: Date.now() + 5 * 60_000 });
    expect(url.startsWith(`${double.url}/${BUCKET}/`)).toBe(true);
    expect(new URL(url).searchParams.get('X-Goog-Algorithm')).toBe('GOOG4-RSA-SHA256');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-goog-generation')).toBe(liveObject(name)!.generation);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(Buffer.from(await res.arrayBuffer()).equals(content)).toBe(true);
    const ranged = await fetch(url, { headers: { Range: 'bytes=7-13' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 7-13/${content.length}`);
    expect(await ranged.text()).toBe(content.subarray(7, 14).toString());
    const typed = (await storage.bucket(BUCKET).file(name).getSignedUrl({ version: 'v4', action: 'read', expires: Date.now() + 60_000, responseType: 'application/octet-stream' }))[0];
    expect((await fetch(typed)).headers.get('content-type')).toBe('application/octet-stream');
  });

  it('tampered URLs are 403 SignatureDoesNotMatch', async () => {
    const [url] = await storage.bucket(BUCKET).file(name).getSignedUrl({ version: 'v4', action: 'read', expires: Date.now() + 5 * 60_000 });
    const u = new URL(url);
    const sig = u.searchParams.get('X-Goog-Signature')!;
    const flipped = new URL(url);
    flipped.searchParams.set('X-Goog-Signature', (sig[0] === '0' ? '1' : '0') + sig.slice(1));
    const longer = new URL(url);
    longer.searchParams.set('X-Goog-Expires', '604800');
    const otherObject = new URL(url);
    otherObject.pathname = `/${BUCKET}/signed/other.zip`;
    for (const tampered of [flipped, longer, otherObject]) {
      const res = await fetch(tampered);
      expect(res.status).toBe(403);
      expect(await xmlCode(res)).toBe('SignatureDoesNotMatch');
    }
    // A key GCS does not know for this account.
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const [forged] = await makeStorage({}, { client_email: EMAIL, private_key: other.privateKey })
      .bucket(BUCKET)
      .file(name)
      .getSignedUrl({ version: 'v4', action: 'read', expires: Date.now() + 60_000 });
    expect((await fetch(forged)).status).toBe(403);
    // No signature at all: the object is private.
    const anonymous = await fetch(`${double.url}/${BUCKET}/${encodeURIComponent(name)}`);
    expect(anonymous.status).toBe(403);
    expect(await xmlCode(anonymous)).toBe('AccessDenied');
  });

  it('an expired URL is 400 ExpiredToken', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() - 2 * 3600_000);
      const [url] = await storage.bucket(BUCKET).file(name).getSignedUrl({ version: 'v4', action: 'read', expires: Date.now() + 60_000 });
      vi.useRealTimers();
      const res = await fetch(url);
      expect(res.status).toBe(400);
      expect(await xmlCode(res)).toBe('ExpiredToken');
    } finally {
      vi.useRealTimers();
    }
    const stale = await fetch(signManually('GET', name, '127.0.0.1', 60, new Date(Date.now() - 61_000)));
    expect(stale.status).toBe(400);
  });

  it('HEAD needs a URL signed for HEAD; missing objects are NoSuchKey', async () => {
    const head = await fetch(signManually('HEAD', name, '127.0.0.1'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(content.length));
    expect(head.headers.get('x-goog-stored-content-length')).toBe(String(content.length));
    // A Host with the port signed in is accepted too.
    expect((await fetch(signManually('GET', name, `127.0.0.1:${double.port}`))).status).toBe(200);
    expect((await fetch(signManually('GET', name, '127.0.0.1'), { method: 'HEAD' })).status).toBe(403);
    const [missing] = await storage.bucket(BUCKET).file('signed/missing.zip').getSignedUrl({ version: 'v4', action: 'read', expires: Date.now() + 60_000 });
    const res = await fetch(missing);
    expect(res.status).toBe(404);
    expect(await xmlCode(res)).toBe('NoSuchKey');
  });
});

describe('faults', () => {
  // Each test gets its own client: see the last test for why a shared one
  // may have stopped retrying.
  it('a faulted write changes nothing', async () => {
    const noRetry = makeStorage({ retryOptions: { autoRetry: false } });
    double.setFaults({ rate: 1, kinds: [503] });
    const err = await rejection(noRetry.bucket(BUCKET).file('faults/never').save('x', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }));
    expect(err.code).toBe(503);
    expect(err.errors?.[0]?.reason).toBe('backendError');
    expect(liveObject('faults/never')).toBeUndefined();
  });

  it('with 30% 503s the library retries idempotent operations to success', async () => {
    const writer = makeStorage();
    const reader = makeStorage({ retryOptions: FAST_READ_RETRIES });
    const content = randomBytes(4, 50_000);
    await writer.bucket(BUCKET).file('faults/read-me').save(content, { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    const before = double.requests.length;
    double.setFaults({ rate: 0.3, kinds: [503], seed: 7 });
    const file = reader.bucket(BUCKET).file('faults/read-me');
    for (let i = 0; i < 10; i++) expect((await file.getMetadata())[0].size).toBe(String(content.length));
    for (let i = 0; i < 6; i++) expect((await file.download())[0].equals(content)).toBe(true);
    for (let i = 0; i < 4; i++) expect((await reader.bucket(BUCKET).getFiles({ prefix: 'faults/' }))[0].length).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) expect((await file.exists())[0]).toBe(true);
    for (let i = 0; i < 4; i++) {
      const n = `faults/created-${i}`;
      await writer.bucket(BUCKET).file(n).save(`c${i}`, { resumable: i % 2 === 1, preconditionOpts: { ifGenerationMatch: 0 } });
      expect(liveObject(n)!.data.toString()).toBe(`c${i}`);
    }
    const seen = double.requests.slice(before);
    expect(seen.filter(r => r.status === 503).length).toBeGreaterThan(3);
  });

  it('conditional creates racing under 503s and 429s never produce two generations', async () => {
    const name = 'faults/race';
    const client = makeStorage();
    // Session PUTs are spared: the library does not retry a 5xx on the status
    // query that follows a failed PUT (a gaxios error without `code`).
    double.setFaults({ rate: 0.3, kinds: [503, 429], seed: 11, match: /^(GET|POST) / });
    const writers = Array.from({ length: 12 }, (_, i) =>
      client.bucket(BUCKET).file(name).save(`racer-${i}`, { resumable: i % 3 === 0, preconditionOpts: { ifGenerationMatch: 0 } }),
    );
    const results = await Promise.allSettled(writers);
    double.setFaults(undefined);
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as ClientError).code).toBe(412);
    expect(liveObject(name)!.data.toString()).toBe(`racer-${winners[0]}`);
    const commits = double.requests.filter(
      r => r.status === 200 && r.path === `/upload/storage/v1/b/${BUCKET}/o` && new URLSearchParams(r.query).get('name') === name && (r.method === 'PUT' || new URLSearchParams(r.query).get('uploadType') === 'multipart'),
    );
    expect(commits).toHaveLength(1);
    expect(double.requests.some(r => r.status === 429)).toBe(true);
  });

  it("'timeout' faults hang until the client gives up; its retries get through", async () => {
    await storage.bucket(BUCKET).file('faults/slow').save('slow', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    const impatient = makeStorage({ timeout: 250, retryOptions: FAST_READ_RETRIES });
    const before = double.requests.length;
    double.setFaults({ rate: 0.4, kinds: ['timeout'], seed: 5, match: /^GET / });
    for (let i = 0; i < 8; i++) expect((await impatient.bucket(BUCKET).file('faults/slow').getMetadata())[0].size).toBe('4');
    expect(double.requests.slice(before).filter(r => r.status === 0).length).toBeGreaterThan(0);

    double.setFaults({ rate: 1, kinds: ['timeout'] });
    const noRetry = makeStorage({ timeout: 250, retryOptions: { autoRetry: false } });
    const err = await rejection(noRetry.bucket(BUCKET).file('faults/slow').getMetadata());
    expect(String(err.message)).toMatch(/timeout/i);
  });

  it('library quirk: an unconditional simple save() turns retries off for the whole client', async () => {
    const client = makeStorage();
    await client.bucket(BUCKET).file('faults/quirk').save('x', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    expect(client.retryOptions.autoRetry).toBe(true);
    await client.bucket(BUCKET).file('faults/quirk').save('y', { resumable: false }); // no precondition: not idempotent
    expect(client.retryOptions.autoRetry).toBe(false); // and nothing restores it
    double.setFaults({ rate: 1, kinds: [503], match: /^GET / });
    expect((await rejection(client.bucket(BUCKET).file('faults/quirk').getMetadata())).code).toBe(503);
    expect(double.requests.filter(r => r.method === 'GET' && r.path.endsWith('/faults%2Fquirk'))).toHaveLength(1);
  });
});

describe('wire protocol details', () => {
  const objectUrl = (n: string) => `${double.url}/storage/v1/b/${BUCKET}/o/${encodeURIComponent(n)}`;
  const uploadUrl = () => `${double.url}/upload/storage/v1/b/${BUCKET}/o`;

  it('errors have the GCS JSON shape', async () => {
    const res = await fetch(objectUrl('wire/absent'));
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      error: { code: 404, message: `No such object: ${BUCKET}/wire/absent`, errors: [{ message: `No such object: ${BUCKET}/wire/absent`, domain: 'global', reason: 'notFound' }] },
    });
    const bucket = await fetch(`${double.url}/storage/v1/b/nope/o/x`);
    expect(((await bucket.json()) as { error: { errors: Array<{ reason: string }> } }).error.errors[0].reason).toBe('notFound');
  });

  it('uploadType=media and multipart check client hashes (400 on mismatch, nothing stored)', async () => {
    const data = Buffer.from('media body');
    const good = `crc32c=${crc32cBase64(data)},md5=${crypto.createHash('md5').update(data).digest('base64')}`;
    const ok = await fetch(`${uploadUrl()}?uploadType=media&name=wire%2Fmedia`, { method: 'POST', body: data, headers: { 'content-type': 'text/plain', 'x-goog-hash': good } });
    expect(ok.status).toBe(200);
    const json = (await ok.json()) as { name: string; size: string; contentType: string; generation: string };
    expect(json).toMatchObject({ name: 'wire/media', size: String(data.length), contentType: 'text/plain' });
    const bad = await fetch(`${uploadUrl()}?uploadType=media&name=wire%2Fmedia-bad`, { method: 'POST', body: data, headers: { 'x-goog-hash': 'crc32c=AAAAAA==' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { errors: Array<{ reason: string }> } }).error.errors[0].reason).toBe('invalid');
    expect(liveObject('wire/media-bad')).toBeUndefined();

    const boundary = 'b0undary';
    const multipart = (meta: object) =>
      Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(meta)}\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\n\r\n`),
        data,
        Buffer.from(`\r\n--${boundary}--`),
      ]);
    const headers = { 'content-type': `multipart/related; boundary=${boundary}` };
    const mpBad = await fetch(`${uploadUrl()}?uploadType=multipart`, { method: 'POST', headers, body: multipart({ name: 'wire/mp', md5Hash: 'AAAAAAAAAAAAAAAAAAAAAA==' }) });
    expect(mpBad.status).toBe(400);
    expect(liveObject('wire/mp')).toBeUndefined();
    const mpOk = await fetch(`${uploadUrl()}?uploadType=multipart`, { method: 'POST', headers, body: multipart({ name: 'wire/mp', metadata: { goModule: 'x' } }) });
    expect(mpOk.status).toBe(200);
    expect(liveObject('wire/mp')!.data.equals(data)).toBe(true);
    expect(liveObject('wire/mp')!.metadata).toEqual({ goModule: 'x' });
  });

  it('resumable sessions: 308 + Range, 256 KiB granularity, status queries, idempotent completion', async () => {
    const data = randomBytes(6, 256 * 1024 + 1000);
    const init = await fetch(`${uploadUrl()}?uploadType=resumable&name=wire%2Fresumable&ifGenerationMatch=0`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-upload-content-type': 'application/zip' },
      body: '{}',
    });
    expect(init.status).toBe(200);
    const session = init.headers.get('location')!;
    expect(session.startsWith(`${uploadUrl()}?`)).toBe(true);
    expect(liveObject('wire/resumable')).toBeUndefined();

    const tooSmall = await fetch(session, { method: 'PUT', headers: { 'content-range': 'bytes 0-99/*' }, body: data.subarray(0, 100) });
    expect(tooSmall.status).toBe(400);
    // 262144 + 10 bytes sent, only the whole 256 KiB unit is persisted.
    const first = await fetch(session, { method: 'PUT', headers: { 'content-range': `bytes 0-${262_153}/*` }, body: data.subarray(0, 262_154) });
    expect(first.status).toBe(308);
    expect(first.headers.get('range')).toBe('bytes=0-262143');
    const status = await fetch(session, { method: 'PUT', headers: { 'content-range': 'bytes */*' } });
    expect(status.status).toBe(308);
    expect(status.headers.get('range')).toBe('bytes=0-262143');
    const last = await fetch(session, { method: 'PUT', headers: { 'content-range': `bytes 262144-${data.length - 1}/${data.length}` }, body: data.subarray(262_144) });
    expect(last.status).toBe(200);
    const done = (await last.json()) as { generation: string; contentType: string; crc32c: string };
    expect(done.contentType).toBe('application/zip');
    expect(done.crc32c).toBe(libraryCrc32c(data));
    expect(liveObject('wire/resumable')!.data.equals(data)).toBe(true);
    const after = await fetch(session, { method: 'PUT', headers: { 'content-range': `bytes */${data.length}` } });
    expect(after.status).toBe(200);
    expect(((await after.json()) as { generation: string }).generation).toBe(done.generation);
  });

  it('the STORAGE_EMULATOR_HOST form (no /storage/v1 prefix) is served too', async () => {
    process.env.STORAGE_EMULATOR_HOST = double.url;
    let viaEnv: Storage;
    try {
      viaEnv = new Storage({ projectId: 'test', credentials: { client_email: EMAIL, private_key: privateKey } });
    } finally {
      delete process.env.STORAGE_EMULATOR_HOST;
    }
    await viaEnv.bucket(BUCKET).file('wire/env').save('env', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    const before = double.requests.length;
    const [meta] = await viaEnv.bucket(BUCKET).file('wire/env').getMetadata();
    expect(meta.size).toBe('3');
    expect((await viaEnv.bucket(BUCKET).file('wire/env').download())[0].toString()).toBe('env');
    const [files] = await viaEnv.bucket(BUCKET).getFiles({ prefix: 'wire/env' });
    expect(files.map(f => f.name)).toEqual(['wire/env']);
    const paths = double.requests.slice(before).map(r => r.path);
    expect(paths.length).toBeGreaterThanOrEqual(3);
    for (const p of paths) expect(p.startsWith(`/b/${BUCKET}/o`)).toBe(true);
  });
});
