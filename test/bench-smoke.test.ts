// A short real run of the harness: two servers, one scenario, one second; and Ctrl-C
// stops every server it started.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { processTree } = require('../bench/system.js');
const ROOT = path.join(__dirname, '..');

function run(args: string[], onStderr?: (s: string, pid: number) => void) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bench', 'run.js'), ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    onStderr?.(stderr, child.pid!);
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(st);
  } catch {
    return false;
  }
};

describe('bench smoke run', () => {
  it('measures node:http and uWebSockets.js on hello for one second', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-smoke-'));
    try {
      const { done } = run(['--servers', 'node,uws', '--scenarios', 'hello', '--duration', '1', '--warmup', '0', '--rounds', '1', '--connections', '16', '--out', out]);
      const r = await done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/vs node:http/);
      expect(r.stdout).toMatch(/Generator: (wrk|autocannon)/);
      const doc = JSON.parse(fs.readFileSync(path.join(out, 'latest.json'), 'utf8'));
      expect(doc.rows.map((x: { server: string }) => x.server).sort()).toEqual(['node', 'uws']);
      for (const row of doc.rows) {
        expect(row.scenario).toBe('hello');
        expect(row.value).toBeGreaterThan(0);
        expect(row.errors).toBe(0);
        expect(row.non2xx).toBe(0);
        // The server's own CPU time per request, from /proc, beside req/s.
        expect(row.cpuPerRequestUs).toBeGreaterThan(0);
        expect(row.cpuPerRequestUs).toBeLessThan(1e6 / row.value * 2 + 1000); // at most about the wall time of one request per core
      }
      for (const mm of doc.measurements) expect(mm.cpuPerRequestUs).toBeCloseTo((mm.serverCpuSeconds * 1e6) / mm.requests, 6);
      const node = doc.rows.find((x: { server: string }) => x.server === 'node');
      const uws = doc.rows.find((x: { server: string }) => x.server === 'uws');
      expect(node.ratios.node).toBe(1);
      expect(uws.ratios.node).toBeCloseTo(uws.value / node.value, 6); // one round: the plain ratio
      expect(uws.cpuRatios.node).toBeCloseTo(uws.cpuPerRequestUs / node.cpuPerRequestUs, 6);
      expect(uws.cpuRatios.uws).toBe(1);
      expect(r.stdout).toMatch(/CPU\/req/);
      expect(fs.readFileSync(path.join(out, 'latest.svg'), 'utf8')).toMatch(/^<svg /);
      expect(fs.readFileSync(path.join(out, 'latest.md'), 'utf8')).toMatch(/\| \*\*hello\*\* \|/);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('stops every server it started on Ctrl-C', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-smoke-'));
    let servers: number[] = [];
    let signalled = false;
    const { child, done } = run(
      ['--servers', 'node,uws', '--scenarios', 'hello', '--duration', '20', '--warmup', '0', '--rounds', '1', '--out', out],
      (stderr, pid) => {
        if (!signalled && /round 1\/1/.test(stderr)) {
          signalled = true;
          servers = processTree(pid).filter((p: number) => p !== pid);
          child.kill('SIGINT');
        }
      },
    );
    const r = await done;
    fs.rmSync(out, { recursive: true, force: true });
    expect(signalled, r.stderr).toBe(true);
    expect(servers.length).toBeGreaterThanOrEqual(2); // both servers (and the generator) were running
    expect(r.stderr).toMatch(/interrupted/);
    await new Promise((res) => setTimeout(res, 300));
    expect(servers.filter(alive)).toEqual([]);
  });
});
