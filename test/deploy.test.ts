// Deployment checks that run offline: the Terraform module's least-privilege
// facts (parsed with @cdktf/hcl2json), `terraform fmt -check` where terraform
// is installed, and the gcloud commands deploy/ prints with --dry-run.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../lib/config/load.js';
import { makeFakeGcloud } from './support/fakeGcloud.js';

const pexec = promisify(execFile);
// Loaded through require so that its typings, which pull the DOM lib into the
// whole program (and change what fetch accepts), stay out of the type check.
const { convertFiles } = createRequire(import.meta.url)('@cdktf/hcl2json') as { convertFiles: (dir: string) => Promise<unknown> };

type Block = Record<string, unknown>;
interface Tf {
  resource?: Record<string, Record<string, Block[]>>;
  locals?: Block[];
  variable?: Record<string, Block[]>;
  output?: Record<string, Block[]>;
  module?: Record<string, Block[]>;
  terraform?: Block[];
  data?: Record<string, Record<string, Block[]>>;
}

let tf: Tf;
let example: Tf;
const resources = (type: string): Array<[string, Block]> => Object.entries(tf.resource?.[type] ?? {}).map(([n, blocks]) => [n, blocks[0]]);
const everyResource = (): Array<[string, string, Block]> =>
  Object.entries(tf.resource ?? {}).flatMap(([type, byName]) => Object.entries(byName).map(([n, b]) => [type, n, b[0]] as [string, string, Block]));

beforeAll(async () => {
  tf = (await convertFiles('terraform')) as Tf;
  example = (await convertFiles('terraform/examples/basic')) as Tf;
});

