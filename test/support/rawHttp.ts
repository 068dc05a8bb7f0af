// One HTTP/1.1 exchange written byte by byte on a TCP socket, for what fetch
// cannot do: announce a 200 MiB body and send none of it, stream a chunked
// body that never ends, and see whether the server closed the connection.
import net from 'node:net';

export interface RawExchange {
  /** The status of the first response ("HTTP/1.1 413 …" → 413); 0 if none came. */
  status: number;
  /** Everything the server sent. */
  text: string;
  /** Whether the server closed the connection (we never close it first). */
  closedByServer: boolean;
  /** Bytes of body this client managed to write before the connection closed. */
  bodyBytesWritten: number;
  /**
   * Whether the connection was reset under a write of ours: a server that
   * closes with body bytes unread makes the kernel answer them with a reset,
   * which can overtake its answer at a client that is still sending.
   */
  reset: boolean;
}

export interface RawOptions {
  /**
   * After the head: nothing ('none'), one chunk of a chunked body that never
   * ends ('one-chunk'), or body bytes written for as long as the server
   * takes them and has not begun to answer ('stream': a client that stops
   * sending on an early response, as HTTP/1.1 asks of it).
   */
  body?: 'none' | 'one-chunk' | 'stream' | Buffer;
  /** Bound on the whole exchange: how long to wait for the server to answer and close. */
  waitMs?: number;
}

/**
 * Writes `head` (request line and headers, CRLF-separated, ending in a blank
 * line) and then the body as `opts.body` says, and waits until the server
 * closes the connection, or `waitMs` passes (then closedByServer is false).
 */
export function rawExchange(port: number, head: string, opts: RawOptions = {}): Promise<RawExchange> {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  let written = 0;
  let closed = false;
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  let reset = false;
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ECONNRESET') reset = true;
  });
  const finished = new Promise<void>((resolve) => socket.on('close', () => ((closed = true), resolve())));
  socket.write(head);
  const body = opts.body ?? 'none';
  if (Buffer.isBuffer(body)) {
    socket.write(body);
    written = body.length;
  } else if (body === 'one-chunk') {
    socket.write('5\r\nhello\r\n');
  } else if (body === 'stream') {
    const chunk = Buffer.alloc(1 << 20, 'x');
    const pump = () => {
      while (!closed && !socket.destroyed && text === '') {
        written += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    socket.destroy();
  }, opts.waitMs ?? 30_000);
  return finished.then(() => {
    clearTimeout(timer);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
    return { status, text, closedByServer: !timedOut, bodyBytesWritten: written, reset };
  });
}
