// Resolution errors with the go command's exact texts.
//
// Everything built here is a "not found" for the proxy protocol (spec §1.3,
// §8): the go command would fail for this module/version, so the proxy
// answers 404 with the same text. Transport and storage faults never pass
// through here; they keep their own classes (lib/errors.ts).
import { NotFoundError, UpstreamAuthError } from '../errors.js';
import { GoError, InvalidVersionError, ModuleError } from './module.js';

export { GoError };

/** `M@V: invalid version: <err>` (or `invalid pseudo-version:`). */
export function invalidVersion(path: string, version: string, err: Error | string, pseudo = false): ModuleError {
  const inner = typeof err === 'string' ? new GoError(err) : err;
  return new ModuleError(path, '', new InvalidVersionError(version, pseudo, inner));
}

/** `module M: <err>` */
export function moduleError(path: string, err: Error | string): ModuleError {
  return new ModuleError(path, '', typeof err === 'string' ? new GoError(err) : err);
}

/**
 * Whether an error is a "not found" answer about the module (the go command
 * would report it), as opposed to a fault of ours or of the upstream.
 */
export function isNotFoundAnswer(err: unknown): boolean {
  return err instanceof ModuleError || err instanceof InvalidVersionError || err instanceof GoError || err instanceof NotFoundError || err instanceof UpstreamAuthError;
}
