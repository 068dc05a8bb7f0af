// The route table: which endpoint a request is for, from its method and path
// alone. Module paths are parsed later (lib/http/proxyPath.ts), after
// authentication, so a stranger learns nothing from a malformed path's answer.
export type Route =
  /** The seed project's token endpoints: POST /auth/userpassword, POST /auth/gce. */
  | { kind: 'token'; endpoint: 'userpassword' | 'gce' }
  /** Health checks: no credentials, nothing about modules. */
  | { kind: 'health' }
  /** Readiness: storage and configuration checked; no credentials. */
  | { kind: 'ready' }
  /** Operations endpoints behind client authentication (lib/http/ops.ts). */
  | { kind: 'metrics' }
  | { kind: 'index'; query: string }
  | { kind: 'root' }
  /** Checksum database proxying (/sumdb/…). */
  | { kind: 'sumdb'; rawPath: string }
  /** The GOPROXY protocol: /<module>/@v/…, /<module>/@latest. */
  | { kind: 'proxy'; rawPath: string }
  | { kind: 'method-not-allowed' };

export function matchRoute(method: string, rawUrl: string): Route {
  const q = rawUrl.indexOf('?');
  const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  if (method === 'POST' && rawPath === '/auth/userpassword') return { kind: 'token', endpoint: 'userpassword' };
  if (method === 'POST' && rawPath === '/auth/gce') return { kind: 'token', endpoint: 'gce' };
  if (method !== 'GET' && method !== 'HEAD') return { kind: 'method-not-allowed' };
  if (rawPath === '/healthz') return { kind: 'health' };
  if (rawPath === '/readyz') return { kind: 'ready' };
  if (rawPath === '/metrics') return { kind: 'metrics' };
  if (rawPath === '/index') return { kind: 'index', query: q >= 0 ? rawUrl.slice(q + 1) : '' };
  if (rawPath === '/' || rawPath === '') return { kind: 'root' };
  if (rawPath.startsWith('/sumdb/')) return { kind: 'sumdb', rawPath };
  return { kind: 'proxy', rawPath };
}
