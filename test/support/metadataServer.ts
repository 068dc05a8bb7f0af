// A loopback stand-in for the GCE / Cloud Run metadata server: what
// google-auth-library asks when Application Default Credentials come from the
// environment (no key file), as on Cloud Run. Point the library at it with
// GCE_METADATA_HOST=<host> and METADATA_SERVER_DETECTION=assume-present.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetadataServer {
  /** host:port, for GCE_METADATA_HOST. */
  host: string;
  /** The access token it hands out. */
  accessToken: string;
  /** Token requests served. */
  tokenRequests: number;
  close(): Promise<void>;
}

export async function startMetadataServer(opts: { email: string; accessToken: string; projectId?: string; region?: string }): Promise<MetadataServer> {
  const state = { tokenRequests: 0 };
  const server = http.createServer((req, res) => {
    // The real server refuses requests without this header (a guard against SSRF).
    if (req.headers['metadata-flavor'] !== 'Google') {
      res.writeHead(403).end();
      return;
    }
    const send = (body: string, type = 'application/text') => {
      res.writeHead(200, { 'metadata-flavor': 'Google', 'content-type': type });
      res.end(body);
    };
    const p = (req.url ?? '').split('?')[0];
    if (p === '/computeMetadata/v1/instance/service-accounts/default/email') return send(opts.email);
    if (p === '/computeMetadata/v1/instance/service-accounts/default/token') {
      state.tokenRequests++;
      return send(JSON.stringify({ access_token: opts.accessToken, expires_in: 3600, token_type: 'Bearer' }), 'application/json');
    }
    if (p === '/computeMetadata/v1/project/project-id') return send(opts.projectId ?? 'test-project');
    if (p === '/computeMetadata/v1/universe/universe-domain') return send('googleapis.com');
    // Cloud Run's form: projects/<number>/regions/<region>.
    if (p === '/computeMetadata/v1/instance/region' && opts.region) return send(`projects/123456789/regions/${opts.region}`);
    if (p === '/computeMetadata/v1/instance' || p === '/computeMetadata/v1/') return send('');
    res.writeHead(404, { 'metadata-flavor': 'Google' }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    accessToken: opts.accessToken,
    get tokenRequests() {
      return state.tokenRequests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
