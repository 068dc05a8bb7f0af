// The configuration file (YAML), validated with zod.
//
// Keys follow the seed project go-mod-proxy wherever it has them, so its users
// can bring their files. Ours add storage.fs.dir, gitHub[].gitBaseUrl and
// gitHub[].apiBaseUrl, tls.certFile/keyFile/cert/key. Seed keys that make no
// sense without a go binary (maxChildProcesses) or on Cloud Run (httpProxy)
// are accepted and reported as ignored rather than rejected.
import { z } from 'zod';

/** A secret taken from a file, an environment variable or Secret Manager: exactly one. */
export const secretSource = z
  .strictObject({
    file: z.string().min(1).optional(),
    envVar: z.string().min(1).optional(),
    secret: z
      .string()
      .regex(/^projects\/[^/]+\/secrets\/[^/]+\/versions\/[^/]+$/, 'must look like projects/<p>/secrets/<s>/versions/<v>')
      .optional(),
  })
  .refine((s) => [s.file, s.envVar, s.secret].filter((x) => x !== undefined).length === 1, {
    message: 'exactly one of file, envVar or secret must be set',
  });

const httpUrl = z.url({ protocol: /^https?$/ });

/** A secret given inline (seed style) or as a source. */
const secretValue = z.union([z.string().min(1), z.lazy(() => secretSource)]);

/** Go duration syntax: a sequence of decimal numbers with units h, m, s, ms. */
const duration = z.string().regex(/^(\d+(\.\d+)?(h|m|s|ms))+$/, 'must be a duration such as 15m or 1h30m');

const identity = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .regex(/^[^:\s]+$/, 'must not contain ":" or spaces (it is sent as the Basic user name)')
      .refine((n) => Buffer.byteLength(n) <= 256 && !/[\u0000-\u001f\u007f-\u009f]/.test(n), 'must be at most 256 bytes, without control characters'),
    /** Plaintext (accepted, with a warning at start-up): prefer passwordHash. */
    password: secretValue.optional(),
    /** scrypt hash from `modproxy-auth hash-password`. */
    passwordHash: secretValue.optional(),
    gceInstanceIdentityBinding: z.strictObject({ email: z.email() }).optional(),
  })
  .refine((i) => !(i.password !== undefined && i.passwordHash !== undefined), { message: 'set password or passwordHash, not both' });

const aclEntry = z.strictObject({
  identities: z.array(z.string().min(1)).optional(),
  moduleRegexp: z
    .string()
    .refine((r) => {
      try {
        new RegExp(r, 'u');
        return true;
      } catch {
        return false;
      }
    }, 'not a valid regular expression')
    .optional(),
  access: z.enum(['allow', 'deny']),
});

export const gitHubApp = z.strictObject({
  id: z.number().int().positive(),
  privateKey: secretSource,
});

export const gitHubHost = z.strictObject({
  host: z
    .string()
    .regex(/^[a-z0-9.-]+(:[0-9]+)?$/, 'must be a lower-case host name such as github.com'),
  /** Where git smart HTTP is served; default https://<host>. */
  gitBaseUrl: httpUrl.optional(),
  /** The REST API; default https://api.github.com for github.com, https://<host>/api/v3 otherwise. */
  apiBaseUrl: httpUrl.optional(),
  gitHubApps: z.array(gitHubApp).default([]),
});

export const privateModule = z.strictObject({
  pathPrefix: z.string().min(1),
  auth: z
    .strictObject({
      gitHubApp: z.number().int().positive().optional(),
    })
    .optional(),
});

/**
 * Credentials for a git host other than a GitHub App: HTTP Basic (a user name
 * and a token or app password) or a bearer token. Sent to https://<host> only,
 * for URLs under pathPrefix, on discovery pages and git smart HTTP alike.
 */
