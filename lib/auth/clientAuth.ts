// Client authentication and access control, usable by the go command directly:
//
//   Authorization: Basic <identity:password>   what .netrc makes the go command send
//   Authorization: Bearer <access token>       from POST /auth/userpassword or /auth/gce
//   Authorization: Bearer <Google ID token>    a GCE/Cloud Run instance identity, bound
//                                              to an identity by service-account email
//
// Secrets are compared in constant time, failed attempts are bounded per
// client address and per claimed identity, and nothing secret is logged.
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/schema.js';
import type { SecretLoader, SecretSource } from '../config/secrets.js';
import type { Logger } from '../log/logger.js';
import { createAccessTokens, parseDuration, type AccessTokenIssuer } from './accessTokens.js';
import { Acl } from './acl.js';
import { FailureLimiter } from './failureLimiter.js';
import { createGceIdentityVerifier, type GceIdentityVerifier } from './gceIdentity.js';
import { equalSecrets, verifyPassword } from './passwords.js';

type ClientAuthConfig = Config['clientAuth'];

export type AuthOutcome =
  | { kind: 'identity'; identity: string; via: 'basic' | 'access-token' | 'gce' }
  | { kind: 'none' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'throttled'; retryAfterSeconds: number };

interface Identity {
  name: string;
  password?: { plain: string } | { hash: string };
  gceEmail?: string;
}

export interface ClientAuthDeps {
  secrets: SecretLoader;
  log: Logger;
  now?: () => number;
  /** Google's PEM certificates endpoint (tests point it at a local server). */
  gceCertsUrl?: string;
}

/** The token endpoint's answer, as the seed project's. */
export interface TokenResponse {
  status: number;
  body: { access_token: string; expires_in: number; token_type: 'Bearer' } | { error: string };
}

export class ClientAuth {
  readonly realm: string;
  readonly denyStatus: 403 | 404;
  readonly anonymousSumdb: boolean;
  private readonly acl: Acl;
  private readonly limiter: FailureLimiter;

  private constructor(
    cfg: ClientAuthConfig,
    private readonly identities: Map<string, Identity>,
    private readonly byEmail: Map<string, string>,
    private readonly tokens: AccessTokenIssuer | undefined,
    private readonly gce: GceIdentityVerifier | undefined,
    private readonly log: Logger,
    now: () => number,
  ) {
    this.realm = cfg.realm;
    this.denyStatus = cfg.denyStatus;
    this.anonymousSumdb = cfg.anonymousSumdb;
    this.acl = new Acl(cfg.acl);
    this.limiter = new FailureLimiter(cfg.failureLimit.maxFailures, cfg.failureLimit.windowSeconds * 1000, now);
  }

  /** Loads the secrets the configuration names. */
  static async create(cfg: ClientAuthConfig, deps: ClientAuthDeps): Promise<ClientAuth> {
    const load = (v: string | SecretSource) => (typeof v === 'string' ? Promise.resolve(v) : deps.secrets.load(v));
    const identities = new Map<string, Identity>();
    const byEmail = new Map<string, string>();
    for (const id of cfg.identities) {
      const entry: Identity = { name: id.name };
      if (id.passwordHash !== undefined) entry.password = { hash: (await load(id.passwordHash)).trim() };
      else if (id.password !== undefined) {
        entry.password = { plain: (await load(id.password)).replace(/\r?\n$/, '') };
        deps.log.warn('identity has a plaintext password; prefer passwordHash (modproxy-auth hash-password)', { identity: id.name });
      }
      if (id.gceInstanceIdentityBinding) {
        entry.gceEmail = id.gceInstanceIdentityBinding.email.toLowerCase();
        byEmail.set(entry.gceEmail, id.name);
      }
      identities.set(id.name, entry);
    }
    const at = cfg.authenticators.accessToken;
    const tokens = at
      ? createAccessTokens({ secret: await load(at.secret), audience: at.audience, ttlSeconds: parseDuration(at.timeToLive), now: deps.now })
      : undefined;
    const g = cfg.authenticators.gceInstanceIdentity;
    const gce = g ? createGceIdentityVerifier({ audience: g.audience, certsUrl: deps.gceCertsUrl }) : undefined;
    return new ClientAuth(cfg, identities, byEmail, tokens, gce, deps.log, deps.now ?? Date.now);
  }

  /**
   * The client's address for failure limits: the last X-Forwarded-For hop
   * (the one Google's front end adds; earlier ones are client-supplied), or
   * the socket's peer.
   */
  clientAddress(req: IncomingMessage): string {
    const xff = req.headers['x-forwarded-for'];
    const list = (Array.isArray(xff) ? xff.join(',') : (xff ?? '')).split(',').map((s) => s.trim()).filter(Boolean);
    return list.length > 0 ? list[list.length - 1] : (req.socket.remoteAddress ?? 'unknown');
  }

