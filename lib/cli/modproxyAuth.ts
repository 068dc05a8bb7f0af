// modproxy-auth: credentials for the go command, without a sidecar.
//
//   GOAUTH=modproxy-auth              (Go 1.24+) the go command runs
//                                     `modproxy-auth` once before its first
//                                     request, then `modproxy-auth <url>` after
//                                     a 4xx answer (the answer's status line and
//                                     headers on stdin), and attaches the headers
//                                     printed for a URL prefix to its requests
//   modproxy-auth hash-password       reads a password on stdin, prints a
//                                     clientAuth.identities[].passwordHash
//
// Environment:
//   MODPROXY_URL                   the proxy's URL (default: the origin of <url>);
//                                  set, credentials are sent from the first request on
//   MODPROXY_AUTH_MODE             "password" (default), "gce" or "google"
//   MODPROXY_AUTH_USER             password mode: identity name
//   MODPROXY_AUTH_PASSWORD         its password, or
//   MODPROXY_AUTH_PASSWORD_FILE    a file holding it
//   MODPROXY_AUTH_AUDIENCE         gce mode: the gceInstanceIdentity audience;
//                                  google mode: the ID token's audience
//                                  (default: the proxy's origin, a Cloud Run URL)
//   MODPROXY_AUTH_CLOUD_RUN_IAM    "1": also send a Google ID token in
//                                  X-Serverless-Authorization (password and gce modes)
//   MODPROXY_AUTH_CLOUD_RUN_AUDIENCE  its audience (default: the proxy's origin)
//   GCE_METADATA_HOST              metadata server (default metadata.google.internal)
//   GOOGLE_APPLICATION_CREDENTIALS Application Default Credentials (google mode, Cloud Run IAM)
//
// Password mode exchanges the password for a short-lived access token at
// POST /auth/userpassword when the proxy issues them, else sends Basic. GCE
// mode asks the metadata server for an instance identity token and exchanges
// it at POST /auth/gce. Google mode sends a Google ID token from Application
// Default Credentials (lib/cli/googleIdToken.ts) as Authorization: Bearer, for
// a Cloud Run service that requires IAM. Behind such a service with modproxy's
// own clientAuth on, MODPROXY_AUTH_CLOUD_RUN_IAM puts the Google ID token in
// X-Serverless-Authorization, which Cloud Run checks instead of Authorization
// and which leaves Authorization to modproxy. For Go before 1.24, use a .netrc
// entry instead (README).
import fs from 'node:fs';
import { hashPassword } from '../auth/passwords.js';
import { googleIdToken, type GoogleIdTokenDeps } from './googleIdToken.js';

export interface CliEnv {
  [k: string]: string | undefined;
}

export interface CliDeps extends GoogleIdTokenDeps {
  /** A Google ID token for an audience (default: googleIdToken). */
  idToken?: (audience: string) => Promise<string>;
}

class CliError extends Error {}

/** Go's GOAUTH credential set: URL lines, a blank line, header lines, a blank line. */
export function formatCredentials(urlPrefix: string, headers: Record<string, string>): string {
  return `${urlPrefix}\n\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\n`)
    .join('')}\n`;
}

/** The HTTP status of the answer the go command passes on stdin ("HTTP/1.1 401 Unauthorized"), if any. */
export function goAnswerStatus(stdin: string): number | undefined {
  const m = /^HTTP\/\S+ (\d{3})\b/.exec(stdin);
  return m ? Number(m[1]) : undefined;
}

function proxyBase(env: CliEnv, url: string): string {
  const raw = env.MODPROXY_URL ?? url;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new CliError(`not a URL: ${JSON.stringify(raw.slice(0, 200))}`);
  }
  // The credentials are for the whole proxy (its path prefix, if it has one).
  return env.MODPROXY_URL ? `${u.origin}${u.pathname.replace(/\/?$/, '/')}` : `${u.origin}/`;
}

/** What fetch's "fetch failed" hides: the cause (ECONNREFUSED, a certificate error). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
}

async function exchange(base: string, path: string, init: RequestInit): Promise<string | null> {
  const url = new URL(path.replace(/^\//, ''), base);
  let res: Response;
  try {
    res = await fetch(url, { ...init, method: 'POST', signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    throw new CliError(`${url.href}: ${describe(err)}`);
  }
  if (res.status === 404) return null; // the proxy does not issue access tokens
  const text = await res.text().catch(() => '');
  let body: { access_token?: string; error?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: Cloud Run's or a load balancer's own error page
  }
  if (!res.ok || !body.access_token) {
    const why = body.error ?? (res.headers.get('content-type')?.startsWith('text/plain') ? text.trim().slice(0, 200) : '');
    throw new CliError(`${path}: HTTP ${res.status}${why ? `: ${why}` : ''}`);
  }
  return body.access_token;
}

async function passwordCredentials(env: CliEnv, base: string, extra: Record<string, string>): Promise<Record<string, string>> {
  const user = env.MODPROXY_AUTH_USER;
  let password = env.MODPROXY_AUTH_PASSWORD;
  if (password === undefined && env.MODPROXY_AUTH_PASSWORD_FILE) password = fs.readFileSync(env.MODPROXY_AUTH_PASSWORD_FILE, 'utf8').replace(/\r?\n$/, '');
  if (!user || password === undefined) throw new CliError('set MODPROXY_AUTH_USER and MODPROXY_AUTH_PASSWORD (or MODPROXY_AUTH_PASSWORD_FILE)');
  const token = await exchange(base, '/auth/userpassword', { headers: { 'content-type': 'application/json', ...extra }, body: JSON.stringify({ user, password }) });
  return { Authorization: token ? `Bearer ${token}` : `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

