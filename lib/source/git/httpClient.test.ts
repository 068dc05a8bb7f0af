import { describe, expect, it } from 'vitest';
import { createGitHttpClient } from './httpClient.js';

/** What Node's fetch throws when a kept-alive connection was reset before any answer. */
function resetError(): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
}

describe('git HTTP client', () => {
  it('sends a read again when its connection was reset before any answer', async () => {
    let calls = 0;
    const client = createGitHttpClient({
      fetch: async () => {
        calls++;
        if (calls === 1) throw resetError();
        return new Response('ok', { status: 200 });
      },
    });
    const res = await client.request({ url: 'http://127.0.0.1:1/r/info/refs?service=git-upload-pack', method: 'GET', headers: {} });
    expect([res.statusCode, calls]).toEqual([200, 2]);
    for await (const _ of res.body!) void _;
  });

  it('gives up after two more tries, and never retries other failures', async () => {
    let calls = 0;
    const resets = createGitHttpClient({
      fetch: async () => {
        calls++;
        throw resetError();
      },
    });
    await expect(resets.request({ url: 'http://127.0.0.1:1/x', method: 'GET', headers: {} })).rejects.toThrow('fetch failed');
    expect(calls).toBe(3);
    calls = 0;
    const refused = createGitHttpClient({
      fetch: async () => {
        calls++;
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
      },
    });
    await expect(refused.request({ url: 'http://127.0.0.1:1/x', method: 'GET', headers: {} })).rejects.toThrow('fetch failed');
    expect(calls).toBe(1);
  });
});
