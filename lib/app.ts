// Wiring: configuration in, a request handler out. Every dependency can be
// injected (storage, HTTP client, logger, credentials) so tests drive the
// same code the deployed function runs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { HttpClient } from 'isomorphic-git';
import type { Config } from './config/schema.js';
import { createGitHttpClient } from './source/git/httpClient.js';
import type { CredentialProvider } from './source/git/locate.js';
import { GitSources } from './source/git/gitSources.js';
import { isPrivatePath, PrivateModulesRouter } from './source/router.js';
import { ImportPathDiscovery } from './source/discovery/discovery.js';
import { createHttpsGet } from './source/discovery/httpsGet.js';
import { ModRootSources } from './source/discovery/modRoots.js';
import { createHttpGet, type HttpGet } from './net/httpRequest.js';
import { createProxyFetch } from './net/proxyFetch.js';
import { HostCredentials } from './source/git/hostCredentials.js';
import { createLogger, type Logger } from './log/logger.js';
import { createHandler, type RequestHandler } from './http/handler.js';
import { ModuleService } from './service/moduleService.js';
import { Leases } from './records/lease.js';
import { ClientAuth } from './auth/clientAuth.js';
import { createSecretLoader, type SecretLoader, type SecretSource } from './config/secrets.js';
import { GitHubAppCredentials } from './source/git/githubApp.js';
import { FsStorage } from './storage/fsStorage.js';
import { GcsStorage } from './storage/gcsStorage.js';
import type { ObjectStorage } from './storage/storage.js';
import { withStorageBudget } from './storage/requestBudget.js';
import type { CommitHook } from './records/manifest.js';
import { ParentProxy } from './source/proxy/parentProxy.js';
import { checkModuleZipFile, type ZipChecker } from './archive/zipReader.js';
import { Foreground } from './util/foreground.js';
import type { ModuleVerifier } from './source/proxy/verifier.js';
import type { SourceRouter } from './source/moduleSource.js';
import { SumdbVerifier } from './source/proxy/sumdbVerifier.js';
import { httpSumdbFetch, SUM_GOLANG_ORG_KEY, SumdbClient, type SumdbLookup } from './sumdb/client.js';
import { StorageTreeStore } from './records/treeStore.js';
import { SumdbProxy, type ProxiedDatabase } from './service/sumdbProxy.js';
import { createIndex, createReadiness } from './http/ops.js';
import { ChildCache, ProxyMetrics, type Outcome } from './metrics/metrics.js';
import { InstrumentedStorage } from './metrics/instrumentedStorage.js';
import { countedSumdbFetch } from './metrics/countedSumdbFetch.js';
import { CloudMonitoringExporter, type GoogleCredentials } from './metrics/cloudMonitoring.js';
import { metadataRegion, monitoringCredentials } from './metrics/googleCredentials.js';

/** Git credentials; `checkKeys` (GitHub Apps) reads and checks every key at start-up. */
export type GitCredentials = CredentialProvider & { checkKeys?(): Promise<void> };

export interface AppDeps {
  log?: Logger;
  storage?: ObjectStorage;
  http?: HttpClient;
  credentials?: GitCredentials;
  secrets?: SecretLoader;
  /** Google's ID-token certificate endpoint (tests point it at a local server). */
  gceCertsUrl?: string;
  /** The clock for token lifetimes and cache expiry (tests). */
  now?: () => number;
  tmpDir?: string;
  commitHook?: CommitHook;
  /**
   * What verifies modules from the parent proxy (the checksum database client;
   * tests inject a GoSumVerifier). Without one, a configured parentProxy
   * refuses to start: nothing unverified is ever served or stored.
   */
  verifier?: ModuleVerifier;
  /**
   * Replaces the module sources the service asks (`modproxy-admin import`
   * reads a GOPROXY tree instead): given the configured router and the
   * checksum database verifier (publicModules.sumDatabase, when configured).
   */
  sources?: (wired: WiredSources) => SourceRouter;
  /** Credentials for the Cloud Monitoring push (default: Application Default Credentials). */
  monitoringCredentials?: GoogleCredentials;
}