async function gceCredentials(env: CliEnv, base: string, extra: Record<string, string>): Promise<Record<string, string>> {
  const audience = env.MODPROXY_AUTH_AUDIENCE;
  if (!audience) throw new CliError('gce mode needs MODPROXY_AUTH_AUDIENCE');
  const host = env.GCE_METADATA_HOST ?? 'metadata.google.internal';
  let res: Response;
  try {
    res = await fetch(`http://${host}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(audience)}&format=full`, {
      headers: { 'Metadata-Flavor': 'Google' },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new CliError(`metadata server ${host}: ${describe(err)}`);
  }
  if (!res.ok) throw new CliError(`metadata server: HTTP ${res.status}`);
  const identityToken = (await res.text()).trim();
  const token = await exchange(base, '/auth/gce', { headers: { authorization: `Bearer ${identityToken}`, ...extra } });
  // A proxy without access tokens accepts the identity token itself.
  return { Authorization: `Bearer ${token ?? identityToken}` };
}

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());

/**
 * Runs the CLI; returns what to print on stdout. `stdin` is read only for
 * hash-password and for the go command's answer (when a URL is given).
 */
export async function run(args: string[], env: CliEnv, stdin: () => Promise<string>, deps: CliDeps = {}): Promise<string> {
  if (args[0] === 'hash-password') {
    const password = (await stdin()).replace(/\r?\n$/, '');
    if (password === '') throw new CliError('empty password on stdin');
    return (await hashPassword(password)) + '\n';
  }
  if (args[0] === '-h' || args[0] === '--help') {
    return 'usage: modproxy-auth [<proxy url>]   (as GOAUTH command; see the README)\n       modproxy-auth hash-password < password\n';
  }
  const url = args[0];
  if (url === undefined) {
    // The go command's first call, before any request, names no URL: without
    // MODPROXY_URL there is nothing to say yet (it calls again with the URL
    // after a 4xx answer), and that is not an error.
    if (!env.MODPROXY_URL) return '';
  } else {
    // A 404 or 410 says the proxy does not have the module (the go command
    // then tries its next GOPROXY entry): credentials are not the problem, so
    // mint none; the go command keeps the ones it has.
    const status = goAnswerStatus(await stdin());
    if (status === 404 || status === 410) return '';
  }
  const base = proxyBase(env, url ?? '');
  const origin = new URL(base).origin;
  const idToken = deps.idToken ?? ((audience: string) => googleIdToken(audience, deps));
  const mode = env.MODPROXY_AUTH_MODE ?? 'password';
  if (mode === 'google') {
    const audience = env.MODPROXY_AUTH_AUDIENCE || origin;
    return formatCredentials(base, { Authorization: `Bearer ${await idToken(audience)}` });
  }
  // Cloud Run checks X-Serverless-Authorization instead of Authorization when
  // it is present, so both the exchange and every request carry it.
  const iam: Record<string, string> = truthy(env.MODPROXY_AUTH_CLOUD_RUN_IAM)
    ? { 'X-Serverless-Authorization': `Bearer ${await idToken(env.MODPROXY_AUTH_CLOUD_RUN_AUDIENCE || origin)}` }
    : {};
  let headers: Record<string, string>;
  if (mode === 'gce') headers = await gceCredentials(env, base, iam);
  else if (mode === 'password') headers = await passwordCredentials(env, base, iam);
  else throw new CliError(`MODPROXY_AUTH_MODE must be password, gce or google, not ${JSON.stringify(mode)}`);
  return formatCredentials(base, { ...headers, ...iam });
}

/**
 * stdin, up to `limit` bytes and `waitMs`: nothing when it is a terminal (a
 * person typing a URL sends no answer); what came when it stays open (the go
 * command writes its answer at once and closes it).
 */
async function readStdin(limit = 64 << 10, waitMs = 5_000): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(finish, waitMs);
    function finish() {
      clearTimeout(timer);
      process.stdin.removeListener('data', onData);
      process.stdin.destroy();
      resolve();
    }
    function onData(c: Buffer) {
      chunks.push(c);
      size += c.length;
      if (size >= limit) finish();
    }
    process.stdin.on('data', onData);
    process.stdin.once('end', finish);
    process.stdin.once('error', finish);
  });
  await done;
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}

/**
 * The go command keeps a GOAUTH command's stderr to itself unless run with -x,
 * so a failure would only show as the proxy's 401. Say it on the terminal too,
 * when there is one and stderr is not it.
 */
function report(message: string): void {
  process.stderr.write(message);
  if (process.stderr.isTTY) return;
  try {
    const fd = fs.openSync('/dev/tty', 'w');
    try {
      fs.writeSync(fd, message);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // no controlling terminal (CI): stderr, shown by `go ... -x`, is all there is
  }
}

/** The command line entry point (lib/cli/modproxyAuthBin.ts): prints the credentials, or the error and exits 1. */
export async function main(): Promise<void> {
  try {
    process.stdout.write(await run(process.argv.slice(2), process.env, readStdin));
  } catch (err) {
    // Messages never include the password or tokens.
    report(`modproxy-auth: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
