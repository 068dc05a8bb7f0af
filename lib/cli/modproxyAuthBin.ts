#!/usr/bin/env node
// The `modproxy-auth` command (package.json "bin"). It always runs: npm starts
// bins through symlinks (node_modules/.bin, npm link, npx), so a module that
// ran only when import.meta.url equalled argv[1] silently printed nothing, and
// the go command then sent no credentials. lib/cli/modproxyAuth.ts stays a
// plain module that tests import.
import { main } from './modproxyAuth.js';

await main();
