// Out of file descriptors (EMFILE), the listener pauses accepting and retries on a timer:
// the worker neither spins nor crashes, connections waiting in the kernel's queue are not
// dropped, and once descriptors free up they are accepted and served.
import fs from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { readPort, spawnFixture } from './helpers/child-server';
import { sleep } from './helpers/time';

/** CPU time (user + system) of a process so far, in ms. */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;  // clock ticks of 10 ms
}
async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface Conn { sock: net.Socket; text: string; answered: boolean; closed: boolean }

describe('running out of file descriptors', () => {
  it('pauses accepting without spinning, drops no queued connection, and serves them once descriptors free up', async () => {
    const child = spawnFixture('page-server.ts', { maxOpenFiles: 64 });
    const conns: Conn[] = [];
    try {
      const port = await readPort(child);
      let release = false;  // from phase two on, a connection closes once answered
      for (let i = 0; i < 120; i++) {
        const c: Conn = { sock: net.connect(port, '127.0.0.1'), text: '', answered: false, closed: false };
        c.sock.on('data', (d) => {
          c.text += d.toString('latin1');
          if (!c.answered && c.text.includes(`/c${i}\n`)) {
            c.answered = true;
            if (release) c.sock.destroy();
          }
        });
        c.sock.on('close', () => { c.closed = true; });
        c.sock.on('error', () => {});
        c.sock.write(`GET /c${i} HTTP/1.1\r\nHost: t\r\n\r\n`);
        conns.push(c);
      }
      // Phase one: the answered connections stay open, the server is out of descriptors.
      await waitFor(() => conns.filter((c) => c.answered).length >= 20, 10_000, 'the first answers');
      await sleep(500);
      const c0 = cpuMs(child.pid!);
      const t0 = Date.now();
      await sleep(2000);
      const cpu = cpuMs(child.pid!) - c0;
      const wall = Date.now() - t0;
      const answered = conns.filter((c) => c.answered).length;
      expect(answered).toBeLessThan(120);  // the others wait: descriptors did run out
      expect(cpu).toBeLessThan(wall * 0.5);
      expect(conns.filter((c) => c.closed && !c.answered).length).toBe(0);  // none dropped
      expect(child.exitCode).toBe(null);

      // Phase two: clients close what was answered; the waiting ones get accepted and answered.
      release = true;
      for (const c of conns) if (c.answered) c.sock.destroy();
      await waitFor(() => conns.every((c) => c.answered || c.closed), 20_000, 'every connection answered');
      expect(conns.filter((c) => !c.answered).length).toBe(0);
      expect(child.exitCode).toBe(null);
    } finally {
      for (const c of conns) c.sock.destroy();
      child.kill();
    }
  }, 60_000);
});
