// A process that asked a parent proxy or a checksum database for something
// they refuse (404, 410, 500: the body left unread) must not be kept alive by
// that connection. modproxy-admin exits when its work is done, and a pooled
// connection still holding an unread answer kept `prefetch` of a missing
// version running until the server dropped the connection. Here the servers
// keep idle connections for a minute; the client process must exit at once.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

let tmp: string;
let server: http.Server;
let base: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-egress-'));
  server = http.createServer((req, res) => {
    const status = req.url?.includes('gone') ? 410 : req.url?.includes('broken') ? 500 : 404;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(`not here: ${req.url}\n`);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  fs.rmSync(tmp, { recursive: true, force: true });
});

it('a process that was refused by the parent proxy and the checksum database exits at once', async () => {
  const script = path.join(tmp, 'refused.mts');
  const lib = path.resolve('lib');
  fs.writeFileSync(
    script,
    `import { httpSumdbFetch } from ${JSON.stringify(path.join(lib, 'sumdb/client.ts'))};
import { ParentProxy } from ${JSON.stringify(path.join(lib, 'source/proxy/parentProxy.ts'))};
import { NoVerifier } from ${JSON.stringify(path.join(lib, 'source/proxy/verifier.ts'))};
const base = ${JSON.stringify(base)};
const fetch = httpSumdbFetch(base);
const outcomes = [];
for (const p of ['/lookup/example.com/m@v9.9.9', '/lookup/example.com/gone@v1.0.0', '/tile/8/0/broken'])
  outcomes.push(await fetch(p, { maxBytes: 1 << 20, signal: AbortSignal.timeout(120_000) }).then(() => 'ok', (e) => e.status));
const parent = new ParentProxy({ url: base, verifier: new NoVerifier(), tmpDir: ${JSON.stringify(path.join(tmp, 'spool'))} });
// The .info is refused; the .mod asked ahead alongside it too.
outcomes.push(await parent.open('example.com/m').query('v9.9.9').then(() => 'ok', (e) => e.constructor.name));
console.log(JSON.stringify(outcomes));
`,
  );
  // Killed after 30 s, half the servers' keep-alive: a held connection fails the test.
  const { code, stdout, stderr } = await new Promise<{ code: number | string | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script], { timeout: 30_000, cwd: path.resolve('.') }, (err, stdout, stderr) => resolve({ code: err ? (err.code ?? err.signal ?? 'killed') : 0, stdout, stderr }));
  });
  expect(code, stderr).toBe(0);
  expect(JSON.parse(stdout)).toEqual([404, 410, 500, 'NotFoundError']);
}, 60_000);
