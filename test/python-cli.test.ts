// The command line for Python applications: what an application that cannot be loaded
// gives (a clear message, the application-load exit code, no respawn loop), --check, and
// the message when the Python addon is missing.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAll, removeTmpdirs, run, tmpdir } from './manager-harness';
import { hasPython, PY_APPS, request, skipReason, startPython } from './helpers/python';

const APP_LOAD_ERROR = 4;

afterEach(killAll);
afterAll(removeTmpdirs);

describe.skipIf(!hasPython)(`Python: applications that cannot be loaded${skipReason}`, () => {
  function app(source: string): string {
    const dir = tmpdir('tsgi-py-');
    fs.writeFileSync(path.join(dir, 'broken.py'), source);
    return dir;
  }

  it('a syntax error: the message points at the line, exit code 4, one attempt', async () => {
    const dir = app('def app(environ, start_response:\n    pass\n');
    const r = await run([path.join(dir, 'broken.py') + ':app', '--bind', '127.0.0.1:0', '--workers', '2'], { cwd: dir });
    expect(r.code).toBe(APP_LOAD_ERROR);
    expect(r.stderr).toMatch(/broken\.py", line 1/);
    expect(r.stderr).toMatch(/SyntaxError/);
    expect((r.stderr.match(/msg="booting worker"/g) ?? []).length).toBeLessThanOrEqual(2);
  });

  it('an import error in the module: its traceback, exit code 4', async () => {
    const dir = app('import no_such_dependency_xyz\n');
    const r = await run(['--python', 'broken:app', '--chdir', dir, '--bind', '127.0.0.1:0']);
    expect(r.code).toBe(APP_LOAD_ERROR);
    expect(r.stderr).toMatch(/No module named 'no_such_dependency_xyz'/);
    expect(r.stderr).toMatch(/broken\.py", line 1/);
  });

  it('a module that is not on sys.path: says so and names --chdir/--pythonpath', async () => {
    const r = await run(['--python', 'nowhere_to_be_found:app', '--bind', '127.0.0.1:0']);
    expect(r.code).toBe(APP_LOAD_ERROR);
    expect(r.stderr).toMatch(/No module named 'nowhere_to_be_found'.*--chdir and --pythonpath/);
  });

  it('a missing callable', async () => {
    const r = await run(['hello.py:nope', '--bind', '127.0.0.1:0'], { cwd: PY_APPS });
    expect(r.code).toBe(APP_LOAD_ERROR);
    expect(r.stderr).toMatch(/module 'hello' has no attribute 'nope'/);
  });

  it('--pythonpath puts a directory on sys.path', async () => {
    const dir = tmpdir('tsgi-py-');
    fs.writeFileSync(path.join(dir, 'elsewhere.py'), "def app(e, s):\n    s('200 OK', [])\n    return [b'from elsewhere']\n");
    const { port } = await startPython(['--python', 'elsewhere:app', '--pythonpath', dir]);
    expect((await request(port, 'GET', '/')).text).toBe('from elsewhere');
  });

  it('--check loads the application and says so', async () => {
    const ok = await run(['hello.py:app', '--check'], { cwd: PY_APPS });
    expect([ok.code, ok.stdout]).toEqual([0, 'tsgi: hello.py:app: a Python WSGI application\n']);
    const bad = await run(['hello.py:nope', '--check'], { cwd: PY_APPS });
    expect(bad.code).toBe(1);
  });

  it.each(['/sleep', '/spin'])('harakiri ends a request stuck in Python (%s): 504, logged, the worker keeps serving', async (p) => {
    const { port, t } = await startPython(['gateway.py:slow', '--harakiri', '1s']);
    const pid = (await request(port, 'GET', '/pid')).text;
    const r = await request(port, 'GET', p);
    expect([r.status, r.text]).toEqual([504, 'Gateway Timeout\n']);
    await expect.poll(() => t.err()).toMatch(/HARAKIRI: the request ran too long; ended it: GET /);
    expect(t.err()).toMatch(/HarakiriTimeout: the request ran longer than harakiri \(1000 ms\)/);
    expect((await request(port, 'GET', '/pid')).text).toBe(pid);
  }, 30_000);

  it('harakiri with --threads 3: each thread\'s request has its own deadline; the others keep serving', async () => {
    const { port, t } = await startPython(['gateway.py:slow', '--threads', '3', '--harakiri', '1s']);
    const pid = (await request(port, 'GET', '/pid')).text;
    const stuck = Promise.all([request(port, 'GET', '/sleep'), request(port, 'GET', '/spin')]);
    let settled = false;
    void stuck.finally(() => { settled = true; });
    // While two threads are stuck, the third keeps answering on the same worker.
    let served = 0;
    while (!settled) {
      const r = await request(port, 'GET', '/pid');
      expect([r.status, r.text]).toEqual([200, pid]);
      served++;
    }
    expect(served).toBeGreaterThan(0);
    for (const r of await stuck) expect([r.status, r.text]).toEqual([504, 'Gateway Timeout\n']);
    await expect.poll(() => (t.err().match(/HARAKIRI: the request ran too long; ended it: GET \/(sleep|spin)/g) ?? []).length).toBe(2);
    expect(t.err()).toMatch(/HarakiriTimeout: the request ran longer than harakiri \(1000 ms\)/);
    // The threads that were ended take requests again: three at once meet at the barrier.
    const together = await Promise.all([0, 1, 2].map(() => request(port, 'GET', '/barrier')));
    for (const r of together) expect(r.text).toMatch(/^together/);
    expect((await request(port, 'GET', '/pid')).text).toBe(pid);
  }, 30_000);

  it('harakiri with --threads 3 after the head went out: the connection is closed and the body closed', async () => {
    const { port } = await startPython(['gateway.py:slow', '--threads', '3', '--harakiri', '1s']);
    const pid = (await request(port, 'GET', '/pid')).text;
    const r = await request(port, 'GET', '/spin-body').then((x) => x, (e: Error) => e);
    expect(r).toBeInstanceOf(Error);
    await expect.poll(async () => (await request(port, 'GET', '/events')).text).toMatch(/closed:spin-body:1/);
    expect((await request(port, 'GET', '/pid')).text).toBe(pid);
  }, 30_000);

  it('harakiri with --threads 3: a thread stuck in C code past deadline + grace makes the worker exit; a new one serves', async () => {
    const { port, t } = await startPython(['gateway.py:slow', '--threads', '3', '--harakiri', '1s']);
    const pid = (await request(port, 'GET', '/pid')).text;
    const r = await request(port, 'GET', '/block', { timeoutMs: 25_000 }).then((x) => x, (e: Error) => e);
    expect(r).toBeInstanceOf(Error);
    expect(t.err()).toMatch(/HARAKIRI: a Python thread is still running a request 5000 ms past harakiri \(stuck in C code/);
    await expect.poll(async () => {
      try { return (await request(port, 'GET', '/pid')).text; } catch { return ''; }
    }, { timeout: 15_000 }).toMatch(/^\d+$/);
    expect((await request(port, 'GET', '/pid')).text).not.toBe(pid);
  }, 45_000);

  it('--max-requests recycles the worker (the core counts the requests)', async () => {
    const { port } = await startPython(['gateway.py:app', '--max-requests', '5']);
    const pids = new Set<string>();
    const deadline = Date.now() + 20_000;
    while (pids.size < 2 && Date.now() < deadline) {
      try {
        pids.add((await request(port, 'GET', '/pid')).text);
      } catch {
        // the worker being replaced may close a connection
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(pids.size).toBe(2);
  }, 30_000);

});

describe('Python: without the Python addon', () => {
  it('says what to install, exit code 4', async () => {
    const r = await run(['hello.py:app', '--bind', '127.0.0.1:0'], { cwd: PY_APPS, env: { TSGI_PYTHON_ADDON: '/nonexistent/tsgi_python.node' } });
    expect(r.code).toBe(APP_LOAD_ERROR);
    expect(r.stderr).toMatch(/Python support is not built .*apt-get install python3-dev/);
  });
});
