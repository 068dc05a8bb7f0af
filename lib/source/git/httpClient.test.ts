import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../errors.js';
import { createGitHttpClient } from './httpClient.js';

/** What Node's fetch throws when a connection failed before any answer. */
function connectionError(code: string): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(`read ${code}`), { code }) });
}

async function drain(body: AsyncIterableIterator<Uint8Array> | undefined): Promise<number> {
  let n = 0;
  for await (const c of body ?? []) n += c.length;
  return n;
}

/** A body that never ends: `chunk` bytes every `everyMs`, until the reader cancels it. */
function endless(chunk: number, everyMs: number): ReadableStream<Uint8Array> {
  let timer: NodeJS.Timeout | undefined;
  return new ReadableStream<Uint8Array>({
    pull: (controller) =>
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          controller.enqueue(new Uint8Array(chunk));
          resolve();
        }, everyMs);
      }),
    cancel: () => clearTimeout(timer),
  });
}

const REFS = { url: 'http://127.0.0.1:1/r/info/refs?service=git-upload-pack', method: 'GET', headers: {} };

describe('git HTTP client', () => {
  it('sends a read again when its connection was reset or refused before any answer', async () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED']) {
      let calls = 0;
      const client = createGitHttpClient({
        retryDelayMs: 1,
        fetch: async () => {
          calls++;
          if (calls === 1) throw connectionError(code);
          return new Response('ok', { status: 200 });
        },
      });
      const res = await client.request(REFS);
      expect([code, res.statusCode, calls]).toEqual([code, 200, 2]);
      await drain(res.body);
    }
  });

  it('gives up after three attempts, and never retries other failures', async () => {
    let calls = 0;
    const resets = createGitHttpClient({
      retryDelayMs: 1,
      fetch: async () => {
        calls++;
        throw connectionError('ECONNRESET');
      },
    });
    await expect(resets.request({ url: 'http://127.0.0.1:1/x', method: 'GET', headers: {} })).rejects.toThrow('fetch failed');
    expect(calls).toBe(3);
    calls = 0;
    const unknownHost = createGitHttpClient({
      retryDelayMs: 1,
      fetch: async () => {
        calls++;
        throw connectionError('ENOTFOUND');
      },
    });
    await expect(unknownHost.request({ url: 'http://127.0.0.1:1/x', method: 'GET', headers: {} })).rejects.toThrow('fetch failed');
    expect(calls).toBe(1);
  });

  it('retries a 5xx answer with backoff, and answers the last one when every attempt fails', async () => {
    const statuses: number[] = [];
    const flaky = (fails: number, status: number) => {
      let calls = 0;
      return createGitHttpClient({
        retryDelayMs: 1,
        fetch: async () => {
          calls++;
          const s = calls <= fails ? status : 200;
          statuses.push(s);
          return new Response(s === 200 ? 'ok' : 'busy', { status: s });
        },
      });
    };
    const twoFail = await flaky(2, 500).request(REFS);
    expect([twoFail.statusCode, await drain(twoFail.body), statuses]).toEqual([200, 2, [500, 500, 200]]);
    statuses.length = 0;
    const always = await flaky(99, 503).request(REFS);
    expect([always.statusCode, statuses]).toEqual([503, [503, 503, 503]]);
    await drain(always.body);
    // A 4xx is an answer, not a failure.
    statuses.length = 0;
    const notFound = await flaky(99, 404).request(REFS);
    expect([notFound.statusCode, statuses]).toEqual([404, [404]]);
    await drain(notFound.body);
  });

  it('sends the same request body on every attempt', async () => {
    const bodies: string[] = [];
    const client = createGitHttpClient({
      retryDelayMs: 1,
      fetch: async (_url, init) => {
        bodies.push(Buffer.from(init!.body as Buffer).toString());
        return new Response('x', { status: bodies.length < 2 ? 502 : 200 });
      },
    });
    const res = await client.request({
      url: 'http://127.0.0.1:1/r/git-upload-pack',
      method: 'POST',
      headers: {},
      body: (async function* () {
        yield Buffer.from('0014command=fetch\n');
      })(),
    });
    await drain(res.body);
    expect(bodies).toEqual(['0014command=fetch\n', '0014command=fetch\n']);
  });

  it('ends a response that drips past the total deadline with a 504, though bytes keep arriving', { timeout: 20_000 }, async () => {
    const client = createGitHttpClient({ idleTimeoutMs: 60_000, deadlineMs: 300, fetch: async () => new Response(endless(1, 20), { status: 200 }) });
    // A ref advertisement is read whole before the request returns, so the request itself fails.
    const err = await client.request(REFS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).status).toBe(504);
    expect((err as Error).message).toBe('ref advertisement from 127.0.0.1:1 not complete within resolve.gitDeadlineSeconds (0.3 s)');
  });

  it('fails a ref listing whose connection breaks mid-answer, rather than hand on a cut listing', async () => {
    const client = createGitHttpClient({
      fetch: async () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(Buffer.from('0032abcdef refs/heads/main\n'));
              controller.error(connectionError('ECONNRESET'));
            },
          }),
          { status: 200 },
        ),
    });
    await expect(client.request(REFS)).rejects.toThrow('fetch failed');
  });

  it('ends a response larger than the cap with a 502 naming the limit', { timeout: 20_000 }, async () => {
    let cancelled = false;
    const body = endless(64 << 10, 0);
    const client = createGitHttpClient({
      maxResponseBytes: 1 << 20,
      fetch: async (_url, init) => {
        init!.signal!.addEventListener('abort', () => (cancelled = true));
        return new Response(body, { status: 200 });
      },
    });
    const res = await client.request({
      url: 'http://127.0.0.1:1/r/git-upload-pack',
      method: 'POST',
      headers: {},
      body: (async function* () {
        yield Buffer.from('0014command=fetch\n');
      })(),
    });
    const err = await drain(res.body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).status).toBe(502);
    expect((err as Error).message).toBe('pack from 127.0.0.1:1 exceeds resolve.gitMaxPackBytes (1048576 bytes)');
    expect(cancelled).toBe(true);
  });

  it('ends a response that stops sending with the idle timeout, before the deadline', { timeout: 20_000 }, async () => {
    const client = createGitHttpClient({ idleTimeoutMs: 100, deadlineMs: 60_000, fetch: async () => new Response(endless(1, 60_000), { status: 200 }) });
    await expect(client.request(REFS)).rejects.toThrow('git HTTP request idle for 100 ms');
  });

  it('does not wait for a retry the deadline leaves no time for', async () => {
    let calls = 0;
    const client = createGitHttpClient({
      deadlineMs: 200,
      retryDelayMs: 10_000,
      fetch: async () => {
        calls++;
        return new Response('down', { status: 500 });
      },
    });
    const res = await client.request(REFS);
    expect([res.statusCode, calls]).toEqual([500, 1]);
  });
  it('sends credentials after a redirect only to the same origin (a git host moving a repository elsewhere gets none)', async () => {
    const seen: Array<{ port: number; auth?: string }> = [];
    const listen = async (handler: (port: number, req: http.IncomingMessage, res: http.ServerResponse) => void) => {
      const server = http.createServer((req, res) => handler((server.address() as AddressInfo).port, req, res));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return server;
    };
    const other = await listen((port, req, res) => {
      seen.push({ port, auth: req.headers.authorization });
      res.end('refs');
    });
    const otherPort = (other.address() as AddressInfo).port;
    const host = await listen((port, req, res) => {
      seen.push({ port, auth: req.headers.authorization });
      const target = req.url!.startsWith('/moved') ? `http://127.0.0.1:${otherPort}/r/info/refs` : '/moved/r/info/refs';
      res.writeHead(302, { location: target }).end();
    });
    const hostPort = (host.address() as AddressInfo).port;
    try {
      const res = await createGitHttpClient().request({ url: `http://127.0.0.1:${hostPort}/r/info/refs`, method: 'GET', headers: { authorization: 'Bearer s3cret' } });
      await drain(res.body);
      expect(seen).toEqual([
        { port: hostPort, auth: 'Bearer s3cret' },
        { port: hostPort, auth: 'Bearer s3cret' },
        { port: otherPort, auth: undefined },
      ]);
    } finally {
      host.closeAllConnections();
      other.closeAllConnections();
      await Promise.all([host, other].map((s) => new Promise((r) => s.close(r))));
    }
  });
});
