// Resolution errors with the go command's exact texts.
//
// Everything built here is a "not found" for the proxy protocol
// (docs/go-rules/errors.md#not-found): the go command would fail for this module or
// version, so the proxy answers 404 with the same text. Transport and storage
// faults never pass through here; they have their own kinds (lib/errors.ts).
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
