// A module with releases v1.0.0, v1.1.0, … (one new file and one month per
// release, from 2020-01-01), published as a bare repository under
// `<tmp>/repos` for the git server: the fixture of the admin, gc and offline
// tests.
import path from 'node:path';
import { RepoBuilder } from './repoBuilder.js';

export async function publishTaggedModule(tmp: string, repoName: string, modulePath: string, releases: number): Promise<void> {
  const repo = await RepoBuilder.create(path.join(tmp, 'repos'), path.join(tmp, 'work'), repoName);
  await repo.write({ 'go.mod': `module ${modulePath}\n` });
  for (let i = 0; i < releases; i++) {
    await repo.write({ [`${String.fromCharCode(97 + i)}.go`]: 'package m\n' });
    await repo.commit(`2020-${String(i + 1).padStart(2, '0')}-01T00:00:00Z`);
    await repo.tag(`v1.${i}.0`);
  }
  await repo.publish();
}
