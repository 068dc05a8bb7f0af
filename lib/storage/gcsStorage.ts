// Google Cloud Storage backend, on @google-cloud/storage, except for the
// small reads and creates of the cold path, which ./gcsObjectCalls.ts sends
// on node:http with the library's own settings (why: measured there).
//
// create-if-absent is an upload with `ifGenerationMatch: 0`: GCS commits it
// only if no live object has the name, atomically. A 412 means it exists.
// With an append-only bucket (roles/storage.objectCreator + objectViewer, no
// delete) GCS may answer 403 instead when the object exists; we then read it
// back and treat it as existing if it is there.
//
// Retries: the library (and ./gcsObjectCalls.ts, from the same retryOptions)
// retries reads, and conditional writes under its RetryConditional strategy,
// on 408/429/5xx and connection errors; we add timeouts to that list. A retried create whose first attempt did succeed
// gets 412, which is "exists" — the commit protocol then reads back whatever
// is stored and serves that, so it is correct either way.
//
// Every call runs under the serving request's storage budget
// (./requestBudget.ts): abandoned when the budget runs out, and not retried
// once it is spent. Large uploads (resumable, from a file) are
// exempt: their time grows with the size of the zip, not with faults.
import fs from 'node:fs';
import { Storage, type Bucket, type StorageOptions } from '@google-cloud/storage';
import { RETRYABLE_ERR_FN_DEFAULT } from '@google-cloud/storage';
import { StorageError } from '../errors.js';
import { GcsObjectCalls } from './gcsObjectCalls.js';
import { runWithinStorageBudget, StorageBudgetError, storageBudgetSpent } from './requestBudget.js';
import type { DeletableStorage, DeleteResult, ListedObject } from './deletableStorage.js';
import { assertSafeKey, type CreateOptions, type CreateResult, type ListOptions, type ObjectBody, type ObjectInfo, type ObjectStorage, type ReadStreamResult } from './storage.js';

export interface GcsStorageOptions {
  bucket: string;
  /** An existing client (tests pass one built with apiEndpoint and test credentials). */
  storage?: Storage;
  /** Options for a client built here (ignored when `storage` is given). */
  clientOptions?: StorageOptions;
  /** Bodies up to this size are uploaded in one request (retried from memory); larger ones resumably. */
  simpleUploadMaxBytes?: number;
  /** Object names are prefixed with this ("" or ending in "/"), so one bucket can hold several stores. */
  prefix?: string;
  /**
   * The IAM Credentials endpoint used to sign URLs when the credentials hold
   * no private key (Cloud Run): default https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/.
   */
  signingEndpoint?: string;
}

/** Per-request timeout and retry settings for the client (the library's own retry machinery). */
export function defaultClientOptions(): StorageOptions {
  return {
    timeout: 60_000,
    retryOptions: {
      autoRetry: true,
      maxRetries: 5,
      retryDelayMultiplier: 2,
      maxRetryDelay: 8,
      totalTimeout: 120,
      retryableErrorFn: (err) => isRetryable(err) && !storageBudgetSpent(),
    },
  };
}

function isRetryable(err: unknown): boolean {
  return RETRYABLE_ERR_FN_DEFAULT(err as never) || isTimeout(err);
}

function isTimeout(err: unknown): boolean {
  const e = err as { code?: unknown; name?: string; message?: string } | undefined;
  if (!e) return false;
  return e.code === 'ETIMEDOUT' || e.code === 'ECONNABORTED' || e.name === 'AbortError' || /timeout/i.test(e.message ?? '');
}

/** The HTTP status of a library error, wherever the library put it. */
export function errorStatus(err: unknown): number | undefined {
  const e = err as { code?: unknown; status?: unknown; response?: { status?: unknown } } | undefined;
  for (const v of [e?.code, e?.status, e?.response?.status]) if (typeof v === 'number') return v;
  return undefined;
}

export class GcsStorage implements ObjectStorage, DeletableStorage {
  readonly kind = 'gcs';
  private readonly bucket: Bucket;
  private readonly calls: GcsObjectCalls;
  private readonly simpleUploadMaxBytes: number;
  private readonly prefix: string;
  private readonly signingEndpoint: string | undefined;

  constructor(opts: GcsStorageOptions) {
    this.signingEndpoint = opts.signingEndpoint;
    const storage = opts.storage ?? new Storage({ ...defaultClientOptions(), ...opts.clientOptions });
    this.bucket = storage.bucket(opts.bucket);
    this.calls = new GcsObjectCalls({ settings: storage, bucket: opts.bucket });
    this.simpleUploadMaxBytes = opts.simpleUploadMaxBytes ?? 16 << 20;
    this.prefix = opts.prefix ?? '';
    if (this.prefix !== '') assertSafeKey(this.prefix.replace(/\/$/, ''));
  }

  /** The object name for a key (checked, then prefixed). */
  private objectName(key: string): string {
    assertSafeKey(key);
    return this.prefix + key;
  }

  /** The library's object for a key. */
  private file(key: string) {
    return this.bucket.file(this.objectName(key));
  }

