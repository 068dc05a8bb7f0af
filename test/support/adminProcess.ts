// Runs the `modproxy-admin` command as its own process (the bin's entry,
// through tsx), with the server's configuration in MODPROXY_CONFIG.
import { execFile } from 'node:child_process';
import path from 'node:path';

export interface AdminRun {
  code: number;
  /** stdout, one entry per non-empty line. */
  out: string[];
  /** stderr, one entry per non-empty line. */
  err: string[];
}

export interface AdminRunOptions {
  /** Start from this process's environment (default); false: only `env` (and MODPROXY_CONFIG). */
  inheritEnv?: boolean;
  timeoutMs?: number;
}

/** The exit code and the output as received. */
export function runAdminProcessRaw(configYaml: string, args: string[], env: Record<string, string> = {}, opts: AdminRunOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.resolve('lib/cli/modproxyAdminBin.ts'), ...args],
      { env: { ...(opts.inheritEnv === false ? {} : process.env), MODPROXY_CONFIG: configYaml, ...env }, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error ? error.code : 0;
        if (typeof code !== 'number') return reject(new Error(`modproxy-admin ${args.join(' ')}: ${error?.message}\n${stderr}`));
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export async function runAdminProcess(configYaml: string, args: string[], env: Record<string, string> = {}, opts: AdminRunOptions = {}): Promise<AdminRun> {
  const r = await runAdminProcessRaw(configYaml, args, env, opts);
  const lines = (s: string) => s.split('\n').filter((l) => l !== '');
  return { code: r.code, out: lines(r.stdout), err: lines(r.stderr) };
}
