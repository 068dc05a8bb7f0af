import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG_YAML, loadConfig, parseConfig } from './load.js';

// The seed project's config_example.yaml, as its users have it (anchors and merge keys included).
const SEED_EXAMPLE = `
clientAuth:
  enabled: false
gitHub:
  - host: github.com
    gitHubApps:
      - id: 12345
        privateKey:
          file: private-key.txt
httpProxy:
  noProxy: 'my-internal-host.example.com,localhost,127.0.0.1'
  url: http://my-http-forward-proxy.example.com:3128
maxChildProcesses: 30
parentProxy:
  url: https://proxy.golang.org
privateModules:
  - pathPrefix: "github.com/my-private-org"
    auth:
      gitHubApp: 12345
publicModules:
  sumDatabase: &googleSumDatabase
    name: sum.golang.org
    publicKey: 033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8
    url: https://sum.golang.org
storage:
  gcs:
    bucket: my-gcs-bucket
sumDatabaseProxy:
  discourageClientDirectSumDatabaseConnections: true
  sumDatabases:
    - <<: *googleSumDatabase
tls:
  minVersion: 'TLS1.3'
`;

describe('configuration', () => {
  it('has an embedded default: local disk, public modules from proxy.golang.org verified with sum.golang.org', () => {
    const c = parseConfig(DEFAULT_CONFIG_YAML);
    expect(c.storage.fs?.dir).toBe('.modproxy-data');
    expect(c.privateModules).toEqual([]);
    expect(c.parentProxy?.url).toBe('https://proxy.golang.org');
    expect(c.publicModules?.sumDatabase?.name).toBe('sum.golang.org');
    expect(c.sumDatabaseProxy?.sumDatabases.map((d) => d.name)).toEqual(['sum.golang.org']);
  });

  it("accepts the seed project's example file", () => {
    const c = parseConfig(SEED_EXAMPLE);
    expect(c.storage.gcs?.bucket).toBe('my-gcs-bucket');
    expect(c.gitHub[0].gitHubApps[0]).toEqual({ id: 12345, privateKey: { file: 'private-key.txt' } });
    expect(c.sumDatabaseProxy?.sumDatabases[0].name).toBe('sum.golang.org');
  });

  it.each([
    ['storage:\n  fs:\n    dir: x\n    extra: 1\n', 'storage.fs.extra: unknown key'],
    ['storage:\n  fs: {dir: x}\n  gcs: {bucket: abc}\n', 'storage: exactly one of storage.fs or storage.gcs must be set'],
    ['gitHub:\n  - host: GitHub.com\n', 'gitHub[0].host: must be a lower-case host name'],
    ['gitHub:\n  - host: github.com\n    gitHubApps:\n      - id: 1\n        privateKey: {file: a, envVar: B}\n', 'gitHub[0].gitHubApps[0].privateKey: exactly one of file, envVar or secret must be set'],
    ['privateModules:\n  - pathPrefix: github.com/x\n    auth: {gitHubApp: 9}\n', 'privateModules[0].auth.gitHubApp: no gitHub[].gitHubApps[] entry for host github.com has id 9'],
    ['gitHub:\n  - host: h.example\n    gitBaseUrl: ftp://x\n', 'gitHub[0].gitBaseUrl'],
    ['bogus: 1\n', 'bogus: unknown key'],
    ['gitHosts:\n  - host: gitlab.example.com\n    auth: {bearer: t, basic: {username: u, password: p}}\n', 'gitHosts[0].auth: set exactly one of basic or bearer'],
    ['gitHosts:\n  - host: gitlab.example.com\n    pathPrefix: /group\n    auth: {bearer: t}\n', 'gitHosts[0].pathPrefix: must be path elements'],
    ['gitHosts:\n  - host: h.example\n    auth: {basic: {username: "a:b", password: p}}\n', 'gitHosts[0].auth.basic.username'],
    ['storage: [\n', 'invalid YAML'],
    ['metrics:\n  cloudMonitoring: {enabled: true, intervalSeconds: 1}\n', 'metrics.cloudMonitoring.intervalSeconds'],
    ['metrics:\n  cloudMonitoring: {enabled: true, apiEndpoint: "ftp://x"}\n', 'metrics.cloudMonitoring.apiEndpoint'],
    ['metrics:\n  cloudMonitoring: {enabled: true, projectId: "My Project"}\n', 'metrics.cloudMonitoring.projectId'],
  ])('names the bad key: %s', (yaml, message) => {
    expect(() => parseConfig(yaml)).toThrow(ConfigError);
    expect(() => parseConfig(yaml)).toThrow(message);
  });

  it('reads $MODPROXY_CONFIG as a file path or as inline YAML', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-')), 'c.yaml');
    fs.writeFileSync(file, 'storage:\n  fs:\n    dir: /data\n');
    expect(loadConfig({ MODPROXY_CONFIG: file }).config.storage.fs?.dir).toBe('/data');
    expect(loadConfig({ MODPROXY_CONFIG: 'storage:\n  fs:\n    dir: /inline\n' }).config.storage.fs?.dir).toBe('/inline');
    expect(loadConfig({}).source).toBe('embedded default');
    expect(() => loadConfig({ MODPROXY_CONFIG: '/nonexistent/x.yaml' })).toThrow('cannot read file');
  });
});
