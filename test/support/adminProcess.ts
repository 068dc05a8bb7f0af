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

export function runAdminProcess(configYaml: string, args: string[], env: Record<string, string> = {}): Promise<AdminRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.resolve('lib/cli/modproxyAdminBin.ts'), ...args],
      { env: { ...process.env, MODPROXY_CONFIG: configYaml, ...env }, timeout: 120_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error ? error.code : 0;
        if (typeof code !== 'number') return reject(new Error(`modproxy-admin ${args.join(' ')}: ${error?.message}\n${stderr}`));
        const lines = (s: string) => s.split('\n').filter((l) => l !== '');
        resolve({ code, out: lines(stdout), err: lines(stderr) });
      },
    );
  });
}
