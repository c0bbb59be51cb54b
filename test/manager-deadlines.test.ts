// Deadlines and recycling: --timeout kills a worker whose event loop is blocked,
// --harakiri ends a request that runs too long (naming the request and the worker),
// --max-requests with --max-requests-jitter recycles workers.
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

  it('--harakiri: a request running longer is ended, its worker replaced, and the log names both', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--harakiri', '1s']);
    const [first] = t.workerPids();
    const started = Date.now();
    const slow = await get({ port }, '/slow?ms=5000').catch((e: Error) => e);
    expect(slow).toBeInstanceOf(Error); // the connection closed without a response
    expect(Date.now() - started).toBeLessThan(3500);
    const m = t.err().match(/msg="HARAKIRI: request ran too long; killing the worker" .*worker=(\d+) worker_pid=(\d+) request="([^"]+)" remote_addr=(\S+) running_ms=(\d+)/);
    expect(m, t.err()).not.toBeNull();
    expect(m![1]).toBe('1');
    expect(Number(m![2])).toBe(first);
    expect(m![3]).toBe('GET /slow?ms=5000 HTTP/1.1');
    expect(m![4]).toBe('127.0.0.1');
    expect(Number(m![5])).toBeGreaterThanOrEqual(1000);
    await t.waitFor(/msg="worker ready"[\s\S]*msg="worker ready"/, 10_000);
    // Requests under the limit are untouched.
    const quick = await get({ port }, '/slow?ms=200');
    expect(quick.status).toBe(200);
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
