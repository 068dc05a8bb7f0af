// Secrets named by the configuration: from a file, an environment variable,
// or Google Secret Manager (for Cloud Run: projects/…/secrets/…/versions/…).
// Values are read once and kept in memory; they are never logged.
import fs from 'node:fs';
import { GoogleAuth } from 'google-auth-library';

export interface SecretSource {
  file?: string;
  envVar?: string;
  secret?: string;
}

export interface SecretLoader {
  load(src: SecretSource): Promise<string>;
}

export class SecretError extends Error {
  override name = 'SecretError';
}

export interface SecretLoaderOptions {
  env?: NodeJS.ProcessEnv;
  /** Secret Manager endpoint (tests point it at a double). */
  secretManagerUrl?: string;
  auth?: GoogleAuth;
}

export function createSecretLoader(opts: SecretLoaderOptions = {}): SecretLoader {
  const env = opts.env ?? process.env;
  const cache = new Map<string, Promise<string>>();
  const base = (opts.secretManagerUrl ?? 'https://secretmanager.googleapis.com').replace(/\/+$/, '');
  let auth: GoogleAuth | undefined = opts.auth;
  const load = async (src: SecretSource): Promise<string> => {
    if (src.file !== undefined) {
      try {
        return await fs.promises.readFile(src.file, 'utf8');
      } catch (err) {
        throw new SecretError(`cannot read secret file ${src.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }
    if (src.envVar !== undefined) {
      const v = env[src.envVar];
      if (v === undefined || v === '') throw new SecretError(`environment variable ${src.envVar} is not set`);
      // Keys passed through env often have their newlines escaped.
      return v.includes('\\n') && !v.includes('\n') ? v.replace(/\\n/g, '\n') : v;
    }
    if (src.secret !== undefined) {
      auth ??= new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
      try {
        const client = await auth.getClient();
        const res = await client.request<{ payload: { data: string } }>({ url: `${base}/v1/${src.secret}:access` });
        return Buffer.from(res.data.payload.data, 'base64').toString('utf8');
      } catch (err) {
        const status = (err as { response?: { status?: number } }).response?.status;
        throw new SecretError(`cannot access secret ${src.secret}${status ? ` (HTTP ${status})` : ''}`);
      }
    }
    throw new SecretError('no secret source given');
  };
  return {
    load(src) {
      const key = JSON.stringify(src);
      let p = cache.get(key);
      if (!p) {
        p = load(src);
        cache.set(key, p);
        p.catch(() => cache.delete(key));
      }
      return p;
    },
  };
}
