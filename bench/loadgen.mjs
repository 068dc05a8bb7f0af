// A closed-loop HTTP/1.1 load generator on raw sockets, run in its own
// process by bench/run.ts (hits scenario) so that it does not share the
// server's event loop. Each of `connections` keep-alive connections sends one
// GET, reads the response (headers, then Content-Length bytes), and sends the
// next. Parsing is minimal on purpose: the client must be cheaper than the
// servers it measures. Each socket reads into one buffer of its own, reused
// for every read (net's `onread`), so a large body costs the client the
// kernel's copy and a count, not a Buffer per chunk. Prints one JSON line:
// requests/s, errors, p50/p99 ms, and how busy its own CPU was (1: saturated,
// the client set the pace).
//
//   node bench/loadgen.mjs <url> <connections> <seconds>
import net from 'node:net';

const [url, connArg, secArg] = process.argv.slice(2);
const u = new URL(url);
const connections = Number(connArg ?? 32);
const seconds = Number(secArg ?? 4);
const request = Buffer.from(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: modproxy-bench\r\n\r\n`);
const CRLF2 = Buffer.from('\r\n\r\n');
/** Bytes one read may take: a 256 KiB zip arrives in one or two reads. */
const READ_BYTES = 1 << 20;

let done = 0;
let errors = 0;
let stopping = false;
const latencies = new Float64Array(8_000_000);
let nLat = 0;

function connection() {
  return new Promise((resolve) => {
    /** Response head bytes seen so far, when a head spans reads (copied: the read buffer is reused). */
    let head = Buffer.alloc(0);
    /** Body bytes still to come of the current response; -1 while reading a head. */
    let bodyLeft = -1;
    let sent = 0;
    const sock = net.connect({
      port: Number(u.port),
      host: u.hostname,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BYTES),
        callback: (n, buf) => {
          let at = 0;
          while (at < n) {
            if (bodyLeft > 0) {
              const take = Math.min(bodyLeft, n - at);
              bodyLeft -= take;
              at += take;
              if (bodyLeft === 0) finish();
              continue;
            }
            // A head: from what was carried over and this read.
            const chunk = head.length ? Buffer.concat([head, buf.subarray(at, n)]) : buf.subarray(at, n);
            const end = chunk.indexOf(CRLF2);
            if (end < 0) {
              head = Buffer.from(chunk);
              return;
            }
            const text = chunk.subarray(0, end).toString('latin1');
            if (Number(text.slice(9, 12)) !== 200) errors++;
            const m = /\r\ncontent-length:\s*(\d+)/i.exec(text);
            const len = m ? Number(m[1]) : 0;
            // Where the body starts in this read (the carried part came before it).
            at += end + 4 - head.length;
            head = Buffer.alloc(0);
            bodyLeft = len;
            if (len === 0) finish();
          }
        },
      },
    });
    sock.setNoDelay(true);
    const send = () => {
      if (stopping) {
        sock.end();
        return;
      }
      sent = performance.now();
      sock.write(request);
    };
    function finish() {
      bodyLeft = -1;
      done++;
      if (nLat < latencies.length) latencies[nLat++] = performance.now() - sent;
      send();
    }
    sock.on('connect', send);
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
