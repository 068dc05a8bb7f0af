// The module-source seam: where a module's versions come from. The service
// asks a source three things, in the spirit of goproxy's Fetcher (list,
// query, download), and never learns what is behind it (git today; a parent
// proxy or another VCS host tomorrow):
//
//   list()        the tagged versions, as @v/list serves them;
//   latest(),
//   query(q)      what @latest or a query (version, branch, hash) resolves to;
//   download(rev) the go.mod of a resolved version and the *pin* that fixes
//                 the content of its zip;
//   writeZip(version, pin)
//                 the zip, made from the pin alone (the version names its
//                 entries).
//
// The pin is recorded in the version's manifest (lib/records), so a zip is
// made from exactly what .info and .mod were answered from, by any replica,
// however much later. Sources throw lib/errors kinds: not-found for what the
// go command would report, upstream for faults on the way.
import type { Writable } from 'node:stream';
import { NotFoundError } from '../errors.js';
import type { Origin } from '../gomod/infoJson.js';

/** A resolved version: the fields of its .info. */
export interface ResolvedVersion {
  version: string;
  time: Date;
  /** The time as the go command writes it, where the source's text holds more than a Date (a parent's zone, nanoseconds). */
  timeText?: string;
  origin?: Origin;
}

/** A version of a git repository: the commit it resolved to and the module's directory in it ("" for the root). */
export interface GitPin {
  kind: 'git';
  commit: string;
  dir: string;
}

/**
 * A version served from a parent proxy: the verified go.sum hashes of its
 * go.mod and zip. The zip fetched later must hash to zipH1, or it is refused.
 */
export interface ProxyPin {
  kind: 'proxy';
  modH1: string;
  zipH1: string;
}

/** What fixes a version's zip content, per kind of source (a tagged union; stored in records). */
export type SourcePin = GitPin | ProxyPin;

export interface ModuleSource {
  /**
   * True when writeZip copies a finished zip (streamed, bounded memory) rather
   * than building one; such copies may run several at a time.
   */
  readonly zipIsCopy?: boolean;
  /** True for the parent proxy: what it answers is counted as a parent fetch (metrics), not a build. */
  readonly isParentProxy?: boolean;
  /**
   * True when query() already starts what download() needs (the parent
   * proxy: the go.mod and its checksum lookup), so that a manifest lease
   * claimed after query() would guard no upstream work, only delay the
   * commit: the service commits without one (docs/consistency.md).
   */
  readonly fetchesAhead?: boolean;
  list(): Promise<string[]>;
  latest(): Promise<ResolvedVersion>;
  query(query: string): Promise<ResolvedVersion>;
  download(rev: ResolvedVersion): Promise<{ mod: Uint8Array; pin: SourcePin }>;
  /** Writes the zip to `out` and ends it; throws NoZipError when the version has no zip. */
  writeZip(version: string, pin: SourcePin, out: Writable): Promise<{ h1: string; files: number }>;
}

/** Maps a module path to its source; throws NotFoundError for modules this proxy does not serve. */
export interface SourceRouter {
  sourceFor(modPath: string): Promise<ModuleSource>;
  /** Whether any source serves the module (without network). */
  serves(modPath: string): boolean;
}

/**
 * The version exists but its zip cannot be made, for a reason that will not
 * change (the go command's "create zip: …" text): it is recorded as the
 * version's zip answer.
 */
export class NoZipError extends NotFoundError {
  override name = 'NoZipError';
}
