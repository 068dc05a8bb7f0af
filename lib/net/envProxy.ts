// Outbound HTTP(S) proxies from the environment, chosen as the go command
// (golang.org/x/net/http/httpproxy) chooses them: HTTPS_PROXY for https URLs,
// HTTP_PROXY for http URLs (upper or lower case), none for hosts NO_PROXY
// names (a host or a domain suffix, "*" for all) or for loopback hosts. Only
// http:// proxies are supported; https URLs go through them in a CONNECT tunnel.
import http from 'node:http';
import net from 'node:net';

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  return h === '::1';
}

/** The http:// proxy for a request to `url`, or undefined to connect directly. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv): URL | undefined {
  const raw = url.protocol === 'https:' ? (env.HTTPS_PROXY ?? env.https_proxy) : url.protocol === 'http:' ? (env.HTTP_PROXY ?? env.http_proxy) : undefined;
  if (!raw) return undefined;
  const host = url.hostname.toLowerCase();
  if (isLoopback(host)) return undefined;
  const noProxy = (env.NO_PROXY ?? env.no_proxy ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const np of noProxy) {
    if (np === '*') return undefined;
    const bare = np.replace(/^\*?\./, '').replace(/:\d+$/, '');
    if (host === bare || host.endsWith('.' + bare)) return undefined;
  }
  const u = new URL(raw.includes('://') ? raw : `http://${raw}`);
  if (u.protocol !== 'http:') throw new Error(`${url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'} scheme ${u.protocol} is not supported (only http://)`);
  return u;
}

/** The Proxy-Authorization header for a proxy URL with user info, if any. */
export function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  return { 'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` };
}

/** A CONNECT tunnel through `proxy` to host:port. */
export function tunnel(proxy: URL, host: string, port: number, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `${host}:${port}`, ...proxyAuthorization(proxy) };
    const req = http.request({ host: proxy.hostname, port: proxy.port || 80, method: 'CONNECT', path: `${host}:${port}`, headers, signal });
    req.on('connect', (res, socket) => {
      if (res.statusCode === 200) resolve(socket);
      else {
        socket.destroy();
        reject(new Error(`proxy CONNECT ${host}:${port}: ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
      }
    });
    req.on('error', reject);
    req.end();
  });
}
