// The checksum database as a ModuleVerifier: what the go command does with
// GOSUMDB, before anything from a parent proxy is stored. A version the
// database has no record of is refused (as the go command refuses it), and a
// record that does not verify is a fault of the database or of the way to it.
import { hashGoMod } from '../../gomod/dirhash.js';
import { SumdbNotFoundError, type SumdbClient, type SumdbLookup } from '../../sumdb/client.js';
import { VerificationError, type ModuleVerifier } from './verifier.js';

export class SumdbVerifier implements ModuleVerifier {
  /** `onVerified` sees each lookup answer the first time it is used (the /sumdb/ proxy keeps it). */
  constructor(
    private readonly client: SumdbClient,
    private readonly onVerified?: (lookup: SumdbLookup) => void,
  ) {}

  private readonly seen = new WeakSet<SumdbLookup>();

  private async lookup(path: string, version: string): Promise<{ modHash: string; zipHash: string }> {
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

  async verifyMod(path: string, version: string, mod: Uint8Array): Promise<void> {
    const want = (await this.lookup(path, version)).modHash;
    const got = hashGoMod(mod);
    if (got !== want) {
      throw new VerificationError(`verifying ${path}@${version}/go.mod: checksum mismatch\n\tdownloaded: ${got}\n\t${this.client.name}: ${want}`);
    }
  }

  async zipH1For(path: string, version: string): Promise<string> {
    return (await this.lookup(path, version)).zipHash;
  }
}
