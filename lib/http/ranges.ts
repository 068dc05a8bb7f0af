// Single byte ranges (RFC 9110 §14), as the go command and download tools ask
// for them: `bytes=a-b`, `bytes=a-`, `bytes=-n`, with If-Range on the ETag.
// Anything else is served whole.
import type { ByteRange } from '../service/artifact.js';

export function parseRange(header: string | undefined, size: number, ifRange: string | string[] | undefined, etag: string): ByteRange | null | 'unsatisfiable' {
  if (!header) return null;
  if (typeof ifRange === 'string' && ifRange !== etag) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    if (m[2] === '') return null;
    const n = Number(m[2]);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}