export const gitHostCredentials = z.strictObject({
  host: z.string().regex(/^[a-z0-9.-]+(:[0-9]+)?$/, 'must be a lower-case host name such as gitlab.example.com'),
  /** A URL path prefix on the host, element-wise ("group/sub"); default: the whole host. */
  pathPrefix: z
    .string()
    .regex(/^[^/]+(\/[^/]+)*\/?$/, 'must be path elements without a leading "/", such as group/sub')
    .optional(),
  auth: z
    .strictObject({
      basic: z
        .strictObject({
          username: z.string().min(1).regex(/^[^:]*$/, 'must not contain ":"'),
          password: secretValue,
        })
        .optional(),
      bearer: secretValue.optional(),
    })
    .refine((a) => (a.basic ? 1 : 0) + (a.bearer ? 1 : 0) === 1, { message: 'set exactly one of basic or bearer' }),
});

const sumDatabase = z.strictObject({
  name: z.string().min(1),
  publicKey: z.string().min(1).optional(),
  url: httpUrl,
});

/** The seed's TLS version names (TLS1.0 … TLS1.3, any case), or just 1.2 / 1.3 (YAML reads those as numbers); as Node names them. */
const tlsVersion = z
  .preprocess((v) => (typeof v === 'number' ? v.toFixed(1) : v), z.string())
  .refine((v) => /^(tls)?1\.[0-3]$/i.test(v), 'must be one of TLS1.0, TLS1.1, TLS1.2, TLS1.3 (or 1.2, 1.3)')
  .transform((v) => {
    const minor = v.slice(-1);
    return (minor === '0' ? 'TLSv1' : `TLSv1.${minor}`) as 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  });

/**
 * TLS. The seed's one key, minVersion, is the lowest version for modproxy's
 * own outgoing connections (git hosts, parent proxy, checksum database, GCS)
 * and, here, also for the HTTPS listener. A certificate and its key (each a
 * file path, or a secret source) make the modproxy server entry listen with
 * HTTPS instead of HTTP.
 */
const tlsConfig = z
  .strictObject({
    minVersion: tlsVersion.optional(),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    cert: secretSource.optional(),
    key: secretSource.optional(),
  })
  .superRefine((t, ctx) => {
    if (t.certFile !== undefined && t.cert !== undefined) ctx.addIssue({ code: 'custom', path: ['cert'], message: 'set certFile or cert, not both' });
    if (t.keyFile !== undefined && t.key !== undefined) ctx.addIssue({ code: 'custom', path: ['key'], message: 'set keyFile or key, not both' });
    const hasCert = t.certFile !== undefined || t.cert !== undefined;
    const hasKey = t.keyFile !== undefined || t.key !== undefined;
    if (hasCert && !hasKey) ctx.addIssue({ code: 'custom', path: ['keyFile'], message: 'a private key (keyFile or key) is required with the certificate' });
    if (hasKey && !hasCert) ctx.addIssue({ code: 'custom', path: ['certFile'], message: 'a certificate (certFile or cert) is required with the private key' });
  });

export type TlsConfig = z.infer<typeof tlsConfig>;