/** What createApp wired for module sources, for AppDeps.sources. */
export interface WiredSources {
  router: PrivateModulesRouter;
  databaseVerifier?: ModuleVerifier;
}

/** The one-line reason modproxy refuses a parentProxy it cannot verify. */
export const NO_VERIFIER_ERROR =
  'parentProxy is configured but modules from it cannot be verified: configure publicModules.sumDatabase (name, url, publicKey), or remove parentProxy';

/**
 * What this configuration reads with credentials: privateModules entries with
 * a GitHub App, and a parent proxy with credentials. Served without
 * clientAuth, each is readable by anyone who can reach the proxy.
 */
function credentialedReads(config: Config): string[] {
  const reads = config.privateModules.flatMap((m, i) =>
    m.auth?.gitHubApp !== undefined ? [`privateModules[${i}] ${m.pathPrefix} through GitHub App ${m.auth.gitHubApp}`] : [],
  );
  config.gitHosts.forEach((h, i) => reads.push(`gitHosts[${i}] ${h.host}${h.pathPrefix ? `/${h.pathPrefix}` : ''} with ${h.auth.basic ? 'Basic' : 'bearer'} credentials`));
  if (config.parentProxy?.auth) reads.push('parentProxy with parentProxy.auth credentials');
  return reads;
}

/** The one-line reason modproxy refuses to serve what it reads with credentials to anyone. */
export function openProxyError(reads: string[]): string {
  const what = reads.length > 3 ? `${reads.slice(0, 3).join('; ')}; and ${reads.length - 3} more` : reads.join('; ');
  return (
    `refusing to start an open proxy: modules are read with credentials (${what}) but clientAuth.enabled is false, ` +
    'so anyone who can reach this proxy could read them: enable clientAuth (see the README), or set ' +
    'clientAuth.allowUnauthenticated: true if only trusted clients can reach it (a network private by other means)'
  );
}

/** The shortest access-token signing secret accepted (HS256: at least the hash size, random). */
export const MIN_TOKEN_SECRET_BYTES = 32;

/**
 * Reads (and caches, in `secrets`) every secret the configuration names, and
 * checks what can be checked without using it, so that a configuration fault
 * stops the start with the key it is under, instead of failing requests.
 */
async function checkSecrets(config: Config, secrets: SecretLoader, credentials: GitCredentials | undefined): Promise<void> {
  await credentials?.checkKeys?.();
  const read = async (key: string, v: string | SecretSource): Promise<string> => {
    let value: string;
    try {
      value = typeof v === 'string' ? v : await secrets.load(v);
    } catch (err) {
      throw new Error(`${key}: ${(err as Error).message}`);
    }
    if (value.trim() === '') throw new Error(`${key}: the secret is empty`);
    return value;
  };
  const parent = config.parentProxy?.auth;
  if (parent?.bearerToken !== undefined) await read('parentProxy.auth.bearerToken', parent.bearerToken);
  if (parent?.password !== undefined) await read('parentProxy.auth.password', parent.password);
  for (const [i, h] of config.gitHosts.entries()) {
    if (h.auth.bearer !== undefined) await read(`gitHosts[${i}].auth.bearer`, h.auth.bearer);
    if (h.auth.basic !== undefined) await read(`gitHosts[${i}].auth.basic.password`, h.auth.basic.password);
  }
  const ca = config.clientAuth;
  if (!ca.enabled) return;
  for (const [i, id] of ca.identities.entries()) {
    if (id.passwordHash !== undefined) await read(`clientAuth.identities[${i}].passwordHash`, id.passwordHash);
    if (id.password !== undefined) await read(`clientAuth.identities[${i}].password`, id.password);
  }
  const at = ca.authenticators.accessToken;
  if (at) {
    const key = 'clientAuth.authenticators.accessToken.secret';
    const bytes = Buffer.byteLength((await read(key, at.secret)).replace(/\r?\n$/, ''), 'utf8');
    if (bytes < MIN_TOKEN_SECRET_BYTES) {
      throw new Error(
        `${key}: too short (${bytes} bytes): anyone who guesses it can mint access tokens; use at least ${MIN_TOKEN_SECRET_BYTES} random bytes, e.g. \`openssl rand -base64 48\``,
      );
    }
  }
}

