// Every bind kind, served by real workers: HOST:PORT, [::1]:PORT, unix:PATH with a
// mode, fd://N (an inherited socket, as systemd's socket activation passes it), and
// several at once. The master binds; workers inherit the sockets.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bindSocket } from './helpers/sockets';
import { APPS, BIN, get, killAll, startServer, tmpdir, tsgi } from './manager-harness';

afterEach(killAll);
const dir = tmpdir('tsgi-binds-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const hasIPv6 = Object.values(os.networkInterfaces()).flat().some((i) => i?.family === 'IPv6' && i.address === '::1');

describe('binds', () => {
  it('HOST:PORT (port 0 takes a free port, and the log names it)', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0']);
    expect(port).toBeGreaterThan(0);
    const r = await get({ port });
    expect(r.status).toBe(200);
    expect(t.workerPids()).toContain(Number(r.body.split(' ')[0]));
  });

  it.skipIf(!hasIPv6)('[::1]:PORT', async () => {
    const { port } = await startServer(['pid.js', '--bind', '[::1]:0']);
    const r = await new Promise<string>((resolve, reject) => {
      const c = net.connect({ host: '::1', port }, () => c.write('GET / HTTP/1.0\r\n\r\n'));
      let data = '';
      c.on('data', (d) => (data += d)).on('end', () => resolve(data)).on('error', reject);
    });
    expect(r).toMatch(/^HTTP\/1\.[01] 200/);
  });

  it('unix:PATH with --unix-socket-mode', async () => {
    const sock = path.join(dir, 'app.sock');
    const { t } = await startServer(['pid.js', '--bind', `unix:${sock}`, '--unix-socket-mode', '600']);
    expect(fs.statSync(sock).isSocket()).toBe(true);
    expect(fs.statSync(sock).mode & 0o777).toBe(0o600);
    const r = await get({ socketPath: sock });
    expect(r.status).toBe(200);
    t.child.kill('SIGTERM');
    await t.exited;
    expect(fs.existsSync(sock)).toBe(false);
  });

  it('fd://N: a socket inherited from the parent (socket activation)', async () => {
    // Bound by this process, as a service manager would; the server listens and accepts on it.
    const handle = bindSocket();
    const child = spawn(process.execPath, [BIN, 'pid.js', '--bind', 'fd://3'], { cwd: APPS, stdio: ['ignore', 'pipe', 'pipe', handle.fd] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    try {
      const deadline = Date.now() + 15_000;
      while (!/server ready/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(err).toMatch(/msg=listening .*role=master address=fd:\/\/3/);
      const r = await get({ port: handle.port });
      expect(r.status).toBe(200);
    } finally {
      child.kill('SIGKILL');
      handle.close();
      const pids = [...err.matchAll(/worker_pid=(\d+)/g)].map((m) => Number(m[1]));
      for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    }
  });

  it('several binds at once, all served', async () => {
    const sock = path.join(dir, 'multi.sock');
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--bind', `unix:${sock}`, '--backlog', '64']);
    expect((await get({ port })).status).toBe(200);
    expect((await get({ socketPath: sock })).status).toBe(200);
    expect(t.count(/msg=listening pid=\d+ role=master/)).toBe(2);
  });

  it('a malformed bind is refused before anything starts', async () => {
    const t = tsgi(['pid.js', '--bind', 'localhost']);
    const { code } = await t.exited;
    expect(code).toBe(2);
    expect(t.err()).toMatch(/bind "localhost": the port is missing/);
  });
});
