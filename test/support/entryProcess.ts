// Starts one of modproxy's process entries (functions/server.ts run with
// tsx, or a built entry) as a separate process, and reads its structured log
// lines from stdout, where the entries write them.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

export interface LogLine {
  severity: string;
  message: string;
  [field: string]: unknown;
}

export interface EntryProcess {
  child: ChildProcess;
  /** stdout and stderr, as received so far. */
  output(): string;
  /** The JSON log lines so far. */
  lines(): LogLine[];
  /** The first log line that satisfies `pred`; rejects when the process exits or `ms` pass first. */
  waitForLine(pred: (l: LogLine) => boolean, ms?: number): Promise<LogLine>;
  /** Peak resident set size so far (VmHWM), bytes. */
  peakRss(): number;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string | null>;
  /** SIGKILL to its process group, if still running. */
  kill(): void;
}

export function startEntry(command: string, args: string[], env: Record<string, string>, cwd = process.cwd()): EntryProcess {
  // Its own process group, so that npm and the node process it starts are killed together.
  const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH, HOME: os.homedir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as LogLine];
        } catch {
          return [];
        }
      });
  return {
    child,
    output: () => out,
    lines,
    waitForLine(pred, ms = 60_000) {
      return new Promise<LogLine>((resolve, reject) => {
        const check = () => {
          const hit = lines().find(pred);
          if (!hit) return;
          done();
          resolve(hit);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no such log line within ${ms} ms; output:\n${out}`));
        }, ms);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        void exited.then((code) => {
          check();
          if (waiters.has(check)) {
            done();
            reject(new Error(`process exited (${code}) first; output:\n${out}`));
          }
        });
        check();
      });
    },
    peakRss() {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : NaN;
    },
    exited,
    kill() {
      try {
        if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

/** The tsx command line for a TypeScript entry (no build needed). */
export function tsxEntry(file: string): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', file] };
}
