// The README's container command, taken from its Dockerfile, run the way Docker runs an
// exec-form CMD: as PID 1 of a new PID namespace (unshare, when running as root), in a
// project where tsgi is installed as a dependency. `docker stop` sends the STOPSIGNAL to
// that PID 1; the slow request in flight must complete and the process exit 0 (drained).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, get, tmpdir } from './manager-harness';

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** The Dockerfile of the README: its exec-form CMD and its STOPSIGNAL. */
function dockerfile(): { cmd: string[]; stopSignal: NodeJS.Signals } {
  const m = /^```dockerfile\n([\s\S]*?)^```$/m.exec(readme);
  expect(m, 'a ```dockerfile block in README.md').not.toBeNull();
  const lines = m![1].split('\n');
  const cmdLine = lines.filter((l) => l.startsWith('CMD ')).pop();
  expect(cmdLine, 'a CMD line').toBeDefined();
  const cmd = JSON.parse(cmdLine!.slice(4));
  expect(Array.isArray(cmd), 'CMD is in exec form (a JSON array)').toBe(true);
  const stop = lines.find((l) => l.startsWith('STOPSIGNAL '))?.slice(11).trim() ?? 'SIGTERM';
  return { cmd, stopSignal: stop as NodeJS.Signals };
}

const isRoot = process.getuid?.() === 0;
const canUnshare = isRoot && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

/** The pids of the direct children of `pid`. */
function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('README: in a container', () => {
  it(`docker stop drains: the documented CMD${canUnshare ? ', as PID 1 of a new PID namespace,' : ''} finishes the request in flight and exits 0`, async () => {
    const { cmd, stopSignal } = dockerfile();
    // The application directory of the image (WORKDIR /app): the app, and tsgi installed
    // as a dependency (node_modules/tsgi and its bin link, as npm install makes them).
    const app = tmpdir('tsgi-container-');
    dirs.push(app);
    fs.mkdirSync(path.join(app, 'node_modules', '.bin'), { recursive: true });
    fs.symlinkSync(ROOT, path.join(app, 'node_modules', 'tsgi'), 'dir');
    fs.symlinkSync('../tsgi/bin/tsgi.js', path.join(app, 'node_modules', '.bin', 'tsgi'));
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, dependencies: { tsgi: '*' } }));
    const target = cmd.find((a) => /^[\w./-]+\.[cm]?[jt]s:\w/.test(a));
    expect(target, 'the CMD names the application as MODULE:EXPORT').toBeDefined();
    const module = target!.slice(0, target!.indexOf(':'));
    fs.writeFileSync(path.join(app, module), `
      exports.app = async (environ, startResponse) => {
        if (environ.PATH_INFO === '/slow') {
          process.stderr.write('slow request started\\n');
          await new Promise((r) => setTimeout(r, 2000));
        }
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return ['done, master pid ' + process.ppid + '\\n'];
      };
    `);
    // Only the address changes: a free loopback port instead of 0.0.0.0:8000.
    const args = cmd.map((a, i) => (cmd[i - 1] === '--bind' ? '127.0.0.1:0' : a));
    const env = { PATH: process.env.PATH, HOME: app, npm_config_update_notifier: 'false', npm_config_offline: 'true' };
    const child = canUnshare
      ? spawn('unshare', ['--pid', '--fork', '--mount-proc', ...args], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(args[0], args.slice(1), { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stdout!.resume();
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    const waitFor = async (re: RegExp, ms: number) => {
      const deadline = Date.now() + ms;
      while (!re.test(stderr)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`timed out waiting for ${re}; stderr:\n${stderr.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return re.exec(stderr)!;
    };
    try {
      await waitFor(/msg="server ready"/, 30_000);
      const port = Number((await waitFor(/msg=listening pid=\d+ role=master address=127\.0\.0\.1:(\d+)/, 1000))[1]);
      // What receives the stop signal: the container's PID 1, i.e. the process the CMD started.
      const pid1 = canUnshare ? childrenOf(child.pid!)[0] : child.pid!;
      expect(pid1).toBeGreaterThan(0);
      const slow = get({ port }, '/slow', undefined, 20_000);
      await waitFor(/slow request started/, 10_000);
      process.kill(pid1, stopSignal);
      const reply = await slow;
      expect(reply.status).toBe(200);
      if (canUnshare) expect(reply.body).toBe('done, master pid 1\n');
      else expect(reply.body).toBe(`done, master pid ${pid1}\n`);
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const result = await exited;
      clearTimeout(killer);
      expect(result, stderr.slice(-2000)).toEqual({ code: 0, signal: null });
      expect(stderr).toContain('msg="stopping gracefully"');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