  async createIfAbsent(key: string, body: ObjectBody, opts: CreateOptions = {}): Promise<CreateResult> {
    const name = this.objectName(key);
    const common = {
      preconditionOpts: { ifGenerationMatch: 0 },
      contentType: opts.contentType ?? 'application/octet-stream',
      // Objects are immutable once written (by name or by record).
      metadata: { cacheControl: 'private, max-age=31536000, immutable' },
    };
    // Checked end to end with MD5 (node's native hash) rather than the library's default CRC32C, which it
    // computes in JavaScript: 1.8 ms against 0.4 ms for a 220 KiB zip, on the event loop that answers requests.
    const create = (data: Buffer) =>
      runWithinStorageBudget(`create ${key}`, () => this.calls.createIfAbsent(name, data, { contentType: common.contentType, cacheControl: common.metadata.cacheControl }));
    try {
      if (body instanceof Uint8Array) return await create(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      const { size } = await fs.promises.stat(body.file);
      // Held in memory, a body can be sent again on a retry; a stream cannot.
      if (size <= this.simpleUploadMaxBytes) return await create(await fs.promises.readFile(body.file));
      await this.resumableUpload(key, body.file, common);
      return 'created';
    } catch (err) {
      if (err instanceof StorageBudgetError) throw err;
      const status = errorStatus(err);
      if (status === 412) return 'exists';
      if (status === 403 && (await this.stat(key)) !== null) return 'exists';
      throw storageError('create', key, err);
    }
  }

  /**
   * Large bodies: a resumable upload from the local file. Streams are not
   * retried by the library, so transient failures restart the upload from
   * the file (a completed first attempt then shows up as 412 = exists).
   *
   * The session is opened with createResumableUpload() and the bytes sent to
   * its URI: createWriteStream() alone opens the session without credentials
   * on a custom apiEndpoint even with useAuthWithCustomEndpoint (library
   * 7.22: startResumableUpload_ does not pass the flag on), while requests to
   * a session URI need none (the URI is the credential).
   */
  private async resumableUpload(key: string, file: string, common: { preconditionOpts: { ifGenerationMatch: number }; contentType: string; metadata: Record<string, string> }): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const [uri] = await this.file(key).createResumableUpload({
          preconditionOpts: common.preconditionOpts,
          metadata: { contentType: common.contentType, ...common.metadata },
        });
        await new Promise<void>((resolve, reject) => {
          const out = this.file(key).createWriteStream({ ...common, resumable: true, uri });
          out.on('error', reject);
          out.on('finish', resolve);
          const input = fs.createReadStream(file);
          input.on('error', (e) => out.destroy(e));
          input.pipe(out);
        });
        return;
      } catch (err) {
        if (attempt >= 4 || !isRetryable(err)) throw err;
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    }
  }

  async read(key: string): Promise<Uint8Array | null> {
    try {
      // Checked with MD5, like uploads (see createIfAbsent): every object here is written whole, so GCS has its MD5.
      const name = this.objectName(key);
      return await runWithinStorageBudget(`read ${key}`, () => this.calls.download(name));
    } catch (err) {
      // (An absent object is not an error: download() answers null.)
      if (err instanceof StorageBudgetError) throw err;
      throw storageError('read', key, err);
    }
  }

  async openRead(key: string, range?: { start: number; end?: number }): Promise<ReadStreamResult | null> {
    const info = await this.stat(key);
    if (!info) return null;
    const stream = this.file(key).createReadStream(range ? { start: range.start, end: range.end, validation: false } : {});
    return { stream, size: info.size };
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    try {
      const [meta] = await runWithinStorageBudget(`stat ${key}`, () => this.file(key).getMetadata());
      return { size: Number(meta.size), created: new Date(String(meta.timeCreated)) };
    } catch (err) {
      if (err instanceof StorageBudgetError) throw err;
      if (errorStatus(err) === 404) return null;
      throw storageError('stat', key, err);
    }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<string[]> {
    const after = opts.startAfter;
    try {
      // startOffset is inclusive: the key itself is dropped below.
      const [files] = await runWithinStorageBudget(`list ${prefix}`, () =>
        this.bucket.getFiles({
          prefix: this.prefix + prefix,
          autoPaginate: true,
          ...(after !== undefined && { startOffset: this.prefix + after }),
        }),
      );
      return files
        .map((f) => f.name.slice(this.prefix.length))
        .filter((k) => after === undefined || k > after)
        .sort();
    } catch (err) {
      if (err instanceof StorageBudgetError) throw err;
      throw storageError('list', prefix, err);
    }
  }

  async listObjects(prefix: string): Promise<ListedObject[]> {
    try {
      const [files] = await this.bucket.getFiles({ prefix: this.prefix + prefix, autoPaginate: true });
      return files
        .map((f) => ({
          key: f.name.slice(this.prefix.length),
          size: Number(f.metadata.size),
          created: new Date(String(f.metadata.timeCreated)),
          generation: String(f.metadata.generation),
        }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    } catch (err) {
      throw storageError('list', prefix, err);
    }
  }

  /**
   * Admin only (modproxy-admin gc): a delete conditional on the generation
   * gc observed (ifGenerationMatch), so an object created again under the
   * same name since is left alone (412 → 'changed'). Needs
   * storage.objects.delete, which the serving identity does not have (403).
   */
  async deleteObject(key: string, opts: { ifGeneration: string }): Promise<DeleteResult> {
    try {
      await this.file(key).delete({ ifGenerationMatch: opts.ifGeneration });
      return 'deleted';
    } catch (err) {
      const status = errorStatus(err);
      if (status === 404) return 'absent';
      if (status === 412) return 'changed';
      throw storageError('delete', key, err);
    }
  }

  /** A V4 signed URL (signed locally with a key file, or with IAM signBlob on Cloud Run). */
  async signedReadUrl(key: string, ttlSeconds: number): Promise<string> {
    const [url] = await runWithinStorageBudget(`sign ${key}`, () =>
      this.file(key).getSignedUrl({
        version: 'v4',
        action: 'read',
        expires: Date.now() + ttlSeconds * 1000,
        signingEndpoint: this.signingEndpoint,
      }),
    );
    return url;
  }
}

/** A library error, after its retries, as our StorageError (503), keeping the cause for logs. */
function storageError(op: string, key: string, err: unknown): StorageError {
  const status = errorStatus(err);
  return new StorageError(`GCS ${op} ${key} failed${status ? ` (HTTP ${status})` : ''}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