type SumDatabaseConfig = NonNullable<NonNullable<Config['publicModules']>['sumDatabase']>;

/**
 * A client of a checksum database: its key (the configured one, or the go
 * command's own for sum.golang.org), its tree heads kept in our storage so
 * that every replica checks it against one history. `key` names the
 * configuration entry in errors.
 */
function sumDatabaseClient(db: SumDatabaseConfig, storage: ObjectStorage, key: string, metrics: ProxyMetrics, egress: HttpGet): SumdbClient {
  const vkey = db.publicKey ?? (db.name === 'sum.golang.org' ? SUM_GOLANG_ORG_KEY : undefined);
  if (!vkey) throw new Error(`${key}.publicKey is required for checksum database ${db.name} (the verifier key, as in GOSUMDB: <name>+<hash>+<key>)`);
  let client: SumdbClient;
  try {
    const lookups = { verified: metrics.sumdbLookups.labels(db.name, 'verified'), not_found: metrics.sumdbLookups.labels(db.name, 'not_found'), error: metrics.sumdbLookups.labels(db.name, 'error') };
    client = new SumdbClient({
      key: vkey,
      fetch: countedSumdbFetch(metrics, db.name, httpSumdbFetch(db.url, { get: egress })),
      store: new StorageTreeStore(storage, db.name),
      onLookup: (result) => lookups[result].inc(),
    });
  } catch (err) {
    throw new Error(`${key}.publicKey: ${(err as Error).message}`);
  }
  if (client.name !== db.name) throw new Error(`${key}.publicKey is the key of ${client.name}, not of ${db.name}`);
  return client;
}

const SUM_GOLANG_ORG: SumDatabaseConfig = { name: 'sum.golang.org', url: 'https://sum.golang.org' };

/** The checksum databases to proxy under /sumdb/ (sum.golang.org when the key is there with an empty list). */
function proxiedDatabases(config: Config, storage: ObjectStorage, clients: Map<string, SumdbClient>, metrics: ProxyMetrics, egress: HttpGet): Map<string, ProxiedDatabase> {
  const out = new Map<string, ProxiedDatabase>();
  const list = config.sumDatabaseProxy?.sumDatabases ?? [];
  const dbs = config.sumDatabaseProxy && list.length === 0 ? [SUM_GOLANG_ORG] : list;
  dbs.forEach((db, i) => {
    if (out.has(db.name)) throw new Error(`sumDatabaseProxy.sumDatabases[${i}]: ${db.name} is listed twice`);
    const client = clients.get(db.name) ?? sumDatabaseClient(db, storage, `sumDatabaseProxy.sumDatabases[${i}]`, metrics, egress);
    clients.set(db.name, client);
    out.set(db.name, { client, fetch: countedSumdbFetch(metrics, db.name, httpSumdbFetch(db.url, { get: egress })) });
  });
  return out;
}

type ParentAuthConfig = NonNullable<NonNullable<Config['parentProxy']>['auth']>;

/** The Authorization header value for the parent proxy, loaded once. */
function parentAuthorization(auth: ParentAuthConfig | undefined, secrets: SecretLoader): (() => Promise<string | undefined>) | undefined {
  if (!auth) return undefined;
  let value: Promise<string> | undefined;
  const load = async (v: string | { file?: string; envVar?: string; secret?: string }) => (typeof v === 'string' ? v : (await secrets.load(v)).replace(/\r?\n$/, ''));
  return () => {
    value ??= (async () => {
      if (auth.bearerToken !== undefined) return `Bearer ${await load(auth.bearerToken)}`;
      return `Basic ${Buffer.from(`${auth.username}:${await load(auth.password!)}`).toString('base64')}`;
    })();
    value.catch(() => (value = undefined));
    return value;
  };
}

