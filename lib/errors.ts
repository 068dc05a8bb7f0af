// One error taxonomy. Every failure that may reach a client is a ProxyError
// carrying its kind; the HTTP layer maps kinds to statuses in one table
// (lib/http/replies.ts), and the service asks the kind, never the class.
//
// The rule behind the kinds (docs/go-rules/protocol.md#status-codes): a failure the go
// command itself would report for a well-formed request is "not found" (404,
// or 410) with one line of text; a malformed request is "bad request"; only
// genuine faults of ours or of an upstream are 5xx, because 5xx stops a
// comma-separated GOPROXY list while 404/410 lets the client fall through.

export type ErrorKind =
  /** The request itself is malformed (bad escaping, traversal, non-canonical version on .mod/.zip). */
  | 'bad-request'
  /** What was asked for does not exist, for a reason the user can act on. */
  | 'not-found'
  /** As not-found, for something that existed once. */
  | 'gone'
  /** The client may not have it. */
  | 'forbidden'
  /** An upstream (git host, API) failed: network, 5xx, timeouts; not the module's fault. */
  | 'upstream'
  /** Our own storage failed (after the client's retries): retryable, details stay in the log. */
  | 'unavailable';

export type Severity = 'INFO' | 'WARNING' | 'ERROR';

export class ProxyError extends Error {
  override name = 'ProxyError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** How loudly a request that failed with this error is logged (by default, from its kind). */
  get severity(): Severity {
    return this.kind === 'upstream' || this.kind === 'unavailable' ? 'ERROR' : 'INFO';
  }
}

export class BadRequestError extends ProxyError {
  override name = 'BadRequestError';
  constructor(message: string) {
    super('bad-request', message);
  }
}

export class NotFoundError extends ProxyError {
  override name = 'NotFoundError';
  constructor(message: string, gone = false) {
    super(gone ? 'gone' : 'not-found', message);
  }
}

export class ForbiddenError extends ProxyError {
  override name = 'ForbiddenError';
  constructor(message: string) {
    super('forbidden', message);
  }
}

/** An upstream failed; `status` says which 5xx a client gets (bad gateway, unavailable, timeout). */
export class UpstreamError extends ProxyError {
  override name = 'UpstreamError';
  constructor(
    message: string,
    readonly status: 502 | 503 | 504 = 502,
    options?: { cause?: unknown },
  ) {
    super('upstream', message, options);
  }
}

export class StorageError extends ProxyError {
  override name = 'StorageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

/**
 * A fault of this proxy's own credentials or configuration: a git host or API
 * refused the credentials we sent (401/403), an installation token was
 * refused, a key cannot sign. Never "not found": a 404 would send the go
 * command on to the next GOPROXY entry with the private path, and would be
 * remembered as an answer. It is a 5xx (bad gateway by default), not cached,
 * logged as an error, and its reply says that the proxy is at fault.
 */
export class UpstreamAuthError extends UpstreamError {
  override name = 'UpstreamAuthError';
  constructor(message: string, status: 502 | 503 = 502, options?: { cause?: unknown }) {
    super(message, status, options);
  }
}

/** Whether an error is an answer that the module or version does not exist (as opposed to a fault). */
export function isNotFound(err: unknown): boolean {
  return err instanceof ProxyError && (err.kind === 'not-found' || err.kind === 'gone');
}

/** Whether an error is an upstream fault (the source could not be asked). */
export function isUpstreamFault(err: unknown): boolean {
  return err instanceof ProxyError && err.kind === 'upstream';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
