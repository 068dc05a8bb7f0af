// A real smart-HTTP git server for tests: Node's http server in front of
// `git http-backend` run as a CGI program, bound to 127.0.0.1 only.
//
// The bridge is deliberately thin (CGI environment in, CGI headers out) so
// that what the proxy and the go command talk to is git's own server code.
// An optional `authorize` hook lets tests put credentials in front of it.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpServerOptions {
  /** Directory that holds the bare repositories; `/<name>` serves `<root>/<name>`. */
  projectRoot: string;
  /**
   * Serve partial clones as GitHub does (uploadpack.allowFilter and
   * allowAnySHA1InWant). Default true; false gives a plain git server, which
   * modproxy must also handle.
   */
  partialClone?: boolean;
  /** A fixed port (to restart a server where clients expect it); default: any free port. */
  port?: number;
  /** Return an HTTP status (401/403/404) to refuse a request, or undefined to let it through. */
  authorize?: (req: http.IncomingMessage, repoPath: string) => number | undefined | Promise<number | undefined>;
}

export interface GitHttpServer {
  url: string;
  port: number;
  /** Requests seen, as "METHOD /path?query", for tests that count fetches. */
  requests: string[];
  /** Start and end times (ms, performance.now()) of each request, in the order of `requests`. */
  timings: Array<{ start: number; end?: number }>;
  /** The protocol v2 command of each POST ("ls-refs", "fetch"), in order. */
  commands: string[];
  close(): Promise<void>;
}

const GIT_HTTP_BACKEND = process.env.GIT_HTTP_BACKEND ?? '/usr/lib/git-core/git-http-backend';

export async function startGitHttpServer(opts: GitHttpServerOptions): Promise<GitHttpServer> {
  const requests: string[] = [];
  const timings: Array<{ start: number; end?: number }> = [];
  const commands: string[] = [];
  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const timing: { start: number; end?: number } = { start: performance.now() };
    timings.push(timing);
    res.on('finish', () => (timing.end = performance.now()));
    const repoPath = url.pathname.replace(/\/(info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.*)$/, '');
    if (opts.authorize) {
      const status = await opts.authorize(req, repoPath);
      if (status) {
        const headers: Record<string, string> = { 'content-type': 'text/plain' };
        if (status === 401) headers['www-authenticate'] = 'Basic realm="git"';
        res.writeHead(status, headers);
        res.end(`${status}\n`);
        return;
      }
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: opts.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      REQUEST_METHOD: req.method,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      REMOTE_USER: '',
      SERVER_PROTOCOL: 'HTTP/1.1',
    };
    if (opts.partialClone !== false) {
      env.GIT_CONFIG_COUNT = '2';
      env.GIT_CONFIG_KEY_0 = 'uploadpack.allowFilter';
      env.GIT_CONFIG_VALUE_0 = 'true';
      env.GIT_CONFIG_KEY_1 = 'uploadpack.allowAnySHA1InWant';
      env.GIT_CONFIG_VALUE_1 = 'true';
    }
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
    if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
    const child = spawn(GIT_HTTP_BACKEND, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    if (req.method === 'POST') {
      // The v2 command is in the first pkt-line of an uncompressed request body.
      req.once('data', (chunk: Buffer) => {
        const m = /command=([a-z-]+)/.exec(chunk.subarray(0, 64).toString('latin1'));
        commands.push(m ? m[1] : 'v1');
      });
    }
    req.pipe(child.stdin);
    child.stdin.on('error', () => {});
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));

    // Parse the CGI header block, then stream the body through.
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let sep = head.indexOf('\r\n\r\n');
      let sepLen = 4;
      if (sep < 0) {
        sep = head.indexOf('\n\n');
        sepLen = 2;
      }
      if (sep < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, sep).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = parseInt(v, 10);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(sep + sepLen));
    });
    await new Promise<void>((resolve) => {
      child.on('close', (code) => {
        if (!headersDone) {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`git http-backend exited ${code}: ${stderr}`);
        } else {
          res.end();
        }
        resolve();
      });
    });
  }

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    timings,
    commands,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
