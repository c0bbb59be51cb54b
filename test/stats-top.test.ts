// `tsgi top` against real servers: every address form (HOST:PORT, http://HOST:PORT,
// unix:PATH, a bare socket path) on plain and HTTP stats servers, clear refusals, its
// --help, and quitting with `q` or Ctrl-C from a real terminal (a pseudo-terminal made
// by util-linux `script`).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, killAll, run, startServer, tmpdir, type Tsgi } from './manager-harness';

const statsAddressOf = (t: Tsgi) => /msg="stats server listening" .*?address=(\S+)/.exec(t.err())![1];

let dir: string;
let plain: { t: Tsgi; addr: string };
let unix: { t: Tsgi; path: string };
let httpStats: { t: Tsgi; addr: string };

beforeAll(async () => {
  dir = tmpdir('tsgi-top-');
  const sock = path.join(dir, 'stats.sock');
  const [a, b, c] = await Promise.all([
    startServer(['pid.js', '--bind', '127.0.0.1:0', '--stats', '127.0.0.1:0']),
    startServer(['pid.js', '--bind', '127.0.0.1:0', '--stats', `unix:${sock}`]),
    startServer(['pid.js', '--bind', '127.0.0.1:0', '--stats', '127.0.0.1:0', '--stats-http']),
  ]);
  plain = { t: a.t, addr: statsAddressOf(a.t) };
  unix = { t: b.t, path: sock };
  httpStats = { t: c.t, addr: statsAddressOf(c.t) };
}, 60_000);

afterAll(async () => {
  await killAll();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** One screen of `tsgi top --once ADDR` shows this server's master and workers. */
async function expectScreen(address: string, t: Tsgi) {
  const r = await run(['top', '--once', address]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^tsgi \\S+ - ${address.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} - master pid ${t.pid} `));
  expect(r.stdout).toMatch(/WID +PID +STATUS +REQ +RPS/);
  for (const pid of t.workerPids()) expect(r.stdout).toMatch(new RegExp(`^\\d+ +${pid} +idle +\\d+`, 'm'));
}

describe('tsgi top ADDR', () => {
  it('reads a plain stats server at HOST:PORT, and at http://HOST:PORT', async () => {
    await expectScreen(plain.addr, plain.t);
    await expectScreen(`http://${plain.addr}`, plain.t);
  }, 30_000);

  it('reads a --stats-http server at http://HOST:PORT (with or without the slash) and at HOST:PORT', async () => {
    await expectScreen(`http://${httpStats.addr}`, httpStats.t);
    await expectScreen(`http://${httpStats.addr}/`, httpStats.t);
    await expectScreen(httpStats.addr, httpStats.t);
  }, 30_000);

  it('reads a Unix socket given as unix:PATH or as a bare path', async () => {
    await expectScreen(`unix:${unix.path}`, unix.t);
    await expectScreen(unix.path, unix.t);
  }, 30_000);

  it('refuses what it cannot read, saying why', async () => {
    const missing = await run(['top', '--once', path.join(dir, 'missing.sock')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`no socket at ${path.join(dir, 'missing.sock')}`);
    const file = path.join(dir, 'file.txt');
    fs.writeFileSync(file, 'x');
    const notSocket = await run(['top', '--once', file]);
    expect(notSocket.code).toBe(1);
    expect(notSocket.stderr).toContain(`${file} is not a socket`);
    const bad = await run(['top', '--once', 'nowhere']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"nowhere" is not a stats address .*HOST:PORT, unix:PATH/);
    const tls = await run(['top', '--once', `https://${plain.addr}`]);
    expect(tls.code).toBe(2);
    expect(tls.stderr).toContain('does not speak TLS');
    const path2 = await run(['top', '--once', `http://${httpStats.addr}/metrics`]);
    expect(path2.code).toBe(2);
    expect(path2.stderr).toContain('leave the path out');
    const none = await run(['top', '--once']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no address given');
    const unknown = await run(['top', '--onse', plain.addr]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown option --onse');
  }, 30_000);

  it('--help lists its options and keys, and exits 0', async () => {
    const r = await run(['top', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tsgi top \[options\] ADDR/);
    expect(r.stdout).toMatch(/^ +--once +print one screen/m);
    expect(r.stdout).toMatch(/^ +--interval SECONDS/m);
    expect(r.stdout).toMatch(/q \(or Ctrl-C\) quits/);
    expect((await run(['--help'])).stdout).toMatch(/tsgi top \[--once\] ADDR/);
  });
});

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** Runs the live view in a pseudo-terminal, waits for its first screen, types `key`, and resolves with its exit status. */
function quitWith(key: string): Promise<{ code: number | null; screens: number; aliveBeforeKey: boolean }> {
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} top --interval 0.2 ${plain.addr}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let typed = false;
  let aliveBeforeKey = false;
  return new Promise((resolve, reject) => {
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tsgi top did not quit on ${JSON.stringify(key)}; output:\n${output.slice(-2000)}`));
    }, 15_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      output += d;
      // Type the key once two screens are up: the terminal is in raw mode by then.
      if (!typed && (output.match(/WID +PID/g) ?? []).length >= 2) {
        typed = true;
        aliveBeforeKey = child.exitCode === null;
        child.stdin.write(key);
      }
    });
    child.stderr.resume();
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, screens: (output.match(/WID +PID/g) ?? []).length, aliveBeforeKey });
    });
  });
}

describe.skipIf(!hasScript)('tsgi top in a terminal', () => {
  it('q quits with status 0', async () => {
    const r = await quitWith('q');
    expect(r.aliveBeforeKey).toBe(true);
    expect(r.screens).toBeGreaterThanOrEqual(2);
    expect(r.code).toBe(0);
  }, 30_000);

  it('Ctrl-C (raw mode: the byte 0x03) quits with status 0', async () => {
    const r = await quitWith('\x03');
    expect(r.aliveBeforeKey).toBe(true);
    expect(r.code).toBe(0);
  }, 30_000);
});
