// A closed-loop HTTP/1.1 load generator on raw sockets, run in its own
// process by bench/run.ts (hits scenario) so that it does not share the
// server's event loop. Each of `connections` keep-alive connections sends one
// GET, reads the response (headers, then Content-Length bytes), and sends the
// next. Parsing is minimal on purpose: the client must be cheaper than the
// servers it measures. Prints one JSON line: requests/s, errors, p50/p99 ms,
// and how busy its own CPU was (1: saturated, the client set the pace).
//
//   node bench/loadgen.mjs <url> <connections> <seconds>
import net from 'node:net';

const [url, connArg, secArg] = process.argv.slice(2);
const u = new URL(url);
const connections = Number(connArg ?? 32);
const seconds = Number(secArg ?? 4);
const request = Buffer.from(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: modproxy-bench\r\n\r\n`);
const CRLF2 = Buffer.from('\r\n\r\n');

let done = 0;
let errors = 0;
let stopping = false;
const latencies = new Float64Array(8_000_000);
let nLat = 0;

function connection() {
  return new Promise((resolve) => {
    const sock = net.connect(Number(u.port), u.hostname);
    sock.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let bodyLeft = -1;
    let sent = 0;
    const send = () => {
      if (stopping) {
        sock.end();
        return;
      }
      sent = performance.now();
      sock.write(request);
    };
    sock.on('connect', send);
    sock.on('data', (chunk) => {
      if (bodyLeft > 0) {
        const n = Math.min(bodyLeft, chunk.length);
        bodyLeft -= n;
        chunk = chunk.subarray(n);
        if (bodyLeft === 0) finish();
        if (chunk.length === 0) return;
      }
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (;;) {
        const end = buf.indexOf(CRLF2);
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const status = Number(head.slice(9, 12));
        if (status !== 200) errors++;
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        const len = m ? Number(m[1]) : 0;
        const rest = buf.subarray(end + 4);
        if (rest.length >= len) {
          buf = rest.subarray(len);
          bodyLeft = 0;
          finish();
          if (buf.length === 0) return;
        } else {
          bodyLeft = len - rest.length;
          buf = Buffer.alloc(0);
          return;
        }
      }
    });
    function finish() {
      bodyLeft = -1;
      done++;
      if (nLat < latencies.length) latencies[nLat++] = performance.now() - sent;
      send();
    }
    sock.on('error', () => {
      errors++;
      resolve();
    });
    sock.on('close', () => resolve());
  });
}

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const all = Promise.all(Array.from({ length: connections }, connection));
setTimeout(() => (stopping = true), seconds * 1000);
await all;
const elapsed = (performance.now() - t0) / 1000;
const lat = latencies.subarray(0, nLat).sort();
const pct = (p) => (nLat ? lat[Math.min(nLat - 1, Math.floor(nLat * p))] : NaN);
console.log(JSON.stringify({ rps: done / elapsed, requests: done, errors, p50ms: pct(0.5), p99ms: pct(0.99), busy: ((c) => (c.user + c.system) / 1e6 / elapsed)(process.cpuUsage(cpu0)) }));
