// Resource exhaustion: a worker that runs out of descriptors keeps its heartbeat, its
// stats and its logs going (they degrade instead of throwing), so it neither dies nor
// drops the connections it holds, and serves again once the flood is over.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { get, killAll, sleep, startServer } from './manager-harness';

afterEach(killAll);

/** Opens `count` connections (bounded in time), each sending one slow request; resolves with the sockets. */
async function flood(port: number, count: number, ms: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  const deadline = Date.now() + 5000;
  for (let i = 0; i < count && Date.now() < deadline; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.write(`GET /slow?ms=${ms} HTTP/1.1\r\nHost: x\r\n\r\n`);
    sockets.push(s);
    if (i % 50 === 49) await sleep(20);
  }
  return sockets;
}

describe('resource exhaustion', () => {
  it('under ulimit -n 256, 400 connections do not kill the worker; it serves again afterwards', async () => {
    // Heartbeats, and each stats request, make the worker read its resident memory.
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--stats', '127.0.0.1:0'], { maxOpenFiles: 256 });
    const statsPort = Number(/msg="stats server listening" .*address=[\d.]+:(\d+)/.exec(t.err())![1]);
    const [worker] = t.workerPids();
    const before = await get({ port });
    expect(before.body.split(' ')[0]).toBe(String(worker));

    const sockets = await flood(port, 400, 2500);
    // Some requests keep going during the flood, and the stats are read every 100 ms.
    const during: Array<Promise<unknown>> = [];
    const until = Date.now() + 3000;
    const polling = (async () => {
      while (Date.now() < until) {
        await new Promise<void>((resolve) => {
          const s = net.connect(statsPort, '127.0.0.1', () => s.resume());
          s.on('error', () => resolve());
          s.on('close', () => resolve());
        });
        await sleep(100);
      }
    })();
    while (Date.now() < until) {
      during.push(get({ port }, '/', undefined, 4000).catch((e: Error) => e));
      await sleep(250);
    }
    await Promise.all([...during, polling]);
    for (const s of sockets) s.destroy();

    // After the flood: the same worker serves, and the master never saw it die.
    const deadline = Date.now() + 10_000;
    let after: Awaited<ReturnType<typeof get>> | Error = new Error('not tried');
    while (Date.now() < deadline) {
      after = await get({ port }, '/', undefined, 3000).catch((e: Error) => e);
      if (!(after instanceof Error)) break;
      await sleep(200);
    }
    expect(after, t.err().slice(-3000)).not.toBeInstanceOf(Error);
    const reply = after as Awaited<ReturnType<typeof get>>;
    expect(reply.status).toBe(200);
    expect(reply.body.split(' ')[0]).toBe(String(worker));
    expect(t.err()).not.toMatch(/msg="worker died"/);
    expect(t.workerPids()).toEqual([worker]);
    expect(() => process.kill(worker, 0)).not.toThrow();
  });
});

describe('resource exhaustion and log files', () => {
  it('USR1 while the worker is out of descriptors: the access log stays open (old file) and the worker lives', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-emfile-'));
    const accessLog = path.join(dir, 'access.log');
    try {
      const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--access-log', accessLog], { maxOpenFiles: 256 });
      const [worker] = t.workerPids();
      const sockets = await flood(port, 400, 2500);
      await sleep(1000);
      // The master passes USR1 on; the worker cannot open the log again right now.
      process.kill(t.pid, 'SIGUSR1');
      await t.waitFor(/msg="log files reopened"/);
      await sleep(1000);
      for (const s of sockets) s.destroy();
      let after: Awaited<ReturnType<typeof get>> | Error = new Error('not tried');
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        after = await get({ port }, '/after', undefined, 3000).catch((e: Error) => e);
        if (!(after instanceof Error)) break;
        await sleep(200);
      }
      expect(after, t.err().slice(-3000)).not.toBeInstanceOf(Error);
      expect((after as { body: string }).body.split(' ')[0]).toBe(String(worker));
      expect(t.err()).not.toMatch(/msg="worker died"/);
      // Lines still reach the log after the failed reopen.
      const until = Date.now() + 5000;
      while (!fs.readFileSync(accessLog, 'utf8').includes('GET /after') && Date.now() < until) await sleep(100);
      expect(fs.readFileSync(accessLog, 'utf8')).toContain('GET /after');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('resource exhaustion in the master', () => {
  it('under ulimit -n 256, 300 connections held on the stats address leave the master up; stats answer afterwards', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--stats', '127.0.0.1:0', '--stats-http'], { maxOpenFiles: 256 });
    const statsPort = Number(/msg="stats server listening" .*address=[\d.]+:(\d+)/.exec(t.err())![1]);
    const [worker] = t.workerPids();
    const held: net.Socket[] = [];
    const deadline = Date.now() + 5000;
    for (let i = 0; i < 300 && Date.now() < deadline; i++) {
      const s = net.connect(statsPort, '127.0.0.1');
      s.on('error', () => {});
      held.push(s);
      if (i % 50 === 49) await sleep(20);
    }
    await sleep(2000);
    expect(t.child.exitCode, t.err().slice(-2000)).toBeNull();
    for (const s of held) s.destroy();
    // The master still answers stats, and its worker still serves.
    let stats: Awaited<ReturnType<typeof get>> | Error = new Error('not tried');
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      stats = await get({ port: statsPort }, '/', undefined, 3000).catch((e: Error) => e);
      if (!(stats instanceof Error)) break;
      await sleep(200);
    }
    expect(stats, t.err().slice(-2000)).not.toBeInstanceOf(Error);
    expect(JSON.parse((stats as { body: string }).body).workers[0].pid).toBe(worker);
    expect((await get({ port })).body.split(' ')[0]).toBe(String(worker));
    expect(t.child.exitCode).toBeNull();
  });
});
