// GitHub App credentials for private repositories, least privilege.
//
// For each repository: find the app's installation for it
// (GET /repos/{owner}/{repo}/installation, cached), then ask for an
// installation token scoped to that one repository with contents: read,
// reused until shortly before it expires. git gets it as Basic
// x-access-token:<token> on the first request (no 401 round trip), and a 401
// or 403 from git refreshes it once.
//
// The app JWT comes from @octokit/auth-app; the token request is sent with
// @octokit/request directly because @octokit/auth-app de-duplicates
// concurrent token requests by installation id, repositories and permissions
// only — not by app or API base URL — so two apps on two hosts could share a
// token by mistake. Here every cache and in-flight request is keyed by
// host, app, repository and permissions.
import crypto from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { request as octokitRequest } from '@octokit/request';
import type { Config, GitHubHostConfig } from '../../config/schema.js';
import { NotFoundError, UpstreamAuthError, UpstreamError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { SingleFlight } from '../../util/singleflight.js';
import type { SecretLoader } from '../../config/secrets.js';
import type { GitRemote } from './objectStore.js';
import type { CredentialProvider, RepoLocation } from './locate.js';

/** The only permission modproxy ever asks for. */
const PERMISSIONS = { contents: 'read' } as const;
/** Renew a token this long before it expires. */
const RENEW_BEFORE_MS = 5 * 60_000;
const INSTALLATION_TTL_MS = 5 * 60_000;

export interface GitHubAppCredentialsOptions {
  config: Config;
  secrets: SecretLoader;
  log: Logger;
  now?: () => number;
  /** The fetch @octokit/request uses (tests may count requests). */
  fetch?: typeof fetch;
}

interface App {
  host: string;
  appId: number;
  apiBaseUrl: string;
  auth: Promise<ReturnType<typeof createAppAuth>>;
  request: typeof octokitRequest;
}

interface Token {
  token: string;
  expiresAt: number;
}

export function defaultApiBaseUrl(h: GitHubHostConfig): string {
  if (h.apiBaseUrl) return h.apiBaseUrl.replace(/\/+$/, '');
  return h.host === 'github.com' ? 'https://api.github.com' : `https://${h.host}/api/v3`;
}

/**
 * Whether a PEM text is a private key RS256 can sign with (what GitHub hands
 * out: PKCS#1 RSA; PKCS#8 works too). Errors name `where`, never the key.
 */
export function checkRs256PrivateKey(pem: string, where: string, appId: number): void {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new Error(`${where}: GitHub App ${appId}'s private key is not a PEM private key${code ? ` (${code})` : ''}`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(`${where}: GitHub App ${appId}'s private key is a ${key.asymmetricKeyType ?? 'non-RSA'} key; GitHub App keys are RSA (RS256)`);
  }
}

/** The HTTP status of an @octokit/request error. */
function statusOf(err: unknown): number | undefined {
  const s = (err as { status?: unknown })?.status;
  return typeof s === 'number' ? s : undefined;
}

export class GitHubAppCredentials implements CredentialProvider {
  private readonly apps = new Map<string, App>();
  private readonly installations = new Map<string, { id: number; until: number }>();
  private readonly tokens = new Map<string, Token>();
  private readonly tokenFlights = new SingleFlight<Token>();
  private readonly now: () => number;

  constructor(private readonly opts: GitHubAppCredentialsOptions) {
    this.now = opts.now ?? Date.now;
  }

  private app(host: string, appId: number): App {
    const key = `${host}|${appId}`;
    let app = this.apps.get(key);
    if (!app) {
      const hostConfig = this.opts.config.gitHub.find((h) => h.host === host);
      const appConfig = hostConfig?.gitHubApps.find((a) => a.id === appId);
      if (!hostConfig || !appConfig) throw new NotFoundError(`GitHub App ${appId} is not configured for ${host}`);
      const apiBaseUrl = defaultApiBaseUrl(hostConfig);
      const request = octokitRequest.defaults({ baseUrl: apiBaseUrl, request: this.opts.fetch ? { fetch: this.opts.fetch } : undefined });
      app = {
        host,
        appId,
        apiBaseUrl,
        request,
        auth: this.opts.secrets.load(appConfig.privateKey).then((privateKey) => createAppAuth({ appId, privateKey, request })),
      };
      this.apps.set(key, app);
    }
    return app;
  }

  /**
   * Reads and checks every configured app's private key, at start-up: a key
   * that cannot be read or is not an RSA private key (GitHub App JWTs are
   * RS256) is a configuration fault, reported once with the key's place in
   * the configuration, not on every request.
   */
  async checkKeys(): Promise<void> {
    for (const [i, h] of this.opts.config.gitHub.entries()) {
      for (const [j, a] of h.gitHubApps.entries()) {
        const where = `gitHub[${i}].gitHubApps[${j}].privateKey`;
        let pem: string;
        try {
          pem = await this.opts.secrets.load(a.privateKey);
        } catch (err) {
          throw new Error(`${where}: ${(err as Error).message}`);
        }
        checkRs256PrivateKey(pem, where, a.id);
        // And sign with it the way every request will (no network: an app JWT is made locally).
        try {
          await (await this.app(h.host, a.id).auth)({ type: 'app' });
        } catch (err) {
          throw new Error(`${where}: GitHub App ${a.id}'s private key cannot sign an RS256 JWT (${(err as Error).name})`);
        }
      }
    }
  }

  remoteAuth(loc: RepoLocation): Pick<GitRemote, 'headers' | 'onUnauthorized'> | undefined {
    const appId = loc.rule.auth?.gitHubApp;
    if (appId === undefined) return undefined;
    if (!loc.owner || !loc.repo) throw new NotFoundError(`module path for ${loc.codeRoot} does not name a GitHub owner and repository`);
    const app = this.app(loc.host, appId);
    const repo = { owner: loc.owner, name: loc.repo.replace(/\.git$/, '') };
    const key = `${app.host}|${app.appId}|${repo.owner}/${repo.name}|contents:read`;
    return {
      headers: async () => {
        const { token } = await this.token(app, repo, key);
        return { authorization: `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}` };
      },
      onUnauthorized: async () => {
        this.tokens.delete(key);
        this.installations.delete(`${app.host}|${app.appId}|${repo.owner}/${repo.name}`);
      },
    };
  }

  private async token(app: App, repo: { owner: string; name: string }, key: string): Promise<Token> {
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt - RENEW_BEFORE_MS > this.now()) return cached;
    return this.tokenFlights.do(key, async () => {
      const again = this.tokens.get(key);
      if (again && again.expiresAt - RENEW_BEFORE_MS > this.now()) return again;
      const installationId = await this.installation(app, repo);
      const jwt = await this.appJwt(app);
      let res;
      try {
        res = await app.request('POST /app/installations/{installation_id}/access_tokens', {
          installation_id: installationId,
          repositories: [repo.name],
          permissions: PERMISSIONS,
          headers: { authorization: `bearer ${jwt}` },
        });
      } catch (err) {
        throw this.apiError(app, repo, 'installation token request', err);
      }
      const token: Token = { token: res.data.token, expiresAt: Date.parse(res.data.expires_at) };
      this.tokens.set(key, token);
      this.opts.log.info('GitHub App installation token issued', {
        host: app.host,
        appId: app.appId,
        repository: `${repo.owner}/${repo.name}`,
        permissions: PERMISSIONS,
        expiresAt: res.data.expires_at,
      });
      return token;
    });
  }

  private async appJwt(app: App): Promise<string> {
    try {
      return (await (await app.auth)({ type: 'app' })).token;
    } catch (err) {
      // A key that cannot sign (malformed PEM, wrong type): say so without the key.
      this.opts.log.error('GitHub App private key cannot sign', { host: app.host, appId: app.appId });
      throw new UpstreamAuthError(`GitHub App ${app.appId}: its private key cannot be used to sign (${(err as Error).name}): a fault of the proxy's configuration`);
    }
  }

  /** The app's installation for a repository (GET /repos/{owner}/{repo}/installation), cached. */
  private async installation(app: App, repo: { owner: string; name: string }): Promise<number> {
    const key = `${app.host}|${app.appId}|${repo.owner}/${repo.name}`;
    const cached = this.installations.get(key);
    if (cached && cached.until > this.now()) return cached.id;
    const jwt = await this.appJwt(app);
    try {
      const res = await app.request('GET /repos/{owner}/{repo}/installation', { owner: repo.owner, repo: repo.name, headers: { authorization: `bearer ${jwt}` } });
      this.installations.set(key, { id: res.data.id, until: this.now() + INSTALLATION_TTL_MS });
      return res.data.id;
    } catch (err) {
      if (statusOf(err) !== 404) throw this.apiError(app, repo, 'installation lookup', err);
      // Not installed on this repository: is it installed on the owner at all?
      const ownerInstalled = await this.ownerHasInstallation(app, repo.owner, jwt);
      const message = ownerInstalled
        ? `repository ${app.host}/${repo.owner}/${repo.name} not found, or not granted to GitHub App ${app.appId}'s installation on ${repo.owner}`
        : `GitHub App ${app.appId} is not installed on ${app.host}/${repo.owner}/${repo.name} (no installation for ${repo.owner})`;
      this.opts.log.warn('GitHub App cannot read repository', { host: app.host, appId: app.appId, repository: `${repo.owner}/${repo.name}`, reason: message });
      throw new NotFoundError(message);
    }
  }

  private async ownerHasInstallation(app: App, owner: string, jwt: string): Promise<boolean> {
    for (const route of ['GET /orgs/{org}/installation', 'GET /users/{username}/installation'] as const) {
      try {
        await app.request(route, { org: owner, username: owner, headers: { authorization: `bearer ${jwt}` } });
        return true;
      } catch (err) {
        if (statusOf(err) !== 404) return false;
      }
    }
    return false;
  }

  /**
   * An API failure as an error users can act on; never includes tokens or keys.
   * A refusal of our app (401: wrong id or key; 403/422: permissions; 404 from
   * the token endpoint: the installation went away) is the proxy's fault, a
   * 5xx, never "not found", which would send the go command on to the next
   * GOPROXY entry with the private path. Only the installation lookup's 404
   * (no such repository, or not granted to the app) is "not found".
   */
  private apiError(app: App, repo: { owner: string; name: string }, what: string, err: unknown): Error {
    const status = statusOf(err);
    const where = `${app.host}/${repo.owner}/${repo.name}`;
    let message: string;
    if (status === 401) message = `GitHub App ${app.appId} was refused by ${app.apiBaseUrl} (HTTP 401) during ${what} for ${where}: check the app id and its private key`;
    else if (status === 403 || status === 422) message = `GitHub App ${app.appId}: ${what} for ${where} was refused (HTTP ${status}): the app needs Contents read-only permission on ${where}`;
    else if (status === 404) message = `GitHub App ${app.appId}: ${what} for ${where} found nothing (HTTP 404): is the app still installed?`;
    else {
      this.opts.log.error('GitHub API request failed', { host: app.host, appId: app.appId, repository: `${repo.owner}/${repo.name}`, step: what, status });
      return new UpstreamError(`GitHub API ${what} for ${where} failed${status ? ` (HTTP ${status})` : ''}`, status === 503 ? 503 : 502);
    }
    this.opts.log.error('GitHub App cannot read repository', { host: app.host, appId: app.appId, repository: `${repo.owner}/${repo.name}`, step: what, status });
    return new UpstreamAuthError(message);
  }
}
