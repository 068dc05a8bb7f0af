// A spool directory as a crash and its neighbours leave it, for the tests of
// the sweep each spool's owner runs when it opens the directory
// (lib/util/staleFiles.ts): an hours-old spool zip (a crash's), a fresh one
// (another replica's download in flight), and an hours-old file and link that
// are not ours (the directory may be shared, /tmp itself in tests).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { STALE_TEMP_MS } from '../../lib/util/staleFiles.js';

export interface SpoolLeftovers {
  dir: string;
  crashed: string;
  inFlight: string;
  /** Names that must survive every sweep. */
  kept: string[];
  remove(): void;
}

export function spoolLeftovers(): SpoolLeftovers {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-spool-'));
  const crashed = `${crypto.randomUUID()}.zip`;
  const inFlight = `${crypto.randomUUID()}.zip`;
  const past = (Date.now() - STALE_TEMP_MS - 60_000) / 1000;
  for (const name of [crashed, inFlight, 'notes.txt', 'build.zip']) fs.writeFileSync(path.join(dir, name), 'partial');
  // A link named like a spool zip, itself and its target hours old: the sweep neither follows nor removes it.
  const link = path.join(dir, `${crypto.randomUUID()}.zip`);
  fs.symlinkSync(path.join(dir, 'notes.txt'), link);
  for (const name of [crashed, 'notes.txt', 'build.zip']) fs.utimesSync(path.join(dir, name), past, past);
  fs.lutimesSync(link, past, past);
  return { dir, crashed, inFlight, kept: fs.readdirSync(dir).filter((n) => n !== crashed).sort(), remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
