// An HTTP CONNECT proxy (for HTTPS_PROXY) that sends tunnels for chosen
// "host:port" targets to local ports and refuses every other target, so that
// the go command and modproxy reach made-up hosts (gitlab.example.test:443)
// on loopback servers without any name resolution. It also relays plain
// requests in absolute form (for HTTP_PROXY) to the same routes, and can
// itself be reached over TLS (an https:// proxy).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ConnectProxy {
  url: string;
  /** CONNECT targets asked for, in order. */
  tunnels: string[];
  /** Absolute URLs of the plain requests relayed, in order. */
  relayed: string[];
  close(): Promise<void>;
}

export async function startConnectProxy(routes: Record<string, number>, opts: { tls?: { key: string; cert: string } } = {}): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const relayed: string[] = [];
  const open = new Set<net.Socket>();
  const relay = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const target = URL.canParse(req.url ?? '') ? new URL(req.url ?? '') : undefined;
    const port = target && routes[`${target.hostname}:${target.port || 80}`];
    if (!target || target.protocol !== 'http:' || port === undefined) return void res.writeHead(403).end();
    relayed.push(target.href);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'proxy-authorization'));
    const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: target.pathname + target.search, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  const server = opts.tls ? https.createServer(opts.tls, relay) : http.createServer(relay);
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? '';
    tunnels.push(target);
    open.add(client);
    client.on('close', () => open.delete(client));
    const port = routes[target];
    if (port === undefined) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    open.add(upstream);
    upstream.on('close', () => open.delete(upstream));
    const drop = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', drop);
    client.on('error', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    tunnels,
    relayed,
    async close() {
      for (const s of open) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
