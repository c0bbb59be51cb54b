// A connection whose queued output is over the high-water mark is neither read nor
// dispatched until it drains; then its buffered pipelined requests are answered in order,
// a FIN received meanwhile included.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { b, GET, parseResponses, sleep, startServer, waitFor, type TestServer } from './native-harness';

let srv: TestServer | undefined;
afterEach(async () => { await srv?.close(); srv = undefined; });

const PAGE = 64 * 1024;

function page(uri: string): Buffer {
  const body = Buffer.alloc(PAGE, 0x2e);
  body.write(`${uri}\n`);
  return body;
}

/** Pipelines n GETs (then FIN when end), reads nothing for pauseMs, then everything. */
async function pipeline(port: number, n: number, end: boolean, pauseMs: number, onPaused: () => void) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.pause();
  let reqs = '';
  for (let i = 0; i < n; i++) reqs += GET(`/p${i}`);
  if (end) sock.end(reqs);
  else sock.write(reqs);
  await sleep(pauseMs);
  onPaused();
  const chunks: Buffer[] = [];
  let closed = false;
  sock.on('data', (d) => chunks.push(d));
  sock.on('close', () => { closed = true; });
  sock.resume();
  const size = () => chunks.reduce((a, c) => a + c.length, 0);
  await waitFor(() => closed || size() >= n * (PAGE + 40), 20_000, 'every response');
  if (end) await waitFor(() => closed, 5000, 'the close after the last response');
  sock.destroy();
  return { responses: parseResponses(Buffer.concat(chunks).toString('latin1')), closed };
}

describe('output high-water mark', () => {
  it('a client that pipelines without reading gets only a bounded number of requests dispatched; all are answered in order once it reads', async () => {
    srv = await startServer({}, (req) => { b.respond(req.conn, 200, '200 OK\r\n', page(req.uri), -1, 0); });
    const n = 400;  // 25 MB of responses: far more than the socket buffers hold
    let dispatchedWhilePaused = 0;
    const { responses } = await pipeline(srv.port, n, false, 600, () => { dispatchedWhilePaused = srv!.requests.length; });
    expect(dispatchedWhilePaused).toBeLessThan(n / 2);
    expect(responses.length).toBe(n);
    expect(responses.every((r, i) => r.status === 200 && r.body.startsWith(`/p${i}\n`))).toBe(true);
  });

  it('a FIN that arrives while paused does not drop the buffered requests: all answered, then the close', async () => {
    srv = await startServer({}, (req) => { b.respond(req.conn, 200, '200 OK\r\n', page(req.uri), -1, 0); });
    const n = 200;
    const { responses, closed } = await pipeline(srv.port, n, true, 400, () => {});
    expect(responses.length).toBe(n);
    expect(responses.every((r, i) => r.status === 200 && r.body.startsWith(`/p${i}\n`))).toBe(true);
    expect(closed).toBe(true);
  });

  it('an application answering later (asynchronously) is paused and resumed the same way', async () => {
    srv = await startServer({}, (req) => { setImmediate(() => b.respond(req.conn, 200, '200 OK\r\n', page(req.uri), -1, 0)); });
    const n = 300;
    let dispatchedWhilePaused = 0;
    const { responses } = await pipeline(srv.port, n, false, 600, () => { dispatchedWhilePaused = srv!.requests.length; });
    expect(dispatchedWhilePaused).toBeLessThan(n / 2);
    expect(responses.length).toBe(n);
    expect(responses.every((r, i) => r.status === 200 && r.body.startsWith(`/p${i}\n`))).toBe(true);
  });
});
