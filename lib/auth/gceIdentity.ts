// Google-signed identity tokens (GCE/Cloud Run instance identity, or any
// Google service account ID token), verified with google-auth-library: the
// signature against Google's certificates, issuer, expiry, and always the
// audience; then the email claim, which binds the token to an identity.
import { OAuth2Client } from 'google-auth-library';

export interface GceIdentityVerifier {
  /** The verified service-account email, or null. */
  verify(token: string): Promise<string | null>;
}

export function createGceIdentityVerifier(opts: { audience: string; certsUrl?: string; client?: OAuth2Client }): GceIdentityVerifier {
  const client = opts.client ?? new OAuth2Client(opts.certsUrl ? { endpoints: { oauth2FederatedSignonPemCertsUrl: opts.certsUrl } } : {});
  return {
    async verify(token) {
      try {
        const ticket = await client.verifyIdToken({ idToken: token, audience: opts.audience });
        const p = ticket.getPayload();
        if (!p?.email || p.email_verified !== true) return null;
        return p.email.toLowerCase();
      } catch {
        return null;
      }
    },
  };
}
