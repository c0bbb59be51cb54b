// Server CPU time per request: /proc/PID/stat parsed for real processes (a name with
// spaces and parentheses, a process tree whose CPU is spent in a grandchild), the sum
// over the tree between two snapshots, and the per-request arithmetic.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const system = require('../bench/system.js');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {}
  }
});

/** Runs `script` in a new process group; resolves the child once it printed `ready`. */
function start(script: string): Promise<{ child: ChildProcess; lines: string[]; waitFor(re: RegExp): Promise<string> }> {
  const child = spawn(process.execPath, ['-e', script], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of waiters.splice(0)) {
        if (w.re.test(line)) w.resolve(line);
        else waiters.push(w);
      }
    }
  });
  const waitFor = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const hit = lines.find((l) => re.test(l));
      if (hit) return resolve(hit);
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${re}; got ${JSON.stringify(lines)}`)), 30000);
      waiters.push({ re, resolve: (l) => { clearTimeout(t); resolve(l); } });
    });
  return waitFor(/^ready/).then(() => ({ child, lines, waitFor }));
}

// Burns `ms` of this process's own CPU time (not wall time: the machine may be loaded).
const BURN = `function burn(ms) { const t0 = process.cpuUsage(); let x = 0;
  while (true) { for (let i = 0; i < 1e5; i++) x += i; const u = process.cpuUsage(t0); if ((u.user + u.system) / 1000 >= ms) return x; } }`;

describe('/proc/PID/stat', () => {
  it('reads pid, parent and CPU ticks of a process whose name holds spaces and parentheses', async () => {
    const { child } = await start(`process.title = 'a) (b c) x'; console.log('ready'); setInterval(() => {}, 1000);`);
    const text = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    expect(text).toContain('(a) (b c) x)'); // the name really is in the line, parentheses and all
    const st = system.parseStat(text);
    expect(st).toMatchObject({ pid: child.pid, ppid: process.pid, comm: 'a) (b c) x' });
    expect(st.state).toMatch(/^[RSD]$/);
    expect(Number.isInteger(st.utime) && st.utime >= 0).toBe(true);
    expect(Number.isInteger(st.stime) && st.stime >= 0).toBe(true);
    // A naive split on spaces would take a piece of the name for the parent pid.
    expect(Number(text.split(' ')[3])).not.toBe(process.pid);
  });

  it('refuses a line that is not a stat line', () => {
    expect(system.parseStat('')).toBeNull();
    expect(system.parseStat('hello world')).toBeNull();
    expect(system.readStat(2 ** 22 + 12345)).toBeNull(); // no such process
  });

  it('counts CPU ticks as the kernel does: a process that burned 400 ms of CPU shows about that', async () => {
    const { child, waitFor } = await start(`${BURN}; console.log('ready'); process.on('SIGUSR2', () => { burn(400); console.log('burned'); }); setInterval(() => {}, 1000);`);
    const before = system.cpuSeconds([child.pid]);
    process.kill(child.pid!, 'SIGUSR2');
    await waitFor(/^burned/);
    const used = system.cpuSeconds([child.pid]) - before;
    // Ticks are 1/CLK_TCK s; the burn loop checks its own CPU time, so it used at least 400 ms.
    expect(used).toBeGreaterThanOrEqual(0.4 - 2 / system.clockTicks());
    expect(used).toBeLessThan(0.4 + 0.3);
  });
});

describe('CPU time of a process tree', () => {
  it('sums every process of the tree: CPU spent in a grandchild is the server\'s too', async () => {
    // The parent starts a worker (as a pre-fork master does) and stays idle; the worker burns.
    const worker = `${BURN}; process.on('SIGUSR2', () => { burn(500); console.log('burned'); }); console.log('worker ' + process.pid); setInterval(() => {}, 1000);`;
    const master = `const { spawn } = require('child_process');
      const w = spawn(process.execPath, ['-e', ${JSON.stringify(worker)}], { stdio: ['ignore', 'inherit', 'inherit'] });
      console.log('ready'); setInterval(() => {}, 1000);`;
    const { child, waitFor } = await start(master);
    const workerPid = Number((await waitFor(/^worker \d+/)).split(' ')[1]);
    expect(system.processTree(child.pid)).toEqual([child.pid, workerPid]);

    const before = system.treeCpu(child.pid);
    expect([...before.keys()].sort()).toEqual([child.pid, workerPid].sort());
    const masterBefore = system.cpuSeconds([child.pid]);
    process.kill(workerPid, 'SIGUSR2');
    await waitFor(/^burned/);
    const after = system.treeCpu(child.pid);
    const used = system.cpuBetween(before, after);
    expect(used).toBeGreaterThanOrEqual(0.5 - 2 / system.clockTicks());
    expect(used).toBeLessThan(0.5 + 0.3);
    // The master alone would have shown almost nothing.
    expect(system.cpuSeconds([child.pid]) - masterBefore).toBeLessThan(0.1);

    // 0.5 s of CPU for 10,000 requests is 50 µs each.
    expect(system.cpuPerRequestUs(0.5, 10000)).toBeCloseTo(50, 9);
    expect(system.cpuPerRequestUs(used, 1000)).toBeCloseTo(used * 1000, 6);
  });

  it('counts a process that appeared between the snapshots whole, and never goes negative', () => {
    const before = new Map([[10, 1.0], [11, 2.0], [12, 0.5]]);
    const after = new Map([[10, 1.25], [11, 2.0], [13, 0.125]]); // 12 ended, 13 was started
    expect(system.cpuBetween(before, after)).toBeCloseTo(0.375, 12);
    expect(system.cpuBetween(new Map([[10, 2]]), new Map([[10, 1]]))).toBe(0); // a reused pid
  });

  it('has no CPU per request without completed requests', () => {
    expect(system.cpuPerRequestUs(1, 0)).toBeNull();
    expect(system.cpuPerRequestUs(1, undefined)).toBeNull();
    expect(system.cpuPerRequestUs(0, 100)).toBe(0);
  });
});
