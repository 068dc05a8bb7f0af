// A Google-signed ID token for an audience, from Application Default
// Credentials, for Cloud Run's IAM check (--no-allow-unauthenticated) or for
// modproxy's own gceInstanceIdentity authenticator.
//
// google-auth-library does the work for every kind of ADC it knows: a service
// account key file (JWT-bearer grant with target_audience at Google's token
// endpoint), the metadata server (GCE, Cloud Run, Cloud Build, GKE),
// impersonated service accounts (IAM Credentials generateIdToken), and user
// credentials from `gcloud auth application-default login` (a refresh grant;
// Google then signs the token for gcloud's OAuth client rather than for the
// audience, which Cloud Run accepts and modproxy's authenticator does not).
// Where ADC has none of these (nothing set up, or workload identity
// federation, whose clients cannot mint ID tokens), `gcloud auth
// print-identity-token` is the fallback, if gcloud is installed; where ADC
// can mint them but fails, that failure is the answer.
import { execFile } from 'node:child_process';

export class IdTokenError extends Error {}

export interface GoogleIdTokenDeps {
  /** Runs `gcloud auth print-identity-token`; resolves to its stdout. */
  gcloud?: () => Promise<string>;
}

function runGcloud(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('gcloud', ['auth', 'print-identity-token', '--quiet'], { timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        reject(new Error(code === 'ENOENT' ? 'gcloud is not installed' : `gcloud auth print-identity-token failed: ${String(stderr).trim().split('\n').pop() || err.message}`));
      } else resolve(stdout);
    });
  });
}

/** A JWT's three base64url parts; anything else (an HTML error page, a prompt) is not a token. */
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * An ID token for `audience`. google-auth-library reads the process
 * environment itself (GOOGLE_APPLICATION_CREDENTIALS, GCE_METADATA_HOST, ...).
 */
export async function googleIdToken(audience: string, deps: GoogleIdTokenDeps = {}): Promise<string> {
  // Loaded only in the modes that need it: the go command may start this command once per request.
  const { GoogleAuth } = await import('google-auth-library');
  // A project id is irrelevant to ID tokens; giving one skips the library's
  // project discovery (which would start gcloud or probe the metadata server).
  const auth = new GoogleAuth({ projectId: 'unused-by-modproxy-auth' });
  let adcProblem: string;
  try {
    const client = await auth.getClient();
    if ('fetchIdToken' in client && typeof client.fetchIdToken === 'function') {
      // These credentials can mint ID tokens: a failure here (a revoked key, an
      // expired login) is theirs to report, and no other identity stands in.
      let token: string;
      try {
        token = ((await (client.fetchIdToken as (aud: string) => Promise<string | undefined>).call(client, audience)) ?? '').trim();
      } catch (err) {
        throw new IdTokenError(`no Google ID token from Application Default Credentials: ${firstLine(err)}`);
      }
      if (!JWT.test(token)) throw new IdTokenError('no Google ID token: Application Default Credentials returned none');
      return token;
    }
    adcProblem = `Application Default Credentials (${client.constructor.name}) cannot mint ID tokens`;
  } catch (err) {
    if (err instanceof IdTokenError) throw err;
    adcProblem = `Application Default Credentials: ${firstLine(err)}`;
  }
  try {
    const token = (await (deps.gcloud ?? runGcloud)()).trim();
    if (JWT.test(token)) return token;
    throw new Error('gcloud auth print-identity-token printed no token');
  } catch (err) {
    throw new IdTokenError(`no Google ID token: ${adcProblem}; fallback: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** An error's first line, bounded: the library's messages can carry a whole error page. */
function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 300);
}
