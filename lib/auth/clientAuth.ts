// Client authentication and access control, usable by the go command directly:
//
//   Authorization: Basic <identity:password>   what .netrc makes the go command send
//   Authorization: Bearer <access token>       from POST /auth/userpassword or /auth/gce
//   Authorization: Bearer <Google ID token>    a GCE/Cloud Run instance identity, bound
//                                              to an identity by service-account email
//
// Credentials are parsed strictly (authorizationHeader.ts); secrets are
// compared in constant time, and an unknown identity costs the same scrypt run
// as a known one. Failed attempts are limited per (identity, address), per
// identity and per address, each reserved before the check (loginLimits.ts).
// Failures are logged at most once per identity and interval; nothing secret
// is logged.
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/schema.js';
import type { SecretLoader, SecretSource } from '../config/secrets.js';
import type { Logger } from '../log/logger.js';
import { createAccessTokens, parseDuration, type AccessTokenIssuer } from './accessTokens.js';
import { Acl } from './acl.js';
import { checkCredentials, parseAuthorization } from './authorizationHeader.js';
import { clientAddress, defaultTrustedProxyHops } from './clientAddress.js';
import { FailureLog } from './failureLog.js';
import { createGceIdentityVerifier, type GceIdentityVerifier } from './gceIdentity.js';
import { LoginLimits, type LoginAttempt } from './loginLimits.js';
import { dummyHash, equalSecrets, verifyPassword, type PasswordVerifier } from './passwords.js';
import { VerifiedCredentials } from './verifiedCredentials.js';

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
  /** Where the default of trustedProxyHops is read from (K_SERVICE); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Checks a password against a scrypt hash; default passwords.ts's verifyPassword (tests count the runs). */
  verifyPassword?: PasswordVerifier;
}

/** The token endpoint's answer, as the seed project's. */
export interface TokenResponse {
  status: number;
  body: { access_token: string; expires_in: number; token_type: 'Bearer' } | { error: string };
  /** With 429: seconds until the client may try again (the Retry-After header). */
  retryAfterSeconds?: number;
}

export class ClientAuth {
  readonly realm: string;
  readonly denyStatus: 403 | 404;
  readonly anonymousSumdb: boolean;
  readonly trustedProxyHops: number;
  private readonly acl: Acl;
  private readonly limits: LoginLimits;
  private readonly failures: FailureLog;
  /** An unknown identity's password is checked against this, at the cost of a real one (see dummyHash). */
  private readonly dummyHash: string;
  private readonly verified: VerifiedCredentials;

  private constructor(
    cfg: ClientAuthConfig,
    private readonly identities: Map<string, Identity>,
    private readonly byEmail: Map<string, string>,
    private readonly tokens: AccessTokenIssuer | undefined,
    private readonly gce: GceIdentityVerifier | undefined,
    private readonly log: Logger,
    private readonly verify: PasswordVerifier,
    env: NodeJS.ProcessEnv,
    now: () => number,
  ) {
    this.realm = cfg.realm;
    this.denyStatus = cfg.denyStatus;
    this.anonymousSumdb = cfg.anonymousSumdb;
    this.trustedProxyHops = cfg.trustedProxyHops ?? defaultTrustedProxyHops(env);
    this.acl = new Acl(cfg.acl);
    const f = cfg.failureLimit;
    this.limits = new LoginLimits(
      {
        ...f,
        maxFailuresPerIdentity: f.maxFailuresPerIdentity ?? 10 * f.maxFailures,
        maxFailuresPerAddress: f.maxFailuresPerAddress ?? 5 * f.maxFailures,
      },
      now,
    );
    this.failures = new FailureLog(log, { intervalMs: f.windowSeconds * 1000, now });
    this.verified = new VerifiedCredentials({ now });
    this.dummyHash = dummyHash([...identities.values()].flatMap((id) => (id.password && 'hash' in id.password ? [id.password.hash] : [])));
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
    return new ClientAuth(cfg, identities, byEmail, tokens, gce, deps.log, deps.verifyPassword ?? verifyPassword, deps.env ?? process.env, deps.now ?? Date.now);
  }

  /** The client's address for failure limits and logs (see clientAddress.ts and clientAuth.trustedProxyHops). */
  clientAddress(req: IncomingMessage): string {
    return clientAddress(req, this.trustedProxyHops);
  }