describe('terraform module', () => {
  it('has the standard module files', () => {
    for (const f of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf', 'README.md', 'examples/basic/main.tf']) expect(fs.existsSync(path.join('terraform', f)), f).toBe(true);
    expect(JSON.stringify(tf.terraform)).toContain('hashicorp/google');
  });

  it('is formatted (terraform fmt -check), where terraform is installed', () => {
    const tfBin = spawnSync('terraform', ['version'], { encoding: 'utf8' });
    if (tfBin.status !== 0) {
      console.log('terraform is not installed here: fmt check not run (the structural checks below still run)');
      return;
    }
    const r = spawnSync('terraform', ['fmt', '-check', '-recursive', 'terraform'], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('gives the proxy account a dedicated identity and no project-wide role', () => {
    // The proxy's, and the optional admin account (gc), which exists only when enabled.
    expect(resources('google_service_account').map(([n, b]) => [n, b.count]).sort()).toEqual([
      ['admin', '${local.admin_enabled ? 1 : 0}'],
      ['proxy', undefined],
    ]);
    for (const t of ['google_project_iam_member', 'google_project_iam_binding', 'google_project_iam_policy', 'google_organization_iam_member']) {
      expect(resources(t), t).toHaveLength(0);
    }
  });

  it('makes the bucket append-only for the proxy: create and read, no delete', () => {
    const proxyMembers = resources('google_storage_bucket_iam_member').filter(([n]) => n !== 'admin_object_admin');
    const roles = proxyMembers.map(([, b]) => b.role);
    expect(roles.sort()).toEqual(['roles/storage.objectCreator', 'roles/storage.objectViewer']);
    for (const [, b] of proxyMembers) {
      expect(b.member).toBe('serviceAccount:${google_service_account.proxy.email}');
      expect(b.bucket).toBe('${google_storage_bucket.modules.name}');
    }
    expect(resources('google_storage_bucket_iam_binding')).toHaveLength(0);
    expect(resources('google_storage_bucket_iam_policy')).toHaveLength(0);
  });

  it('never grants admin or object-admin roles anywhere (but objectAdmin on the bucket to the optional admin account)', () => {
    const { admin_object_admin: adminGrant, ...others } = tf.resource!.google_storage_bucket_iam_member;
    expect(adminGrant[0]).toMatchObject({
      count: '${local.admin_enabled ? 1 : 0}',
      bucket: '${google_storage_bucket.modules.name}',
      role: 'roles/storage.objectAdmin',
      member: 'serviceAccount:${google_service_account.admin[0].email}',
    });
    const text = JSON.stringify({ ...tf.resource, google_storage_bucket_iam_member: others });
    for (const bad of ['objectAdmin', 'storage.admin', 'roles/owner', 'roles/editor', 'objectUser', 'secretmanager.admin', 'iam.serviceAccountAdmin']) {
      expect(text.includes(bad), bad).toBe(false);
    }
  });

  it('keeps the bucket private and uniform, and deletes only lease objects by lifecycle', () => {
    const [, bucket] = resources('google_storage_bucket').find(([n]) => n === 'modules')!;
    expect(bucket.uniform_bucket_level_access).toBe(true);
    expect(bucket.public_access_prevention).toBe('enforced');
    expect(bucket.force_destroy).toBe(false);
    const rules = bucket.lifecycle_rule as Array<{ condition: Array<{ matches_prefix: string[] }>; action: Array<{ type: string }> }>;
    expect(rules.map((r) => [r.condition[0].matches_prefix, r.action[0].type])).toEqual([[['leases/'], 'Delete']]);
  });

  it('lets the account sign URLs as itself only', () => {
    const bindings = resources('google_service_account_iam_member');
    expect(bindings).toHaveLength(1);
    const [, b] = bindings[0];
    expect(b.role).toBe('roles/iam.serviceAccountTokenCreator');
    expect(b.service_account_id).toBe('${google_service_account.proxy.name}');
    expect(b.member).toBe('serviceAccount:${google_service_account.proxy.email}');
  });

  it('scopes secret access to each secret it creates, for the proxy account only', () => {
    const accessors = resources('google_secret_manager_secret_iam_member');
    expect(accessors.map(([, b]) => b.secret_id).sort()).toEqual([
      '${each.value.id}', // one per password hash secret (for_each over the secrets)
      '${google_secret_manager_secret.github_app_key[0].id}',
      '${google_secret_manager_secret.token[0].id}',
    ]);
    for (const [, b] of accessors) {
      expect(b.role).toBe('roles/secretmanager.secretAccessor');
      expect(b.member).toBe('serviceAccount:${google_service_account.proxy.email}');
    }
    const [, perHash] = accessors.find(([n]) => n === 'proxy_reads_password_hash')!;
    expect(perHash.for_each).toBe('${google_secret_manager_secret.password_hash}');
    // The only secret version in Terraform is the generated token key: the GitHub App key and the
    // password hashes are added with gcloud, so that they never land in state.
    expect(resources('google_secret_manager_secret_version').map(([n]) => n)).toEqual(['token']);
  });

  it('creates the access-token key from a random resource of at least 32 bytes, and the secrets the example names', () => {
    const [, version] = resources('google_secret_manager_secret_version')[0];
    expect(version.secret).toBe('${google_secret_manager_secret.token[0].id}');
    expect(version.secret_data).toBe('${random_bytes.token[0].base64}');
    const [, random] = resources('random_bytes')[0];
    expect(random.length).toBeGreaterThanOrEqual(32);
    expect(JSON.stringify(tf.terraform)).toContain('hashicorp/random');
    expect(tf.variable?.token_secret_id?.[0].default).toBe('modproxy-token-secret');
    expect(tf.variable?.password_hash_secret_ids?.[0].default).toEqual(['modproxy-ci-password-hash']);
    // The example's configuration reads exactly those secrets.
    const yaml = example.module?.modproxy?.[0].config_yaml as string;
    const named = [...yaml.matchAll(/secrets\/([^/]+)\/versions/g)].map((m) => m[1]).sort();
    expect(named).toEqual(['modproxy-ci-password-hash', 'modproxy-token-secret']);
  });

  it('deploys with clientAuth on: the example enables it, and allUsers may invoke only a configuration that does', () => {
    // The example's configuration, as the module hands it to modproxy (its storage section added).
    const yaml = (example.module?.modproxy?.[0].config_yaml as string).replace(/\$\{var\.project_id\}/g, 'my-project');
    const { config } = loadConfig({ MODPROXY_CONFIG: `storage:\n  gcs:\n    bucket: my-bucket\n${yaml}` });
    expect(config.clientAuth.enabled).toBe(true);
    expect(config.clientAuth.allowUnauthenticated).toBe(false);
    expect(config.clientAuth.authenticators.accessToken?.secret).toEqual({ secret: 'projects/my-project/secrets/modproxy-token-secret/versions/latest' });
    expect(config.clientAuth.identities.map((i) => i.name)).toEqual(['ci']);
    // The module checks, before it grants the invoker role, that allUsers comes with clientAuth.
    const [, inv] = resources('google_cloud_run_v2_service_iam_member')[0];
    const pre = (inv.lifecycle as Array<{ precondition: Array<{ condition: string; error_message: string }> }>)[0].precondition[0];
    expect(pre.condition).toContain('"allUsers"');
    expect(pre.condition).toContain('local.client_auth_enabled');
    expect(pre.error_message).toContain('clientAuth.enabled: true');
    const locals = JSON.stringify(tf.locals);
    expect(locals).toContain('yamldecode(var.config_yaml)');
    expect(locals).toContain('clientAuth.enabled');
  });

  it('documents only configurations with clientAuth on (every config_yaml in README.md and terraform/README.md)', () => {
    const snippets = ['README.md', 'terraform/README.md'].flatMap((f) =>
      [...fs.readFileSync(f, 'utf8').matchAll(/config_yaml = <<-YAML\n([\s\S]*?)\n\s*YAML\n/g)].map((m) => [f, m[1]] as const),
    );
    expect(snippets.length).toBeGreaterThan(0);
    for (const [f, body] of snippets) {
      const indent = /^ */.exec(body)![0].length;
      const yaml = body
        .split('\n')
        .map((l) => l.slice(indent))
        .join('\n');
      const { config } = loadConfig({ MODPROXY_CONFIG: `storage:\n  gcs:\n    bucket: my-bucket\n${yaml}\n` });
      expect(config.clientAuth.enabled, f).toBe(true);
    }
  });

  it('uploads only the build inputs (as .gcloudignore): an allow-list of files, never the whole directory', () => {
    const [, archive] = Object.entries(tf.data?.archive_file ?? {}).map(([n, b]) => [n, b[0]] as [string, Block])[0];
    expect(archive.source_dir).toBeUndefined();
    expect(archive.excludes).toBeUndefined();
    expect(JSON.stringify(archive.dynamic)).toContain('local.source_files');
    const locals = JSON.stringify(tf.locals);
    for (const pattern of ['{package.json,package-lock.json,tsconfig.json,tsconfig.build.json,Procfile}', '{functions,lib}/**/*.ts', '**/*.test.ts']) expect(locals).toContain(pattern);
  });

  it('deploys a 2nd-gen nodejs22 function from an uploaded source zip, or a Cloud Run service', () => {
    const [, fn] = resources('google_cloudfunctions2_function')[0];
    const build = (fn.build_config as Block[])[0];
    expect(build.runtime).toBe('nodejs22');
    expect(build.entry_point).toBe('goproxy');
    expect(JSON.stringify(build.source)).toContain('google_storage_bucket_object.source');
    const svc = (fn.service_config as Block[])[0];
    expect(svc.service_account_email).toBe('${google_service_account.proxy.email}');
    expect(resources('google_cloud_run_v2_service')).toHaveLength(1);
    expect(JSON.stringify(resources('google_cloud_run_v2_service')[0][1])).toContain('google_service_account.proxy.email');
  });

  it('makes invokers a variable, allUsers by default (modproxy authenticates clients itself)', () => {
    expect(tf.variable?.invoker_members?.[0].default).toEqual(['allUsers']);
    const [, inv] = resources('google_cloud_run_v2_service_iam_member')[0];
    expect(inv.role).toBe('roles/run.invoker');
    expect(inv.member).toBe('${each.value}');
  });

  it('outputs the URL and the bucket', () => {
    expect(Object.keys(tf.output ?? {}).sort()).toEqual(['admin_service_account', 'bucket', 'service_account', 'url']);
  });

  it('every resource is one of the expected kinds', () => {
    const kinds = new Set(everyResource().map(([t]) => t));
    expect([...kinds].sort()).toEqual(
      [
        'google_cloud_run_v2_job',
        'google_cloud_run_v2_job_iam_member',
        'google_cloud_run_v2_service',
        'google_cloud_run_v2_service_iam_member',
        'google_cloud_scheduler_job',
        'google_cloudfunctions2_function',
        'google_project_service',
        'google_secret_manager_secret',
        'google_secret_manager_secret_iam_member',
        'google_secret_manager_secret_version',
        'google_service_account',
        'google_service_account_iam_member',
        'google_storage_bucket',
        'google_storage_bucket_iam_member',
        'google_storage_bucket_object',
        'random_bytes',
      ].sort(),
    );
  });

  it('has the admin account and the scheduled gc job off by default, and each only when enabled', () => {
    expect(tf.variable?.admin_account?.[0]).toMatchObject({ type: '${bool}', default: false });
    expect(tf.variable?.gc_schedule?.[0]).toMatchObject({ type: '${string}', default: '' });
    const locals = Object.assign({}, ...(tf.locals ?? [])) as Record<string, unknown>;
    expect(locals.gc_enabled).toBe('${var.gc_schedule != ""}');
    expect(locals.admin_enabled).toBe('${var.admin_account || local.gc_enabled}');
    const gcResources: Array<[string, string]> = [
      ['google_cloud_run_v2_job', 'gc'],
      ['google_cloud_run_v2_job_iam_member', 'admin_runs_gc'],
      ['google_cloud_scheduler_job', 'gc'],
    ];
    for (const [type, name] of gcResources) expect(tf.resource?.[type]?.[name]?.[0]?.count, `${type}.${name}`).toBe('${local.gc_enabled ? 1 : 0}');
    // Every other resource that names the admin account is one of these, or the account and its grant.
    for (const [type, name, b] of everyResource()) {
      if (!JSON.stringify(b).includes('google_service_account.admin')) continue;
      expect([...gcResources, ['google_storage_bucket_iam_member', 'admin_object_admin']], `${type}.${name}`).toContainEqual([type, name]);
    }
    // The job runs gc --delete as the admin account, on the storage section alone; the scheduler may run only it.
    const job = JSON.stringify(tf.resource?.google_cloud_run_v2_job?.gc?.[0]);
    expect(job).toContain('"service_account":"${google_service_account.admin[0].email}"');
    expect(job).toContain('concat([\\"dist/lib/cli/modproxyAdminBin.js\\", \\"gc\\", \\"--delete\\"], var.gc_args)');
    expect(job).toContain('${local.gc_config}');
    expect(job).not.toContain('local.config}');
    const runs = tf.resource?.google_cloud_run_v2_job_iam_member?.admin_runs_gc?.[0];
    expect(runs).toMatchObject({ role: 'roles/run.invoker', name: '${google_cloud_run_v2_job.gc[0].name}', member: 'serviceAccount:${google_service_account.admin[0].email}' });
    const scheduler = JSON.stringify(tf.resource?.google_cloud_scheduler_job?.gc?.[0]);
    expect(scheduler).toContain('/jobs/${google_cloud_run_v2_job.gc[0].name}:run');
    expect(scheduler).toContain('"service_account_email":"${google_service_account.admin[0].email}"');
    // The package ships the file the job runs.
    expect(JSON.parse(fs.readFileSync('package.json', 'utf8')).bin['modproxy-admin']).toBe('dist/lib/cli/modproxyAdminBin.js');
  });

  it('has an example that uses the module', () => {
    const m = example.module?.modproxy?.[0];
    expect(m?.source).toBe('../..');
    expect(typeof m?.config_yaml).toBe('string');
  });
});

describe('deploy scripts', () => {
  const shellWords = (line: string): string[] => {
    const out = spawnSync('bash', ['-c', `for w in ${line}; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' });
    return out.stdout.split('\0').filter(Boolean);
  };

  it('deploy.sh --dry-run prints a gcloud functions deploy command for nodejs22, and writes the config it names', async () => {
    const { stdout } = await pexec('deploy/deploy.sh', ['--project', 'my-proj', '--region', 'europe-west1', '--config', 'deploy/modproxy.example.yaml', '--dry-run']);
    const [command, note] = stdout.trim().split('\n');
    const words = shellWords(command);
    expect(words.slice(0, 4)).toEqual(['gcloud', 'functions', 'deploy', 'modproxy']);
    for (const flag of ['--gen2', '--runtime=nodejs22', '--entry-point=goproxy', '--trigger-http', '--source=.', '--region=europe-west1', '--project=my-proj', '--service-account=modproxy@my-proj.iam.gserviceaccount.com']) {
      expect(words, flag).toContain(flag);
    }
    expect(command).not.toContain('nodejs20');
    expect(note).toContain('dry run: not executed');
    // Every flag is one gcloud functions deploy knows (from its reference page).
    const known = ['--gen2', '--runtime', '--entry-point', '--trigger-http', '--source', '--project', '--region', '--service-account', '--allow-unauthenticated', '--no-allow-unauthenticated', '--env-vars-file', '--set-secrets', '--timeout', '--memory', '--cpu', '--concurrency', '--max-instances'];
    for (const w of words.filter((x) => x.startsWith('--'))) expect(known, w).toContain(w.split('=')[0]);
    // The env-vars file holds the configuration, and it loads.
    const envFile = words.find((w) => w.startsWith('--env-vars-file='))!.split('=')[1];
    const env = YAML.parse(fs.readFileSync(envFile, 'utf8')) as { MODPROXY_CONFIG: string };
    const { config } = loadConfig({ MODPROXY_CONFIG: env.MODPROXY_CONFIG });
    expect(config.storage.gcs?.bucket).toBe('my-project-modproxy');
    expect(config.clientAuth.enabled).toBe(true);
  });

  it('deploy.sh --target run prints a gcloud run deploy command from source', async () => {
    const { stdout } = await pexec('deploy/deploy.sh', ['--project', 'p', '--region', 'us-central1', '--config', 'deploy/modproxy.example.yaml', '--target', 'run', '--dry-run']);
    const words = shellWords(stdout.split('\n')[0]);
    expect(words.slice(0, 4)).toEqual(['gcloud', 'run', 'deploy', 'modproxy']);
    expect(words).toContain('--source=.');
    expect(fs.readFileSync('Procfile', 'utf8')).toContain('node dist/functions/server.js');
  });

  it('deploy.sh refuses to let allUsers call a configuration without clientAuth', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-deploy-'));
    try {
      const open = path.join(tmp, 'open.yaml');
      fs.writeFileSync(open, 'privateModules:\n  - pathPrefix: github.com/my-org\n    auth: {gitHubApp: 1}\n');
      const refused = pexec('deploy/deploy.sh', ['--project', 'p', '--region', 'r', '--config', open, '--name', 'open-test', '--dry-run']);
      await expect(refused).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('does not enable clientAuth') });
      // Behind Google IAM it may: the network is private by other means.
      const { stdout } = await pexec('deploy/deploy.sh', ['--project', 'p', '--region', 'r', '--config', open, '--name', 'open-test', '--no-allow-unauthenticated', '--dry-run']);
      expect(stdout).toContain('--no-allow-unauthenticated');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
      fs.rmSync('deploy/.env.open-test.yaml', { force: true });
    }
  });

  it('deploy.sh refuses incomplete arguments', async () => {
    await expect(pexec('deploy/deploy.sh', ['--project', 'p', '--dry-run'])).rejects.toMatchObject({ code: 2 });
  });

  it('setup.sh --dry-run grants only append-only bucket roles, self-signing and the secret accessor', async () => {
    const { stdout } = await pexec('deploy/setup.sh', ['--project', 'p', '--region', 'europe-west1', '--bucket', 'b', '--dry-run']);
    const roles = [...stdout.matchAll(/--role=(\S+)/g)].map((m) => m[1]);
    expect(roles).toEqual([
      'roles/storage.objectCreator',
      'roles/storage.objectViewer',
      'roles/iam.serviceAccountTokenCreator',
      // the GitHub App key, the ci password hash, the access-token key: each secret on its own
      'roles/secretmanager.secretAccessor',
      'roles/secretmanager.secretAccessor',
      'roles/secretmanager.secretAccessor',
    ]);
    expect([...stdout.matchAll(/secrets add-iam-policy-binding (\S+)/g)].map((m) => m[1])).toEqual(['modproxy-github-app-key', 'modproxy-ci-password-hash', 'modproxy-token-secret']);
    expect(stdout).not.toMatch(/projects add-iam-policy-binding|objectAdmin|storage\.admin/);
    expect(stdout).toContain('--uniform-bucket-level-access --public-access-prevention');
  });

  it('setup.sh --admin-account adds a separate admin account with objectAdmin on the bucket only', async () => {
    const { stdout } = await pexec('deploy/setup.sh', ['--project', 'p', '--region', 'europe-west1', '--bucket', 'b', '--admin-account', '--dry-run']);
    expect(stdout).toContain('gcloud iam service-accounts create modproxy-admin --project=p');
    const deleting = stdout.split('\n').filter((l) => /objectAdmin/.test(l));
    expect(deleting).toEqual(['gcloud storage buckets add-iam-policy-binding gs://b --member=serviceAccount:modproxy-admin@p.iam.gserviceaccount.com --role=roles/storage.objectAdmin ']);
    // The proxy's account keeps create and read only.
    expect(stdout).not.toMatch(/serviceAccount:modproxy@p\.iam\.gserviceaccount\.com --role=roles\/storage\.object(Admin|User)/);
  });

  it('setup.sh creates the secrets modproxy.example.yaml names, and generates the access-token key (never printed)', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-setup-'));
    try {
      const gcloud = makeFakeGcloud(tmp);
      const env = { ...process.env, PATH: `${gcloud.bin}:${process.env.PATH}` };
      const { stdout } = await pexec('deploy/setup.sh', ['--project', 'my-project', '--region', 'europe-west1', '--bucket', 'b'], { env });
      const created = gcloud.calls().filter((c) => c.includes('create'));
      const secrets = created.filter((c) => c[0] === 'secrets').map((c) => c[2]);
      // The names the example configuration reads from Secret Manager.
      const example = fs.readFileSync('deploy/modproxy.example.yaml', 'utf8');
      const named = [...example.matchAll(/secrets\/([^/]+)\/versions/g)].map((m) => m[1]);
      expect(named.sort()).toEqual(['modproxy-ci-password-hash', 'modproxy-token-secret']);
      for (const n of named) expect(secrets).toContain(n);
      expect(example).toContain('envVar: GITHUB_APP_KEY');
      expect(secrets).toContain('modproxy-github-app-key');
      // One generated version of the token key: 48 random bytes in base64, nowhere in the output.
      const [token, ...more] = gcloud.secretVersions('modproxy-token-secret');
      expect(more).toEqual([]);
      expect(Buffer.from(token, 'base64')).toHaveLength(48);
      expect(token).toMatch(/^[A-Za-z0-9+/]{64}$/);
      expect(stdout).not.toContain(token);
      // What only the user can add is said, with the command to add it.
      expect(stdout).toContain('modproxy-auth hash-password');
      expect(gcloud.secretVersions('modproxy-ci-password-hash')).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('setup.sh can be re-run: the second run creates nothing, keeps the token key, and exits 0', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-setup-'));
    try {
      const gcloud = makeFakeGcloud(tmp);
      const env = { ...process.env, PATH: `${gcloud.bin}:${process.env.PATH}` };
      const args = ['--project', 'p', '--region', 'europe-west1', '--bucket', 'b'];
      await pexec('deploy/setup.sh', args, { env });
      const first = gcloud.calls().length;
      const key = gcloud.secretVersions('modproxy-token-secret');
      const { stdout } = await pexec('deploy/setup.sh', args, { env }); // rejects on a non-zero exit
      const again = gcloud.calls().slice(first);
      expect(again.filter((c) => c.includes('create')), 'nothing created twice').toEqual([]);
      expect(again.filter((c) => c.join(' ').startsWith('secrets versions add')), 'no new token key').toEqual([]);
      expect(gcloud.secretVersions('modproxy-token-secret')).toEqual(key);
      expect(stdout).toContain('# exists: service account modproxy@p.iam.gserviceaccount.com');
      expect(stdout).toContain('# exists: bucket gs://b');
      expect(stdout).toContain('# exists: secret modproxy-token-secret');
      // The bindings are applied again (idempotent in IAM): a re-run repairs a removed one.
      expect(again.filter((c) => c.includes('add-iam-policy-binding'))).toHaveLength(6);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('.gcloudignore (what `gcloud ... deploy --source .` uploads)', () => {
  // Files a checkout may hold besides the tracked ones: none of them may leave the machine.
  const NEVER = [
    'my-app.2026-11-24.private-key.pem',
    'lib/stray.pem',
    'my-modproxy.yaml',
    'deploy/my-modproxy.yaml',
    'deploy/.env.modproxy.yaml',
    '.env',
    'functions/.env.local',
    'lib/service-account-key.json',
    'node_modules/x/index.js',
    'dist/functions/index.js',
    '.modproxy-data/versions/x',
    'terraform/examples/basic/terraform.tfstate',
    'coverage/index.html',
  ];
  let tree: string;
  let uploaded: string[];
  const rules = path.resolve('.gcloudignore');

  beforeAll(async () => {
    // A copy of the checkout (tracked files and the extras above) in a fresh repository,
    // where git applies .gcloudignore with gitignore semantics, as gcloud does.
    tree = fs.mkdtempSync(path.join(os.tmpdir(), 'modproxy-gcloudignore-'));
    const tracked = (await pexec('git', ['ls-files', '-z'])).stdout.split('\0').filter(Boolean);
    for (const f of [...tracked, ...NEVER]) {
      fs.mkdirSync(path.join(tree, path.dirname(f)), { recursive: true });
      if (tracked.includes(f) && fs.existsSync(f)) fs.copyFileSync(f, path.join(tree, f));
      else fs.writeFileSync(path.join(tree, f), 'x\n');
    }
    await pexec('git', ['init', '-q'], { cwd: tree });
    uploaded = (await pexec('git', ['ls-files', '--others', `--exclude-from=${rules}`, '-z'], { cwd: tree })).stdout.split('\0').filter(Boolean);
  });

  afterAll(() => {
    if (tree) fs.rmSync(tree, { recursive: true, force: true });
  });

  it('uploads the build inputs: every file `npm run gcp-build` (tsc -p tsconfig.build.json) reads, and npm\u2019s', async () => {
    expect(JSON.parse(fs.readFileSync('package.json', 'utf8')).scripts['gcp-build']).toBe('npm run build');
    expect(JSON.parse(fs.readFileSync('package.json', 'utf8')).scripts.build).toBe('tsc -p tsconfig.build.json');
    const { stdout } = await pexec(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--listFilesOnly'], { maxBuffer: 16 << 20 });
    const read = stdout
      .split('\n')
      .filter((f) => f.trim() !== '' && !f.includes('/node_modules/'))
      .map((f) => path.relative(process.cwd(), f.trim()));
    expect(read).toContain('functions/index.ts');
    for (const f of [...read, 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'Procfile']) expect(uploaded, f).toContain(f);
  });

  it('never uploads keys, configurations, deploy/.env.*, tests, other directories or .git', async () => {
    for (const f of NEVER) expect(uploaded, f).not.toContain(f);
    const allowed = (f: string) => /^(package\.json|package-lock\.json|tsconfig(\.build)?\.json|Procfile)$/.test(f) || /^(functions|lib)\/.+\.ts$/.test(f);
    expect(uploaded.filter((f) => !allowed(f))).toEqual([]);
    expect(uploaded.filter((f) => f.endsWith('.test.ts') || f.startsWith('test/'))).toEqual([]);
    // .git itself (git never lists it, so ask whether the rules ignore it).
    const check = spawnSync('git', ['-c', `core.excludesFile=${rules}`, 'check-ignore', '--no-index', '.git', '.git/config', 'deploy/modproxy.example.yaml'], { cwd: tree, encoding: 'utf8' });
    expect(check.stdout.trim().split('\n')).toEqual(['.git', '.git/config', 'deploy/modproxy.example.yaml']);
  });
});
