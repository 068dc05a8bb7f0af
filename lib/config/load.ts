// Loading the configuration: YAML from a file or an environment variable,
// validated with zod, with errors that name the offending key.
import fs from 'node:fs';
import YAML from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The embedded default: local-disk storage; every module from
 * proxy.golang.org, verified against sum.golang.org (the go command's own
 * key) before it is stored; sum.golang.org proxied under /sumdb/, so that
 * GOPROXY=<modproxy> alone is a complete, verified setup.
 */
export const DEFAULT_CONFIG_YAML = `
storage:
  fs:
    dir: .modproxy-data
gitHub:
  - host: github.com
privateModules: []
parentProxy:
  url: https://proxy.golang.org
publicModules:
  sumDatabase:
    name: sum.golang.org
    url: https://sum.golang.org
sumDatabaseProxy:
  sumDatabases:
    - name: sum.golang.org
      url: https://sum.golang.org
`;

function formatIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const where = i.path.length > 0 ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(top level)';
      if (i.code === 'unrecognized_keys') {
        const keys = (i as { keys: string[] }).keys;
        return keys.map((k) => `${where === '(top level)' ? '' : where + '.'}${k}: unknown key`).join('\n');
      }
      return `${where}: ${i.message}`;
    })
    .join('\n');
}

/** Parses and validates YAML text. `source` names it in error messages. */
export function parseConfig(text: string, source = 'config'): Config {
  let data: unknown;
  try {
    data = YAML.parse(text, { merge: true }) ?? {};
  } catch (err) {
    throw new ConfigError(`${source}: invalid YAML: ${(err as Error).message}`);
  }
  const result = configSchema.safeParse(data);
  if (!result.success) throw new ConfigError(`${source}: invalid configuration:\n${formatIssues(result.error.issues)}`);
  const config = result.data;
  config.privateModules.forEach((m, i) => {
    const appId = m.auth?.gitHubApp;
    if (appId === undefined) return;
    // The app must be configured on the host the prefix is on: tokens never cross hosts.
    const host = m.pathPrefix.split('/')[0];
    const hostConfig = config.gitHub.find((h) => h.host === host);
    if (!hostConfig?.gitHubApps.some((a) => a.id === appId)) {
      throw new ConfigError(`${source}: invalid configuration:\nprivateModules[${i}].auth.gitHubApp: no gitHub[].gitHubApps[] entry for host ${host} has id ${appId}`);
    }
  });
  const hosts = new Set<string>();
  config.gitHub.forEach((h, i) => {
    if (hosts.has(h.host)) throw new ConfigError(`${source}: invalid configuration:\ngitHub[${i}].host: duplicate host ${h.host}`);
    hosts.add(h.host);
  });
  return config;
}

/**
 * The configuration for this process: $MODPROXY_CONFIG names a YAML file (or,
 * on Cloud Run, holds the YAML itself when it does not name a file); unset
 * means the embedded default.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): { config: Config; source: string } {
  const value = env.MODPROXY_CONFIG;
  if (!value) return { config: parseConfig(DEFAULT_CONFIG_YAML, 'embedded default'), source: 'embedded default' };
  const looksLikeYaml = value.includes('\n') || value.includes(': ');
  if (!looksLikeYaml) {
    let text: string;
    try {
      text = fs.readFileSync(value, 'utf8');
    } catch (err) {
      throw new ConfigError(`MODPROXY_CONFIG=${value}: cannot read file: ${(err as Error).message}`);
    }
    return { config: parseConfig(text, value), source: value };
  }
  return { config: parseConfig(value, 'MODPROXY_CONFIG'), source: 'MODPROXY_CONFIG (inline YAML)' };
}
