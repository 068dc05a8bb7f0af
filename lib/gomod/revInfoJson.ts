// A proxy's .info body as the go command reads it: json.Unmarshal into
// cmd/go/internal/modfetch.RevInfo (Version, Time, Origin *codehost.Origin;
// Name and Short are json:"-").
//
// encoding/json's rules that matter here, unlike JSON.parse into an object:
// members apply in order, so the last of several keys naming one field wins;
// keys match field names case-insensitively (Go folds ASCII letters and the
// two non-ASCII runes that fold to ASCII ones, U+017F ſ and U+212A K); null
// leaves a value field alone and sets a pointer to nil; a member of the wrong
// type fails the whole body; unknown members are ignored. Go's own decoder
// is the judge of all this (lib/gomod/revInfoJson.test.ts).

import { ORIGIN_FIELDS, type Origin } from './infoJson.js';
import { parseGoTime, zeroGoTime, type GoTime } from './rfc3339.js';

export interface RevInfoJson {
  Version: string;
  Time: GoTime;
  /** Present when the body had a non-null Origin object (possibly with no fields). */
  Origin?: Partial<Origin>;
}

/** The upper-case fold encoding/json compares names by, for names that can equal an ASCII field's. */
function foldKey(k: string): string {
  return k.replace(/[a-z]/g, (c) => c.toUpperCase()).replace(/\u017f/g, 'S').replace(/\u212a/g, 'K');
}

/**
 * The members of a JSON object, in order and with duplicates, each value as
 * its raw text. text must already be valid JSON (JSON.parse checked it);
 * depth is tracked with a counter, not recursion.
 */
function objectMembers(text: string): [string, string][] {
  const out: [string, string][] = [];
  let i = text.indexOf('{') + 1;
  const skipSpace = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const stringEnd = (from: number) => {
    let j = from + 1;
    while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    return j + 1;
  };
  for (;;) {
    skipSpace();
    if (text[i] === '}') return out;
    const keyEnd = stringEnd(i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = keyEnd;
    skipSpace();
    i++; // ':'
    skipSpace();
    const start = i;
    let depth = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') i = stringEnd(i);
      else if (c === '{' || c === '[') (depth++, i++);
      else if ((c === '}' || c === ']' || c === ',') && depth === 0) break;
      else if (c === '}' || c === ']') (depth--, i++);
      else i++;
    }
    out.push([key, text.slice(start, i).trimEnd()]);
    if (text[i] === ',') i++;
  }
}

function typeError(field: string, raw: string): Error {
  return new Error(`json: cannot unmarshal ${raw.slice(0, 20)} into Go struct field RevInfo.${field}`);
}

function stringMember(field: string, raw: string): string | undefined {
  if (raw === 'null') return undefined;
  if (!raw.startsWith('"')) throw typeError(field, raw);
  return JSON.parse(raw) as string;
}

/** Reads a .info body as the go command does; throws where its json.Unmarshal fails. */
export function parseRevInfoJson(body: string): RevInfoJson {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw new Error(`invalid JSON: ${(err as Error).message}`);
  }
  const info: RevInfoJson = { Version: '', Time: zeroGoTime() };
  if (doc === null) return info;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('json: cannot unmarshal a non-object into Go value of type RevInfo');
  for (const [key, raw] of objectMembers(body)) {
    switch (foldKey(key)) {
      case 'VERSION':
        info.Version = stringMember('Version', raw) ?? info.Version;
        break;
      case 'TIME': {
        const t = stringMember('Time', raw);
        if (t !== undefined) info.Time = parseGoTime(t);
        break;
      }
      case 'ORIGIN':
        if (raw === 'null') delete info.Origin;
        else if (!raw.startsWith('{')) throw typeError('Origin', raw);
        else {
          // A second Origin object fills the same struct (json.Unmarshal reuses a non-nil pointer).
          const o = info.Origin ?? {};
          for (const [k, v] of objectMembers(raw)) {
            const field = ORIGIN_FIELDS.find((f) => f.toUpperCase() === foldKey(k));
            if (field === undefined) continue;
            const s = stringMember(`Origin.${field}`, v);
            if (s !== undefined) o[field] = s;
          }
          info.Origin = o;
        }
        break;
    }
  }
  return info;
}
