// Offline mode: with the `offline` key, or a request's `Disable-Module-Fetch:
// true` header, only what storage holds is served and no source is asked;
// anything else is "not found" (the go command may try the next proxy). Real
// modproxy processes on both storage backends (disk and the GCS double).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from './support/gitHttpServer.js';
import { startProxyProcess, type ProxyProcess } from './support/proxyProcess.js';
import { replicaConfig, storageUnderTest, type Backend, type StorageUnderTest } from './support/replicas.js';
import { publishTaggedModule } from './support/taggedModule.js';

const MODULE = 'github.com/off/m';
let tmp: string;
let git: GitHttpServer;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-offline-'));
  git = await startGitHttpServer({ projectRoot: path.join(tmp, 'repos') });
  await publishTaggedModule(tmp, 'off/m', MODULE, 2);
});

afterAll(async () => {
  await git?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function get(url: string, p: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${url}/${MODULE}/${p}`, { headers });
  return { status: r.status, text: await r.text(), cacheControl: r.headers.get('cache-control') };
}

describe.each<Backend>(['fs', 'gcs'])('on %s storage', (backend) => {
  let sut: StorageUnderTest;
  let online: ProxyProcess;
  let offline: ProxyProcess;

  beforeAll(async () => {
    sut = await storageUnderTest(backend, path.join(tmp, backend));
    // Both processes share one storage: the offline one serves what the online one stored.
    const config = (name: string, extra = '') => replicaConfig(sut, path.join(tmp, backend, `git-${name}`), git.url, ['github.com/off'], extra);
    online = await startProxyProcess(config('online'), sut.env);
    offline = await startProxyProcess(config('offline', 'offline: true\n'), sut.env);
    const zip = await fetch(`${online.url}/${MODULE}/@v/v1.0.0.zip`);
    expect(zip.status, online.output()).toBe(200);
    await zip.arrayBuffer();
  }, 60_000);

  afterAll(async () => {
    await online?.stop();
    await offline?.stop();
    await sut?.close();
  });

  const cases: Array<{ name: string; proxy: () => ProxyProcess; headers: Record<string, string> }> = [
    { name: 'the Disable-Module-Fetch: true header', proxy: () => online, headers: { 'Disable-Module-Fetch': 'true' } },
    { name: 'the offline configuration key', proxy: () => offline, headers: {} },
  ];

  for (const c of cases) {
    it(`serves stored versions only, without asking the git host, under ${c.name}`, async () => {
      const before = git.requests.length;
      const url = c.proxy().url;
      expect(await get(url, '@v/list', c.headers)).toMatchObject({ status: 200, text: 'v1.0.0\n' });
      const latest = await get(url, '@latest', c.headers);
      expect(latest.status).toBe(200);
      expect(JSON.parse(latest.text).Version).toBe('v1.0.0');
      expect((await get(url, '@v/v1.0.0.info', c.headers)).status).toBe(200);
      expect((await get(url, '@v/v1.0.0.mod', c.headers)).text).toBe(`module ${MODULE}\n`);
      expect((await get(url, '@v/v1.0.0.zip', c.headers)).status).toBe(200);
      for (const p of ['@v/v1.1.0.info', '@v/v1.1.0.mod', '@v/v1.1.0.zip', '@v/main.info']) {
        const r = await get(url, p, c.headers);
        expect(r.status, p).toBe(404);
        expect(r.text, p).toContain('module fetch is disabled');
      }
      const other = await fetch(`${url}/github.com/off/other/@v/list`, { headers: c.headers });
      expect(other.status).toBe(404);
      await other.arrayBuffer();
      expect(git.requests.length, 'git requests while fetching is disabled').toBe(before);
    });
  }

  it('answers with the header off as before (the header only affects its own request)', async () => {
    // v1.1.0 is known only to the git host (storage holds v1.0.0): the source was asked. (Its ref
    // listing may be one made moments ago: resolve.gitRefListingTtlSeconds.)
    expect((await get(online.url, '@v/list')).text).toBe('v1.0.0\nv1.1.0\n');
  });

  it('lets no shared cache keep a 404 caused by the header', async () => {
    const r = await get(online.url, '@v/v1.1.0.mod', { 'Disable-Module-Fetch': 'true' });
    expect(r.status).toBe(404);
    expect(r.cacheControl).toBe('no-store');
  });
});
