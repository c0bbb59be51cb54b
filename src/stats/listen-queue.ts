// How many connections wait in a listening socket's accept queue, from the kernel's
// socket tables (Linux): for a listening socket, /proc/net/tcp's rx_queue is the
// current accept-queue length. Sockets are matched by inode. 0 where unknown.
import fs from 'node:fs';

function inodeOf(fd: number): number | undefined {
  try {
    return fs.fstatSync(fd).ino;
  } catch {
    return undefined;
  }
}

/** rx_queue of listening sockets by inode, from /proc/net/tcp and tcp6. */
function tcpQueues(): Map<number, number> {
  const out = new Map<number, number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A: LISTEN
      const rx = parseInt(f[4].split(':')[1], 16);
      out.set(Number(f[9]), rx);
    }
  }
  return out;
}

/** Queue length per descriptor, in the order given. */
export function listenQueues(fds: readonly number[]): number[] {
  const queues = tcpQueues();
  return fds.map((fd) => {
    const ino = inodeOf(fd);
    return ino === undefined ? 0 : queues.get(ino) ?? 0;
  });
}
