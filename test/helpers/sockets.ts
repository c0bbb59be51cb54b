// Client-side socket helpers shared by the native, server and manager tests: a socket
// bound but not listening (as a service manager or the master hands one on), and a
// single connection attempt that reports how it ended.
import net from 'node:net';

interface ServerHandle {
  fd: number;
  getsockname(out: Record<string, unknown>): number;
  close(): void;
}

// node's internal helper that binds a socket without listening (as src/manager/sockets.ts does).
const createServerHandle = (net as unknown as {
  _createServerHandle(address: string, port: number, addressType: number): ServerHandle | number;
})._createServerHandle;

export interface BoundSocket {
  fd: number;
  /** The TCP port bound (-1 for a Unix socket). */
  port: number;
  close(): void;
}

/** Binds 127.0.0.1 on a free port, or the Unix socket `file`, without listening. */
export function bindSocket(file?: string): BoundSocket {
  const handle = file === undefined ? createServerHandle('127.0.0.1', 0, 4) : createServerHandle(file, -1, -1);
  if (typeof handle === 'number') throw new Error(`bind failed: ${handle}`);
  let port = -1;
  if (file === undefined) {
    const addr: Record<string, unknown> = {};
    handle.getsockname(addr);
    port = Number(addr.port);
  }
  return { fd: handle.fd, port, close: () => handle.close() };
}

/** Connects once (to 127.0.0.1:port, or to a Unix socket path): 'connected', or the error code (ECONNREFUSED…). */
export function tryConnect(target: number | string): Promise<string> {
  return new Promise((resolve) => {
    const s = typeof target === 'number' ? net.connect(target, '127.0.0.1') : net.connect(target);
    s.once('connect', () => { s.destroy(); resolve('connected'); });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)));
  });
}
