// Parsing GOPROXY protocol request paths (docs/go-rules/protocol.md#request-paths).
//
// Order matters for safety: percent-decode, then split at "/@v/" or
// "/@latest", then undo the "!x" case encoding with x/mod's own validity
// checks (which reject "..", NUL, control characters, upper case, bad
// escapes). Nothing reaches storage or git until a path has passed all of it.
import { BadRequestError, NotFoundError } from '../errors.js';
import { canonicalVersion, unescapePath, unescapeVersion } from '../gomod/module.js';
import * as semver from '../gomod/semver.js';

export type ProxyRequest =
  | { kind: 'list'; modPath: string }
  | { kind: 'latest'; modPath: string }
  | { kind: 'info'; modPath: string; version: string }
  | { kind: 'mod'; modPath: string; version: string }
  | { kind: 'zip'; modPath: string; version: string };

/** Longest request path we look at; module paths and versions are far shorter in practice. */
export const MAX_PATH_LENGTH = 2048;

function percentDecode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequestError('malformed percent-encoding in request path');
  }
}

function decodeModulePath(escaped: string): string {
  try {
    return unescapePath(escaped);
  } catch (err) {
    throw new BadRequestError((err as Error).message);
  }
}

/**
 * A version from the request. The go command never sends a "/" in a version,
 * but other clients may ask `.info` for a branch such as feature/x
 * (docs/go-rules/protocol.md#request-paths); each element is then checked
 * like a version on its own.
 */
function decodeVersion(escaped: string, allowSlash: boolean): string {
  try {
    return unescapeVersion(escaped);
  } catch (err) {
    if (allowSlash && escaped.includes('/')) {
      return escaped
        .split('/')
        .map((part) => {
          try {
            return unescapeVersion(part);
          } catch {
            throw new BadRequestError((err as Error).message);
          }
        })
        .join('/');
    }
    throw new BadRequestError((err as Error).message);
  }
}

/** Parses the path part of a request URL (no query string) into a protocol request. */
export function parseProxyPath(rawPath: string): ProxyRequest {
  if (rawPath.length > MAX_PATH_LENGTH) throw new BadRequestError('request path too long');
  const decoded = percentDecode(rawPath);
  if (decoded.includes('\0')) throw new BadRequestError('NUL in request path');
  const p = decoded.replace(/^\/+/, '');

  if (p.endsWith('/@latest')) {
    return { kind: 'latest', modPath: decodeModulePath(p.slice(0, -'/@latest'.length)) };
  }
  const at = p.indexOf('/@v/');
  if (at < 0) throw new NotFoundError('not a module proxy path');
  const modPath = decodeModulePath(p.slice(0, at));
  const rest = p.slice(at + '/@v/'.length);
  if (rest === 'list') return { kind: 'list', modPath };

  const dot = rest.lastIndexOf('.');
  const ext = dot >= 0 ? rest.slice(dot + 1) : '';
  const escapedVersion = dot >= 0 ? rest.slice(0, dot) : '';
  if (ext !== 'info' && ext !== 'mod' && ext !== 'zip') throw new NotFoundError(`unknown module proxy file ${JSON.stringify(rest)}`);
  if (escapedVersion === '') throw new BadRequestError('empty version');
  const version = decodeVersion(escapedVersion, ext === 'info');
  if (ext === 'info') return { kind: 'info', modPath, version };

  // The go command only asks .mod and .zip for canonical versions.
  if (!semver.isValid(version) || canonicalVersion(version) !== version) {
    throw new NotFoundError(`${modPath}@${version}: invalid version: version ${JSON.stringify(version)} is not canonical`);
  }
  return { kind: ext, modPath, version };
}
