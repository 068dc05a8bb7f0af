// Warnings for failed logins, few enough to read: at most one line per
// claimed identity (or, without one, per client address) per interval, saying
// how many failures it stands for, and at most maxLinesPerInterval lines in
// all per interval. A password never reaches this module; a claimed name is
// logged sanitized and truncated (it may be anything a client typed).
import crypto from 'node:crypto';
import type { Logger } from '../log/logger.js';

export interface FailureLogOptions {
  intervalMs: number;
  /** Keys remembered (memory bound); forgetting one costs at most an extra line. */
  maxKeys?: number;
  maxLinesPerInterval?: number;
  now?: () => number;
}

export interface LoginFailure {
  /** The identity the client claimed, if any. */
  identity?: string;
  client: string;
  reason: string;
  endpoint?: string;
}

const NAME_CHARS = 64;

export class FailureLog {
  private readonly seen = new Map<string, { lastAt: number; suppressed: number }>();
  private readonly maxKeys: number;
  private readonly maxLines: number;
  private readonly now: () => number;
  private intervalStart = -Infinity;
  private linesInInterval = 0;
  /** Failures not logged because of the overall cap, reported on the next line. */
  private overflow = 0;

  constructor(
    private readonly log: Logger,
    private readonly opts: FailureLogOptions,
  ) {
    this.maxKeys = opts.maxKeys ?? 10_000;
    this.maxLines = opts.maxLinesPerInterval ?? 100;
    this.now = opts.now ?? Date.now;
  }

  failed(f: LoginFailure): void {
    const now = this.now();
    const key = crypto
      .createHash('sha256')
      .update(f.identity !== undefined ? `identity\0${f.identity}` : `client\0${f.client}`)
      .digest('base64');
    const seen = this.seen.get(key);
    if (seen && now - seen.lastAt < this.opts.intervalMs) {
      seen.suppressed++;
      return;
    }
    if (now - this.intervalStart >= this.opts.intervalMs) {
      this.intervalStart = now;
      this.linesInInterval = 0;
    }
    if (this.linesInInterval >= this.maxLines) {
      this.overflow++;
      return;
    }
    this.linesInInterval++;
    this.seen.delete(key); // re-insert: the Map's order is least recently logged first
    if (this.seen.size >= this.maxKeys) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, { lastAt: now, suppressed: 0 });
    const fields: Record<string, unknown> = {
      reason: f.reason,
      client: f.client,
      ...(f.identity !== undefined ? { identity: sanitizeName(f.identity) } : {}),
      ...(f.endpoint ? { endpoint: f.endpoint } : {}),
      suppressedSinceLastLine: seen?.suppressed ?? 0,
    };
    if (this.overflow > 0) {
      fields.otherFailuresSuppressed = this.overflow;
      this.overflow = 0;
    }
    this.log.warn('client authentication failed', fields);
  }
}

/** A claimed name fit for a log line: control and format characters replaced, at most 64 characters. */
export function sanitizeName(name: string): string {
  const clean = name.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '?');
  const chars = Array.from(clean);
  return chars.length > NAME_CHARS ? `${chars.slice(0, NAME_CHARS).join('')}…` : clean;
}
