// A stand-in for the gcloud CLI, for running deploy/setup.sh offline: a small
// script put first on PATH that records every call and keeps the resources
// it was asked to create in a state directory, so that `describe` finds what
// an earlier `create` made (exit 0) and nothing else (exit 1, NOT_FOUND), a
// second `create` fails with ALREADY_EXISTS as gcloud does, and
// `secrets versions add --data-file=-` keeps the data it reads from stdin.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FakeGcloud {
  /** Directory to put first on PATH. */
  bin: string;
  /** Every call so far, as its argument words. */
  calls(): string[][];
  /** The data of every version added to a secret, oldest first. */
  secretVersions(secret: string): string[];
}

/** The script (a sibling file), with FAKE_GCLOUD_STATE as its state directory. */
const SCRIPT = fileURLToPath(new URL('./fakeGcloud.sh', import.meta.url));

export function makeFakeGcloud(dir: string): FakeGcloud {
  const bin = path.join(dir, 'bin');
  const state = path.join(dir, 'state');
  fs.mkdirSync(bin, { recursive: true });
  fs.mkdirSync(state, { recursive: true });
  const gcloud = path.join(bin, 'gcloud');
  // A wrapper with the state directory baked in, so callers pass no environment of their own.
  fs.writeFileSync(gcloud, `#!/usr/bin/env bash\nFAKE_GCLOUD_STATE=${JSON.stringify(state)} exec bash ${JSON.stringify(SCRIPT)} "$@"\n`, { mode: 0o755 });
  return {
    bin,
    calls: () => {
      const file = path.join(state, 'calls');
      if (!fs.existsSync(file)) return [];
      return fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('\0').filter((w) => w !== ''));
    },
    secretVersions: (secret) =>
      fs
        .readdirSync(state)
        .filter((f) => f.startsWith(`version-${secret}-`))
        .sort((a, b) => Number(a.split('-').pop()) - Number(b.split('-').pop()))
        .map((f) => fs.readFileSync(path.join(state, f), 'utf8')),
  };
}
