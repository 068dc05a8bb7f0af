// modproxy-auth: credentials for the go command, without a sidecar.
//
//   GOAUTH='modproxy-auth'            (Go 1.24+) the go command runs
//                                     `modproxy-auth <url>` and attaches the
//                                     headers it prints to requests for that URL
//   modproxy-auth hash-password       reads a password on stdin, prints a
//                                     clientAuth.identities[].passwordHash
//
// Environment:
//   MODPROXY_URL                   the proxy's URL (default: the origin of <url>)
//   MODPROXY_AUTH_USER             identity name (password mode)
//   MODPROXY_AUTH_PASSWORD         its password, or
//   MODPROXY_AUTH_PASSWORD_FILE    a file holding it
//   MODPROXY_AUTH_MODE             "password" (default) or "gce"
//   MODPROXY_AUTH_AUDIENCE         gce mode: the audience of the instance identity token
//   GCE_METADATA_HOST              metadata server (default metadata.google.internal)
//
// Password mode exchanges the password for a short-lived access token at
// POST /auth/userpassword when the proxy issues them, else sends Basic. GCE
// mode asks the metadata server for an instance identity token and exchanges
// it at POST /auth/gce. For Go before 1.24, use a .netrc entry instead (README).
import fs from 'node:fs';
import { hashPassword } from '../auth/passwords.js';

export interface CliEnv {
  [k: string]: string | undefined;
}

class CliError extends Error {}

/** Go's GOAUTH credential set: URL lines, a blank line, header lines, a blank line. */
export function formatCredentials(urlPrefix: string, headers: Record<string, string>): string {
  return `${urlPrefix}\n\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\n`)
    .join('')}\n`;
}

function proxyBase(env: CliEnv, url: string | undefined): string {
  const raw = env.MODPROXY_URL ?? url;
  if (!raw) throw new CliError('no proxy URL: pass it as the argument (GOAUTH does) or set MODPROXY_URL');
  const u = new URL(raw);
  // The credentials are for the whole proxy (its path prefix, if it has one).
  return env.MODPROXY_URL ? raw.replace(/\/?$/, '/') : `${u.origin}/`;
}

async function exchange(base: string, path: string, init: RequestInit): Promise<string | null> {
  const res = await fetch(new URL(path.replace(/^\//, ''), base), { ...init, method: 'POST' });
  if (res.status === 404) return null; // the proxy does not issue access tokens
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; error?: string };
  if (!res.ok || !body.access_token) throw new CliError(`${path}: HTTP ${res.status}${body.error ? `: ${body.error}` : ''}`);
  return body.access_token;
}

async function passwordCredentials(env: CliEnv, base: string): Promise<Record<string, string>> {
  const user = env.MODPROXY_AUTH_USER;
  let password = env.MODPROXY_AUTH_PASSWORD;
  if (password === undefined && env.MODPROXY_AUTH_PASSWORD_FILE) password = fs.readFileSync(env.MODPROXY_AUTH_PASSWORD_FILE, 'utf8').replace(/\r?\n$/, '');
  if (!user || password === undefined) throw new CliError('set MODPROXY_AUTH_USER and MODPROXY_AUTH_PASSWORD (or MODPROXY_AUTH_PASSWORD_FILE)');
  const token = await exchange(base, '/auth/userpassword', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }) });
  return { Authorization: token ? `Bearer ${token}` : `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

async function gceCredentials(env: CliEnv, base: string): Promise<Record<string, string>> {
  const audience = env.MODPROXY_AUTH_AUDIENCE;
  if (!audience) throw new CliError('gce mode needs MODPROXY_AUTH_AUDIENCE');
  const host = env.GCE_METADATA_HOST ?? 'metadata.google.internal';
  const res = await fetch(`http://${host}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(audience)}&format=full`, {
    headers: { 'Metadata-Flavor': 'Google' },
  });
  if (!res.ok) throw new CliError(`metadata server: HTTP ${res.status}`);
  const identityToken = (await res.text()).trim();
  const token = await exchange(base, '/auth/gce', { headers: { authorization: `Bearer ${identityToken}` } });
  // A proxy without access tokens accepts the identity token itself.
  return { Authorization: `Bearer ${token ?? identityToken}` };
}

/** Runs the CLI; returns what to print on stdout. */
export async function run(args: string[], env: CliEnv, stdin: () => Promise<string>): Promise<string> {
  if (args[0] === 'hash-password') {
    const password = (await stdin()).replace(/\r?\n$/, '');
    if (password === '') throw new CliError('empty password on stdin');
    return (await hashPassword(password)) + '\n';
  }
  if (args[0] === '-h' || args[0] === '--help') {
    return 'usage: modproxy-auth <proxy url>   (as GOAUTH command)\n       modproxy-auth hash-password < password\n';
  }
  const base = proxyBase(env, args[0]);
  const headers = env.MODPROXY_AUTH_MODE === 'gce' ? await gceCredentials(env, base) : await passwordCredentials(env, base);
  return formatCredentials(base, headers);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The command line entry point (lib/cli/modproxyAuthBin.ts): prints the credentials, or the error and exits 1. */
export async function main(): Promise<void> {
  try {
    process.stdout.write(await run(process.argv.slice(2), process.env, readStdin));
  } catch (err) {
    // Messages never include the password or tokens.
    process.stderr.write(`modproxy-auth: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
