// --user/--group: the master binds (a privileged port would need root), then it and
// every worker run as the unprivileged user. Needs root; skipped otherwise.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { get, killAll, startServer } from './manager-harness';

afterEach(killAll);

const isRoot = process.getuid?.() === 0;
const ids = (pid: number) => {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { uid: Number(/^Uid:\s+(\d+)/m.exec(status)![1]), gid: Number(/^Gid:\s+(\d+)/m.exec(status)![1]) };
};

describe.skipIf(!isRoot)('privilege drop', () => {
  it('--user nobody --group nogroup: the master and its workers run as nobody after binding', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--workers', '2', '--user', 'nobody', '--group', 'nogroup']);
    expect(ids(t.pid)).toEqual({ uid: 65534, gid: 65534 });
    for (const pid of t.workerPids()) expect(ids(pid)).toEqual({ uid: 65534, gid: 65534 });
    expect((await get({ port })).status).toBe(200);
  });

  it('an unknown user stops the server with a clear error', async () => {
    const { tsgi } = await import('./manager-harness');
    const t = tsgi(['pid.js', '--bind', '127.0.0.1:0', '--user', 'no-such-user-here']);
    const { code } = await t.exited;
    expect(code).toBe(1);
    expect(t.err()).toMatch(/msg="cannot start" .*no-such-user-here/);
  });
});
