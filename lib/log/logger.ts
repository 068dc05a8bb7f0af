// Structured JSON logs in the shape Cloud Logging understands: one JSON object
// per line with `severity`, `message`, and for requests `httpRequest`.
// Secrets never reach this module: callers log paths, versions and statuses only,
// and `redact` masks anything that looks like a credential as a last line of defence.
import { LineBatch, putBytes, textSink, type EncodedLine, type LineSink } from './lineBatch.js';

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
   * A line whose members write their own bytes (`"a":1,"b":"x"`, without
   * braces; never empty), every value a client chose redacted already, piece
   * by piece: the hit line (HitLines in lib/http/requestLine.ts), which then
   * costs copies of bytes made once instead of strings joined and encoded per
   * line. The message is redacted as any.
   */
  logEncoded(severity: Severity, message: string, members: EncodedLine): void;
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
  /** Where lines go, as text; default process.stdout in batches (lineBatch.ts). Tests capture lines here. */
  write?: (line: string) => void;
  minSeverity?: Severity;
  fields?: Record<string, unknown>;
}

const ORDER: Severity[] = ['DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL'];
const RANK: Record<Severity, number> = { DEBUG: 0, INFO: 1, NOTICE: 2, WARNING: 3, ERROR: 4, CRITICAL: 5 };

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
/** isoNow as bytes, encoded once per millisecond that an encoded line needs them. */
let isoBytesMs = -1;
let isoBytes = Buffer.alloc(0);
function isoNowBytes(): Buffer {
  const text = isoNow();
  if (isoBytesMs !== isoMs) {
    isoBytesMs = isoMs;
    isoBytes = Buffer.from(text, 'latin1');
  }
  return isoBytes;
}

/**
 * One encoded line of a logger, reused (a sink encodes a line before
 * `encoded` returns): `{"severity":…,"message":…,"time":"` (made per
 * severity and message), the time, `"` with the logger's own fields and a
 * comma, the members, `}`.
 */
class MembersLine implements EncodedLine {
  maxBytes = 0;
  private start: Buffer = Buffer.alloc(0);
  private time: Buffer = Buffer.alloc(0);
  private members: EncodedLine | undefined;

  constructor(private readonly afterTime: Buffer) {}

  set(start: Buffer, time: Buffer, members: EncodedLine): this {
    this.start = start;
    this.time = time;
    this.members = members;
    this.maxBytes = start.length + time.length + this.afterTime.length + members.maxBytes + 1;
    return this;
  }

  encode(buf: Buffer, at: number): number {
    at = putBytes(buf, at, this.start);
    at = putBytes(buf, at, this.time);
    at = putBytes(buf, at, this.afterTime);
    at = this.members!.encode(buf, at);
    buf[at] = 0x7d; // }
    return at + 1;
  }
}

let stdoutBatch: LineBatch | undefined;

export function createLogger(opts: LoggerOptions = {}): Logger {
  const sink: LineSink = opts.write ? textSink(opts.write) : (stdoutBatch ??= new LineBatch());
  const min = ORDER.indexOf(opts.minSeverity ?? ((process.env.MODPROXY_LOG_LEVEL?.toUpperCase() as Severity) || 'INFO'));
  const base = opts.fields ?? {};
  const make = (fields: Record<string, unknown>): Logger => {
    const log = (severity: Severity, message: string, extra?: Record<string, unknown>) => {
      if (RANK[severity] < min) return;
      const entry = { severity, message, time: isoNow(), ...fields, ...extra };
      sink.text(redact(JSON.stringify(entry)));
    };
    // The logger's own fields, serialized once (keys a line's members repeat are not expected).
    const fieldsJson = Object.keys(fields).length > 0 ? ',' + redact(JSON.stringify(fields).slice(1, -1)) : '';
    // The start of the last line, up to its time: request lines all say INFO "request".
    let lastSeverity: Severity | undefined;
    let lastMessage: string | undefined;
    let lastStartJson = '';
    /** lastStartJson as bytes, made when an encoded line needs them. */
    let lastStartBytes: Buffer | undefined;
    const lineStart = (severity: Severity, message: string): string => {
      if (severity !== lastSeverity || message !== lastMessage) {
        lastStartJson = `{"severity":"${severity}","message":${redact(JSON.stringify(message))},"time":"`;
        lastStartBytes = undefined;
        lastSeverity = severity;
        lastMessage = message;
      }
      return lastStartJson;
    };
    const logJson = (severity: Severity, message: string, membersJson: string) => {
      if (RANK[severity] < min) return;
      const members = membersJson === '' ? '' : ',' + redact(membersJson);
      sink.text(`${lineStart(severity, message)}${isoNow()}"${fieldsJson}${members}}`);
    };
    const encodedLine = new MembersLine(Buffer.from(`"${fieldsJson},`, 'utf8'));
    const logEncoded = (severity: Severity, message: string, members: EncodedLine) => {
      if (RANK[severity] < min) return;
      lineStart(severity, message);
      lastStartBytes ??= Buffer.from(lastStartJson, 'utf8');
      sink.encoded(encodedLine.set(lastStartBytes, isoNowBytes(), members));
    };
    return {
      log,
      logJson,
      logEncoded,
      debug: (m, f) => log('DEBUG', m, f),
      info: (m, f) => log('INFO', m, f),
      warn: (m, f) => log('WARNING', m, f),
      error: (m, f) => log('ERROR', m, f),
      child: (f) => make({ ...fields, ...f }),
    };
  };
  return make(base);
}