  /** Who is asking, from the Authorization header. */
  async authenticate(req: IncomingMessage): Promise<AuthOutcome> {
    const header = req.headers.authorization;
    if (!header) return { kind: 'none' };
    const address = `addr:${this.clientAddress(req)}`;
    const [scheme, value = ''] = header.split(/\s+/, 2);
    let claimed: string | undefined;
    let outcome: AuthOutcome;
    if (/^basic$/i.test(scheme)) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      claimed = colon >= 0 ? decoded.slice(0, colon) : decoded;
      const blocked = this.throttled(address, `user:${claimed}`);
      if (blocked) return blocked;
      outcome = (await this.checkPassword(claimed, colon >= 0 ? decoded.slice(colon + 1) : ''))
        ? { kind: 'identity', identity: claimed, via: 'basic' }
        : { kind: 'invalid', reason: 'wrong identity or password' };
    } else if (/^bearer$/i.test(scheme)) {
      const blocked = this.throttled(address);
      if (blocked) return blocked;
      outcome = await this.checkBearer(value);
    } else {
      outcome = { kind: 'invalid', reason: `unsupported authorization scheme ${scheme}` };
    }
    if (outcome.kind === 'invalid') {
      this.limiter.fail(address);
      if (claimed !== undefined) this.limiter.fail(`user:${claimed}`);
      this.log.warn('client authentication failed', { reason: outcome.reason, client: this.clientAddress(req) });
    }
    return outcome;
  }

  private throttled(...keys: string[]): AuthOutcome | undefined {
    const wait = Math.max(...keys.map((k) => this.limiter.blockedFor(k)));
    return wait > 0 ? { kind: 'throttled', retryAfterSeconds: wait } : undefined;
  }

  private async checkPassword(name: string, password: string): Promise<boolean> {
    const id = this.identities.get(name);
    if (!id?.password) {
      // Spend comparable time for unknown names, so they cannot be told apart by timing.
      equalSecrets(password, 'no such identity');
      return false;
    }
    return 'plain' in id.password ? equalSecrets(password, id.password.plain) : verifyPassword(password, id.password.hash);
  }

  private async checkBearer(token: string): Promise<AuthOutcome> {
    let alg = '';
    try {
      alg = (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as { alg?: string }).alg ?? '';
    } catch {
      return { kind: 'invalid', reason: 'malformed bearer token' };
    }
    if (alg === 'HS256' && this.tokens) {
      const name = await this.tokens.verify(token);
      if (name !== null && this.identities.has(name)) return { kind: 'identity', identity: name, via: 'access-token' };
      return { kind: 'invalid', reason: 'invalid or expired access token' };
    }
    if (this.gce) {
      const email = await this.gce.verify(token);
      const name = email ? this.byEmail.get(email) : undefined;
      if (name) return { kind: 'identity', identity: name, via: 'gce' };
      return { kind: 'invalid', reason: email ? 'identity token for an unbound service account' : 'invalid identity token' };
    }
    return { kind: 'invalid', reason: 'invalid bearer token' };
  }

  /** Whether an identity may read a module (undefined: an endpoint that names no module). */
  allows(identity: string, modulePath: string | undefined): boolean {
    return this.acl.allows(identity, modulePath);
  }

  /** POST /auth/userpassword {"user","password"} → an access token. */
  async issueForPassword(req: IncomingMessage, body: unknown): Promise<TokenResponse> {
    if (!this.tokens) return { status: 404, body: { error: 'access tokens are not enabled' } };
    const b = body as { user?: unknown; password?: unknown } | null;
    if (!b || typeof b.user !== 'string' || typeof b.password !== 'string') return { status: 400, body: { error: 'expected JSON {"user": ..., "password": ...}' } };
    const address = `addr:${this.clientAddress(req)}`;
    const blocked = this.throttled(address, `user:${b.user}`);
    if (blocked && blocked.kind === 'throttled') return { status: 429, body: { error: `too many failed attempts; retry in ${blocked.retryAfterSeconds}s` } };
    if (!(await this.checkPassword(b.user, b.password))) {
      this.limiter.fail(address);
      this.limiter.fail(`user:${b.user}`);
      this.log.warn('client authentication failed', { reason: 'wrong identity or password', endpoint: '/auth/userpassword', client: this.clientAddress(req) });
      return { status: 401, body: { error: 'invalid credentials' } };
    }
    return this.issue(b.user);
  }

  /** POST /auth/gce with a Google identity token as Bearer → an access token. */
  async issueForGce(req: IncomingMessage): Promise<TokenResponse> {
    if (!this.tokens || !this.gce) return { status: 404, body: { error: 'GCE identity authentication is not enabled' } };
    const outcome = await this.authenticate(req);
    if (outcome.kind === 'throttled') return { status: 429, body: { error: `too many failed attempts; retry in ${outcome.retryAfterSeconds}s` } };
    if (outcome.kind !== 'identity' || outcome.via !== 'gce') return { status: 401, body: { error: 'a valid GCE instance identity token is required' } };
    return this.issue(outcome.identity);
  }

  private async issue(identity: string): Promise<TokenResponse> {
    const token = await this.tokens!.issue(identity);
    this.log.info('access token issued', { identity, expiresIn: this.tokens!.ttlSeconds });
    return { status: 200, body: { access_token: token, expires_in: this.tokens!.ttlSeconds, token_type: 'Bearer' } };
  }
}
