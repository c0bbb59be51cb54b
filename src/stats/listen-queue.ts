// How many connections wait in a listening socket's accept queue, from the kernel's
// socket tables (Linux): for a listening socket, /proc/net/tcp's rx_queue is the
// current accept-queue length. Sockets are matched by inode. Unknown values (other
// platforms, Unix sockets) are undefined.
import fs from 'node:fs';

function inodeOf(fd: number): number | undefined {
  try {
    return fs.fstatSync(fd).ino;
  } catch {
    return undefined;
  }
}

export interface ListenQueue { queue: number }

/** rx_queue of listening sockets by inode, from /proc/net/tcp and tcp6. */
function tcpQueues(): Map<number, ListenQueue> {
  const out = new Map<number, ListenQueue>();
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
      out.set(Number(f[9]), { queue: parseInt(f[4].split(':')[1], 16) });
    }
  }
  return out;
}

/** Queue length per descriptor, in the order given. */
export function listenQueues(fds: readonly number[]): Array<ListenQueue | undefined> {
  const queues = tcpQueues();
  return fds.map((fd) => {
    const ino = inodeOf(fd);
    return ino === undefined ? undefined : queues.get(ino);
  });
}
