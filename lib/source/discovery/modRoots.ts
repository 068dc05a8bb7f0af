// Modules whose discovered root is a module proxy (go-import "mod"): the go
// command then fetches the module from the GOPROXY at the root's URL (cmd/go
// modfetch lookupDirect → newProxyRepo), and so does modproxy, with the
// parent-proxy source. These paths are private (they matched privateModules),
// so no checksum database is asked (FirstUseVerifier); the zip checks of the
// parent-proxy source still apply. Credentials come from gitHosts[] for the
// proxy's URL (host and path prefix), as on discovery pages.
import type { ZipChecker } from '../../archive/zipReader.js';
import { NotFoundError } from '../../errors.js';
import type { HostCredentials } from '../git/hostCredentials.js';
import { createHttpGet, type HttpGet } from '../../net/httpRequest.js';
import type { ModuleSource } from '../moduleSource.js';
import { ParentProxy } from '../proxy/parentProxy.js';
import { FirstUseVerifier } from '../proxy/verifier.js';
import type { DiscoveredRoot } from './discovery.js';

export interface ModRootOptions {
  credentials?: HostCredentials;
  /** Where zips are spooled for checking. */
  tmpDir?: string;
  timeoutMs?: number;
  zipTimeoutMs?: number;
  /** The GET every root's proxy uses (default: lib/net/httpRequest.ts's, which honours HTTPS_PROXY). */
  get?: HttpGet;
  /** Proxies kept (one per root and URL; the oldest go first). */
  maxProxies?: number;
  /** How downloaded zips are checked (default: checkModuleZipFile; see ParentProxyOptions.checkZip). */
  checkZip?: ZipChecker;
}

export class ModRootSources {
  private readonly proxies = new Map<string, ParentProxy>();
  /** One connection pool for all roots' proxies. */
  private readonly get: HttpGet;

  constructor(private readonly opts: ModRootOptions = {}) {
    this.get = opts.get ?? createHttpGet();
  }

  /** The source of `modPath` at the module proxy `root` names; not found when its URL is not http(s). */
  open(modPath: string, root: DiscoveredRoot): ModuleSource {
    return this.proxyFor(modPath, root).open(modPath);
  }

  private proxyFor(modPath: string, root: DiscoveredRoot): ParentProxy {
    const key = `${root.root} ${root.repoUrl}`;
    const hit = this.proxies.get(key);
    if (hit) return hit;
    let url: URL;
    try {
      url = new URL(root.repoUrl);
    } catch {
      throw new NotFoundError(`module ${modPath}: invalid repo root "${root.repoUrl}"`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new NotFoundError(`module ${modPath}: ${root.root} is served by the module proxy ${root.repoUrl}, which is not an http(s) URL`);
    }
    const creds = this.opts.credentials;
    const proxy = new ParentProxy({
      url: root.repoUrl,
      verifier: new FirstUseVerifier(),
      name: `module proxy ${root.repoUrl} (go-import "mod" for ${root.root})`,
      authorization: creds ? async (u) => (await creds.headersFor(u))?.authorization : undefined,
      timeoutMs: this.opts.timeoutMs,
      zipTimeoutMs: this.opts.zipTimeoutMs,
      tmpDir: this.opts.tmpDir,
      get: this.get,
      checkZip: this.opts.checkZip,
    });
    this.proxies.set(key, proxy);
    while (this.proxies.size > (this.opts.maxProxies ?? 100)) this.proxies.delete(this.proxies.keys().next().value!);
    return proxy;
  }
}
