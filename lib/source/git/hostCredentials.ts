// Basic and bearer credentials per git host and path prefix (config gitHosts[]).
//
// A credential is attached only to https URLs whose host is exactly the
// configured host and whose path lies under its pathPrefix (the longest
// matching prefix wins), so it never reaches another host, also not after a
// redirect: callers ask again for each URL they send to.
import type { GitHostCredentialsConfig } from '../../config/schema.js';
import type { SecretLoader } from '../../config/secrets.js';

type SecretValue = GitHostCredentialsConfig['auth']['bearer'];

function underPrefix(urlPath: string, prefix: string | undefined): boolean {
  if (!prefix) return true;
  const p = prefix.replace(/\/+$/, '');
  const path = urlPath.replace(/^\/+/, '');
  return path === p || path.startsWith(p + '/');
}

export class HostCredentials {
  constructor(
    private readonly entries: readonly GitHostCredentialsConfig[],
    private readonly secrets: SecretLoader,
  ) {}

  get configured(): boolean {
    return this.entries.length > 0;
  }

  /** The entry for this URL (longest pathPrefix on its exact host), if any. */
  entryFor(url: URL): GitHostCredentialsConfig | undefined {
    if (url.protocol !== 'https:') return undefined;
    let best: GitHostCredentialsConfig | undefined;
    for (const e of this.entries) {
      if (e.host !== url.host) continue;
      if (!underPrefix(decodeURIComponent(url.pathname), e.pathPrefix)) continue;
      if (!best || (e.pathPrefix ?? '').length > (best.pathPrefix ?? '').length) best = e;
    }
    return best;
  }

  /** The Authorization header for a request to this URL, if credentials are configured for it. */
  async headersFor(url: URL): Promise<Record<string, string> | undefined> {
    const e = this.entryFor(url);
    if (!e) return undefined;
    if (e.auth.bearer !== undefined) return { authorization: `Bearer ${await this.load(e.auth.bearer)}` };
    const basic = e.auth.basic!;
    return { authorization: `Basic ${Buffer.from(`${basic.username}:${await this.load(basic.password)}`).toString('base64')}` };
  }

  /** Loads every configured secret (start-up check). */
  async checkAll(): Promise<void> {
    for (const e of this.entries) await this.load(e.auth.bearer ?? e.auth.basic!.password);
  }

  private async load(v: NonNullable<SecretValue>): Promise<string> {
    return typeof v === 'string' ? v : (await this.secrets.load(v)).replace(/\r?\n$/, '');
  }
}
