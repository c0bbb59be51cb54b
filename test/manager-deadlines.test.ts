// Deadlines and recycling: --timeout kills a worker whose event loop is blocked,
// --harakiri ends a request that runs too long (504, naming the request and the worker)
// and kills the worker only when its event loop is blocked, --max-requests (with
// --max-requests-jitter, and across threads) recycles workers.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { get, killAll, load, sleep, startServer } from './manager-harness';

afterEach(killAll);

describe('deadlines', () => {
  it('--timeout: a worker whose event loop is blocked that long is killed and replaced', async () => {
    const { t, port } = await startServer(['block-on-load.js', '--bind', '127.0.0.1:0', '--timeout', '1s'], { env: { BLOCK_AFTER_MS: '300' } });
    const [hung] = t.workerPids();
    const m = await t.waitFor(/msg="WORKER TIMEOUT: event loop blocked; killing the worker" .*worker_pid=(\d+) blocked_ms=(\d+)/, 10_000);
    expect(Number(m[1])).toBe(hung);
    expect(Number(m[2])).toBeGreaterThan(1000);
    expect(Number(m[2])).toBeLessThan(2500);
    await t.waitFor(new RegExp(`msg="worker died" .*worker_pid=${hung} how="signal SIGKILL" reason=timeout`));
    // The replacement boots (and hangs in its turn, 300 ms later): a fresh pid answers first.
    await t.waitFor(/msg="worker ready"[\s\S]*msg="worker ready"/, 10_000);
    expect(t.workerPids().length).toBeGreaterThanOrEqual(2);
    void port;
  });

  it('--timeout: a request that blocks the event loop gets its worker killed', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--timeout', '1s']);
    const [first] = t.workerPids();
    const blocked = get({ port }, '/block').catch((e: Error) => e);
    await t.waitFor(new RegExp(`msg="WORKER TIMEOUT.*worker_pid=${first}`), 10_000);
    expect(await blocked).toBeInstanceOf(Error);
    await t.waitFor(/msg="worker ready"[\s\S]*msg="worker ready"/, 10_000);
    const r = await get({ port });
    expect(r.status).toBe(200);
    expect(r.body.split(' ')[0]).not.toBe(String(first));
  });

  it('--timeout in threads mode: one blocked thread gets its worker process replaced', async () => {
    // 3 seconds (a bare number is seconds): worker threads booting on a loaded machine can
    // hold a thread's event loop for over a second.
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--threads', '2', '--timeout', '3']);
    const [first] = t.workerPids();
    const blocked = get({ port }, '/block').catch((e: Error) => e);
    const m = await t.waitFor(new RegExp(`msg="WORKER TIMEOUT.*worker_pid=${first} blocked_ms=(\\d+)`), 15_000);
    expect(Number(m[1])).toBeGreaterThan(3000);
    expect(await blocked).toBeInstanceOf(Error);
    await t.waitFor(/msg="worker ready"[\s\S]*msg="worker ready"/, 10_000);
    expect((await get({ port })).body.split(' ')[0]).not.toBe(String(first));
  });

  it('--harakiri: only the slow request is ended (504); a concurrent shorter one completes and the worker stays', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--harakiri', '2s']);
    const [first] = t.workerPids();
    const started = Date.now();
    const slow = get({ port }, '/slow?ms=6000');
    await sleep(700);
    // Still running when the slow one reaches its deadline (2 s), done before its own.
    const other = get({ port }, '/slow?ms=1500');
    const [s, o] = await Promise.all([slow, other]);
    expect(s.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(o.status).toBe(200);
    expect(o.body.split(' ')[0]).toBe(String(first));
    const m = t.err().match(/msg="HARAKIRI: request ran too long; ended it" pid=(\d+) worker=(\d+) request="([^"]+)" remote_addr=(\S+) running_ms=(\d+) status=504/);
    expect(m, t.err()).not.toBeNull();
    expect(Number(m![1])).toBe(first);
    expect(m![2]).toBe('1');
    expect(m![3]).toBe('GET /slow?ms=6000 HTTP/1.1');
    expect(m![4]).toBe('127.0.0.1');
    expect(Number(m![5])).toBeGreaterThanOrEqual(1900);
    // The worker was kept: same pid, nothing killed or restarted.
    expect((await get({ port })).body.split(' ')[0]).toBe(String(first));
    expect(t.workerPids()).toEqual([first]);
    expect(t.err()).not.toMatch(/msg="worker died"|killing the worker/);
  });

  it('--harakiri: a request that blocks the event loop past it gets its worker killed', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--harakiri', '1s']);
    const [first] = t.workerPids();
    const blocked = await get({ port }, '/block').catch((e: Error) => e);
    expect(blocked).toBeInstanceOf(Error); // the connection closed without a response
    // The request started after the last heartbeat, so the master knows only that the loop stopped.
    const m = t.err().match(/msg="HARAKIRI: event loop blocked past harakiri; killing the worker" .*worker=(\d+) worker_pid=(\d+) blocked_ms=(\d+)/);
    expect(m, t.err()).not.toBeNull();
    expect(m![1]).toBe('1');
    expect(Number(m![2])).toBe(first);
    expect(Number(m![3])).toBeGreaterThan(1000);
    await t.waitFor(new RegExp(`msg="worker died" .*worker_pid=${first} how="signal SIGKILL" reason=harakiri`));
    await t.waitFor(/msg="worker ready"[\s\S]*msg="worker ready"/, 10_000);
    const quick = await get({ port }, '/slow?ms=200');
    expect(quick.status).toBe(200);
    expect(quick.body.split(' ')[0]).not.toBe(String(first));
  });

  it('--threads 2 --max-requests 3: requests count per process across threads; the old worker stops at once', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--threads', '2', '--max-requests', '3', '--graceful-timeout', '20s']);
    const [first] = t.workerPids();
    const agent = new http.Agent({ keepAlive: false });
    const threads = new Set<string>();
    for (let i = 0; i < 2; i++) threads.add((await get({ port }, '/', agent)).body.trim().split(' ')[1]);
    // Two requests, whichever threads served them: under the limit, no recycling.
    await sleep(1500);
    expect(t.err()).not.toMatch(/msg="recycling worker"/);
    expect((await get({ port }, '/', agent)).body.split(' ')[0]).toBe(String(first));
    const m = await t.waitFor(/msg="recycling worker" .*worker_pid=(\d+) reason="served (\d+) requests \(max-requests 3\)"/);
    expect(Number(m[1])).toBe(first);
    expect(Number(m[2])).toBe(3);
    // The old process stops once its replacement accepts, well before the graceful timeout.
    await t.waitFor(new RegExp(`msg="worker exited" .*worker_pid=${first} how="code 0"`), 10_000);
    expect(t.err()).not.toMatch(/did not stop|msg="worker died"/);
    expect(t.count(/msg="recycling worker"/)).toBe(1);
    expect((await get({ port }, '/', agent)).body.split(' ')[0]).not.toBe(String(first));
    void threads;
  });

  it('--max-requests with --max-requests-jitter recycles workers gracefully', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--workers', '2', '--max-requests', '200', '--max-requests-jitter', '50']);
    const limits = [...t.err().matchAll(/msg="booting worker" .*max_requests=(\d+)/g)].map((m) => Number(m[1]));
    expect(limits).toHaveLength(2);
    for (const l of limits) expect(l).toBeGreaterThanOrEqual(200), expect(l).toBeLessThanOrEqual(250);
    const result = await load(port, { requests: 4000, connections: 4, deadlineMs: 30_000 });
    expect(result.failed, result.errors.join('\n')).toBe(0);
    await sleep(300);
    const recycled = t.count(/msg="recycling worker" .*reason="served \d+ requests \(max-requests \d+\)"/);
    expect(recycled).toBeGreaterThanOrEqual(1);
    // The recycled workers stopped once their replacements accepted, and the replacements serve.
    const deadline = Date.now() + 10_000;
    while (t.count(/msg="stopping worker" .*reason="served/) < 1 && Date.now() < deadline) await sleep(50);
    expect(t.count(/msg="stopping worker" .*reason="served/)).toBeGreaterThanOrEqual(1);
    const original = new Set(t.workerPids().slice(0, 2).map(String));
    const now = new Set<string>();
    for (let i = 0; i < 20; i++) now.add((await get({ port })).body.split(' ')[0]);
    expect([...now].some((p) => !original.has(p))).toBe(true);
    // Each worker stops after its replacement accepts; none was killed.
    expect(t.err()).not.toMatch(/msg="worker died"/);
    // Jitter: the limits differ between workers (almost surely, over this many spawns).
    const all = new Set([...t.err().matchAll(/msg="booting worker" .*max_requests=(\d+)/g)].map((m) => m[1]));
    expect(all.size).toBeGreaterThan(1);
  });
});
