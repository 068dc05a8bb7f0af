// TLS from the configuration's `tls` key: the certificate and key the
// modproxy server entry listens with, and the lowest TLS version — for the
// listener and, as in the seed project go-mod-proxy, for modproxy's own
// outgoing connections. Clients need HTTPS: the go command sends .netrc and
// GOAUTH credentials only over https.
import tls from 'node:tls';
import type { TlsConfig } from '../config/schema.js';
import type { SecretLoader, SecretSource } from '../config/secrets.js';

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** What an HTTPS server is created with. */
export interface ServerTls {
  cert: string;
  key: string;
  minVersion?: TlsVersion;
}

/** A TLS setting that cannot be used; the message names the configuration key. */
export class TlsConfigError extends Error {
  override name = 'TlsConfigError';
}

async function loadPem(secrets: SecretLoader, file: string | undefined, source: SecretSource | undefined, key: string): Promise<string> {
  try {
    return await secrets.load(file !== undefined ? { file } : source!);
  } catch (err) {
    throw new TlsConfigError(`${key}: ${(err as Error).message}`);
  }
}

/** OpenSSL's reason without its error-code prefix ("error:1E08010C:DECODER routines::unsupported" → "unsupported"). */
function reason(err: unknown): string {
  const m = (err as Error).message;
  return m.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/i, '').trim() || m;
}

/**
 * The listener's certificate and key, read and checked now so that a bad
 * file stops the start with one line naming the key; undefined without a
 * certificate (plain HTTP).
 */
export async function loadServerTls(config: TlsConfig | undefined, secrets: SecretLoader): Promise<ServerTls | undefined> {
  if (!config || (config.certFile === undefined && config.cert === undefined)) return undefined;
  const certKey = config.certFile !== undefined ? 'tls.certFile' : 'tls.cert';
  const keyKey = config.keyFile !== undefined ? 'tls.keyFile' : 'tls.key';
  const cert = await loadPem(secrets, config.certFile, config.cert, certKey);
  const key = await loadPem(secrets, config.keyFile, config.key, keyKey);
  // Each alone first, so the message says which one is unreadable; then the pair.
  try {
    tls.createSecureContext({ cert });
  } catch (err) {
    throw new TlsConfigError(`${certKey}: not a usable PEM certificate (${reason(err)})`);
  }
  try {
    tls.createSecureContext({ key });
  } catch (err) {
    throw new TlsConfigError(`${keyKey}: not a usable PEM private key (${reason(err)})`);
  }
  try {
    tls.createSecureContext({ cert, key, minVersion: config.minVersion });
  } catch (err) {
    throw new TlsConfigError(`${keyKey}: does not match the certificate in ${certKey} (${reason(err)})`);
  }
  return { cert, key, minVersion: config.minVersion };
}

/**
 * The seed's meaning of tls.minVersion: the lowest version modproxy accepts
 * on its outgoing connections. Node's default for every TLS context created
 * afterwards (node:https, fetch, the Google clients); call it before any
 * connection is made. Unset leaves Node's default (TLS 1.2).
 */
export function applyOutgoingMinVersion(config: TlsConfig | undefined): void {
  if (config?.minVersion) tls.DEFAULT_MIN_VERSION = config.minVersion;
}
