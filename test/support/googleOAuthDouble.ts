// A faithful HTTP double of the Google endpoints that google-auth-library
// uses to mint ID tokens, so the real library runs unchanged over real HTTP:
//
// * https://oauth2.googleapis.com/token (the library has the URL built in): a
//   TLS server with a certificate for that name, reached through an HTTP
//   CONNECT proxy (HTTPS_PROXY, which the library's gaxios honours) and
//   trusted through NODE_EXTRA_CA_CERTS. It answers the JWT-bearer grant of a
//   service-account key (an assertion signed with the account's key, aud the
//   token URL; with a target_audience claim the answer is {id_token} only, as
//   Google's is) and the refresh-token grant of user credentials (Google then
//   signs an ID token for the OAuth client, ignoring target_audience).
// * the metadata server (GCE_METADATA_HOST): /computeMetadata/v1/instance for
//   the library's detection, and .../service-accounts/default/identity.
// * Google's ID-token certificates ({kid: PEM}) for verifiers (modproxy's
//   gceCertsUrl, the Cloud Run gate double).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { decodeJwt, importSPKI, jwtVerify, SignJWT } from 'jose';

export const TOKEN_URL = 'https://oauth2.googleapis.com/token';
const TUNNEL_HOSTS = new Set(['oauth2.googleapis.com:443']);

export interface TokenRequest {
  grant_type: string;
  /** The account that asked: the key's client_email, or the user's email. */
  who: string;
  target_audience?: string;
}

export interface GoogleOAuthDouble {
  /** For HTTPS_PROXY: tunnels oauth2.googleapis.com:443 to the double and refuses anything else. */
  proxyUrl: string;
  /** The certificate that makes Node trust the double as oauth2.googleapis.com (add to NODE_EXTRA_CA_CERTS). */
  caFile: string;
  /** Google's ID-token certificates, { kid: PEM }. */
  certsUrl: string;
  /** For GCE_METADATA_HOST. */
  metadataHost: string;
  /** The service account the metadata server speaks for. */
  metadataEmail: string;
  /** Verifies a token this double signed (as Google's verifiers do) and returns its claims. */
  verify(token: string, audience: string): Promise<Record<string, unknown>>;
  /** Writes a service-account key file (GOOGLE_APPLICATION_CREDENTIALS) for a new account. */
  serviceAccountKey(file: string, email: string): void;
  /** Writes user credentials as `gcloud auth application-default login` does. */
  userCredentials(file: string, email: string): { clientId: string };
  /** CONNECT targets asked for, in order. */
  tunnels: string[];
  tokenRequests: TokenRequest[];
  metadataRequests: string[];
  close(): Promise<void>;
}

function makeCert(dir: string): { key: string; cert: string; certFile: string } {
  fs.mkdirSync(dir, { recursive: true });
  const keyFile = path.join(dir, 'google-key.pem');
  const certFile = path.join(dir, 'google-cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=oauth2.googleapis.com', '-addext', 'subjectAltName=DNS:oauth2.googleapis.com'],
    { stdio: 'ignore' },
  );
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), certFile };
}

