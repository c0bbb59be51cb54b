// Master and workers: N workers all serve; a worker killed under load is replaced
// within a second while the others keep serving; TTIN/TTOU change the count; threads
// mode runs N event loops in one process.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { get, killAll, load, sleep, startServer } from './manager-harness';

afterEach(killAll);

async function pidsServing(port: number, tries: number) {
  const seen = new Set<string>();
  for (let i = 0; i < tries; i++) seen.add((await get({ port })).body.trim());
  return seen;
}

async function statsOf(port: number) {
  const r = await get({ port }, '/');
  return JSON.parse(r.body) as { workers: Array<{ id: number; pid: number; requests: number; accepting: number; respawn_count: number }> };
}

describe('workers', () => {
  it('--workers 3: every worker serves (their pids are seen in responses)', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--workers', '3']);
    const booted = t.workerPids();
    expect(booted).toHaveLength(3);
    // New connections are spread by the kernel; enough of them reach every worker.
    const seen = new Set<number>();
    for (let i = 0; i < 300 && seen.size < 3; i++) seen.add(Number((await get({ port })).body.split(' ')[0]));
    expect([...seen].sort()).toEqual([...booted].sort());
  });

  it('a worker killed with SIGKILL under load is replaced at once; the others keep serving', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--workers', '2']);
    const [victim, survivor] = t.workerPids();
    let killedAt = 0;
    const loadDone = load(port, {
      requests: 4000, connections: 2, deadlineMs: 30_000,
      onProgress: (n) => {
        if (n === 1000) {
          killedAt = Date.now();
          process.kill(victim, 'SIGKILL');
        }
      },
    });
    const result = await loadDone;
    const deadline = Date.now() + 10_000;
    while (t.count(/msg="worker ready"/) < 3 && Date.now() < deadline) await sleep(50);
    // Replaced: a third worker booted at once and became ready.
    const readyLines = [...t.err().matchAll(/time=(\S+) level=info msg="worker ready" pid=\d+ role=master worker=\d+ worker_pid=(\d+)/g)];
    const replacement = readyLines.find((l) => ![victim, survivor].includes(Number(l[2])));
    expect(replacement, t.err()).toBeDefined();
    const booted = [...t.err().matchAll(/time=(\S+) level=info msg="booting worker" pid=\d+ role=master worker=\d+ worker_pid=(\d+)/g)]
      .find((l) => Number(l[2]) === Number(replacement![2]))!;
    const toBoot = Date.parse(booted[1]) - killedAt;
    const toReady = Date.parse(replacement![1]) - killedAt;
    // The master starts the replacement at once (what tsgi controls); the new process then
    // accepts once node has started and loaded the application: about half a second on an
    // idle machine, over a second when the tests load both cores, so the bound is generous.
    expect(toBoot).toBeLessThan(300);
    expect(toReady, `replacement started after ${toBoot} ms, accepting after ${toReady} ms`).toBeLessThan(3000);
    expect(t.err()).toMatch(new RegExp(`msg="worker died" .*worker_pid=${victim} how="signal SIGKILL"`));
    // The survivor kept serving: only the connections the victim held could fail.
    expect(result.ok).toBeGreaterThan(3900);
    expect(result.pids.get(`${survivor} 0`) ?? 0).toBeGreaterThan(0);
    expect((await get({ port })).status).toBe(200);
  });

  it('TTIN adds a worker and TTOU removes one', async () => {
    const { t } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--workers', '2', '--stats', '127.0.0.1:0', '--stats-http']);
    const statsPort = Number(/msg="stats server listening" .*address=[\d.]+:(\d+)/.exec(t.err())![1]);
    const count = async () => (await statsOf(statsPort)).workers.filter((w) => w.accepting).length;
    expect(await count()).toBe(2);
    process.kill(t.pid, 'SIGTTIN');
    let deadline = Date.now() + 10_000;
    while ((await count()) !== 3 && Date.now() < deadline) await sleep(100);
    expect(await count()).toBe(3);
    // One signal at a time: a second identical signal sent before the first is handled merges with it.
    process.kill(t.pid, 'SIGTTOU');
    deadline = Date.now() + 10_000;
    while (((await statsOf(statsPort)).workers.length !== 2) && Date.now() < deadline) await sleep(100);
    process.kill(t.pid, 'SIGTTOU');
    deadline = Date.now() + 10_000;
    while (((await statsOf(statsPort)).workers.length !== 1) && Date.now() < deadline) await sleep(100);
    expect((await statsOf(statsPort)).workers.map((w) => w.id)).toEqual([1]);
    // Never below one.
    process.kill(t.pid, 'SIGTTOU');
    await sleep(500);
    expect(await count()).toBe(1);
  });

  it('--threads 3 runs three event loops, each serving, in one worker process', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--workers', '1', '--threads', '3']);
    expect(t.workerPids()).toHaveLength(1);
    const agent = new http.Agent({ keepAlive: false });
    const seen = new Set<string>();
    for (let i = 0; i < 300 && seen.size < 3; i++) seen.add((await get({ port }, '/', agent)).body.trim());
    const pids = new Set([...seen].map((s) => s.split(' ')[0]));
    const threads = new Set([...seen].map((s) => s.split(' ')[1]));
    expect([...pids]).toEqual([String(t.workerPids()[0])]);
    expect(threads.size).toBe(3);
    expect(threads.has('0')).toBe(false);
    void pidsServing;
  });

  it('threads mode: a thread crash or SIGKILL of the process is replaced like a process worker', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--threads', '2']);
    const [first] = t.workerPids();
    process.kill(first, 'SIGKILL');
    await t.waitFor(/msg="worker died"/);
    const deadline = Date.now() + 10_000;
    while (t.workerPids().length < 2 && Date.now() < deadline) await sleep(50);
    await t.waitFor(new RegExp(`msg="worker ready" .*worker_pid=${t.workerPids()[1]}`));
    expect((await get({ port })).body.split(' ')[0]).toBe(String(t.workerPids()[1]));
  });
});
