// `node bench/nginx.js`: wrk through the real nginx to tsgi (uwsgi_pass, proxy_pass with
// keep-alive) and to uWSGI (uwsgi_pass), one short round. Every row answers with zero
// errors and non-2xx, and afterwards no process it started is left: each run carries a
// marker in its environment, which every child inherits, and /proc is searched for it.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nginxMissing } from './helpers/nginx';

const ROOT = path.join(__dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-nginx-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const onPath = (cmd: string) => (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, cmd)));
const missing = nginxMissing() || (onPath('wrk') ? '' : 'wrk is not on PATH') || (onPath('uwsgi') ? '' : 'uwsgi is not on PATH');

/** Processes (other than zombies) whose environment holds `marker`. */
function survivors(marker: string): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/environ`, 'latin1').includes(marker)) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
      out.push(`${pid}: ${fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ')}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

/** `pid` is still one of the benchmark's processes (not a zombie, not a reused pid). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') return false;
    return /nginx|tsgi|uwsgi/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
  } catch {
    return false;
  }
}

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['bench/nginx.js', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const SHORT = ['--duration', '1', '--rounds', '1', '--warmup', '0', '--connections', '16'];

describe.skipIf(missing !== '')(`bench/nginx.js${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('every backend answers through nginx with zero errors, and nothing it started is left running', async () => {
    const marker = `TSGI_BENCH_NGINX_TEST=${crypto.randomUUID()}`;
    const out = path.join(dir, 'ok');
    const r = await run([...SHORT, '--out', out], { TSGI_BENCH_NGINX_TEST: marker.split('=')[1] });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const files = fs.readdirSync(out).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const doc = JSON.parse(fs.readFileSync(path.join(out, files[0]), 'utf8'));
    expect(doc.unavailable).toEqual([]);
    expect(doc.rows.map((row: { id: string }) => row.id).sort()).toEqual(['tsgi-http', 'tsgi-uwsgi', 'uwsgi']);
    for (const row of doc.rows) {
      expect([row.id, row.requests > 0, row.errors, row.non2xx]).toEqual([row.id, true, 0, 0]);
      expect(row.backendCpuPerRequestUs).toBeGreaterThan(0);
      expect(row.nginxCpuPerRequestUs).toBeGreaterThan(0);
    }
    expect(doc.rows.find((row: { id: string }) => row.id === 'uwsgi').ratios.rps).toBe(1);
    expect(r.stdout).toMatch(/tsgi, uwsgi_pass/);
    expect(r.stdout).toMatch(/tsgi, proxy_pass keep-alive/);
    // nginx (master and worker), two tsgi masters with a worker each, uWSGI's master and worker.
    expect(doc.pids.length).toBeGreaterThanOrEqual(8);
    expect(survivors(marker)).toEqual([]);
    // nginx rewrites its environment area for its process titles, so its pids are checked too.
    expect(doc.pids.filter(running)).toEqual([]);
    expect(fs.existsSync(doc.nginxPrefix)).toBe(false);
  }, 180_000);

  it('when nginx cannot start, the backends already running are stopped and the run fails with the reason', async () => {
    const marker = `TSGI_BENCH_NGINX_TEST=${crypto.randomUUID()}`;
    const r = await run([...SHORT, '--backends', 'tsgi-uwsgi,uwsgi', '--out', path.join(dir, 'fail')], {
      TSGI_BENCH_NGINX_TEST: marker.split('=')[1],
      TSGI_BENCH_NGINX: '/bin/false',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nginx -t refused the configuration/);
    expect(survivors(marker)).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'fail'))).toBe(false);
  }, 120_000);
});
