// Opens git module sources: finds a module's repository, keeps one persistent
// object store per repository URL, and hands out per-request views.
//
// Memory: each store caches decoded objects (up to 64 MiB). The most recently
// used stores are held; the others only weakly, so that a store still in use by
// a request is found again (never two stores on one directory in a process)
// while an idle one is left to the garbage collector. Its files stay on disk.
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { HttpClient } from 'isomorphic-git';
import type { Config, GitHubHostConfig, PrivateModuleConfig } from '../../config/schema.js';
import { CodeRepo } from './codeRepo.js';
import { RemoteGitRepo } from './gitRepo.js';
import { GitModuleSource } from './gitSource.js';
import { locateRepository, type CredentialProvider, type RepoLocation } from './locate.js';
import { GitObjectStore } from './objectStore.js';

/** Stores held strongly, most recently used first. */
const HELD_STORES = 8;

export class GitSources {
  private readonly held = new Map<string, GitObjectStore>();
  private readonly weak = new Map<string, WeakRef<GitObjectStore>>();
  private readonly forget = new FinalizationRegistry<string>((url) => {
    if (!this.weak.get(url)?.deref()) this.weak.delete(url);
  });
  private readonly hosts: ReadonlyMap<string, GitHubHostConfig>;
  private readonly workDir: string;
  private readonly maxBuildMemory: number;

  constructor(
    config: Config,
    private readonly http: HttpClient,
    private readonly credentials?: CredentialProvider,
  ) {
    this.hosts = new Map(config.gitHub.map((h) => [h.host, h]));
    this.workDir = config.resolve.gitWorkDir ?? path.join(os.tmpdir(), 'modproxy-git');
    this.maxBuildMemory = config.resolve.maxBuildMemoryBytes;
  }

  locate(modPath: string, rule: PrivateModuleConfig): RepoLocation {
    return locateRepository(modPath, rule, this.hosts);
  }

  /** A fresh per-request source for a module (its ref table is read once, lazily). */
  open(modPath: string, rule: PrivateModuleConfig): GitModuleSource {
    const loc = this.locate(modPath, rule);
    return new GitModuleSource(new CodeRepo(new RemoteGitRepo(this.storeFor(loc), loc.originUrl), loc.codeRoot, modPath), this.maxBuildMemory);
  }

  /** Stores currently held strongly (tests). */
  get heldStores(): number {
    return this.held.size;
  }

  private storeFor(loc: RepoLocation): GitObjectStore {
    const url = loc.fetchUrl;
    let store = this.held.get(url) ?? this.weak.get(url)?.deref();
    if (!store) {
      const dir = path.join(this.workDir, crypto.createHash('sha256').update(url).digest('hex').slice(0, 24));
      store = new GitObjectStore(dir, { url, http: this.http, ...this.credentials?.remoteAuth(loc) });
      this.weak.set(url, new WeakRef(store));
      this.forget.register(store, url);
    }
    this.held.delete(url);
    this.held.set(url, store);
    if (this.held.size > HELD_STORES) this.held.delete(this.held.keys().next().value!);
    return store;
  }
}