export interface App {
  config: Config;
  handler: RequestHandler;
  /** Answers a hit held in memory before returning (true), or does nothing (false): `handler` without the rest. */
  answerNow(req: IncomingMessage, res: ServerResponse): boolean;
  service: ModuleService;
  log: Logger;
  /** Resolves when secrets are loaded (rejects with the reason if they cannot be). */
  ready(): Promise<void>;
  /** At shutdown: pushes the last metrics to Cloud Monitoring when that is configured (bounded; never rejects). */
  shutdown(): Promise<void>;
}

export function storageFromConfig(config: Config): ObjectStorage {
  if (config.storage.fs) return new FsStorage(path.resolve(config.storage.fs.dir));
  const gcs = config.storage.gcs!;
  // The library sends no credentials to a custom endpoint unless told to (it
  // assumes an emulator); a private or regional endpoint needs them (ADC).
  const clientOptions = gcs.apiEndpoint ? { apiEndpoint: gcs.apiEndpoint, useAuthWithCustomEndpoint: !gcs.anonymous } : undefined;
  return new GcsStorage({ bucket: gcs.bucket, prefix: gcs.prefix, clientOptions });
}

/** The largest zip held in memory: none that would be answered with a redirect anyway. */
function zipsHeldUpTo(config: Config, storage: ObjectStorage): number {
  const max = config.cache.maxZipBytes;
  if (!storage.signedReadUrl) return max;
  const r = config.zipRedirect;
  if (r.mode === 'always') return 0;
  if (r.mode === 'auto') return Math.min(max, r.thresholdBytes - 1);
  return max;
}

