// Password hashes for identities (clientAuth.identities[].passwordHash):
// scrypt with a random salt, stored as "scrypt$N$r$p$<salt b64>$<hash b64>".
// Comparisons are constant-time.
import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(crypto.scrypt) as (password: string, salt: Buffer, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>;
const DEFAULTS = { N: 1 << 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const { N, r, p } = DEFAULTS;
  const key = await scrypt(password, salt, KEY_LENGTH, { N, r, p, maxmem: 128 * N * r * 2 });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches `encoded`; false for malformed hashes. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.trim().split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 1 << 20) return false;
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  const key = await scrypt(password, salt, expected.length, { N, r, p, maxmem: 128 * N * r * 2 });
  return key.length === expected.length && crypto.timingSafeEqual(key, expected);
}

/** A function that checks a password against an encoded hash (injectable, so tests can count scrypt runs). */
export type PasswordVerifier = (password: string, encoded: string) => Promise<boolean>;

/**
 * A hash no password matches, costing what checking a configured one costs:
 * the scrypt parameters, salt and key lengths most common among `hashes` (the
 * defaults when there are none). An unknown identity is checked against it, so
 * a failed login takes as long whether or not the identity exists.
 */
export function dummyHash(hashes: string[]): string {
  const shapes = new Map<string, number>();
  for (const h of hashes) {
    const parts = h.trim().split('$');
    if (parts.length !== 6 || parts[0] !== 'scrypt') continue;
    const shape = [...parts.slice(1, 4), Buffer.from(parts[4], 'base64').length, Buffer.from(parts[5], 'base64').length].join('$');
    shapes.set(shape, (shapes.get(shape) ?? 0) + 1);
  }
  const common = [...shapes].sort((a, b) => b[1] - a[1])[0]?.[0];
  const [N, r, p, saltLength, keyLength] = (common ?? `${DEFAULTS.N}$${DEFAULTS.r}$${DEFAULTS.p}$16$${KEY_LENGTH}`).split('$').map(Number);
  return `scrypt$${N}$${r}$${p}$${crypto.randomBytes(saltLength).toString('base64')}$${crypto.randomBytes(keyLength).toString('base64')}`;
}

/** Constant-time comparison of two strings (for plaintext passwords). */
export function equalSecrets(a: string, b: string): boolean {
  // Hash both so lengths are equal and the comparison time does not depend on them.
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb) && a.length === b.length;
}
