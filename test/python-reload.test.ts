// The process manager around Python applications: HUP re-imports changed code under load
// without a failed request, and a worker killed in the middle of a request is replaced.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, load, removeTmpdirs, sleep, tmpdir } from './manager-harness';
import { hasPython, request, skipReason, startPython } from './helpers/python';

afterEach(async () => {
  await killAll();
  removeTmpdirs();
});

function version(n: number): string {
  return `import os\n\ndef app(environ, start_response):\n    if environ['PATH_INFO'] == '/sleep':\n        import time\n        time.sleep(60)\n    body = b'v${n} %d' % os.getpid()\n    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])\n    return [body]\n`;
}

describe.skipIf(!hasPython)(`Python: reloads and dead workers${skipReason}`, () => {
  it('HUP re-imports changed code under load, with no failed request', async () => {
    const dir = tmpdir('tsgi-py-reload-');
    fs.writeFileSync(path.join(dir, 'site.py'), version(1));
    const { t, port } = await startPython(['site.py:app', '--workers', '2'], { cwd: dir });
    expect((await request(port, 'GET', '/')).text).toMatch(/^v1 /);
    const running = load(port, { requests: 3000, connections: 4, deadlineMs: 30_000 });
    await sleep(300);
    fs.writeFileSync(path.join(dir, 'site.py'), version(2));
    process.kill(t.pid, 'SIGHUP');
    let body = '';
    const deadline = Date.now() + 20_000;
    while (!(body = (await request(port, 'GET', '/')).text).startsWith('v2') && Date.now() < deadline) await sleep(100);
    const result = await running;
    expect(body).toMatch(/^v2 /);
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(0);
  }, 60_000);

  it('--reload restarts the workers when a .py file changes', async () => {
    const dir = tmpdir('tsgi-py-watch-');
    fs.writeFileSync(path.join(dir, 'site.py'), version(1));
    const { t, port } = await startPython(['site.py:app', '--reload'], { cwd: dir });
    expect((await request(port, 'GET', '/')).text).toMatch(/^v1 /);
    fs.writeFileSync(path.join(dir, 'site.py'), version(2));
    await t.waitFor(/msg="file changed, reloading workers" .*site\.py/, 10_000);
    let body = '';
    const deadline = Date.now() + 15_000;
    while (!(body = (await request(port, 'GET', '/')).text).startsWith('v2') && Date.now() < deadline) await sleep(100);
    expect(body).toMatch(/^v2 /);
  }, 40_000);

  it('SIGTERM stops a worker with Python threads and the harakiri watchdog gracefully', async () => {
    const dir = tmpdir('tsgi-py-stop-');
    fs.writeFileSync(path.join(dir, 'site.py'), version(1));
    const { t, port } = await startPython(['site.py:app', '--threads', '3', '--harakiri', '30s'], { cwd: dir });
    expect((await request(port, 'GET', '/')).status).toBe(200);
    process.kill(t.pid, 'SIGTERM');
    const exit = await Promise.race([t.exited, sleep(15_000).then(() => 'still running')]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(t.err()).not.toMatch(/did not stop in time/);
  }, 40_000);

  it('a worker killed in the middle of a request: the client sees the connection end, a new worker serves', async () => {
    const dir = tmpdir('tsgi-py-kill-');
    fs.writeFileSync(path.join(dir, 'site.py'), version(1));
    const { t, port } = await startPython(['site.py:app'], { cwd: dir });
    const [worker] = t.workerPids();
    const stuck = request(port, 'GET', '/sleep').then(() => 'answered', (e: Error) => e.message);
    await sleep(500);
    process.kill(worker, 'SIGKILL');
    expect(await stuck).toMatch(/socket hang up|ECONNRESET/);
    let body = '';
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        body = (await request(port, 'GET', '/')).text;
        if (body.startsWith('v1 ') && body !== `v1 ${worker}`) break;
      } catch {
        // the replacement may not accept yet
      }
      await sleep(100);
    }
    expect(body).toMatch(/^v1 \d+$/);
    expect(body).not.toBe(`v1 ${worker}`);
  }, 60_000);
});