export const configSchema = z.strictObject({
  storage: z
    .strictObject({
      fs: z.strictObject({ dir: z.string().min(1) }).optional(),
      gcs: z
        .strictObject({
          bucket: z.string().min(3),
          /** Another JSON API endpoint (a private or regional endpoint, an emulator); credentials come from ADC. */
          apiEndpoint: httpUrl.optional(),
          /** Send no credentials to apiEndpoint (an emulator such as fake-gcs-server). */
          anonymous: z.boolean().default(false),
          /**
           * The storage time one request may spend, all its storage calls and
           * their retries together; then the client gets a 503 (0: no bound).
           */
          requestBudgetSeconds: z.number().nonnegative().default(20),
          /** A prefix for every object name ("team-a/"), to share a bucket. */
          prefix: z
            .string()
            .regex(/^([A-Za-z0-9._-]+\/)*$/, 'must be empty or path elements each followed by "/"')
            .optional(),
        })
        .refine((g) => !g.anonymous || g.apiEndpoint !== undefined, { path: ['anonymous'], message: 'only with apiEndpoint (Google Cloud Storage itself needs credentials)' })
        .optional(),
    })
    .refine((s) => (s.fs ? 1 : 0) + (s.gcs ? 1 : 0) === 1, { message: 'exactly one of storage.fs or storage.gcs must be set' })
    .default({ fs: { dir: '.modproxy-data' } }),
  gitHub: z.array(gitHubHost).default([{ host: 'github.com', gitHubApps: [] }]),
  privateModules: z.array(privateModule).default([]),
  /** Basic or bearer credentials per git host (and path prefix), for hosts found by the static rules or by discovery. */
  gitHosts: z.array(gitHostCredentials).default([]),
  /** Where public modules (outside every privateModules prefix) come from; see docs/public-modules.md. */
  parentProxy: z
    .strictObject({
      url: httpUrl,
      /** Credentials for the parent, sent only to its own origin: Basic (username + password) or a bearer token. */
      auth: z
        .strictObject({
          username: z.string().min(1).regex(/^[^:]*$/, 'must not contain ":"').optional(),
          password: secretValue.optional(),
          bearerToken: secretValue.optional(),
        })
        .refine((a) => (a.bearerToken !== undefined ? a.username === undefined && a.password === undefined : a.username !== undefined && a.password !== undefined), {
          message: 'set username and password (Basic), or bearerToken',
        })
        .optional(),
      /** Total deadline of a list, .info or .mod request. */
      timeoutSeconds: z.number().positive().default(30),
      /** Total deadline of a zip download. */
      zipTimeoutSeconds: z.number().positive().default(600),
    })
    .optional(),
  publicModules: z
    .strictObject({
      sumDatabase: sumDatabase.optional(),
    })
    .optional(),
  sumDatabaseProxy: z
    .strictObject({
      discourageClientDirectSumDatabaseConnections: z.boolean().default(false),
      sumDatabases: z.array(sumDatabase).default([]),
    })
    .optional(),
  clientAuth: z
    .strictObject({
      enabled: z.boolean().default(false),
      /**
       * Serve modules read with credentials (a GitHub App, parent proxy
       * credentials) without clientAuth: only for a network private by other
       * means. Without it such a configuration refuses to start.
       */
      allowUnauthenticated: z.boolean().default(false),
      /** Shown in WWW-Authenticate. */
      realm: z.string().min(1).default('modproxy'),
      /** Status for authenticated but denied requests: 403 stops a GOPROXY list there; 404 hides existence. */
      denyStatus: z.union([z.literal(403), z.literal(404)]).default(403),
      /** Let unauthenticated clients use /sumdb/ (when it is proxied). */
      anonymousSumdb: z.boolean().default(false),
      identities: z.array(identity).default([]),
      authenticators: z
        .strictObject({
          accessToken: z
            .strictObject({
              audience: z.string().min(1),
              secret: secretValue,
              /** A Go-style duration such as 15m or 1h30m. */
              timeToLive: duration.default('15m'),
            })
            .optional(),
          gceInstanceIdentity: z.strictObject({ audience: z.string().min(1) }).optional(),
        })
        .default({}),
      acl: z.array(aclEntry).default([]),
      /**
       * How many proxies in front of modproxy append to X-Forwarded-For: the client is the entry that many from the
       * right; 0 ignores the header (the socket's peer is the client). Default: 1 on Cloud Run / Cloud Functions
       * (K_SERVICE is set), else 0 — resolved in lib/auth/clientAddress.ts.
       */
      trustedProxyHops: z.number().int().min(0).max(16).optional(),
      /** Failed authentications: budgets per (identity, address), identity and address, then exponential backoff (429). */
      failureLimit: z
        .strictObject({
          /** Per (identity, client address). */
          maxFailures: z.number().int().positive().default(10),
          /** Failures are forgotten after this long without one, counted from the end of the backoff. */
          windowSeconds: z.number().int().positive().default(60),
          /** Per identity over all addresses; default 10 × maxFailures. */
          maxFailuresPerIdentity: z.number().int().positive().optional(),
          /** Per client address over all identities (and bearer tokens, malformed credentials); default 5 × maxFailures. */
          maxFailuresPerAddress: z.number().int().positive().optional(),
          backoffInitialSeconds: z.number().positive().default(1),
          backoffMaxSeconds: z.number().positive().default(300),
          /** Keys (identities, addresses, pairs) tracked at most: about 220 bytes each. */
          maxTrackedKeys: z.number().int().min(100).default(100_000),
        })
        .refine((f) => f.backoffMaxSeconds >= f.backoffInitialSeconds, { path: ['backoffMaxSeconds'], message: 'must be at least backoffInitialSeconds' })
        .default({ maxFailures: 10, windowSeconds: 60, backoffInitialSeconds: 1, backoffMaxSeconds: 300, maxTrackedKeys: 100_000 }),
    })
    .superRefine((c, ctx) => {
      const names = new Set<string>();
      c.identities.forEach((id, i) => {
        if (names.has(id.name)) ctx.addIssue({ code: 'custom', path: ['identities', i, 'name'], message: `duplicate identity ${id.name}` });
        names.add(id.name);
      });
      c.acl.forEach((e, i) =>
        e.identities?.forEach((n, j) => {
          if (!names.has(n)) ctx.addIssue({ code: 'custom', path: ['acl', i, 'identities', j], message: `no identity named ${n}` });
        }),
      );
      if (c.identities.some((id) => id.gceInstanceIdentityBinding) && !c.authenticators.gceInstanceIdentity) {
        ctx.addIssue({ code: 'custom', path: ['authenticators', 'gceInstanceIdentity'], message: 'required when an identity has a gceInstanceIdentityBinding' });
      }
    })
    .default({
      enabled: false,
      allowUnauthenticated: false,
      realm: 'modproxy',
      denyStatus: 403,
      anonymousSumdb: false,
      identities: [],
      authenticators: {},
      acl: [],
      failureLimit: { maxFailures: 10, windowSeconds: 60, backoffInitialSeconds: 1, backoffMaxSeconds: 300, maxTrackedKeys: 100_000 },
    }),
  /**
   * Large zips are answered with a redirect to a short-lived signed URL of the
   * stored object (a Cloud Functions response is capped at 32 MB). Only for
   * storage that can sign URLs (GCS).
   */
  zipRedirect: z
    .strictObject({
      mode: z.enum(['auto', 'always', 'never']).default('auto'),
      /** In auto mode, redirect zips of at least this many bytes. */
      thresholdBytes: z.number().int().nonnegative().default(8 << 20),
      /** Lifetime of the signed URL. */
      urlTtlSeconds: z.number().int().min(60).max(604800).default(900),
    })
    .default({ mode: 'auto', thresholdBytes: 8 << 20, urlTtlSeconds: 900 }),
  /**
   * Serve only what storage holds: no git host, parent proxy or GitHub API is
   * asked; anything not stored is "not found" (so the go command may try the
   * next GOPROXY entry).
   */
  offline: z.boolean().default(false),
  /** /readyz: what it checks beyond a storage read and the configuration secrets. */
  readiness: z
    .strictObject({
      /** Create a small object under probes/ (at most one per replica and minute) to show storage takes writes. */
      writeProbe: z.boolean().default(true),
    })
    .default({ writeProbe: true }),
  /** Cross-replica coordination and caching. */
  coordination: z
    .strictObject({
      /**
       * Take a lease in storage before building a version, so cold replicas do
       * not all fetch the same repository. Default: on for GCS, off for local disk.
       */
      leases: z.boolean().optional(),
      leaseTtlSeconds: z.number().int().positive().default(120),
      /** How long a replica waits for another's lease before doing the work itself. */
      leaseMaxWaitSeconds: z.number().int().nonnegative().default(15),
      /** How long "not found" answers are remembered. */
      negativeCacheSeconds: z.number().int().nonnegative().default(30),
    })
    .default({ leaseTtlSeconds: 120, leaseMaxWaitSeconds: 15, negativeCacheSeconds: 30 }),
  /**
   * In-memory cache of immutable artifacts (records of committed versions,
   * canonical .info, .mod, small zips), so a hit reads no storage.
   */
  cache: z
    .strictObject({
      /** Bytes held in memory, all entries together (0 disables). Sized for a 512 MiB instance. */
      memoryBytes: z.number().int().nonnegative().default(64 << 20),
      /** Zips up to this size are held in memory; larger ones stream from storage (or redirect). */
      maxZipBytes: z.number().int().nonnegative().default(4 << 20),
    })
    .default({ memoryBytes: 64 << 20, maxZipBytes: 4 << 20 }),
  /** Metrics beyond the /metrics scrape endpoint. */
  metrics: z
    .strictObject({
      /**
       * Push the /metrics registry to Cloud Monitoring (custom.googleapis.com/modproxy/…)
       * every intervalSeconds, with Application Default Credentials
       * (roles/monitoring.metricWriter). Off by default.
       */
      cloudMonitoring: z
        .strictObject({
          enabled: z.boolean().default(false),
          /** The project written to (default: that of the credentials). */
          projectId: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^\d+$/, 'must be a project id or number').optional(),
          /** The API accepts one point per series every 5 s at most. */
          intervalSeconds: z.number().int().min(5).max(3600).default(60),
          /** The generic_task location label (default: the instance's region from the metadata server, else "global"). */
          location: z.string().regex(/^[a-z0-9-]{1,63}$/, 'must be a region or zone name such as us-central1').optional(),
          /** Another endpoint for the Monitoring API (a private endpoint, or a test double). */
          apiEndpoint: httpUrl.optional(),
        })
        .default({ enabled: false, intervalSeconds: 60 }),
    })
    .default({ cloudMonitoring: { enabled: false, intervalSeconds: 60 } }),
  /** Request logging. */
  logging: z
    .strictObject({
      /**
       * Request log lines of successful answers (status below 400): all, a
       * sample (hitSampleRate), or none (when Cloud Run's own request log is
       * enough). Failures (4xx/5xx) and every other line are always logged.
       */
      hits: z.enum(['all', 'sample', 'none']).default('all'),
      /** With hits: sample, the fraction of hit lines written (0..1). */
      hitSampleRate: z.number().min(0).max(1).default(0.01),
    })
    .default({ hits: 'all', hitSampleRate: 0.01 }),
  /** How resolution behaves; all optional. */
  resolve: z
    .strictObject({
      /** Directory for git object stores (default: <os tmpdir>/modproxy-git). */
      gitWorkDir: z.string().min(1).optional(),
      /** Idle timeout for git HTTP requests. */
      gitIdleTimeoutSeconds: z.number().positive().default(60),
      /**
       * Total time for one git HTTP request (its retries included), however
       * the host sends: past it the request fails with 504.
       */
      gitDeadlineSeconds: z.number().positive().default(120),
      /**
       * Most bytes one git HTTP response may have (a fetched pack is one
       * response): past it the request fails with 502. On Cloud Run the disk
       * a pack is written to is memory.
       */
      gitMaxPackBytes: z.number().int().positive().default(256 << 20),
      /** How long one listing of a repository's refs answers every request for that repository (0: concurrent requests only). */
      gitRefListingTtlSeconds: z.number().nonnegative().default(5),
      /** Total deadline of one import-path discovery request (?go-get=1), redirects included. */
      discoveryTimeoutSeconds: z.number().positive().default(15),
      /** How long a discovered repository root (or a discovery failure) is remembered. */
      discoveryCacheSeconds: z.number().nonnegative().default(60),
      /** Most bytes of one file a zip build holds in memory (converted by .gitattributes, or stored as a delta); 256 MiB. */
      maxBuildMemoryBytes: z.number().int().positive().default(268435456),
    })
    .default({
      gitIdleTimeoutSeconds: 60,
      gitDeadlineSeconds: 120,
      gitMaxPackBytes: 256 << 20,
      gitRefListingTtlSeconds: 5,
      discoveryTimeoutSeconds: 15,
      discoveryCacheSeconds: 60,
      maxBuildMemoryBytes: 268435456,
    }),
  /** HTTPS for the modproxy server entry, and the lowest TLS version (the seed's key). */
  tls: tlsConfig.optional(),
  // Seed keys accepted for compatibility, unused here.
  maxChildProcesses: z.number().int().positive().optional(),
  httpProxy: z.record(z.string(), z.unknown()).optional(),
});

export type Config = z.infer<typeof configSchema>;
export type GitHubHostConfig = z.infer<typeof gitHubHost>;
export type PrivateModuleConfig = z.infer<typeof privateModule>;
export type GitHostCredentialsConfig = z.infer<typeof gitHostCredentials>;
