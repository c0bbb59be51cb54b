// Signals to the master: HUP reloads with zero failed requests, TERM stops gracefully
// (requests in flight complete; in threads mode too, without waiting for the graceful
// timeout), INT stops at once and cleanly; the pid file.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { get, killAll, load, sleep, startServer, tmpdir } from './manager-harness';

afterEach(killAll);
const dir = tmpdir('tsgi-signals-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('signals', () => {
  it('HUP during 30,000 requests: zero failed requests, and the pids change', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--workers', '2']);
    const before = new Set(t.workerPids().map(String));
    let hupAt = -1;
    let completeAt = -1;
    const result = await load(port, {
      requests: 30_000, connections: 4, deadlineMs: 30_000,
      onProgress: (n) => {
        if (n === 1000) {
          hupAt = n;
          process.kill(t.pid, 'SIGHUP');
        }
        if (completeAt < 0 && /msg="reload complete"/.test(t.err())) completeAt = n;
      },
    });
    expect(hupAt).toBe(1000);
    // The old workers were replaced while the load ran.
    expect(completeAt, t.err()).toBeGreaterThan(1000);
    expect(completeAt).toBeLessThan(30_000);
    expect(result.errors.slice(0, 5).join('; ')).toBe('');
    expect(result.failed).toBe(0);
    expect(result.ok).toBe(30_000);
    // Resent: requests that met a closed keep-alive connection with no byte of a response.
    // None: a draining worker answers each connection's next request with Connection: close
    // and only then closes it.
    console.log(`HUP under load: ${result.ok} ok, ${result.failed} failed, ${result.retried} resent after an idle keep-alive close`);
    expect(result.retried).toBe(0);
    const servedBy = new Set([...result.pids.keys()].map((k) => k.split(' ')[0]));
    const after = [...servedBy].filter((p) => !before.has(p));
    expect(after.length, `pids that served: ${[...servedBy].join(', ')}`).toBeGreaterThanOrEqual(1);
    expect(t.count(/msg=reloading/)).toBe(1);
    // Old workers were stopped, not killed.
    expect(t.err()).not.toMatch(/msg="worker died"/);
    // After the reloads, only new workers serve.
    await sleep(500);
    for (let i = 0; i < 10; i++) expect(before.has((await get({ port })).body.split(' ')[0])).toBe(false);
  });

  it('HUP re-reads the config file (here: the number of workers)', async () => {
    const cwd = tmpdir('tsgi-hup-');
    fs.copyFileSync(path.join(__dirname, 'fixtures', 'apps', 'pid.js'), path.join(cwd, 'pid.js'));
    fs.writeFileSync(path.join(cwd, 'tsgi.config.json'), '{"workers": 1}');
    const { t } = await startServer(['pid.js', '--bind', '127.0.0.1:0'], { cwd });
    expect(t.workerPids()).toHaveLength(1);
    fs.writeFileSync(path.join(cwd, 'tsgi.config.json'), '{"workers": 2}');
    process.kill(t.pid, 'SIGHUP');
    await t.waitFor(/msg=reloading .*workers=2/);
    const deadline = Date.now() + 10_000;
    while (t.count(/msg="worker ready"/) < 3 && Date.now() < deadline) await sleep(50);
    expect(t.count(/msg="worker ready"/)).toBe(3);
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it('TERM during load: requests in flight complete, then the master exits 0', async () => {
    const pidfile = path.join(dir, 'tsgi.pid');
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--workers', '2', '--pidfile', pidfile]);
    expect(Number(fs.readFileSync(pidfile, 'utf8'))).toBe(t.pid);
    const inFlight = Array.from({ length: 6 }, () => get({ port }, '/slow?ms=1500'));
    await sleep(400);
    const termAt = Date.now();
    process.kill(t.pid, 'SIGTERM');
    const replies = await Promise.all(inFlight);
    for (const r of replies) expect(r.status).toBe(200);
    const { code } = await t.exited;
    expect(code).toBe(0);
    expect(Date.now() - termAt).toBeGreaterThan(900);
    expect(t.err()).toMatch(/msg="stopping gracefully"/);
    expect(fs.existsSync(pidfile)).toBe(false);
    // Nothing listens any more.
    await expect(get({ port })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('TERM in threads mode: requests in flight on every thread complete', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--threads', '2']);
    const inFlight = Array.from({ length: 6 }, () => get({ port }, '/slow?ms=1200'));
    await sleep(400);
    process.kill(t.pid, 'SIGTERM');
    const replies = await Promise.all(inFlight);
    for (const r of replies) expect(r.status).toBe(200);
    expect((await t.exited).code).toBe(0);
  });

  it('TERM in threads mode with nothing in flight: the worker exits at once, not at the graceful timeout', async () => {
    const { t } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--threads', '2', '--graceful-timeout', '6s']);
    const [worker] = t.workerPids();
    const at = Date.now();
    process.kill(t.pid, 'SIGTERM');
    const { code } = await t.exited;
    expect(code).toBe(0);
    expect(Date.now() - at).toBeLessThan(4000);
    expect(t.err()).toMatch(new RegExp(`msg="worker exited" .*worker_pid=${worker} how="code 0"`));
    expect(t.err()).not.toMatch(/did not stop|msg="worker died"/);
  });

  it('HUP in threads mode: the old worker exits once its replacement accepts, not at the graceful timeout', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--threads', '2', '--graceful-timeout', '20s']);
    const [old] = t.workerPids();
    process.kill(t.pid, 'SIGHUP');
    await t.waitFor(new RegExp(`msg="worker exited" .*worker_pid=${old} how="code 0"`), 10_000);
    expect(t.err()).not.toMatch(/did not stop|graceful timeout|msg="worker died"/);
    expect((await get({ port })).body.split(' ')[0]).not.toBe(String(old));
  });

  it('TERM with --graceful-timeout: a request that outlives it is cut off, and the master still exits', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--graceful-timeout', '500ms']);
    const slow = get({ port }, '/slow?ms=5000').catch((e: Error) => e);
    await sleep(300);
    const at = Date.now();
    process.kill(t.pid, 'SIGTERM');
    const { code } = await t.exited;
    expect(Date.now() - at).toBeLessThan(2500);
    expect(Date.now() - at).toBeGreaterThanOrEqual(450);
    expect(code).toBe(0);
    expect(await slow).toBeInstanceOf(Error);
    expect(t.err()).toMatch(/msg="(worker did not stop within the graceful timeout; killing it|worker died)"/);
  });

  it('USR2 is logged as ignored (no binary upgrade) and the master and its worker go on serving', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0']);
    const before = t.workerPids();
    process.kill(t.pid, 'SIGUSR2');
    await t.waitFor(/level=warning msg="SIGUSR2 ignored: tsgi has no binary upgrade; send HUP to reload the workers"/);
    const res = await get({ port }, '/');
    expect(res.status).toBe(200);
    expect(t.workerPids()).toEqual(before);
    expect(() => process.kill(t.pid, 0)).not.toThrow();
  });

  it('INT stops at once, dropping requests in flight', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0']);
    const slow = get({ port }, '/slow?ms=5000').catch((e: Error) => e);
    await sleep(300);
    const at = Date.now();
    process.kill(t.pid, 'SIGINT');
    const { code } = await t.exited;
    expect(code).toBe(0);
    expect(Date.now() - at).toBeLessThan(2000);
    expect(await slow).toBeInstanceOf(Error);
    for (const pid of t.workerPids()) expect(() => process.kill(pid, 0)).toThrow();
    // A clean stop on Ctrl-C is not an error.
    expect(t.err()).toMatch(/level=info msg="worker exited" .*how="code 0"/);
    expect(t.err()).not.toMatch(/level=(error|critical)/);
  });
});
