// What vouches for content fetched from a parent proxy before it is stored.
//
// A parent proxy is trusted for availability only: every go.mod and zip it
// sends must hash to what a ModuleVerifier says, the way the go command
// checks downloads against go.sum and the checksum database. The checksum
// database client (lib/sumdb) implements this interface; GoSumVerifier checks
// against given go.sum lines (tests, and `import`); NoVerifier refuses all.
import { UpstreamError } from '../../errors.js';
import { H1_FORM, hashGoMod } from '../../gomod/dirhash.js';
import { fields } from '../../gomod/unicode.js';

export interface ModuleVerifier {
  /** Resolves when `mod` is the go.mod of path@version; throws a ProxyError (never not-found) otherwise. */
  verifyMod(path: string, version: string, mod: Uint8Array): Promise<void>;
  /**
   * The h1 the zip of path@version must have; undefined when nothing vouches
   * for it (the go command then accepts any valid zip, and the first one
   * checked is pinned); throws a ProxyError (never not-found) when it cannot say.
   */
  zipH1For(path: string, version: string): Promise<string | undefined>;
}

/** A verification failure: the content is refused (502), and nothing of it is stored. */
export class VerificationError extends UpstreamError {
  override name = 'VerificationError';
  constructor(message: string) {
    super(message, 502);
  }
}

/**
 * `want`, the zip hash `by` vouches for, as a pin. A string that is not an h1
 * hash matches no zip: the go command reports a checksum mismatch when the zip
 * arrives, and the mismatch is reported here, before anything is pinned to it.
 */
export function pinnableZipH1(path: string, version: string, want: string, by: string): string {
  if (!H1_FORM.test(want)) {
    throw new VerificationError(`verifying ${path}@${version}: checksum mismatch: ${by} has ${JSON.stringify(want.slice(0, 100))}, which no zip hashes to`);
  }
  return want;
}

/** The go.mod hash of an empty file, which old go commands wrote into go.sum by mistake: the go command drops it. */
const EMPTY_GO_MOD_HASH = 'h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=';

/**
 * Verifies against go.sum lines (`<path> <version>[/go.mod] h1:<hash>`), read
 * as the go command reads go.sum (readGoSum, haveModSumLocked): a line is its
 * fields; a line of other than three fields is refused; a version may have
 * several hashes, and the first h1 one decides. A version without an h1 line
 * is refused.
 */
export class GoSumVerifier implements ModuleVerifier {
  private readonly sums = new Map<string, string[]>();

  constructor(goSum: string, file = 'go.sum') {
    goSum.split('\n').forEach((line, i) => {
      const f = fields(line);
      if (f.length === 0) return;
      if (f.length !== 3) throw new Error(`malformed go.sum:\n${file}:${i + 1}: wrong number of fields ${f.length}`);
      if (f[2] === EMPTY_GO_MOD_HASH) return;
      const key = `${f[0]} ${f[1]}`;
      const list = this.sums.get(key);
      if (list) list.push(f[2]);
      else this.sums.set(key, [f[2]]);
    });
  }

  private vouched(key: string): string | undefined {
    return this.sums.get(key)?.find((h) => h.startsWith('h1:'));
  }

  /** Whether go.sum vouches for both the go.mod and the zip of path@version. */
  covers(path: string, version: string): boolean {
    return this.vouched(`${path} ${version}`) !== undefined && this.vouched(`${path} ${version}/go.mod`) !== undefined;
  }

  private lookup(key: string): string {
    const h = this.vouched(key);
    if (h === undefined) throw new VerificationError(`verifying ${key}: no go.sum line for it`);
    return h;
  }

  async verifyMod(path: string, version: string, mod: Uint8Array): Promise<void> {
    const want = this.lookup(`${path} ${version}/go.mod`);
    const got = hashGoMod(mod);
    if (got !== want) throw new VerificationError(`verifying ${path}@${version}/go.mod: checksum mismatch\n\tdownloaded: ${got}\n\tgo.sum:     ${want}`);
  }

  async zipH1For(path: string, version: string): Promise<string> {
    return pinnableZipH1(path, version, this.lookup(`${path} ${version}`), 'go.sum');
  }
}

/**
 * go.sum lines first; a version go.sum has no lines for is asked of the
 * fallback (the checksum database), never half of one and half of the other.
 */
export class GoSumThenVerifier implements ModuleVerifier {
  constructor(
    private readonly goSum: GoSumVerifier,
    private readonly fallback: ModuleVerifier,
  ) {}

  private pick(path: string, version: string): ModuleVerifier {
    return this.goSum.covers(path, version) ? this.goSum : this.fallback;
  }

  verifyMod(path: string, version: string, mod: Uint8Array): Promise<void> {
    return this.pick(path, version).verifyMod(path, version, mod);
  }

  zipH1For(path: string, version: string): Promise<string | undefined> {
    return this.pick(path, version).zipH1For(path, version);
  }
}

/** Fails closed: without a checksum database nothing from a parent proxy is served. */
export class NoVerifier implements ModuleVerifier {
  private fail(path: string, version: string): never {
    throw new VerificationError(`verifying ${path}@${version}: no checksum database is configured (publicModules.sumDatabase), so modules from the parent proxy cannot be verified`);
  }
  async verifyMod(path: string, version: string): Promise<void> {
    this.fail(path, version);
  }
  async zipH1For(path: string, version: string): Promise<string> {
    this.fail(path, version);
  }
}

/**
 * For private modules served by a module proxy that discovery found (a go-import
 * "mod" root): no checksum database knows them, and the go command with
 * GOPRIVATE/GONOSUMDB checks them against nothing either. The go.mod is taken as
 * served; the zip is downloaded and checked once when the version is first
 * resolved, and its hash pinned, so that every later copy must match it.
 */
export class FirstUseVerifier implements ModuleVerifier {
  async verifyMod(): Promise<void> {}
  async zipH1For(): Promise<undefined> {
    return undefined;
  }
}
