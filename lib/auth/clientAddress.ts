// The client's address, for failure limits and log lines. X-Forwarded-For is
// a list anyone can write to: each proxy appends the address it received the
// request from, so only the entries appended by proxies we run are facts. With
// `trustedProxyHops` n, the n-th entry from the right is the client (the
// address the outermost trusted proxy saw); with 0 the header is ignored and
// the socket's peer is the client.
import type { IncomingMessage } from 'node:http';
import net from 'node:net';

/**
 * The default `clientAuth.trustedProxyHops`: 1 on Cloud Run and Cloud Functions
 * (gen2 runs on Cloud Run; both set K_SERVICE), where Google's front end
 * appends the address it received the request from; else 0.
 */
export function defaultTrustedProxyHops(env: NodeJS.ProcessEnv): number {
  return env.K_SERVICE ? 1 : 0;
}

export function clientAddress(req: IncomingMessage, trustedProxyHops: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustedProxyHops === 0) return peer;
  const xff = req.headers['x-forwarded-for'];
  const list = (Array.isArray(xff) ? xff.join(',') : (xff ?? '')).split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) return peer;
  // Fewer entries than trusted hops: every entry was appended by a trusted proxy, and the leftmost is the client.
  const entry = list[Math.max(0, list.length - trustedProxyHops)];
  return entry.slice(0, 64);
}

/**
 * The key an address's failures are counted under: IPv4 as it is (an
 * IPv4-mapped IPv6 address is its IPv4 address), IPv6 by its /64 — one
 * subscriber commonly holds a whole /64, so counting single IPv6 addresses
 * would give one attacker 2^64 budgets.
 */
export function addressKey(address: string): string {
  const a = address.replace(/%.*$/, '');
  if (net.isIPv4(a)) return a;
  if (!net.isIPv6(a)) return a;
  const groups = expandIPv6(a);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (with "::" and a trailing dotted IPv4 part). */
function expandIPv6(a: string): number[] {
  let text = a;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
