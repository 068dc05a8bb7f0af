import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { createGitHttpClient } from './httpClient.js';
import { GitSources } from './gitSources.js';

describe('GitSources', () => {
  it('holds a bounded number of repository stores however many repositories are opened', async () => {
    const config = parseConfig(`privateModules:\n  - pathPrefix: github.com/acme\nresolve:\n  gitWorkDir: "${path.join(os.tmpdir(), 'modproxy-gitsources-test')}"\n`);
    const git = new GitSources(config, createGitHttpClient());
    const rule = config.privateModules[0];
    for (let i = 0; i < 50; i++) await git.open(`github.com/acme/r${i}`, rule);
    expect(git.heldStores).toBe(8);
    // Reopening a recently used repository does not add a store.
    await git.open('github.com/acme/r49/sub', rule);
    expect(git.heldStores).toBe(8);
    expect((await git.locate('github.com/acme/r49/sub', rule)).fetchUrl).toBe('https://github.com/acme/r49');
  });
});
