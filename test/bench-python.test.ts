// The Python WSGI peers: every server serves bench/apps/python/bench_app.py and answers
// every Python scenario byte-identically (the check the harness runs before measuring),
// and stops cleanly; a run measures JavaScript scenarios on JavaScript servers only and
// Python scenarios on Python servers only, with ratios to uWSGI.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { PEERS, PY_APPS } = require('../bench/peers.js');
const { launch } = require('../bench/launch.js');
const { SCENARIOS } = require('../bench/scenarios.js');
const { validateServer } = require('../bench/validate.js');
const payloads = require('../bench/payloads.js');
const { processTree } = require('../bench/system.js');

const ROOT = path.join(__dirname, '..');
const PYTHON = SCENARIOS.filter((s: { family: string }) => s.family === 'python');
const ids = ['uwsgi', 'gunicorn-sync', 'gunicorn-gthread', 'waitress', 'cheroot', 'tsgi-python'];
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('Python peers', () => {
  it('serve the same payload as the JavaScript peers', () => {
    expect(fs.readFileSync(path.join(PY_APPS, 'payload.json'), 'utf8')).toBe(payloads.JSON_TEXT);
    expect(PYTHON.map((s: { name: string }) => s.name)).toEqual(['py-hello', 'flask-json', 'flask-echo', 'django']);
  });

  for (const id of ids) {
    const why = PEERS[id].unavailable({ workers: 1 });
    it.skipIf(why)(`${id} answers every Python scenario correctly with --workers 2 --threads 2, and stops with its workers${why ? ` (${why})` : ''}`, async () => {
      const h = await launch(id, { workers: id === 'waitress' || id === 'cheroot' ? 1 : 2, threads: 2 });
      let tree: number[] = [];
      try {
        tree = processTree(h.pid);
        if (id !== 'waitress' && id !== 'cheroot') expect(tree.length).toBeGreaterThanOrEqual(3); // a master and 2 workers
        const r = await validateServer(PYTHON, h);
        expect(r.failures).toEqual({});
      } finally {
        await h.stop();
      }
      expect(h.exited()).toBeTruthy();
      await new Promise((r) => setTimeout(r, 200));
      expect(tree.filter(alive)).toEqual([]);
    });
  }

  it('say in one line why a Python server cannot run', () => {
    for (const id of ids) {
      const why = PEERS[id].unavailable({ workers: 2 });
      if (why) expect(why).not.toContain('\n');
    }
    // Single-process servers refuse --workers rather than be compared unevenly.
    expect(PEERS.waitress.unavailable({ workers: 2 })).toBe('Waitress runs one process; --workers 2 does not apply to it');
    expect(PEERS.cheroot.unavailable({ workers: 2 })).toMatch(/^Cheroot runs one process/);
  });

  it.skipIf(PEERS.uwsgi.unavailable({ workers: 1 }))('a run measures JavaScript scenarios on node:http only and Python ones on uWSGI only', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-py-'));
    try {
      const child = spawn(process.execPath, [path.join(ROOT, 'bench', 'run.js'), '--servers', 'node,uwsgi', '--scenarios', 'hello,py-hello', '--duration', '1', '--warmup', '0', '--rounds', '1', '--connections', '16', '--out', out], { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise((r) => child.on('close', r));
      expect(code, stderr).toBe(0);
      const doc = JSON.parse(fs.readFileSync(path.join(out, 'latest.json'), 'utf8'));
      expect(doc.rows.map((r: { scenario: string; server: string }) => `${r.scenario}/${r.server}`).sort()).toEqual(['hello/node', 'py-hello/uwsgi']);
      const uwsgi = doc.rows.find((r: { server: string }) => r.server === 'uwsgi');
      expect(uwsgi.value).toBeGreaterThan(0);
      expect(uwsgi.errors).toBe(0);
      expect(uwsgi.ratios.uwsgi).toBe(1);
      expect(uwsgi.ratios.node).toBeNull();
      expect(uwsgi.cpuPerRequestUs).toBeGreaterThan(0);
      expect(uwsgi.cpuRatios.uwsgi).toBe(1);
      expect(stdout).toMatch(/vs uWSGI/);
      expect(stdout).toMatch(/CPU\/req/);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
