// The checksum database as a ModuleVerifier: what the go command does with
// GOSUMDB, before anything from a parent proxy is stored. A version the
// database has no record of is refused (as the go command refuses it), a
// record that does not verify is a fault of the database or of the way to it,
// and a verified record is read as the newest go command's checkSumDB reads
// it (vouchedHash): the first h1 line decides, and a record without one for
// the go.mod or the zip is refused ("checksum missing").
import { hashGoMod } from '../../gomod/dirhash.js';
import { SumdbNotFoundError, vouchedHash, type SumdbClient, type SumdbLookup } from '../../sumdb/client.js';
import { pinnableZipH1, VerificationError, type ModuleVerifier } from './verifier.js';

export class SumdbVerifier implements ModuleVerifier {
  /** `onVerified` sees each lookup answer the first time it is used (the /sumdb/ proxy keeps it). */
  constructor(
    private readonly client: SumdbClient,
    private readonly onVerified?: (lookup: SumdbLookup) => void,
  ) {}

  private readonly seen = new WeakSet<SumdbLookup>();

  private async lookup(path: string, version: string): Promise<SumdbLookup> {
    try {
      // One lookup serves both hashes (and the /sumdb/ proxy after them): a verified record never changes.
      const found = await this.client.recentLookup(path, version);
      if (this.onVerified && !this.seen.has(found)) {
        this.seen.add(found);
        this.onVerified(found);
      }
      return found;
    } catch (err) {
      if (err instanceof SumdbNotFoundError) {
        throw new VerificationError(`verifying ${path}@${version}: checksum database ${this.client.name} has no record of it: ${err.message}`);
      }
      throw err;
    }
  }

  /** The hash the record has for `what` (a version, or a version and "/go.mod"). */
  private async vouched(path: string, version: string, what: string): Promise<string> {
    const want = vouchedHash((await this.lookup(path, version)).lines, path, what);
    if (want === undefined) throw new VerificationError(`verifying ${path}@${what}: checksum missing from the ${this.client.name} record`);
    return want;
  }

  async verifyMod(path: string, version: string, mod: Uint8Array): Promise<void> {
    const want = await this.vouched(path, version, `${version}/go.mod`);
    const got = hashGoMod(mod);
    if (got !== want) {
      throw new VerificationError(`verifying ${path}@${version}/go.mod: checksum mismatch\n\tdownloaded: ${got}\n\t${this.client.name}: ${want}`);
    }
  }

  async zipH1For(path: string, version: string): Promise<string> {
    return pinnableZipH1(path, version, await this.vouched(path, version, version), this.client.name);
  }
}