export function createApp(config: Config, deps: AppDeps = {}): App {
  const log = deps.log ?? createLogger();
  for (const key of ['maxChildProcesses', 'httpProxy'] as const) {
    if (config[key] !== undefined) log.warn(`configuration key ${key} is accepted for compatibility with go-mod-proxy and ignored`);
  }
  // Fail closed: what is read with credentials is not served to anyone without an explicit choice.
  const reads = credentialedReads(config);
  if (reads.length > 0 && !config.clientAuth.enabled) {
    if (!config.clientAuth.allowUnauthenticated) throw refuse(openProxyError(reads));
    log.warn(
      'clientAuth.allowUnauthenticated is true: modules read with credentials are served to every client that can reach this proxy; keep its network private',
      { credentialedReads: reads },
    );
  }
  const secrets = deps.secrets ?? createSecretLoader();
  // Outbound requests (git hosts, module proxies, checksum databases) honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as the go command's do.
  const egress = createProxyFetch();
  // Module proxies and checksum databases are read with plain GETs over pooled connections, bodies as Node streams.
  const egressGet = createHttpGet();
  const metrics = new ProxyMetrics();
  const storage = new InstrumentedStorage(deps.storage ?? storageFromConfig(config), metrics);
  // Fail closed: a parent proxy is used only with something that verifies what it sends.
  const sumDatabase = config.publicModules?.sumDatabase;
  // One client per database: the verifier and the /sumdb/ proxy share its tree head and tiles.
  const sumdbClients = new Map<string, SumdbClient>();
  if (sumDatabase) sumdbClients.set(sumDatabase.name, sumDatabaseClient(sumDatabase, storage, 'publicModules.sumDatabase', metrics, egressGet));
  const databases = proxiedDatabases(config, storage, sumdbClients, metrics, egressGet);
  const sumdbAnswers = new ChildCache(([db, kind, from]) => metrics.sumdbAnswers.labels(db, kind, from));
  const sumdb = databases.size > 0 || config.sumDatabaseProxy
    ? new SumdbProxy({ databases, storage, log, discourageDirect: config.sumDatabaseProxy?.discourageClientDirectSumDatabaseConnections ?? false, now: deps.now,
        isPrivate: (modPath) => isPrivatePath(config.privateModules, modPath),
        onAnswer: (db, kind, from) => sumdbAnswers.get(db, kind, from).inc(),
      })
    : undefined;
  // The lookup that verified a public module is the one its client asks /sumdb/ for next: keep it meanwhile.
  const keepLookup = sumdb && sumDatabase ? (l: SumdbLookup) => sumdb.keepLookup(sumDatabase.name, l) : undefined;
  const verifier = deps.verifier ?? (sumDatabase ? new SumdbVerifier(sumdbClients.get(sumDatabase.name)!, keepLookup) : undefined);
  if (config.parentProxy && !verifier) throw refuse(NO_VERIFIER_ERROR);
  const http =
    deps.http ??
    createGitHttpClient({
      fetch: egress,
      idleTimeoutMs: config.resolve.gitIdleTimeoutSeconds * 1000,
      deadlineMs: config.resolve.gitDeadlineSeconds * 1000,
      maxResponseBytes: config.resolve.gitMaxPackBytes,
      onBytes: (n) => metrics.gitBytes.inc(n),
    });
  // Every configured app, used or not, so that each key is checked at start-up.
  const hasApps = config.gitHub.some((h) => h.gitHubApps.length > 0);
  const credentials: GitCredentials | undefined = deps.credentials ?? (hasApps ? new GitHubAppCredentials({ config, secrets, log }) : undefined);
  if (config.clientAuth.enabled && config.clientAuth.acl.length === 0) log.warn('clientAuth is enabled with an empty acl: every request will be denied');
  const hostCredentials = new HostCredentials(config.gitHosts, secrets);
  // Paths no static rule covers are found as the go command finds them (docs/go-rules/discovery.md).
  const discovery = new ImportPathDiscovery({
    get: createHttpsGet({
      timeoutMs: config.resolve.discoveryTimeoutSeconds * 1000,
      maxBodyBytes: 1 << 20,
      headersFor: (u) => hostCredentials.headersFor(u),
      tls: config.tls?.minVersion ? { minVersion: config.tls.minVersion } : undefined,
    }),
    ttlMs: config.resolve.discoveryCacheSeconds * 1000,
    now: deps.now,
  });
  // A go-import "mod" root is read as the go command reads it: from the module proxy it names.
  // Zips from a parent or a go-import "mod" proxy are checked in slices that wait while requests are answered.
  const foreground = new Foreground();
  const checkZip: ZipChecker = (file, modPath, version, limits) => checkModuleZipFile(file, modPath, version, { ...limits, turn: foreground.turn });
  const modRoots = new ModRootSources({ credentials: hostCredentials, get: egressGet, tmpDir: deps.tmpDir ? path.join(deps.tmpDir, 'modroots') : undefined, checkZip });
  const git = new GitSources(config, http, credentials, deps.now, discovery, hostCredentials, modRoots);
  const parent =
    config.parentProxy && verifier
      ? new ParentProxy({
          url: config.parentProxy.url,
          verifier,
          authorization: parentAuthorization(config.parentProxy.auth, secrets),
          timeoutMs: config.parentProxy.timeoutSeconds * 1000,
          zipTimeoutMs: config.parentProxy.zipTimeoutSeconds * 1000,
          tmpDir: deps.tmpDir ? path.join(deps.tmpDir, 'parent') : undefined,
          onBytes: (n) => metrics.parentBytes.inc(n),
          get: egressGet,
          checkZip,
        })
      : undefined;
  const router = new PrivateModulesRouter(
    config.privateModules,
    (modPath, rule) => git.open(modPath, rule),
    parent ? (modPath) => parent.open(modPath) : undefined,
  );
  const sources = deps.sources ? deps.sources({ router, databaseVerifier: verifier }) : router;
  const coord = config.coordination;
  const useLeases = coord.leases ?? config.storage.gcs !== undefined;
  const service = new ModuleService({
    storage,
    sources,
    log,
    tmpDir: deps.tmpDir,
    commitHook: deps.commitHook,
    leases: useLeases
      ? new Leases(storage, {
          ttlMs: coord.leaseTtlSeconds * 1000,
          maxWaitMs: coord.leaseMaxWaitSeconds * 1000,
          onWait: (step, result, seconds) => {
            metrics.leaseWaits.inc({ step, result });
            metrics.leaseWaitDuration.observe({ step }, seconds);
          },
        })
      : undefined,
    negativeCacheMs: coord.negativeCacheSeconds * 1000,
    cache: { memoryBytes: config.cache.memoryBytes, maxZipBytes: zipsHeldUpTo(config, storage) },
    offline: config.offline,
    onBuild: (step, result, seconds) => {
      metrics.builds.inc({ step, result });
      metrics.buildDuration.observe({ step }, seconds);
    },
    now: deps.now,
  });
  metrics.watchMemoryCache(() => service.cacheStats());
  const cm = config.metrics.cloudMonitoring;
  let exporter: CloudMonitoringExporter | undefined;
  if (cm.enabled) {
    exporter = new CloudMonitoringExporter({
      registry: metrics.registry,
      credentials: deps.monitoringCredentials ?? monitoringCredentials(),
      log,
      projectId: cm.projectId,
      location: cm.location ?? (() => metadataRegion()),
      intervalMs: cm.intervalSeconds * 1000,
      endpoint: cm.apiEndpoint,
    });
    exporter.start();
  }
  const clientAuth = config.clientAuth.enabled ? ClientAuth.create(config.clientAuth, { secrets, log, gceCertsUrl: deps.gceCertsUrl, now: deps.now }) : undefined;
  // Surface a failure at ready(); requests also wait for (and fail with) it.
  clientAuth?.catch(() => {});
  const readiness = createReadiness({ storage, ready: () => appReady(), writeProbe: config.readiness.writeProbe, log, now: deps.now });
  const ops = {
    readiness,
    index: createIndex({ storage }),
    metrics: async () => {
      const m = await metrics.scrape();
      return { status: 200, headers: { 'content-type': m.contentType, 'cache-control': 'no-store' }, body: m.body };
    },
  };
  const observe = (route: string, status: number, outcome: Outcome, seconds: number) => metrics.observeRequest(route, status, outcome, seconds);
  const serve = createHandler({ service, sumdb, log, publicCache: !config.clientAuth.enabled, zipRedirect: config.zipRedirect, clientAuth, ops, observe, foreground,
    logHits: { mode: config.logging.hits, sampleRate: config.logging.hitSampleRate },
  });
  // Every request's storage calls share one time budget (GCS retries each call on its own).
  const budgetMs = (config.storage.gcs?.requestBudgetSeconds ?? 0) * 1000;
  // A hit held in memory makes no storage call: it is answered outside the budget's async context.
  const handler: RequestHandler = budgetMs > 0 ? (req, res) => (serve.answerNow(req, res) ? undefined : withStorageBudget(budgetMs, () => serve.answerLater(req, res))) : serve;
  // Secrets are read and checked once; a fault is logged once, as one line naming its key.
  let ready: Promise<void> | undefined;
  const appReady = () =>
    (ready ??= (async () => {
      try {
        await checkSecrets(config, secrets, credentials);
        await clientAuth;
      } catch (err) {
        throw refuse((err as Error).message);
      }
    })());
  const shutdown = async () => {
    await exporter?.shutdown().catch(() => {});
  };
  return { config, handler, answerNow: serve.answerNow, service, log, ready: appReady, shutdown };
}

/**
 * Why modproxy cannot start, as the error to throw: the entry points log it as
 * their one ERROR line (functions/start.ts), so it is not logged here too.
 */
function refuse(message: string): Error {
  return new Error(message);
}
