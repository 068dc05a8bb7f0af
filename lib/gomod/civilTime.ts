// Go's time package on a UTC wall clock (time.Date's inputs and daysIn), for
// the parsers of Go's time texts: pseudo-version timestamps (pseudo.ts) and
// RFC 3339 times (rfc3339.ts).

/** Days in a month (1–12) of a proleptic Gregorian year, as time.daysIn. */
export function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** The UTC instant of an in-range wall clock (month 1–12); years 0–99 stay themselves, unlike Date.UTC's. */
export function utcDate(year: number, month: number, day: number, hour: number, min: number, sec: number): Date {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, min, sec, 0);
  return d;
}
