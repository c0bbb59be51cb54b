// Draining under load: HUP and TERM (with a new master taking over the same socket)
// lose no request of a keep-alive client (wrk: zero socket errors), a stopping server
// refuses new connections at once while its requests in flight complete, and a client
// whose last response was streamed does not hold a stopping master for the keep-alive
// timeout.
import { spawn, spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { openClient } from './helpers/http';
import { bindSocket, tryConnect } from './helpers/sockets';
import { get, killAll, sleep, startServer, tsgi } from './manager-harness';

afterEach(killAll);

const hasWrk = spawnSync('wrk', ['-v']).error === undefined;

interface WrkResult {
  output: string;
  requests: number;
  /** connect + read + write + timeout; 0 when wrk printed no "Socket errors" line. */
  socketErrors: number;
  /** Non-2xx or 3xx responses; 0 when wrk printed no such line. */
  non2xx: number;
}

/**
 * wrk -t1 -c20 against the port for `seconds`. --timeout 10s: on a loaded two-CPU machine a
 * request may wait a while for a booting worker; a dropped one is still seen (the run is
 * longer than that).
 */
function wrk(port: number, seconds: number, path = '/'): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', '-c20', `-d${seconds}s`, '--timeout', '10s', `http://127.0.0.1:${port}${path}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (output += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      if (code !== 0) return reject(new Error(`wrk exited with ${code}:\n${output}`));
      const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
      const requests = /(\d+) requests in/.exec(output);
      resolve({
        output,
        requests: requests ? Number(requests[1]) : 0,
        socketErrors: se ? se.slice(1).reduce((n, v) => n + Number(v), 0) : 0,
        non2xx: non2xx ? Number(non2xx[1]) : 0,
      });
    });
  });
}

describe.skipIf(!hasWrk)('draining under load (wrk)', () => {
  it('three HUPs during 15 s of wrk -c20 against 2 workers: zero socket errors, zero non-2xx', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--workers', '2']);
    const run = wrk(port, 15);
    // A HUP every 4 s or so, each once the previous reload is complete.
    for (let i = 0; i < 3; i++) {
      await sleep(i === 0 ? 3000 : 3500);
      const deadline = Date.now() + 5000;
      while (t.count(/msg="reload complete"/) < i && Date.now() < deadline) await sleep(50);
      process.kill(t.pid, 'SIGHUP');
    }
    const r = await run;
    console.log(`wrk, three HUPs:\n${r.output}`);
    expect(t.count(/msg=reloading/)).toBe(3);
    expect(t.count(/msg="reload complete"/)).toBe(3);
    expect(t.err()).not.toMatch(/msg="worker died"/);
    expect(r.requests).toBeGreaterThan(0);
    expect(r.socketErrors, r.output).toBe(0);
    expect(r.non2xx, r.output).toBe(0);
  }, 60_000);

  it('TERM while a new master takes over the same fd:// socket: zero socket errors, zero non-2xx', async () => {
    // The parent (as a service manager would) binds once and hands the socket to two
    // masters in turn.
    const holder = bindSocket();
    const port = holder.port;
    try {
      const args = ['pid.js', '--bind', 'fd://3', '--workers', '2'];
      const first = await startServer(args, { fds: [holder.fd] });
      const oldPids = first.t.workerPids();
      const run = wrk(port, 12);
      await sleep(3000);
      const second = tsgi(args, { fds: [holder.fd] });
      await second.waitFor(/msg="server ready"/, 30_000);
      process.kill(first.t.pid, 'SIGTERM');
      expect((await first.t.exited).code).toBe(0);
      const r = await run;
      console.log(`wrk, TERM with a new master taking over:\n${r.output}`);
      expect(r.requests).toBeGreaterThan(0);
      expect(r.socketErrors, r.output).toBe(0);
      expect(r.non2xx, r.output).toBe(0);
      // The socket still listens, and the new master serves it.
      const after = await get({ port });
      expect(after.status).toBe(200);
      expect(oldPids).not.toContain(Number(after.body.split(' ')[0]));
    } finally {
      holder.close();
    }
  }, 60_000);
});
if (!hasWrk) it.skip('wrk is not installed: the draining load tests are skipped', () => {});

describe('stopping', () => {
  for (const mode of [['--workers', '2'], ['--threads', '2']]) {
    it(`TERM (${mode.join(' ')}): new connections are refused at once while a request in flight completes`, async () => {
      const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', ...mode]);
      const slow = get({ port }, '/slow?ms=3000');
      await sleep(400);
      const termAt = Date.now();
      process.kill(t.pid, 'SIGTERM');
      // Every worker (or thread) has begun its graceful close.
      await t.waitFor(/(msg=closing [^\n]*graceful=true[\s\S]*){2}/, 5000);
      const t0 = Date.now();
      expect(await tryConnect(port)).toBe('ECONNREFUSED');
      const refusedIn = Date.now() - t0;
      expect(refusedIn).toBeLessThan(1000);
      const r = await slow;
      console.log(`TERM (${mode.join(' ')}): a new connection refused in ${refusedIn} ms; the request in flight completed ${Date.now() - termAt} ms after TERM`);
      expect(r.status).toBe(200);
      expect(Date.now() - termAt).toBeGreaterThan(2000);  // the drain took the request's time
      // (How the worker process then exits is the process manager's concern, tested in
      // manager-signals.test.ts.)
      if (mode[0] === '--workers') expect((await t.exited).code).toBe(0);
    }, 30_000);
  }

  it('TERM with --keep-alive-timeout 15s: a client holding a connection whose last response was streamed does not keep the master alive', async () => {
    const { t, port } = await startServer(['drip.js', '--bind', '127.0.0.1:0', '--keep-alive-timeout', '15s']);
    const c = openClient(port);
    try {
      c.sock.write('GET /drip?ms=800 HTTP/1.1\r\nHost: t\r\n\r\n');
      const deadline = Date.now() + 10_000;
      while (!c.text().includes('first') && Date.now() < deadline) await sleep(10);
      expect(c.text()).toMatch(/first/);
      const termAt = Date.now();
      process.kill(t.pid, 'SIGTERM');
      const { code } = await t.exited;
      const took = Date.now() - termAt;
      expect(code).toBe(0);
      // The response completed (its head, sent before TERM, said keep-alive) …
      expect(c.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(c.text()).not.toMatch(/\r\nconnection: close/i);
      expect(c.text().endsWith('last\n\r\n0\r\n\r\n')).toBe(true);
      // … then the idle connection was ended after the drain grace, not the keep-alive timeout.
      console.log(`TERM with --keep-alive-timeout 15s after a streamed response: the master exited ${took} ms after TERM`);
      expect(took).toBeLessThan(8000);
      await sleep(50);
      expect(c.ended()).toBe(true);
      expect(c.error()).toBeUndefined();
    } finally {
      c.sock.destroy();
    }
  }, 40_000);
});
