import { describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import { parseConfig } from './config/load.js';
import { createLogger } from './log/logger.js';
import { MemoryStorage } from './storage/memoryStorage.js';

describe('createApp', () => {
  it('warns about go-mod-proxy keys it accepts but does not act on', () => {
    const lines: string[] = [];
    const config = parseConfig('parentProxy:\n  url: https://proxy.golang.org\nmaxChildProcesses: 4\nprivateModules:\n  - pathPrefix: github.com/o\n');
    createApp(config, { log: createLogger({ write: (l) => lines.push(l) }), storage: new MemoryStorage() });
    const warnings = lines.map((l) => JSON.parse(l) as { severity: string; message: string }).filter((e) => e.severity === 'WARNING');
    expect(warnings.map((w) => w.message)).toEqual([
      'configuration key maxChildProcesses is accepted for compatibility with go-mod-proxy and ignored',
      expect.stringMatching(/^configuration key parentProxy is accepted .* not implemented: modules outside privateModules get 404/),
    ]);
  });
});
