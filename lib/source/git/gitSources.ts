// Opens git module sources: finds a module's repository, keeps one persistent
// object store per repository URL, shares ref listings between requests
// (refListings.ts), and hands out per-request views.
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
import type { DiscoveredRoot, ImportPathDiscovery } from '../discovery/discovery.js';
import type { ModRootSources } from '../discovery/modRoots.js';
import type { ModuleSource } from '../moduleSource.js';
import type { HostCredentials } from './hostCredentials.js';
import { locateDiscovered, locateRepository, locateStatic, type CredentialProvider, type RepoLocation } from './locate.js';
import { GitObjectStore } from './objectStore.js';
import { RefListings } from './refListings.js';

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
  private readonly refListings: RefListings;
  private readonly maxBuildMemory: number;

  constructor(
    config: Config,
    private readonly http: HttpClient,
    private readonly credentials?: CredentialProvider,
    /** The clock for reusing ref listings (tests). */
    now?: () => number,
    /** Finds repositories of paths no static rule covers; without it such paths are not found. */
    private readonly discovery?: ImportPathDiscovery,
    /** Basic/bearer credentials per host (gitHosts[]), used where no GitHub App applies. */
    private readonly hostCredentials?: HostCredentials,
    /** Serves paths whose discovered root is a module proxy (go-import "mod"); without it they are not found. */
    private readonly modRoots?: ModRootSources,
  ) {
    this.hosts = new Map(config.gitHub.map((h) => [h.host, h]));
    this.workDir = config.resolve.gitWorkDir ?? path.join(os.tmpdir(), 'modproxy-git');
    this.refListings = new RefListings(config.resolve.gitRefListingTtlSeconds * 1000, now);
    this.maxBuildMemory = config.resolve.maxBuildMemoryBytes;
  }

  async locate(modPath: string, rule: PrivateModuleConfig): Promise<RepoLocation> {
    const found = await this.find(modPath, rule);
    return 'vcs' in found ? locateDiscovered(modPath, rule, found) : found;
  }

  /** The repository location, or a discovered module-proxy root when mod roots are served. */
  private async find(modPath: string, rule: PrivateModuleConfig): Promise<RepoLocation | DiscoveredRoot> {
    if (!this.discovery) return locateRepository(modPath, rule, this.hosts);
    const loc = locateStatic(modPath, rule, this.hosts);
    if (loc) return loc;
    const d = await this.discovery.repoRootFor(modPath);
    return d.vcs === 'mod' && this.modRoots ? d : locateDiscovered(modPath, rule, d);
  }

  /** A fresh per-request source for a module (its ref table is read once, lazily); a module proxy's for a mod root. */
  async open(modPath: string, rule: PrivateModuleConfig): Promise<ModuleSource> {
    const loc = await this.find(modPath, rule);
    if ('vcs' in loc) return this.modRoots!.open(modPath, loc);
    const store = this.storeFor(loc);
    const refs = this.refListings.source(loc.fetchUrl, () => store.listRemoteRefs());
    return new GitModuleSource(new CodeRepo(new RemoteGitRepo(store, loc.originUrl, refs), loc.codeRoot, modPath, loc.subDir), this.maxBuildMemory);
  }

  /** Stores currently held strongly (tests). */
  get heldStores(): number {
    return this.held.size;
  }

  /** gitHosts[] credentials for a repository URL, if configured for it (asked again on each request, for rotation). */
  private hostAuth(url: string): { headers: () => Promise<Record<string, string>> } | undefined {
    const creds = this.hostCredentials;
    const u = new URL(url);
    if (!creds?.entryFor(u)) return undefined;
    return { headers: async () => (await creds.headersFor(u)) ?? {} };
  }

  private storeFor(loc: RepoLocation): GitObjectStore {
    const url = loc.fetchUrl;
    let store = this.held.get(url) ?? this.weak.get(url)?.deref();
    if (!store) {
      const dir = path.join(this.workDir, crypto.createHash('sha256').update(url).digest('hex').slice(0, 24));
      store = new GitObjectStore(dir, { url, http: this.http, ...(this.credentials?.remoteAuth(loc) ?? this.hostAuth(url)) });
      this.weak.set(url, new WeakRef(store));
      this.forget.register(store, url);
    }
    this.held.delete(url);
    this.held.set(url, store);
    if (this.held.size > HELD_STORES) this.held.delete(this.held.keys().next().value!);
    return store;
  }
}