async function readForm(req: http.IncomingMessage, limit = 64 << 10): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function listen(server: http.Server | https.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export async function startGoogleOAuthDouble(dir: string): Promise<GoogleOAuthDouble> {
  const tls = makeCert(dir);
  const google = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = crypto.randomBytes(8).toString('hex');
  const googlePem = google.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const accounts = new Map<string, crypto.KeyObject>(); // service-account email → public key
  const users = new Map<string, { clientId: string; clientSecret: string; email: string }>(); // refresh token → user
  const tunnels: string[] = [];
  const tokenRequests: TokenRequest[] = [];
  const metadataRequests: string[] = [];
  const metadataEmail = `vm@double-project.iam.gserviceaccount.com`;

  const idToken = (claims: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: 'https://accounts.google.com', email_verified: true, iat: now, exp: now + 3600, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .sign(google.privateKey);
  };
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate' });
    res.end(JSON.stringify(body));
  };
  const invalidGrant = (res: http.ServerResponse, description: string) => json(res, 400, { error: 'invalid_grant', error_description: description });

  const tokenServer = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    void (async () => {
      if (req.method !== 'POST' || new URL(req.url ?? '/', TOKEN_URL).pathname !== '/token') return json(res, 404, { error: 'not_found' });
      const form = await readForm(req);
      const grant = form.get('grant_type') ?? '';
      if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
        const assertion = form.get('assertion') ?? '';
        let iss: string;
        try {
          iss = String(decodeJwt(assertion).iss);
        } catch {
          return invalidGrant(res, 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.');
        }
        const key = accounts.get(iss);
        if (!key) return invalidGrant(res, 'Invalid grant: account not found');
        let claims: Record<string, unknown>;
        try {
          claims = (await jwtVerify(assertion, key, { audience: TOKEN_URL, issuer: iss, algorithms: ['RS256'], requiredClaims: ['iat', 'exp'] })).payload;
        } catch {
          return invalidGrant(res, 'Invalid JWT Signature.');
        }
        if (Number(claims.exp) - Number(claims.iat) > 3600) return invalidGrant(res, 'Invalid JWT: Token must be a short-lived token (60 minutes)');
        const target = typeof claims.target_audience === 'string' ? claims.target_audience : undefined;
        tokenRequests.push({ grant_type: grant, who: iss, ...(target ? { target_audience: target } : {}) });
        if (target) return json(res, 200, { id_token: await idToken({ aud: target, azp: iss, sub: '1000000000000000001', email: iss }) });
        return json(res, 200, { access_token: `ya29.double-${crypto.randomBytes(12).toString('hex')}`, expires_in: 3599, token_type: 'Bearer' });
      }
      if (grant === 'refresh_token') {
        const user = users.get(form.get('refresh_token') ?? '');
        if (!user || user.clientId !== form.get('client_id') || user.clientSecret !== form.get('client_secret')) return invalidGrant(res, 'Bad Request');
        tokenRequests.push({ grant_type: grant, who: user.email, ...(form.get('target_audience') ? { target_audience: form.get('target_audience')! } : {}) });
        return json(res, 200, {
          access_token: `ya29.double-${crypto.randomBytes(12).toString('hex')}`,
          expires_in: 3599,
          scope: 'openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/cloud-platform',
          token_type: 'Bearer',
          // For user credentials Google signs the ID token for the OAuth client.
          id_token: await idToken({ aud: user.clientId, azp: user.clientId, sub: '1000000000000000002', email: user.email }),
        });
      }
      return json(res, 400, { error: 'unsupported_grant_type', error_description: `Invalid grant_type: ${grant}` });
    })().catch(() => json(res, 500, { error: 'internal_failure' }));
  });
  const tokenPort = await listen(tokenServer);

  const connectProxy = http.createServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  const open = new Set<net.Socket>(); // tunnels outlive the HTTP connection tracking of close()
  connectProxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? '';
    open.add(client);
    client.on('close', () => open.delete(client));
    tunnels.push(target);
    if (!TUNNEL_HOSTS.has(target)) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = net.connect(tokenPort, '127.0.0.1', () => {
      open.add(upstream);
      upstream.on('close', () => open.delete(upstream));
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const drop = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', drop);
    client.on('error', drop);
  });
  const proxyPort = await listen(connectProxy);

  const metadata = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://metadata.google.internal');
      metadataRequests.push(url.pathname);
      const flavored = req.headers['metadata-flavor'] === 'Google';
      const reply = (status: number, body: string) => {
        res.writeHead(status, { 'metadata-flavor': 'Google', 'content-type': 'application/text' });
        res.end(body);
      };
      if (!flavored) return reply(403, 'Missing Metadata-Flavor:Google header.');
      if (url.pathname === '/computeMetadata/v1/instance' || url.pathname === '/computeMetadata/v1/instance/') return reply(200, 'attributes/\nservice-accounts/\n');
      if (url.pathname === '/computeMetadata/v1/instance/service-accounts/default/identity') {
        const audience = url.searchParams.get('audience');
        if (!audience) return reply(400, 'non-empty audience parameter required');
        return reply(200, await idToken({ aud: audience, azp: metadataEmail, sub: '1000000000000000003', email: metadataEmail }));
      }
      return reply(404, 'Not Found');
    })();
  });
  const metadataPort = await listen(metadata);

  const certs = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
    res.end(JSON.stringify({ [kid]: googlePem }));
  });
  const certsPort = await listen(certs);
  const verifyKey = await importSPKI(googlePem, 'RS256');

  return {
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    caFile: tls.certFile,
    certsUrl: `http://127.0.0.1:${certsPort}/oauth2/v1/certs`,
    metadataHost: `127.0.0.1:${metadataPort}`,
    metadataEmail,
    async verify(token, audience) {
      return (await jwtVerify(token, verifyKey, { audience, issuer: ['https://accounts.google.com', 'accounts.google.com'], algorithms: ['RS256'] })).payload;
    },
    serviceAccountKey(file, email) {
      const key = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      accounts.set(email, key.publicKey);
      const projectId = email.split('@')[1]?.split('.')[0] ?? 'double-project';
      fs.writeFileSync(
        file,
        JSON.stringify({
          type: 'service_account',
          project_id: projectId,
          private_key_id: crypto.randomBytes(20).toString('hex'),
          private_key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }),
          client_email: email,
          client_id: '1000000000000000001',
          auth_uri: 'https://accounts.google.com/o/oauth2/auth',
          token_uri: TOKEN_URL,
          auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
          client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
          universe_domain: 'googleapis.com',
        }),
      );
    },
    userCredentials(file, email) {
      const user = { clientId: `${crypto.randomInt(1e11)}-double.apps.googleusercontent.com`, clientSecret: crypto.randomBytes(12).toString('hex'), email };
      const refreshToken = `1//double-${crypto.randomBytes(16).toString('hex')}`;
      users.set(refreshToken, user);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify({ account: '', client_id: user.clientId, client_secret: user.clientSecret, refresh_token: refreshToken, type: 'authorized_user', universe_domain: 'googleapis.com' }));
      return { clientId: user.clientId };
    },
    tunnels,
    tokenRequests,
    metadataRequests,
    async close() {
      for (const s of open) s.destroy();
      for (const s of [tokenServer, connectProxy, metadata, certs] as Array<http.Server | https.Server>) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}
