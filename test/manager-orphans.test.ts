// A master killed with SIGKILL leaves no orphans: its workers notice (the IPC channel
// closes) and stop within the graceful timeout, in-flight requests included, so the
// listening socket is released and a new tsgi binds the same port.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, get, killAll, sleep, startServer } from './manager-harness';

afterEach(killAll);

async function masterKilled(args: string[]) {
  const graceMs = 2000;
  const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--graceful-timeout', `${graceMs}ms`, ...args]);
  const workers = t.workerPids();
  expect(workers.length).toBeGreaterThan(0);
  // A request that would outlive the graceful timeout, and an idle keep-alive connection.
  const slow = get({ port }, '/slow?ms=30000', undefined, 40_000).catch((e: Error) => e);
  const agent = new http.Agent({ keepAlive: true });
  expect((await get({ port }, '/', agent)).status).toBe(200);
  await sleep(300);
  const at = Date.now();
  process.kill(t.pid, 'SIGKILL');
  await t.exited;
  const deadline = at + graceMs + 5000;
  while (workers.some(alive) && Date.now() < deadline) await sleep(50);
  const after = Date.now() - at;
  expect(workers.filter(alive), `workers still running ${after} ms after the master died`).toEqual([]);
  expect(await slow).toBeInstanceOf(Error);
  agent.destroy();
  // The port is free: a new server binds it and serves.
  const again = await startServer(['pid.js', '--bind', `127.0.0.1:${port}`]);
  expect(again.port).toBe(port);
  expect((await get({ port })).status).toBe(200);
  return after;
}

describe('orphaned workers', () => {
  it('process workers stop when the master is SIGKILLed, within the graceful timeout', async () => {
    await masterKilled(['--workers', '2']);
  });

  it('threads mode: the worker process and its threads stop too', async () => {
    await masterKilled(['--threads', '2']);
  });
});
