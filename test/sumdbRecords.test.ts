// Records a checksum database signs, read as the go command reads them: for
// each case a real database (x/mod's server, test/support/sumdbServer.ts)
// holds one record for a public version with unusual lines (no zip line, two
// hashes, "h2:" hashes, lines about other modules, a hash with a field after
// it, ...), and `go mod download` of that version runs against the parent
// directly (GOSUMDB with the database's URL) and through a fresh modproxy on
// its own storage (GOSUMDB with no URL, so the go command verifies through
// modproxy's /sumdb/). The newest go command judges: both must succeed with
// the same hashes, or both fail.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFileProxyServer, type FileProxyServer } from './support/fileProxyServer.js';
import { GoRunner } from './support/goRunner.js';
import { newerGoTool } from './support/goTool.js';
import { publicModulesConfig, startProxy, testConfig } from './support/proxyFixture.js';
import { makePublicFixture, PUBLIC_A as A, type PublicFixture } from './support/publicFixture.js';
import { SumdbServer } from './support/sumdbServer.js';

let tmp: string;
let fx: PublicFixture;
let parent: FileProxyServer;
let runner: GoRunner;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-sumdb-records-'));
  fx = await makePublicFixture(tmp);
  parent = await startFileProxyServer(fx.downloadRoot);
  runner = new GoRunner({ tmp: path.join(tmp, 'go-new'), insteadOf: {}, go: newerGoTool() });
}, 240_000);

afterAll(async () => {
  await parent?.close();
  await fx?.git.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

it('verifies a version as the go command does, whatever lines its record holds', async () => {
  const v = 'v1.0.0';
  const zip = `${A} ${v} ${fx.direct.get(`${A}@${v}`)!.Sum}`;
  const mod = `${A} ${v}/go.mod ${fx.direct.get(`${A}@${v}`)!.GoModSum}`;
  const wrong = `h1:${Buffer.alloc(32, 7).toString('base64')}`;
  const records: Record<string, string[]> = {
    'both lines': [zip, mod],
    'no zip line': [mod],
    'no go.mod line': [zip],
    'no line for the version': [`${A} v1.1.0 ${wrong}`, `example.com/other ${v} ${wrong}`],
    'a wrong zip hash first': [`${A} ${v} ${wrong}`, zip, mod],
    'a wrong zip hash second': [zip, `${A} ${v} ${wrong}`, mod],
    'a wrong go.mod hash first': [zip, `${A} ${v}/go.mod ${wrong}`, mod],
    'a wrong go.mod hash second': [zip, mod, `${A} ${v}/go.mod ${wrong}`],
    'h2 hashes and other modules': [`${A} ${v} h2:future`, `example.com/other ${v} ${wrong}`, `${A} ${v}/go.mod h2:future`, zip, mod],
    'h2 hashes only': [`${A} ${v} h2:future`, `${A} ${v}/go.mod h2:future`],
    'a field after the zip hash': [`${zip} extra`, mod],
    'a malformed go.mod hash': [zip, `${A} ${v}/go.mod h1:short`],
  };
  const outcomes: Record<string, string> = {};
  for (const [i, [name, lines]] of Object.entries(records).entries()) {
    // A database of its own per case (its own name, so that no go command's remembered tree head is in the way).
    const dbName = `records${i}.test`;
    const db = await SumdbServer.start({ name: dbName });
    try {
      await db.bulk('example.com/before', 0, 20);
      await db.record(A, v, lines.join('\n') + '\n');
      const direct = await runner.download(parent.url, `${A}@${v}`, { env: { GOSUMDB: `${db.vkey} ${db.url}` } });
      const extra = publicModulesConfig(parent.url, { name: dbName, url: db.url, vkey: db.vkey }).join('\n');
      const proxy = await startProxy(testConfig(path.join(tmp, `proxy${i}`), { 'github.com': fx.git.url }, ['github.com/priv'], extra), { tmpDir: path.join(tmp, `proxy${i}-tmp`) });
      try {
        const through = await runner.download(proxy.url, `${A}@${v}`, { env: { GOSUMDB: db.vkey } });
        const summary = (r: typeof direct) => (r.Error === undefined ? `ok ${r.Sum} ${r.GoModSum}` : 'error');
        expect(summary(through), `${name}: ${through.Error ?? ''} / direct: ${direct.Error ?? ''}`).toBe(summary(direct));
        outcomes[name] = summary(direct).split(' ')[0];
      } finally {
        await proxy.close();
      }
    } finally {
      await db.close();
    }
  }
  // The cases are what they say: the first h1 line decides, and without one the newest go command refuses.
  expect(outcomes).toEqual({
    'both lines': 'ok',
    'no zip line': 'error',
    'no go.mod line': 'error',
    'no line for the version': 'error',
    'a wrong zip hash first': 'error',
    'a wrong zip hash second': 'ok',
    'a wrong go.mod hash first': 'error',
    'a wrong go.mod hash second': 'ok',
    'h2 hashes and other modules': 'ok',
    'h2 hashes only': 'error',
    'a field after the zip hash': 'error',
    'a malformed go.mod hash': 'error',
  });
}, 300_000);
