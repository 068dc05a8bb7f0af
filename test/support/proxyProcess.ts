// Starts modproxy as a separate Node process (test/support/proxyMain.ts), for
// tests with several replicas, crashes, and benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ProxyProcess {
  url: string;
  child: ChildProcess;
  /** stderr (structured logs), as received so far. */
  output(): string;
  /** Peak resident set size so far (VmHWM), bytes. */
  peakRss(): number;
  /** Resolves with the exit code or signal name. */
  exited: Promise<number | string | null>;
  stop(): Promise<void>;
}

export async function startProxyProcess(configYaml: string, env: Record<string, string> = {}): Promise<ProxyProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/support/proxyMain.ts')], {
    env: { ...process.env, MODPROXY_CONFIG: configYaml, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.split('\n')[0].trim());
    });
    void exited.then((c) => reject(new Error(`proxy process exited (${c}) before listening: ${err}`)));
  });
  return {
    url,
    child,
    output: () => err,
    peakRss() {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : NaN;
    },
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