  /** Who is asking, from the Authorization header. */
  async authenticate(req: IncomingMessage): Promise<AuthOutcome> {
    const header = req.headers.authorization;
    if (!header) return { kind: 'none' };
    const client = this.clientAddress(req);
    const parsed = parseAuthorization(header);
    if (parsed.kind === 'basic') {
      // A header that passed the slow check lately is not checked again (see verifiedCredentials.ts).
      const known = this.verified.get(header);
      if (known === parsed.identity && this.identities.has(known)) return { kind: 'identity', identity: known, via: 'basic' };
    }
    // Malformed credentials and bearer tokens name no identity we could trust: they count against the address only.
    const claimed = parsed.kind === 'basic' ? parsed.identity : undefined;
    const attempt = await this.limits.begin(client, claimed);
    if (attempt.kind === 'wait') return { kind: 'throttled', retryAfterSeconds: attempt.retryAfterSeconds };
    const outcome = await this.settle(attempt, async (): Promise<AuthOutcome> => {
      switch (parsed.kind) {
        case 'malformed':
          return { kind: 'invalid', reason: parsed.reason };
        case 'basic':
          return (await this.checkPassword(parsed.identity, parsed.password))
            ? { kind: 'identity', identity: parsed.identity, via: 'basic' }
            : { kind: 'invalid', reason: 'wrong identity or password' };
        case 'bearer':
          return this.checkBearer(parsed.token);
      }
    });
    if (outcome.kind === 'invalid') this.failures.failed({ identity: claimed, client, reason: outcome.reason });
    if (outcome.kind === 'identity' && parsed.kind === 'basic') this.verified.remember(header, outcome.identity);
    return outcome;
  }

  /** Runs a reserved check and settles the reservation with its outcome; a check that throws counts as a failure. */
  private async settle<T extends { kind: string }>(attempt: Extract<LoginAttempt, { kind: 'go' }>, check: () => Promise<T>): Promise<T> {
    let ok = false;
    try {
      const outcome = await check();
      ok = outcome.kind === 'identity';
      return outcome;
    } finally {
      if (ok) attempt.succeeded();
      else attempt.failed();
    }
  }

  /**
   * Whether `password` is `name`'s. Every call runs one scrypt with the
   * configured parameters — against the identity's hash, or a dummy one for an
   * unknown identity, one without a password, or one with a plaintext password
   * (compared after it) — so the time a failure takes does not tell which.
   */
  private async checkPassword(name: string, password: string): Promise<boolean> {
    const id = this.identities.get(name);
    const hashed = id?.password && 'hash' in id.password ? id.password.hash : undefined;
    const matchesHash = await this.verify(password, hashed ?? this.dummyHash);
    if (!id?.password) return false;
    return 'plain' in id.password ? equalSecrets(password, id.password.plain) : matchesHash;
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

  /** POST /auth/userpassword {"user","password"} → an access token; limited as Basic logins are. */
  async issueForPassword(req: IncomingMessage, body: unknown): Promise<TokenResponse> {
    if (!this.tokens) return { status: 404, body: { error: 'access tokens are not enabled' } };
    const b = body as { user?: unknown; password?: unknown } | null;
    if (!b || typeof b.user !== 'string' || typeof b.password !== 'string') return { status: 400, body: { error: 'expected JSON {"user": ..., "password": ...}' } };
    const client = this.clientAddress(req);
    const creds = checkCredentials(b.user, b.password);
    const attempt = await this.limits.begin(client, typeof creds === 'string' ? undefined : creds.identity);
    if (attempt.kind === 'wait') {
      return { status: 429, body: { error: `too many failed attempts; retry in ${attempt.retryAfterSeconds}s` }, retryAfterSeconds: attempt.retryAfterSeconds };
    }
    const outcome = await this.settle(attempt, async (): Promise<AuthOutcome> => {
      if (typeof creds === 'string') return { kind: 'invalid', reason: creds };
      return (await this.checkPassword(creds.identity, creds.password))
        ? { kind: 'identity', identity: creds.identity, via: 'basic' }
        : { kind: 'invalid', reason: 'wrong identity or password' };
    });
    if (outcome.kind !== 'identity') {
      const reason = outcome.kind === 'invalid' ? outcome.reason : outcome.kind;
      this.failures.failed({ identity: typeof creds === 'string' ? undefined : creds.identity, client, reason, endpoint: '/auth/userpassword' });
      return { status: 401, body: { error: 'invalid credentials' } };
    }
    return this.issue(outcome.identity);
  }

  /** POST /auth/gce with a Google identity token as Bearer → an access token. */
  async issueForGce(req: IncomingMessage): Promise<TokenResponse> {
    if (!this.tokens || !this.gce) return { status: 404, body: { error: 'GCE identity authentication is not enabled' } };
    const outcome = await this.authenticate(req);
    if (outcome.kind === 'throttled') {
      return { status: 429, body: { error: `too many failed attempts; retry in ${outcome.retryAfterSeconds}s` }, retryAfterSeconds: outcome.retryAfterSeconds };
    }
    if (outcome.kind !== 'identity' || outcome.via !== 'gce') return { status: 401, body: { error: 'a valid GCE instance identity token is required' } };
    return this.issue(outcome.identity);
  }

  private async issue(identity: string): Promise<TokenResponse> {
    const token = await this.tokens!.issue(identity);
    this.log.info('access token issued', { identity, expiresIn: this.tokens!.ttlSeconds });
    return { status: 200, body: { access_token: token, expires_in: this.tokens!.ttlSeconds, token_type: 'Bearer' } };
  }
}
