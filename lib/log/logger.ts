// Structured JSON logs in the shape Cloud Logging understands: one JSON object
// per line with `severity`, `message`, and for requests `httpRequest`.
// Secrets never reach this module: callers log paths, versions and statuses only,
// and `redact` masks anything that looks like a credential as a last line of defence.
import fs from 'node:fs';

export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL';

export interface Logger {
  log(severity: Severity, message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /**
   * A line whose own fields come as JSON already: the members of an object,
   * without its braces (`"a":1,"b":"x"`), or ''. The request log line is
   * built this way (lib/http/requestLine.ts): one small string per request
   * instead of an object graph for JSON.stringify. The message and members
   * are redacted as any line is.
   */
  logJson(severity: Severity, message: string, membersJson: string): void;
  /**
   * logJson for members whose every value a client chose went through
   * `redact` already, piece by piece (the hit line: HitLines in
   * lib/http/requestLine.ts); the message is redacted as any.
   */
  logRedactedJson(severity: Severity, message: string, membersJson: string): void;
}

const SECRET_PATTERNS: RegExp[] = [
  /(authorization["']?\s*[:=]\s*["']?)(basic|bearer|token)\s+[A-Za-z0-9._~+/=-]+/gi,
  /\bgh[pousr]_[A-Za-z0-9_]{8,}\b/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /(x-access-token:)[^@\s"']+/gi,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g,
];

/** A substring every pattern above needs: most lines (request lines) have none, and skip the five scans. */
const SECRET_MARKER = /authorization|gh[pousr]_|PRIVATE KEY|x-access-token:|eyJ/i;

/** Masks credential-looking substrings. */
export function redact(text: string): string {
  if (!SECRET_MARKER.test(text)) return text;
  let out = text;
  for (const re of SECRET_PATTERNS) out = out.replace(re, (_m, p1?: string) => (typeof p1 === 'string' && p1.length < 40 ? `${p1}[REDACTED]` : '[REDACTED]'));
  return out;
}

export interface LoggerOptions {
  /** Where lines go; default process.stdout. Tests capture lines here. */
  write?: (line: string) => void;
  minSeverity?: Severity;
  fields?: Record<string, unknown>;
}

const ORDER: Severity[] = ['DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL'];
const RANK: Record<Severity, number> = { DEBUG: 0, INFO: 1, NOTICE: 2, WARNING: 3, ERROR: 4, CRITICAL: 5 };

/** Lines held before they are written regardless of the timer (bounds memory under load). */
const FLUSH_LINES = 256;

/**
 * How long a line waits for others to be written with it. Under load that is
 * many event loop turns: one write per turn cost a hit about a microsecond
 * (the join, the encoding and the write(2) of a few lines), ~3% of it.
 */
const FLUSH_MS = 20;

/**
 * A line writer that does not make a write(2) per line: lines of up to
 * FLUSH_MS (or FLUSH_LINES lines) are joined and written at once. Whatever
 * is pending when the process exits (process.exit after SIGTERM, or an
 * uncaught error) is written synchronously on 'exit', so no line is lost.
 */
export function bufferedWriter(fd = 1, out: (text: string) => void = (t) => void process.stdout.write(t)): { write: (line: string) => void; flush: () => void } {
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('\n') + '\n';
    pending = [];
    out(text);
  };
  process.once('exit', () => {
    if (pending.length === 0) return;
    const text = pending.join('\n') + '\n';
    pending = [];
    try {
      fs.writeSync(fd, text);
    } catch {
      // Nothing else can be done with a log line at exit.
    }
  });
  return {
    write: (line) => {
      pending.push(line);
      if (pending.length >= FLUSH_LINES) flush();
      else if (!scheduled) {
        scheduled = true;
        // Unreferenced: a process with nothing else to do exits, and 'exit' writes the rest.
        setTimeout(flush, FLUSH_MS).unref();
      }
    },
    flush,
  };
}

/** The time as ISO 8601, made once per millisecond (toISOString costs more than the rest of a request line). */
let isoMs = -1;
let isoText = '';
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

let stdoutWriter: ReturnType<typeof bufferedWriter> | undefined;

export function createLogger(opts: LoggerOptions = {}): Logger {
  const write = opts.write ?? (stdoutWriter ??= bufferedWriter()).write;
  const min = ORDER.indexOf(opts.minSeverity ?? ((process.env.MODPROXY_LOG_LEVEL?.toUpperCase() as Severity) || 'INFO'));
  const base = opts.fields ?? {};
  const make = (fields: Record<string, unknown>): Logger => {
    const log = (severity: Severity, message: string, extra?: Record<string, unknown>) => {
      if (RANK[severity] < min) return;
      const entry = { severity, message, time: isoNow(), ...fields, ...extra };
      write(redact(JSON.stringify(entry)));
    };
    // The logger's own fields, serialized once (keys a line's members repeat are not expected).
    const fieldsJson = Object.keys(fields).length > 0 ? ',' + redact(JSON.stringify(fields).slice(1, -1)) : '';
    // The message of the last line, as JSON: request lines all say "request".
    let lastMessage: string | undefined;
    let lastMessageJson = '';
    const logRedactedJson = (severity: Severity, message: string, membersJson: string) => {
      if (RANK[severity] < min) return;
      if (message !== lastMessage) {
        lastMessageJson = redact(JSON.stringify(message));
        lastMessage = message;
      }
      const members = membersJson === '' ? '' : ',' + membersJson;
      write(`{"severity":"${severity}","message":${lastMessageJson},"time":"${isoNow()}"${fieldsJson}${members}}`);
    };
    const logJson = (severity: Severity, message: string, membersJson: string) => {
      if (RANK[severity] >= min) logRedactedJson(severity, message, redact(membersJson));
    };
    return {
      log,
      logJson,
      logRedactedJson,
      debug: (m, f) => log('DEBUG', m, f),
      info: (m, f) => log('INFO', m, f),
      warn: (m, f) => log('WARNING', m, f),
      error: (m, f) => log('ERROR', m, f),
      child: (f) => make({ ...fields, ...f }),
    };
  };
  return make(base);
}
