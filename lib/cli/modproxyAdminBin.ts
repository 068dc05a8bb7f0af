#!/usr/bin/env node
// The `modproxy-admin` command (package.json "bin"); always runs, as modproxyAuthBin.ts explains.
import { main } from './modproxyAdmin.js';

await main();
