// The stats endpoint: uWSGI's stats shape as JSON (plain, or over HTTP with /metrics in
// Prometheus text), with counts that match what was served; `tsgi top` reads it.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { get, killAll, run, sleep, startServer } from './manager-harness';

afterEach(killAll);

function readPlain(port: number): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let data = '';
    c.setEncoding('utf8').on('data', (d) => (data += d)).on('end', () => resolve(JSON.parse(data))).on('error', reject);
  });
}

const statsPortOf = (err: string) => Number(/msg="stats server listening" .*address=[\d.]+:(\d+)/.exec(err)![1]);

describe('stats', () => {
  it("--stats ADDR serves a JSON snapshot in uWSGI's shape with the right counts", async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--workers', '2', '--stats', '127.0.0.1:0']);
    const sp = statsPortOf(t.err());
    for (let i = 0; i < 30; i++) await get({ port });
    for (let i = 0; i < 3; i++) expect((await get({ port }, '/error')).status).toBe(500);
    const s = await readPlain(sp);
    for (const k of ['version', 'pid', 'listen_queue', 'load', 'sockets', 'workers']) expect(s).toHaveProperty(k);
    expect(s.pid).toBe(t.pid);
    expect(s.sockets).toEqual([expect.objectContaining({ name: `127.0.0.1:${port}`, max_queue: 2048, queue: 0 })]);
    expect(s.workers).toHaveLength(2);
    for (const w of s.workers) {
      for (const k of ['id', 'pid', 'accepting', 'requests', 'delta_requests', 'exceptions', 'harakiri_count', 'status', 'rss',
        'running_time', 'last_spawn', 'respawn_count', 'tx', 'avg_rt']) expect(w, k).toHaveProperty(k);
      expect(w.accepting).toBe(1);
      expect(w.status).toBe('idle');
      expect(w.rss).toBeGreaterThan(1_000_000);
      expect(w.respawn_count).toBe(0);
    }
    expect(s.workers.map((w: { id: number }) => w.id)).toEqual([1, 2]);
    expect(s.workers.reduce((n: number, w: { requests: number }) => n + w.requests, 0)).toBe(33);
    expect(s.workers.reduce((n: number, w: { exceptions: number }) => n + w.exceptions, 0)).toBe(3);
    expect(s.workers.reduce((n: number, w: { tx: number }) => n + w.tx, 0)).toBeGreaterThan(30 * 8);
    expect(s.workers.reduce((n: number, w: { delta_requests: number }) => n + w.delta_requests, 0)).toBe(33);
    // delta_requests counts since the previous snapshot.
    await get({ port });
    const s2 = await readPlain(sp);
    expect(s2.workers.reduce((n: number, w: { delta_requests: number }) => n + w.delta_requests, 0)).toBe(1);
    expect(s2.load).toBe(0);
  });

  it('--stats-http answers / with the JSON and /metrics in Prometheus text; counts survive a respawn', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--stats', '127.0.0.1:0', '--stats-http', '--harakiri', '500ms']);
    const sp = statsPortOf(t.err());
    for (let i = 0; i < 10; i++) await get({ port });
    // A slow request is ended alone (504): counted, the worker kept.
    expect((await get({ port }, '/slow?ms=3000')).status).toBe(504);
    await sleep(300);
    expect(JSON.parse((await get({ port: sp }, '/')).body).workers[0]).toMatchObject({ requests: 11, respawn_count: 0, harakiri_count: 1 });
    // One that blocks the event loop gets its worker killed and replaced.
    await get({ port }, '/block').catch(() => undefined);
    await t.waitFor(/msg="worker ready"[\s\S]*msg="worker ready"/, 10_000);
    for (let i = 0; i < 5; i++) await get({ port });
    const json = JSON.parse((await get({ port: sp }, '/')).body);
    expect(json.workers).toHaveLength(1);
    expect(json.workers[0]).toMatchObject({ id: 1, requests: 5, respawn_count: 1, harakiri_count: 2 });
    const metrics = await get({ port: sp }, '/metrics');
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = metrics.body;
    expect(text).toMatch(/^# TYPE tsgi_requests_total counter$/m);
    expect(text).toMatch(/^tsgi_requests_total 16$/m);
    expect(text).toMatch(/^tsgi_harakiri_total 2$/m);
    expect(text).toMatch(/^tsgi_workers 1$/m);
    expect(text).toMatch(new RegExp(`^tsgi_worker_requests_total\\{worker="1",pid="${json.workers[0].pid}"\\} 5$`, 'm'));
    expect(text).toMatch(/^tsgi_worker_respawn_total\{worker="1",pid="\d+"\} 1$/m);
    expect(text).toMatch(/^tsgi_listen_queue\{socket="127\.0\.0\.1:\d+"\} 0$/m);
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? -?[\d.e+-]+)$/);
    expect((await get({ port: sp }, '/nope')).status).toBe(404);
  });

  it('load counts requests in flight', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--stats', '127.0.0.1:0']);
    const slow = [get({ port }, '/slow?ms=1500'), get({ port }, '/slow?ms=1500')];
    await sleep(400);
    const s = await readPlain(statsPortOf(t.err()));
    expect(s.load).toBe(2);
    expect(s.workers[0].status).toBe('busy');
    await Promise.all(slow);
  });

  it('listen_queue counts connections waiting in the kernel while no worker accepts', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--stats', '127.0.0.1:0']);
    const blocked = get({ port }, '/block', undefined, 3000).catch(() => undefined);
    await sleep(300);
    const waiting = Array.from({ length: 3 }, () => net.connect(port, '127.0.0.1').on('error', () => {}));
    await sleep(300);
    const s = await readPlain(statsPortOf(t.err()));
    expect(s.listen_queue).toBe(3);
    expect(s.sockets[0].queue).toBe(3);
    for (const c of waiting) c.destroy();
    void blocked;
  });

  it('tsgi top ADDR shows the workers', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--workers', '2', '--stats', '127.0.0.1:0']);
    for (let i = 0; i < 4; i++) await get({ port });
    const r = await run(['top', `127.0.0.1:${statsPortOf(t.err())}`, '--once']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tsgi \S+ - 127\.0\.0\.1:\d+ - master pid \d+/);
    expect(r.stdout).toMatch(/WID +PID +STATUS +REQ +RPS/);
    for (const pid of t.workerPids()) expect(r.stdout).toMatch(new RegExp(`^\\d +${pid} +idle +\\d+`, 'm'));
    const bad = await run(['top', '127.0.0.1:1', '--once']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cannot read stats from 127\.0\.0\.1:1/);
  });
});
