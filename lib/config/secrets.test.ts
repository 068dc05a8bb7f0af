import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { GoogleAuth } from 'google-auth-library';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSecretLoader, SecretError } from './secrets.js';

let server: http.Server;
let base: string;
const seen: string[] = [];

beforeAll(async () => {
  // Secret Manager's access endpoint: GET /v1/{name}:access → {payload: {data: base64}}.
  server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    if (req.url === '/v1/projects/p/secrets/app-key/versions/3:access') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: 'projects/p/secrets/app-key/versions/3', payload: { data: Buffer.from('-----BEGIN KEY-----\nabc\n').toString('base64') } }));
    } else {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end('{"error":{"code":403}}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

/** Google auth that attaches a fixed token, over plain fetch (Secret Manager is the double above). */
const auth = {
  async getClient() {
    return {
      async request<T>(opts: { url: string }) {
        const r = await fetch(opts.url, { headers: { authorization: 'Bearer test-token' } });
        if (!r.ok) throw Object.assign(new Error('denied'), { response: { status: r.status } });
        return { data: (await r.json()) as T };
      },
    };
  },
} as unknown as GoogleAuth;

it('reads secrets from files, environment variables and Secret Manager', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'secret-')), 'k.pem');
  fs.writeFileSync(file, 'from file\n');
  const loader = createSecretLoader({ env: { KEY: 'line1\\nline2' }, secretManagerUrl: base, auth });
  expect(await loader.load({ file })).toBe('from file\n');
  expect(await loader.load({ envVar: 'KEY' })).toBe('line1\nline2');
  expect(await loader.load({ secret: 'projects/p/secrets/app-key/versions/3' })).toBe('-----BEGIN KEY-----\nabc\n');
  expect(seen).toEqual([`GET /v1/projects/p/secrets/app-key/versions/3:access Bearer test-token`]);
});

it('fails with messages that name the source but not its content', async () => {
  const loader = createSecretLoader({ env: {}, secretManagerUrl: base, auth });
  await expect(loader.load({ envVar: 'MISSING' })).rejects.toThrow(new SecretError('environment variable MISSING is not set'));
  await expect(loader.load({ file: '/nonexistent/key.pem' })).rejects.toThrow('cannot read secret file /nonexistent/key.pem: ENOENT');
  await expect(loader.load({ secret: 'projects/p/secrets/other/versions/1' })).rejects.toThrow('cannot access secret projects/p/secrets/other/versions/1 (HTTP 403)');
});
