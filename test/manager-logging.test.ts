// The access log (Gunicorn's atoms, or JSON), the error log, and reopening both on USR1.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { get, killAll, sleep, startServer, tmpdir, tsgi } from './manager-harness';
import { linesOf } from './helpers/time';
import { clfTime, compileAccessFormat } from '../src/logging/access-log';

afterEach(killAll);
const dir = tmpdir('tsgi-logs-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('access log atoms', () => {
  const environ = {
    REQUEST_METHOD: 'GET', REQUEST_URI: '/a/b?x=1', PATH_INFO: '/a/b', QUERY_STRING: 'x=1', SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '10.0.0.7', HTTP_USER_AGENT: 'curl/8', HTTP_REFERER: 'http://r/', HTTP_X_ID: 'abc',
  };
  const rec = { environ, status: 404, bytesSent: 0, durationMs: 12.5, start: Date.UTC(2026, 0, 2, 3, 4, 5), pid: 42, worker: 3 };

  it('renders each atom as Gunicorn does', () => {
    const f = compileAccessFormat('%(h)s|%(l)s|%(u)s|%(r)s|%(m)s|%(U)s|%(q)s|%(H)s|%(s)s|%(B)s|%(b)s|%(f)s|%(a)s|%(T)s|%(M)s|%(D)s|%(L)s|%(p)s|%(w)s|%({x-id}i)s|%({PATH_INFO}e)s|%({server}o)s');
    expect(f(rec)).toBe('10.0.0.7|-|-|GET /a/b?x=1 HTTP/1.1|GET|/a/b|x=1|HTTP/1.1|404|0|-|http://r/|curl/8|0|13|12500|0.012500|<42>|3|abc|/a/b|-');
    expect(compileAccessFormat('%(t)s')(rec)).toBe(clfTime(rec.start));
    expect(clfTime(rec.start)).toMatch(/^\[\d\d\/Jan\/2026:\d\d:\d\d:05 [+-]\d{4}\]$/);
  });

  it("'json' writes one object a line", () => {
    const obj = JSON.parse(compileAccessFormat('json')({ ...rec, bytesSent: 10 }));
    expect(obj).toMatchObject({ method: 'GET', uri: '/a/b?x=1', status: 404, bytes: 10, remote_addr: '10.0.0.7', pid: 42, worker: 3, duration_ms: 12.5 });
  });
});

describe('access log files', () => {
  it('lines follow the format, one per request, from every worker', async () => {
    const file = path.join(dir, 'access.log');
    const { port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--workers', '2', '--access-log', file,
      '--access-log-format', '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(D)s "%(a)s" %(p)s']);
    for (let i = 0; i < 20; i++) await get({ port }, `/item/${i}?q=${i}`);
    const lines = await linesOf(file, 20);
    expect(lines).toHaveLength(20);
    const re = /^127\.0\.0\.1 \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET \/item\/(\d+)\?q=\1 HTTP\/1\.1" 200 \d+ \d+ "-" <\d+>$/;
    for (const l of lines) expect(l).toMatch(re);
    expect(new Set(lines.map((l) => /\/item\/(\d+)/.exec(l)![1])).size).toBe(20);
  });

  it('JSON lines', async () => {
    const file = path.join(dir, 'access.json');
    const { port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--access-log', file, '--access-log-format', 'json']);
    await get({ port }, '/j');
    const [line] = await linesOf(file, 1);
    expect(JSON.parse(line)).toMatchObject({ method: 'GET', uri: '/j', status: 200, protocol: 'HTTP/1.1', remote_addr: '127.0.0.1' });
  });

  it('USR1 reopens the access log and the error log (after a rotation)', async () => {
    const access = path.join(dir, 'rot-access.log');
    const errors = path.join(dir, 'rot-error.log');
    const t = tsgi(['pid.js', '--bind', '127.0.0.1:0', '--access-log', access, '--error-log', errors]);
    // The error log goes to its file, not to stderr.
    const deadline = Date.now() + 20_000;
    while (!/msg="server ready"/.test(fs.existsSync(errors) ? fs.readFileSync(errors, 'utf8') : '') && Date.now() < deadline) await sleep(50);
    const port = Number(/role=master address=127\.0\.0\.1:(\d+)/.exec(fs.readFileSync(errors, 'utf8'))![1]);
    expect(t.err()).toBe('');
    await get({ port }, '/before');
    await linesOf(access, 1);
    fs.renameSync(access, access + '.1');
    fs.renameSync(errors, errors + '.1');
    process.kill(t.pid, 'SIGUSR1');
    await sleep(500);
    await get({ port }, '/after');
    const lines = await linesOf(access, 1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('GET /after');
    expect(fs.readFileSync(access + '.1', 'utf8')).toContain('GET /before');
    const errorLines = await linesOf(errors, 1);
    expect(errorLines.join('\n')).toMatch(/level=info msg="log files reopened" pid=\d+ role=master/);
    expect(fs.readFileSync(errors + '.1', 'utf8')).toMatch(/msg="server ready"/);
  });

  it('application tracebacks (wsgi.errors) go to the error log file', async () => {
    const errors = path.join(dir, 'tracebacks.log');
    const t = tsgi(['pid.js', '--bind', '127.0.0.1:0', '--error-log', errors]);
    const deadline = Date.now() + 20_000;
    while (!/msg="server ready"/.test(fs.existsSync(errors) ? fs.readFileSync(errors, 'utf8') : '') && Date.now() < deadline) await sleep(50);
    const port = Number(/role=master address=127\.0\.0\.1:(\d+)/.exec(fs.readFileSync(errors, 'utf8'))![1]);
    expect((await get({ port }, '/error')).status).toBe(500);
    await sleep(200);
    expect(fs.readFileSync(errors, 'utf8')).toContain('the application failed on purpose');
    expect(t.err()).not.toContain('the application failed on purpose');
  });
});
