import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCert, type TestCert } from '../../test/support/tlsCert.js';
import { parseConfig } from '../config/load.js';
import { createSecretLoader } from '../config/secrets.js';
import { applyOutgoingMinVersion, loadServerTls } from './tls.js';

let tmp: string;
let cert: TestCert;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-tls-'));
  cert = makeTestCert(tmp);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the tls key', () => {
  it.each([
    ["'TLS1.3'", 'TLSv1.3'],
    ['tls1.2', 'TLSv1.2'],
    ['TLS1.0', 'TLSv1'],
    ['1.3', 'TLSv1.3'],
    ['"1.2"', 'TLSv1.2'],
  ])('reads minVersion %s as the seed project does, and 1.2 / 1.3', (value, node) => {
    expect(parseConfig(`tls:\n  minVersion: ${value}\n`).tls?.minVersion).toBe(node);
  });

  it.each([
    ['tls:\n  minVersion: TLS1.4\n', 'tls.minVersion: must be one of TLS1.0, TLS1.1, TLS1.2, TLS1.3'],
    ['tls:\n  certFile: c.pem\n', 'tls.keyFile: a private key (keyFile or key) is required'],
    ['tls:\n  key: {envVar: K}\n', 'tls.certFile: a certificate (certFile or cert) is required'],
    ['tls:\n  certFile: c.pem\n  cert: {file: c.pem}\n  keyFile: k.pem\n', 'tls.cert: set certFile or cert, not both'],
    ['tls:\n  certFile: c.pem\n  keyFile: k.pem\n  bogus: 1\n', 'tls.bogus: unknown key'],
  ])('names the bad key: %s', (yaml, message) => {
    expect(() => parseConfig(yaml)).toThrow(message);
  });

  it('loads the certificate and key from files or secret sources; none means plain HTTP', async () => {
    const env = { TLS_KEY: cert.key };
    const secrets = createSecretLoader({ env });
    const fromFiles = parseConfig(`tls:\n  certFile: "${cert.certFile}"\n  keyFile: "${path.join(tmp, 'key.pem')}"\n  minVersion: "1.3"\n`).tls;
    expect(await loadServerTls(fromFiles, secrets)).toEqual({ cert: cert.cert, key: cert.key, minVersion: 'TLSv1.3' });
    const fromEnv = parseConfig(`tls:\n  cert: {file: "${cert.certFile}"}\n  key: {envVar: TLS_KEY}\n`).tls;
    expect(await loadServerTls(fromEnv, secrets)).toMatchObject({ key: cert.key });
    expect(await loadServerTls(parseConfig('tls:\n  minVersion: TLS1.3\n').tls, secrets)).toBeUndefined();
    expect(await loadServerTls(undefined, secrets)).toBeUndefined();
  });

  it('names the key of an unusable certificate or key, never its contents', async () => {
    const secrets = createSecretLoader({ env: { TLS_KEY: 'secret-garbage' } });
    const config = parseConfig(`tls:\n  certFile: "${cert.certFile}"\n  key: {envVar: TLS_KEY}\n`).tls;
    const err = await loadServerTls(config, secrets).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^tls\.key: not a usable PEM private key/);
    expect((err as Error).message).not.toContain('secret-garbage');
    const unset = parseConfig(`tls:\n  certFile: "${cert.certFile}"\n  key: {envVar: UNSET}\n`).tls;
    await expect(loadServerTls(unset, secrets)).rejects.toThrow('tls.key: environment variable UNSET is not set');
  });
});

describe("tls.minVersion for outgoing connections (the seed project's meaning)", () => {
  it('refuses servers below it once applied', async () => {
    const server = https.createServer({ key: cert.key, cert: cert.cert, maxVersion: 'TLSv1.2' }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const get = () =>
      new Promise<string>((resolve) => {
        https
          .get({ host: '127.0.0.1', port, path: '/', ca: cert.cert, agent: false }, (res) => {
            res.resume();
            resolve(String(res.statusCode));
          })
          .on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
    const saved = tls.DEFAULT_MIN_VERSION;
    try {
      expect(await get()).toBe('200');
      applyOutgoingMinVersion(parseConfig('tls:\n  minVersion: TLS1.3\n').tls);
      expect(await get()).toMatch(/PROTOCOL_VERSION|EPROTO/);
    } finally {
      tls.DEFAULT_MIN_VERSION = saved;
      server.close();
    }
  });

  it('leaves the default alone when unset', () => {
    const saved = tls.DEFAULT_MIN_VERSION;
    applyOutgoingMinVersion(parseConfig('storage:\n  fs: {dir: x}\n').tls);
    expect(tls.DEFAULT_MIN_VERSION).toBe(saved);
  });
});
