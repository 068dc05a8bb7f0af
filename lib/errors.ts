// Error classes that decide the HTTP status of a failed request.
//
// The rule (spec §1.3): a failure the go command itself would report for a
// well-formed request is "not found" (404 + one-line text); a malformed request
// is 400; only genuine server or upstream faults are 5xx, because 5xx stops a
// comma-separated GOPROXY list while 404/410 lets the client fall through.

/** The request itself is malformed (bad escaping, traversal, non-canonical version on .mod/.zip). */
export class BadRequestError extends Error {
  override name = 'BadRequestError';
}

/** The thing asked for does not exist, for a reason the user can act on. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
  constructor(
    message: string,
    readonly status: 404 | 410 = 404,
  ) {
    super(message);
  }
}

/** The upstream git host or API failed (network, 5xx, timeouts): not the module's fault. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  constructor(
    message: string,
    readonly status: 502 | 503 | 504 = 502,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Storage failed (after the client's own retries): a fault of ours, retryable. */
export class StorageError extends Error {
  override name = 'StorageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The upstream refused our credentials or the repository is inaccessible to them. */
export class UpstreamAuthError extends Error {
  override name = 'UpstreamAuthError';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
