import { describe, expect, it } from 'vitest';
import { createApp, NO_VERIFIER_ERROR } from './app.js';
import { parseConfig } from './config/load.js';
import { createLogger } from './log/logger.js';
import { GoSumVerifier } from './source/proxy/verifier.js';
import { MemoryStorage } from './storage/memoryStorage.js';

describe('createApp', () => {
  it('warns about go-mod-proxy keys it accepts but does not act on (sumDatabaseProxy and tls are acted on)', () => {
    const lines: string[] = [];
    // tls is acted on now too (by the server entry), so it is not reported.
    const config = parseConfig('sumDatabaseProxy:\n  sumDatabases: []\nmaxChildProcesses: 4\ntls:\n  minVersion: TLS1.2\nprivateModules:\n  - pathPrefix: github.com/o\n');
    createApp(config, { log: createLogger({ write: (l) => lines.push(l) }), storage: new MemoryStorage() });
    const warnings = lines.map((l) => JSON.parse(l) as { severity: string; message: string }).filter((e) => e.severity === 'WARNING');
    expect(warnings.map((w) => w.message)).toEqual(['configuration key maxChildProcesses is accepted for compatibility with go-mod-proxy and ignored']);
  });

  it('refuses to start with a parent proxy and nothing to verify what it sends (fail closed)', () => {
    const yaml = 'parentProxy:\n  url: https://proxy.golang.org\nprivateModules:\n  - pathPrefix: github.com/o\n';
    expect(() => createApp(parseConfig(yaml), { log: createLogger({ write: () => {} }), storage: new MemoryStorage() })).toThrow(NO_VERIFIER_ERROR);
    expect(NO_VERIFIER_ERROR).toContain('publicModules.sumDatabase');
    expect(NO_VERIFIER_ERROR).not.toContain('\n');
  });

  it('verifies public modules with the configured checksum database, and refuses keys that cannot be right', () => {
    const yaml = 'parentProxy:\n  url: https://proxy.golang.org\nprivateModules:\n  - pathPrefix: github.com/o\npublicModules:\n  sumDatabase:\n';
    const start = (db: string) => createApp(parseConfig(yaml + db), { log: createLogger({ write: () => {} }), storage: new MemoryStorage() });
    // sum.golang.org needs no key in the configuration: the go command's own is built in.
    expect(start('    name: sum.golang.org\n    url: https://sum.golang.org\n').service.serves('golang.org/x/mod')).toBe(true);
    expect(() => start('    name: sum.example.com\n    url: https://sum.example.com\n')).toThrow('publicModules.sumDatabase.publicKey is required');
    expect(() => start('    name: sum.example.com\n    url: https://sum.example.com\n    publicKey: "garbage"\n')).toThrow(/^publicModules\.sumDatabase\.publicKey: /);
    expect(() => start('    name: sum.example.com\n    url: https://sum.example.com\n    publicKey: "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"\n')).toThrow(
      'publicModules.sumDatabase.publicKey is the key of sum.golang.org, not of sum.example.com',
    );
  });

  it('serves every module when a parent proxy is configured with a verifier', () => {
    const lines: string[] = [];
    const config = parseConfig('parentProxy:\n  url: https://proxy.golang.org\nprivateModules:\n  - pathPrefix: github.com/o\n');
    const app = createApp(config, { log: createLogger({ write: (l) => lines.push(l) }), storage: new MemoryStorage(), verifier: new GoSumVerifier('') });
    expect(app.service.serves('golang.org/x/mod')).toBe(true);
    expect(app.service.serves('github.com/o/r')).toBe(true);
    expect(lines.filter((l) => l.includes('WARNING'))).toEqual([]);
  });

  it('accepts parent credentials as Basic or bearer, not both', () => {
    const base = 'parentProxy:\n  url: https://proxy.example.com\n  auth:\n';
    expect(parseConfig(base + '    bearerToken: {envVar: TOKEN}\n').parentProxy?.auth?.bearerToken).toEqual({ envVar: 'TOKEN' });
    expect(parseConfig(base + '    username: ci\n    password: pw\n').parentProxy?.timeoutSeconds).toBe(30);
    expect(() => parseConfig(base + '    username: ci\n    password: pw\n    bearerToken: t\n')).toThrow(/bearerToken/);
    expect(() => parseConfig(base + '    username: ci\n')).toThrow(/username and password/);
  });
});
