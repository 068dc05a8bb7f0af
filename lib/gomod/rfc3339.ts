// A JSON time read and written as Go's time.Time does: UnmarshalJSON
// (time/format_rfc3339.go parseStrictRFC3339, whose strict checks Go keeps
// disabled, so what parseRFC3339 or time.Parse(time.RFC3339, …) accepts) and
// MarshalJSON (RFC 3339 with nanoseconds, in the zone the text named).
//
// The go command reads a proxy's .info Time this way and writes it back into
// its module cache the same way, so a time such as 2020-02-30T00:00:00Z (which
// JS's Date rolls over to March 1) is an error to it, and
// 2020-01-01T01:00:00.5+01:00 stays exactly that text rather than becoming UTC
// milliseconds.

import { daysIn, utcDate } from './civilTime.js';

export interface GoTime {
  /** The instant, to the millisecond (Go keeps nanoseconds: see text). */
  date: Date;
  /** What time.Time's MarshalJSON writes for it, without the quotes; undefined where Go's fails. */
  text: string | undefined;
  /** The nanoseconds within its second, which date rounds down to milliseconds. */
  nanos: number;
}

// time.Parse with layout "2006-01-02T15:04:05Z07:00" takes a one- or
// two-digit hour, a fraction after "." or ",", and a zone up to ±24:60;
// parseRFC3339 takes a subset of that. Digits are ASCII only in both.
const LAYOUT = /^(\d{4})-(\d\d)-(\d\d)T(\d\d?):(\d\d):(\d\d)(?:[.,](\d+))?(?:Z|([+-])(\d\d):(\d\d))$/;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Parses the contents of a JSON time string as Go does; throws where Go's UnmarshalJSON fails. */
export function parseGoTime(s: string): GoTime {
  const m = LAYOUT.exec(s);
  if (!m) throw new Error(`parsing time ${JSON.stringify(s)} as RFC 3339: bad syntax`);
  const [year, month, day, hour, min, sec] = m.slice(1, 7).map(Number);
  const range = (what: string, ok: boolean) => {
    if (!ok) throw new Error(`parsing time ${JSON.stringify(s)}: ${what} out of range`);
  };
  range('month', month >= 1 && month <= 12);
  range('hour', hour <= 23);
  range('minute', min <= 59);
  range('second', sec <= 59);
  range('day', day >= 1 && day <= daysIn(month, year));
  // Nanoseconds: the first nine digits of the fraction (Go truncates the rest).
  const nanos = m[7] === undefined ? 0 : Number(m[7].slice(0, 9).padEnd(9, '0'));
  let offset = 0; // seconds east of UTC
  if (m[8] !== undefined) {
    const zh = Number(m[9]);
    const zm = Number(m[10]);
    range('time zone offset hour', zh <= 24);
    range('time zone offset minute', zm <= 60);
    offset = (m[8] === '-' ? -1 : 1) * (zh * 3600 + zm * 60);
  }
  const date = new Date(utcDate(year, month, day, hour, min, sec).getTime() - offset * 1000 + Math.floor(nanos / 1e6));

  // MarshalJSON: the wall clock as given, the fraction without trailing zeros,
  // Z for a zero offset, and an error for a zone of 24 hours or more.
  const frac = nanos === 0 ? '' : '.' + pad(nanos, 9).replace(/0+$/, '');
  const abs = Math.abs(offset);
  const zone = offset === 0 ? 'Z' : `${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 3600), 2)}:${pad(Math.floor(abs / 60) % 60, 2)}`;
  const text = abs >= 24 * 3600 ? undefined : `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(min, 2)}:${pad(sec, 2)}${frac}${zone}`;
  return { date, text, nanos };
}

/** Go's zero time.Time, which a .info without a Time (or with null) leaves. */
export function zeroGoTime(): GoTime {
  return { date: new Date('0001-01-01T00:00:00Z'), text: '0001-01-01T00:00:00Z', nanos: 0 };
}
