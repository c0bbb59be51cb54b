// The bounded ring in which the native core keeps a Python application's finished requests
// for the access log until JavaScript drains them (NativeAppSink::record_access /
// take_access; the worker drains it every 100 ms). Under a burst larger than the ring the
// oldest entries are dropped and counted, the newest kept in order, the counters stay
// exact, and serving goes on. A Python application embedded in this process, over real
// sockets; then through the CLI, where the worker drains it and warns once.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from '../src/index';
import { loadPythonApp } from '../src/python';
import { hasPython, PY_APPS, skipReason } from './helpers/python';
import { killAll, removeTmpdirs, sleep, startServer as startTsgi, tmpdir } from './manager-harness';

const RING = 8;

function get(agent: http.Agent, port: number, n: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: `/?n=${n}`, agent, headers: { 'X-Seq': String(n) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The entries of one drain as [QUERY_STRING, X-Seq, status]. */
function entries(d: { count: number; text: string; numbers: Float64Array }): Array<[string, string, number]> {
  const fields = d.text.split('\0');
  const width = 6 + 1;
  const out: Array<[string, string, number]> = [];
  for (let i = 0; i < d.count; i++) out.push([fields[i * width + 5], fields[i * width + 6], d.numbers[4 * i + 2]]);
  return out;
}

describe.skipIf(!hasPython)(`Python: the access-log ring between the core and JavaScript${skipReason}`, () => {
  let server: Server;
  let port = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  beforeAll(async () => {
    const app = loadPythonApp({
      app: path.join(PY_APPS, 'hello.py') + ':app', chdir: PY_APPS, pythonpath: [], virtualenv: '',
      scriptName: '', urlScheme: 'http', multiprocess: false, harakiri: 0, threads: 1,
    });
    server = createServer(app, { host: '127.0.0.1', port: 0 });
    await server.listen();
    port = server.address()!.port;
    expect(server.nativeAppLog(RING, ['HTTP_X_SEQ'])).toBe(true);
  }, 60_000);
  afterAll(async () => {
    agent.destroy();
    await server?.close({ timeout: 2000 });
  });

  it('a burst larger than the ring: the oldest entries are dropped and counted, the newest kept in order', async () => {
    // One at a time over one connection: the finishing order is the sending order.
    for (let n = 0; n < 5 * RING; n++) expect(await get(agent, port, n)).toBe(200);
    const d = server.nativeAppDrain()!;
    expect(d.finished).toBe(5 * RING);
    expect(d.dropped).toBe(4 * RING);
    expect(d.count).toBe(RING);
    expect(entries(d)).toEqual(Array.from({ length: RING }, (_, i) => [`n=${4 * RING + i}`, String(4 * RING + i), 200]));
    // Drained: empty until more requests finish; the drop count is a running total.
    const again = server.nativeAppDrain()!;
    expect([again.count, again.dropped, again.finished]).toEqual([0, 4 * RING, 5 * RING]);
  });

  it('a concurrent burst over many connections: nothing crashes, every request is counted, the ring holds its capacity', async () => {
    const before = server.nativeAppDrain()!;
    const burst = 400;
    const statuses = await Promise.all(Array.from({ length: burst }, (_, n) => get(agent, port, 1000 + n)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    const d = server.nativeAppDrain()!;
    expect(d.finished - before.finished).toBe(burst);
    expect(d.count).toBe(RING);
    expect(d.dropped - before.dropped).toBe(burst - RING);
    expect(d.inFlight).toBe(0);
    // The server keeps serving and recording after the overflow.
    expect(await get(agent, port, 7)).toBe(200);
    const after = server.nativeAppDrain()!;
    expect(entries(after)).toEqual([['n=7', '7', 200]]);
    expect(after.dropped).toBe(d.dropped);
  });
});

describe.skipIf(!hasPython)(`Python: the worker's access log under a burst beyond its ring (16,384 entries)${skipReason}`, () => {
  afterAll(async () => {
    await killAll();
    removeTmpdirs();
  });

  it('96,000 pipelined requests: every one answered, the lines not written are dropped with one warning, the worker serves on', async () => {
    const file = path.join(tmpdir('tsgi-pyring-'), 'access.log');
    const { t, port } = await startTsgi(['hello.py:app', '--bind', '127.0.0.1:0', '--workers', '1', '--access-log', file, '--access-log-format', '%(s)s %(U)s'], { cwd: PY_APPS });
    // 40 connections, each sending 2,400 requests at once: the core answers them far faster
    // than the worker drains the ring (every 100 ms).
    const conns = 40;
    const per = 2400;
    const burst = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(per);
    const answered = await Promise.all(Array.from({ length: conns }, () => new Promise<number>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1');
      let got = 0;
      let tail = '';
      const timer = setTimeout(() => { c.destroy(); resolve(got); }, 30_000);
      c.setEncoding('latin1');
      c.on('data', (d: string) => {
        const text = tail + d;
        got += (text.match(/HTTP\/1\.1 200 OK\r\n/g) ?? []).length;
        tail = text.slice(-16);
        if (got >= per) {
          clearTimeout(timer);
          c.destroy();
          resolve(got);
        }
      });
      c.on('error', reject);
      c.write(burst);
    })));
    expect(answered).toEqual(Array(conns).fill(per));
    // The worker serves on and its log catches up with a request after the burst.
    expect((await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/after', agent: false }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject);
    }))).toBe(404);
    const deadline = Date.now() + 10_000;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
      if (lines.at(-1) === '404 /after') break;
      await sleep(100);
    }
    expect(lines.at(-1)).toBe('404 /after');
    const total = conns * per;
    const written = lines.length - 1;
    expect(lines.slice(0, -1).every((l) => l === '200 /')).toBe(true);
    expect(written).toBeGreaterThanOrEqual(16384);
    expect(written).toBeLessThan(total);
    // One warning, naming what was dropped by then (at most what is missing from the file).
    const warnings = t.err().match(/msg="access log lines dropped: requests finished faster than the log was written" .*dropped=(\d+) kept=16384/g) ?? [];
    expect(warnings).toHaveLength(1);
    const dropped = Number(/dropped=(\d+)/.exec(warnings[0])![1]);
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThanOrEqual(total - written);
  }, 60_000);
});
