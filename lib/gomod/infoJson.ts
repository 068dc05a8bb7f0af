// The .info body exactly as the go command writes it
// (docs/go-rules/protocol.md#the-info-body): compact json.Marshal output,
// fields in the order Version, Time, Origin, Go's HTML escaping, no trailing
// newline.

/**
 * The .info's Origin (Go's codehost.Origin), with its JSON field names: where
 * a version came from, as a source reports it.
 */
export interface Origin {
  VCS: string;
  URL: string;
  Subdir?: string;
  Hash?: string;
  TagPrefix?: string;
  TagSum?: string;
  RepoSum?: string;
  Ref?: string;
}

export interface InfoFields {
  Version: string;
  /** A Date, or the text Go's time.Time MarshalJSON gave it (keeping a zone and nanoseconds; see rfc3339.ts). */
  Time: Date | string;
  Origin?: Origin;
}

/** Origin's fields in Go's struct order (what json.Marshal writes). */
export const ORIGIN_FIELDS: (keyof Origin)[] = ['VCS', 'URL', 'Subdir', 'Hash', 'TagPrefix', 'TagSum', 'Ref', 'RepoSum'];

/** encoding/json string encoding: like JSON.stringify plus <, >, &, U+2028, U+2029 escaped. */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** time.Time's MarshalJSON (RFC 3339 with nanoseconds trimmed) for a UTC time. */
export function goTime(t: Date): string {
  const iso = t.toISOString(); // 2020-01-01T00:00:00.000Z
  const [secs, frac] = iso.slice(0, -1).split('.');
  const trimmed = (frac ?? '').replace(/0+$/, '');
  return `${secs}${trimmed ? '.' + trimmed : ''}Z`;
}

export function marshalInfo(info: InfoFields): string {
  let out = `{"Version":${goJsonString(info.Version)},"Time":${goJsonString(typeof info.Time === 'string' ? info.Time : goTime(info.Time))}`;
  if (info.Origin) {
    const parts: string[] = [];
    for (const k of ORIGIN_FIELDS) {
      const v = info.Origin[k];
      if (v !== undefined && v !== '') parts.push(`${goJsonString(k)}:${goJsonString(v)}`);
    }
    out += `,"Origin":{${parts.join(',')}}`;
  }
  return out + '}';
}
