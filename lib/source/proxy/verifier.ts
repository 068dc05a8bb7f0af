// What vouches for content fetched from a parent proxy before it is stored.
//
// A parent proxy is trusted for availability only: every go.mod and zip it
// sends must hash to what a ModuleVerifier says, the way the go command
// checks downloads against go.sum and the checksum database. The checksum
// database client (lib/sumdb) implements this interface; GoSumVerifier checks
// against given go.sum lines (tests, and `import`); NoVerifier refuses all.
import { UpstreamError } from '../../errors.js';
import { hashGoMod } from '../../gomod/dirhash.js';
import { fields } from '../../gomod/unicode.js';

export interface ModuleVerifier {
  /** Resolves when `mod` is the go.mod of path@version; throws a ProxyError (never not-found) otherwise. */
  verifyMod(path: string, version: string, mod: Uint8Array): Promise<void>;
  /** The h1 the zip of path@version must have; throws a ProxyError (never not-found) when it cannot say. */
  zipH1For(path: string, version: string): Promise<string>;
}

/** A verification failure: the content is refused (502), and nothing of it is stored. */
export class VerificationError extends UpstreamError {
  override name = 'VerificationError';
  constructor(message: string) {
    super(message, 502);
  }
}

/** Whether `h1` is the zip hash the verifier expects for path@version (throws VerificationError otherwise). */
export async function verifyZip(verifier: ModuleVerifier, path: string, version: string, h1: string): Promise<void> {
  const want = await verifier.zipH1For(path, version);
  if (want !== h1) throw new VerificationError(`verifying ${path}@${version}: checksum mismatch\n\tdownloaded: ${h1}\n\tverified:   ${want}`);
}

/** Verifies against go.sum lines (`<path> <version>[/go.mod] h1:<hash>`); a module without a line is refused. */
export class GoSumVerifier implements ModuleVerifier {
  private readonly sums = new Map<string, string>();

  constructor(goSum: string) {
    for (const line of goSum.split('\n')) {
      const f = fields(line);
      if (f.length !== 3 || !f[2].startsWith('h1:')) continue;
      const key = `${f[0]} ${f[1]}`;
      const prev = this.sums.get(key);
      if (prev !== undefined && prev !== f[2]) throw new Error(`go.sum holds two hashes for ${key}`);
      this.sums.set(key, f[2]);
    }
  }

  /** Whether go.sum has both lines (go.mod and zip) of path@version. */
  covers(path: string, version: string): boolean {
    return this.sums.has(`${path} ${version}`) && this.sums.has(`${path} ${version}/go.mod`);
  }

  private lookup(key: string): string {
    const h = this.sums.get(key);
    if (h === undefined) throw new VerificationError(`verifying ${key}: no go.sum line for it`);
    return h;
  }

  async verifyMod(path: string, version: string, mod: Uint8Array): Promise<void> {
    const want = this.lookup(`${path} ${version}/go.mod`);
    const got = hashGoMod(mod);
    if (got !== want) throw new VerificationError(`verifying ${path}@${version}/go.mod: checksum mismatch\n\tdownloaded: ${got}\n\tgo.sum:     ${want}`);
  }

  async zipH1For(path: string, version: string): Promise<string> {
    return this.lookup(`${path} ${version}`);
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

  zipH1For(path: string, version: string): Promise<string> {
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
  constructor(private readonly zipH1: (path: string, version: string) => Promise<string>) {}
  async verifyMod(): Promise<void> {}
  zipH1For(path: string, version: string): Promise<string> {
    return this.zipH1(path, version);
  }
}
