// A self-signed certificate for 127.0.0.1, made with openssl, so tests can
// serve HTTPS (the go command sends .netrc credentials only over https) and
// make the go command trust it with SSL_CERT_FILE.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TestCert {
  key: string;
  cert: string;
  certFile: string;
}

/** `dnsNames`: further names the certificate is valid for (hosts reached through a CONNECT proxy). */
export function makeTestCert(dir: string, dnsNames: readonly string[] = []): TestCert {
  fs.mkdirSync(dir, { recursive: true });
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', `subjectAltName=${['IP:127.0.0.1', ...dnsNames.map((n) => `DNS:${n}`)].join(',')}`], {
    stdio: 'ignore',
  });
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), certFile };
}
