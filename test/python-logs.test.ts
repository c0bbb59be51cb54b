// The access log, the stats and the error log of Python applications: the native core
// keeps what each finished request leaves (no JavaScript per request) and the worker
// writes it through the same access log and counters as for JavaScript applications.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAll, removeTmpdirs, sleep, tmpdir, tsgi } from './manager-harness';
import { linesOf } from './helpers/time';
import { hasPython, PY_APPS, request, skipReason, startPython } from './helpers/python';

afterEach(killAll);
afterAll(removeTmpdirs);

async function textOf(file: string, re: RegExp, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (re.test(text) || Date.now() > deadline) return text;
    await sleep(50);
  }
}

function readStats(port: number): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let data = '';
    c.setEncoding('utf8').on('data', (d) => (data += d)).on('end', () => resolve(JSON.parse(data))).on('error', reject);
  });
}

const statsPortOf = (err: string) => Number(/msg="stats server listening" .*address=[\d.]+:(\d+)/.exec(err)![1]);
const FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(B)s "%(f)s" "%(a)s" %({x-trace}i)s %(U)s %(q)s %(p)s %(w)s %(D)s';

describe.skipIf(!hasPython)(`Python: access log, stats, error log${skipReason}`, () => {
  for (const threads of ['1', '2']) {
    it(`--access-log: a line per request with status, bytes and headers (--threads ${threads})`, async () => {
      const file = path.join(tmpdir('tsgi-pylog-'), 'access.log');
      const { port } = await startPython(['hello.py:app', '--threads', threads, '--access-log', file, '--access-log-format', FORMAT]);
      expect((await request(port, 'GET', '/', { headers: { 'User-Agent': 'probe/1', Referer: 'http://ref/', 'X-Trace': 't-1' } })).status).toBe(200);
      expect((await request(port, 'GET', '/missing/%C3%A9?x=1')).status).toBe(404);
      expect((await request(port, 'GET', '/raise')).status).toBe(500);
      expect((await request(port, 'POST', '/echo', { body: 'x'.repeat(5000) })).body.length).toBe(5000);
      const lines = await linesOf(file, 4);
      expect(lines).toHaveLength(4);
      expect(lines[0]).toMatch(/^127\.0\.0\.1 "GET \/ HTTP\/1\.1" 200 13 13 "http:\/\/ref\/" "probe\/1" t-1 \/ {2}<\d+> 1 \d+$/);
      expect(lines[1]).toMatch(/^127\.0\.0\.1 "GET \/missing\/%C3%A9\?x=1 HTTP\/1\.1" 404 10 10 "-" "-" - \/missing\/\S+ x=1 <\d+> 1 \d+$/);
      expect(lines[2]).toMatch(/^127\.0\.0\.1 "GET \/raise HTTP\/1\.1" 500 \d+ \d+ /);
      expect(lines[3]).toMatch(/^127\.0\.0\.1 "POST \/echo HTTP\/1\.1" 200 5000 5000 /);
    });
  }

  it("--access-log-format json: one object per request", async () => {
    const file = path.join(tmpdir('tsgi-pylog-'), 'access.json');
    const { port } = await startPython(['hello.py:app', '--access-log', file, '--access-log-format', 'json']);
    await request(port, 'GET', '/stream?a=b', { headers: { 'User-Agent': 'json-probe' } });
    const [line] = await linesOf(file, 1);
    expect(JSON.parse(line)).toMatchObject({
      method: 'GET', uri: '/stream?a=b', path: '/stream', query: 'a=b', protocol: 'HTTP/1.1', status: 200,
      bytes: 40, remote_addr: '127.0.0.1', user_agent: 'json-probe', referer: null,
    });
  });

  it('--stats counts Python requests, 5xx answers, bytes and time', async () => {
    const { t, port } = await startPython(['hello.py:app', '--stats', '127.0.0.1:0']);
    const sp = statsPortOf(t.err());
    for (let i = 0; i < 10; i++) expect((await request(port, 'GET', '/')).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await request(port, 'GET', '/raise')).status).toBe(500);
    const s = await readStats(sp);
    const [w] = s.workers;
    expect(w.requests).toBe(12);
    expect(w.exceptions).toBe(2);
    expect(w.tx).toBeGreaterThanOrEqual(10 * 13);
    expect(w.running_time).toBeGreaterThan(0);
    expect(w.in_flight).toBe(0);
    expect(s.totals.requests).toBe(12);
  });

  for (const threads of ['1', '2']) {
    it(`--access-log: %(u)s and %({KEY}e)s from the environ as the application left it, %(h)s the client a trusted proxy named (--threads ${threads})`, async () => {
      const file = path.join(tmpdir('tsgi-pylog-'), 'access.log');
      const format = '%(h)s %(u)s %({app.tag}e)s %({wsgi.url_scheme}e)s %({HTTP_X_TRACE}e)s %({REMOTE_ADDR}e)s "%(r)s" %(s)s';
      const { port } = await startPython(['hello.py:app', '--threads', threads, '--access-log', file, '--access-log-format', format]);
      expect((await request(port, 'GET', '/auth', { headers: { 'X-Trace': 't-1' } })).status).toBe(200);
      expect((await request(port, 'GET', '/auth', { headers: { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https' } })).status).toBe(200);
      expect((await request(port, 'GET', '/')).status).toBe(200);
      const lines = await linesOf(file, 3);
      expect(lines).toEqual([
        '127.0.0.1 alice t-9 http t-1 127.0.0.1 "GET /auth HTTP/1.1" 200',
        '203.0.113.7 alice t-9 https - 203.0.113.7 "GET /auth HTTP/1.1" 200',
        '127.0.0.1 - - http - 127.0.0.1 "GET / HTTP/1.1" 200',
      ]);
    });
  }

  it.each(['1', '3'])('--stats counts the requests harakiri ended (workers and totals), --threads %s', async (threads) => {
    const { t, port } = await startPython(['gateway.py:slow', '--threads', threads, '--harakiri', '1s', '--stats', '127.0.0.1:0']);
    const sp = statsPortOf(t.err());
    expect((await request(port, 'GET', '/sleep')).status).toBe(504);
    expect((await request(port, 'GET', '/spin')).status).toBe(504);
    expect((await request(port, 'GET', '/pid')).status).toBe(200);
    await expect.poll(async () => (await readStats(sp)).workers[0].harakiri_count, { timeout: 10_000, interval: 200 }).toBe(2);
    const s = await readStats(sp);
    expect(s.totals.harakiri_count).toBe(2);
    expect(s.workers[0].requests).toBe(3);
  }, 30_000);

  it.each(['1', '3'])('a request harakiri ends after its client left is counted and logged as when the client stays (--threads %s)', async (threads) => {
    const file = path.join(tmpdir('tsgi-pylog-'), 'access.log');
    const { t, port } = await startPython(['gateway.py:slow', '--threads', threads, '--harakiri', '1s', '--stats', '127.0.0.1:0',
      '--access-log', file, '--access-log-format', '%({app.tag}e)s "%(r)s" %(s)s']);
    const sp = statsPortOf(t.err());
    /** Sends GET path and leaves (a reset) once `leave` resolves. */
    const leaveDuring = async (pathName: string, leave: (c: net.Socket) => Promise<unknown>) => {
      const c = net.connect(port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => c.once('connect', resolve).once('error', reject));
      c.on('error', () => {});
      c.write(`GET ${pathName} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await leave(c);
      c.resetAndDestroy();
    };
    // The client stays: answered 504.
    expect((await request(port, 'GET', '/sleep-tagged')).status).toBe(504);
    // The client leaves before the deadline while the application sleeps. (With --threads 1 the
    // loop thread is the one running Python, and output waits until it returns: the client's
    // leaving is found by the 504's write. With --threads N the loop sees it at once.)
    await leaveDuring('/sleep-tagged', () => sleep(300));
    await expect.poll(async () => (await readStats(sp)).workers[0].harakiri_count, { timeout: 10_000, interval: 200 }).toBe(2);
    // The client leaves once the head and a byte came; with --threads N the application's next
    // write fails, it catches the error and runs on until harakiri ends it.
    await leaveDuring('/write-sleep', (c) => new Promise((resolve) => c.once('data', resolve)));
    await expect.poll(async () => (await readStats(sp)).workers[0].harakiri_count, { timeout: 10_000, interval: 200 }).toBe(3);
    expect((await request(port, 'GET', '/pid')).status).toBe(200);
    const lines = await linesOf(file, 4, 10_000);
    expect(lines).toEqual([
      'tag-h "GET /sleep-tagged HTTP/1.1" 504',
      'tag-h "GET /sleep-tagged HTTP/1.1" 504',
      'tag-w "GET /write-sleep HTTP/1.1" 200',
      '- "GET /pid HTTP/1.1" 200',
    ]);
    const s = await readStats(sp);
    expect(s.totals.harakiri_count).toBe(3);
    expect(s.workers[0].requests).toBe(4);
    expect(s.workers[0].in_flight).toBe(0);
  }, 40_000);

  it('--error-log FILE: a traceback of the application goes there, and to the new file after USR1', async () => {
    const file = path.join(tmpdir('tsgi-pylog-'), 'error.log');
    const t = tsgi(['hello.py:app', '--bind', '127.0.0.1:0', '--workers', '1', '--error-log', file], { cwd: PY_APPS });
    const ready = await textOf(file, /msg="server ready"/, 20_000);
    const port = Number(/role=master address=127\.0\.0\.1:(\d+)/.exec(ready)![1]);
    expect((await request(port, 'GET', '/raise')).status).toBe(500);
    const text = await textOf(file, /RuntimeError: boom from the application/);
    expect(text).toMatch(/Traceback \(most recent call last\)/);
    expect(text).toMatch(/hello\.py", line \d+, in app/);
    expect(text).toMatch(/RuntimeError: boom from the application/);
    expect(t.err()).not.toContain('boom from the application');
    // Rotated: the worker's next traceback goes to the file opened again.
    fs.renameSync(file, file + '.1');
    process.kill(t.pid, 'SIGUSR1');
    await textOf(file, /./, 5000);
    await sleep(300);
    expect((await request(port, 'GET', '/raise')).status).toBe(500);
    expect(await textOf(file, /RuntimeError: boom from the application/)).toMatch(/RuntimeError: boom from the application/);
    expect((fs.readFileSync(file + '.1', 'utf8').match(/RuntimeError: boom/g) ?? []).length).toBe(1);
  });
});
