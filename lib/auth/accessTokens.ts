// Access tokens issued by POST /auth/userpassword and POST /auth/gce, as the
// seed project issues them: HS256 JWTs with the identity as subject, the
// configured audience and an expiry (jose signs and verifies). A token without
// an expiry is refused (it would be valid forever), and the clock skew allowed
// between replicas is a few seconds, not the token's lifetime's worth.
import { jwtVerify, SignJWT } from 'jose';

export interface AccessTokenIssuer {
  ttlSeconds: number;
  issue(identity: string): Promise<string>;
  /** The identity a token was issued to, or null if it is invalid, expired, tampered or for another audience. */
  verify(token: string): Promise<string | null>;
}

/** Seconds a token is still accepted after its expiry (and before its iat), for clock differences between replicas. */
export const CLOCK_SKEW_SECONDS = 5;

export function createAccessTokens(opts: { secret: string; audience: string; ttlSeconds: number; now?: () => number }): AccessTokenIssuer {
  const key = new TextEncoder().encode(opts.secret);
  const now = opts.now ?? Date.now;
  return {
    ttlSeconds: opts.ttlSeconds,
    issue: (identity) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(identity)
        .setAudience(opts.audience)
        .setIssuedAt(Math.floor(now() / 1000))
        .setExpirationTime(Math.floor(now() / 1000) + opts.ttlSeconds)
        .sign(key),
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          audience: opts.audience,
          currentDate: new Date(now()),
          clockTolerance: CLOCK_SKEW_SECONDS,
          requiredClaims: ['exp', 'sub'],
        });
        return typeof payload.sub === 'string' ? payload.sub : null;
      } catch {
        return null;
      }
    },
  };
}

/** Go duration strings (15m, 1h30m, 90s) in seconds. */
export function parseDuration(s: string): number {
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : n / 1000;
  }
  return total;
}
