// The configuration file (YAML), validated with zod.
//
// Keys follow the seed project go-mod-proxy wherever it has them, so its users
// can bring their files. Ours add storage.fs.dir, gitHub[].gitBaseUrl and
// gitHub[].apiBaseUrl. Seed keys that make no sense without a go binary
// (maxChildProcesses) or on Cloud Run (tls, httpProxy) are accepted and
// reported as ignored rather than rejected.
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
    name: z.string().min(1).regex(/^[^:\s]+$/, 'must not contain ":" or spaces (it is sent as the Basic user name)'),
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

const sumDatabase = z.strictObject({
  name: z.string().min(1),
  publicKey: z.string().min(1).optional(),
  url: httpUrl,
});

export const configSchema = z.strictObject({
  storage: z
    .strictObject({
      fs: z.strictObject({ dir: z.string().min(1) }).optional(),
      gcs: z
        .strictObject({
          bucket: z.string().min(3),
          /** Another JSON API endpoint (a private endpoint, or a test double); credentials come from ADC. */
          apiEndpoint: httpUrl.optional(),
          /** A prefix for every object name ("team-a/"), to share a bucket. */
          prefix: z
            .string()
            .regex(/^([A-Za-z0-9._-]+\/)*$/, 'must be empty or path elements each followed by "/"')
            .optional(),
        })
        .optional(),
    })
    .refine((s) => (s.fs ? 1 : 0) + (s.gcs ? 1 : 0) === 1, { message: 'exactly one of storage.fs or storage.gcs must be set' })
    .default({ fs: { dir: '.modproxy-data' } }),
  gitHub: z.array(gitHubHost).default([{ host: 'github.com', gitHubApps: [] }]),
  privateModules: z.array(privateModule).default([]),
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
      /** Failed authentications allowed per client address and window, then 429. */
      failureLimit: z
        .strictObject({ maxFailures: z.number().int().positive().default(10), windowSeconds: z.number().int().positive().default(60) })
        .default({ maxFailures: 10, windowSeconds: 60 }),
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
      realm: 'modproxy',
      denyStatus: 403,
      anonymousSumdb: false,
      identities: [],
      authenticators: {},
      acl: [],
      failureLimit: { maxFailures: 10, windowSeconds: 60 },
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
  /** How resolution behaves; all optional. */
  resolve: z
    .strictObject({
      /** Directory for git object stores (default: <os tmpdir>/modproxy-git). */
      gitWorkDir: z.string().min(1).optional(),
      /** Idle timeout for git HTTP requests. */
      gitIdleTimeoutSeconds: z.number().positive().default(60),
      /** Most bytes of one file a zip build holds in memory (converted by .gitattributes, or stored as a delta); 256 MiB. */
      maxBuildMemoryBytes: z.number().int().positive().default(268435456),
    })
    .default({ gitIdleTimeoutSeconds: 60, maxBuildMemoryBytes: 268435456 }),
  // Seed keys accepted for compatibility, unused here.
  maxChildProcesses: z.number().int().positive().optional(),
  httpProxy: z.record(z.string(), z.unknown()).optional(),
  tls: z.record(z.string(), z.unknown()).optional(),
});

export type Config = z.infer<typeof configSchema>;
export type GitHubHostConfig = z.infer<typeof gitHubHost>;
export type PrivateModuleConfig = z.infer<typeof privateModule>;
