// Outbound HTTP(S) proxies from the environment, chosen as the go command
// (golang.org/x/net/http/httpproxy) chooses them: HTTPS_PROXY for https URLs,
// HTTP_PROXY for http URLs (upper or lower case), none for hosts NO_PROXY
// names (a host or a domain suffix, "*" for all) or for loopback hosts. A
// proxy is an http:// or an https:// URL (TLS to the proxy itself, checked
// against the system's roots like any server); https URLs go through it in a
// CONNECT tunnel. The go command also takes socks5://, which is refused here.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type tls from 'node:tls';

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  return h === '::1';
}

/** The proxy (http: or https:) for a request to `url`, or undefined to connect directly. */
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
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'} scheme ${u.protocol} is not supported (only http:// and https://)`);
  return u;
}

/**
 * How to reach the proxy itself: its host and port, over TLS for an https://
 * proxy (with `tlsOptions`, tests' CA, and its name for SNI). Merged into
 * the options of a node:http(s) request whose `agent` is false.
 */
export function proxyConnection(proxy: URL, tlsOptions: Pick<tls.ConnectionOptions, 'ca'> = {}): { useTls: boolean; options: https.RequestOptions } {
  const useTls = proxy.protocol === 'https:';
  const host = proxy.hostname.replace(/^\[|\]$/g, '');
  const options: https.RequestOptions = { host, port: Number(proxy.port || (useTls ? 443 : 80)) };
  // The name checked against the proxy's certificate is the proxy's: left
  // unset, Node would take it from the request's Host header (a CONNECT's
  // names the target). '' for an IP address: no SNI, the address is checked.
  if (useTls) Object.assign(options, { servername: net.isIP(host) ? '' : host, ...tlsOptions });
  return { useTls, options };
}

/** The Proxy-Authorization header for a proxy URL with user info, if any. */
export function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  return { 'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` };
}

/** A CONNECT tunnel through `proxy` to host:port (`tlsOptions` for an https:// proxy). */
export function tunnel(proxy: URL, host: string, port: number, signal: AbortSignal, tlsOptions?: Pick<tls.ConnectionOptions, 'ca'>): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `${host}:${port}`, ...proxyAuthorization(proxy) };
    const { useTls, options } = proxyConnection(proxy, tlsOptions);
    const req = (useTls ? https : http).request({ ...options, method: 'CONNECT', path: `${host}:${port}`, headers, signal, agent: false });
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
