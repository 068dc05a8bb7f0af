// Who is asking and what they may read: client authentication (Basic, access
// tokens, Google identity tokens) and the ACL decision for a module, as
// replies the handler returns when a request may not go on; and the token
// endpoints that issue access tokens.
import type { IncomingMessage } from 'node:http';
import type { ClientAuth } from '../auth/clientAuth.js';
import { BadRequestError } from '../errors.js';
import { JSON_TYPE, textReply, type Reply } from './replies.js';

export interface RequestAuthOptions {
  /** Client authentication and ACLs; absent when clientAuth.enabled is false. */
  clientAuth?: Promise<ClientAuth>;
  /**
   * Whether this proxy serves a module at all. A module it does not serve gets
   * 404 rather than an ACL's 403, so that the go command moves on to the next
   * GOPROXY entry for public modules.
   */
  servesModule?: (modPath: string) => boolean;
}

/** The JSON body of a POST: parsed already by functions-framework (express), or read here (max 64 KiB). */
async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (parsed !== undefined && !Buffer.isBuffer(parsed) && typeof parsed === 'object') return parsed;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 << 10) throw new BadRequestError('request body too large');
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequestError('request body is not JSON');
  }
}

/**
 * The 401 text for a request without credentials. The go command sends
 * credentials (.netrc, GOAUTH) only over https, so over plain HTTP it says so:
 * there they can never arrive. Plain means no TLS here and no proxy in front
 * saying it terminated TLS (X-Forwarded-Proto, as Cloud Run sets it); the
 * header only chooses this hint.
 */
function credentialsRequired(req: IncomingMessage): string {
  const base = 'unauthorized: credentials required (see the README: .netrc or GOAUTH)';
  const forwarded = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0].trim().toLowerCase();
  const plain = !(req.socket as { encrypted?: boolean }).encrypted && forwarded !== 'https';
  return plain ? `${base}; the go command sends credentials only over HTTPS, and this request came over plain HTTP` : base;
}

export class RequestAuth {
  constructor(private readonly opts: RequestAuthOptions) {}

  /** Whether the checksum database endpoints may be used without credentials. */
  async anonymousSumdb(): Promise<boolean> {
    return (await this.opts.clientAuth)?.anonymousSumdb === true;
  }

  async tokenEndpoint(req: IncomingMessage, endpoint: 'userpassword' | 'gce'): Promise<Reply> {
    const auth = await this.opts.clientAuth;
    if (!auth) return textReply(404, 'not found: client authentication is not enabled');
    const r = endpoint === 'userpassword' ? await auth.issueForPassword(req, await jsonBody(req)) : await auth.issueForGce(req);
    const headers: Record<string, string> = { 'content-type': JSON_TYPE, 'cache-control': 'no-store' };
    if (r.retryAfterSeconds !== undefined) headers['retry-after'] = String(r.retryAfterSeconds);
    return { status: r.status, headers, body: JSON.stringify(r.body) };
  }

  /**
   * Who is asking, when clients must authenticate; a reply when they may not
   * go on (401 without or with wrong credentials, 429 when throttled).
   */
  async authenticate(req: IncomingMessage, anonymousOk: boolean): Promise<{ identity?: string; reply?: Reply }> {
    // Client auth off (the common case on the hit path): nothing to wait for.
    if (!this.opts.clientAuth) return {};
    const auth = await this.opts.clientAuth;
    if (!auth) return {};
    const outcome = await auth.authenticate(req);
    const challenge = { 'www-authenticate': `Basic realm="${auth.realm}", Bearer realm="${auth.realm}"` };
    switch (outcome.kind) {
      case 'identity':
        return { identity: outcome.identity };
      case 'none':
        return anonymousOk ? {} : { reply: textReply(401, credentialsRequired(req), challenge) };
      case 'invalid':
        return { reply: textReply(401, 'unauthorized: invalid credentials', challenge) };
      case 'throttled':
        return { reply: textReply(429, 'too many failed authentication attempts', { 'retry-after': String(outcome.retryAfterSeconds) }) };
    }
  }

  /** The ACL's decision for an identity and a module (undefined: no module named); a reply when denied. */
  async authorize(identity: string | undefined, modPath: string | undefined): Promise<Reply | undefined> {
    if (!this.opts.clientAuth || identity === undefined) return undefined;
    const auth = await this.opts.clientAuth;
    if (!auth || identity === undefined) return undefined;
    if (auth.allows(identity, modPath)) return undefined;
    // Hiding existence: denied and unserved modules get the same answer.
    if (auth.denyStatus === 404) return textReply(404, `not found: ${modPath ?? 'this resource'}`);
    if (modPath !== undefined && this.opts.servesModule && !this.opts.servesModule(modPath)) {
      return textReply(404, `not found: module ${modPath} is not served by this proxy (no privateModules pathPrefix matches)`);
    }
    return textReply(403, modPath ? `forbidden: ${identity} may not read module ${modPath}` : `forbidden: ${identity} may not use this endpoint`);
  }
}
