// The master's listening sockets. The master binds them, never accepts on them, and
// hands their file descriptors to every worker, which accepts on the shared sockets.
// Binding without accepting is what lets the master hold the sockets across worker
// restarts and reloads: connections wait in the kernel's queue meanwhile.
import fs from 'node:fs';
import net from 'node:net';
import dns from 'node:dns/promises';
import { formatBind, parseBind, type ListenerProtocol } from '../bind';

export interface ListenSocket {
  /** The bind string as given, e.g. '127.0.0.1:8000'. */
  readonly spec: string;
  /** The socket's descriptor in the master. */
  readonly fd: number;
  readonly kind: 'tcp' | 'unix' | 'fd';
  /** What the workers speak on it, from the bind's scheme. */
  readonly protocol: ListenerProtocol;
  readonly tls: boolean;
  /** Printable address: '127.0.0.1:8000', '[::]:8000', 'unix:/run/app.sock', 'fd://3', 'https://[::]:8443', 'uwsgi+unix:/run/app.sock'. */
  readonly name: string;
  readonly port: number;
  close(): void;
}

interface RawHandle {
  fd: number;
  getsockname?(out: Record<string, unknown>): number;
  close(): void;
}

// node's internal helper that creates and binds a socket handle without listening on
// it; the same call node's cluster module uses in the master.
const createServerHandle = (net as unknown as {
  _createServerHandle(address: string, port: number, addressType: number, fd?: number, flags?: number): RawHandle | number;
})._createServerHandle;

/** What to do about the usual reasons a bind fails. */
const BIND_HINTS: Record<string, string> = {
  EADDRINUSE: 'another process is already listening on this address; stop it, or choose another address with --bind (e.g. --bind 127.0.0.1:8001)',
  EACCES: 'permission denied: ports below 1024 need root (or CAP_NET_BIND_SERVICE), and a unix: socket needs a directory this user may write to; choose another address with --bind',
  EADDRNOTAVAIL: 'no network interface of this machine has this address; use 127.0.0.1, 0.0.0.0 (every address) or one of its addresses',
};

function errnoError(code: number, what: string): Error {
  const name = (require('node:util') as typeof import('node:util')).getSystemErrorName(code);
  const hint = BIND_HINTS[name];
  const err = new Error(`cannot bind ${what}: ${name}${hint ? ': ' + hint : ''}`) as Error & { code: string };
  err.code = name;
  return err;
}

async function staleUnixSocket(path: string): Promise<boolean> {
  if (!fs.existsSync(path)) return false;
  if (!fs.statSync(path).isSocket()) throw new Error(`cannot bind unix:${path}: the path exists and is not a socket`);
  return new Promise((resolve) => {
    const c = net.connect(path);
    c.on('connect', () => { c.destroy(); resolve(false); });
    c.on('error', () => resolve(true));
  });
}

async function bindOne(spec: string, unixMode: number | undefined): Promise<ListenSocket> {
  const b = parseBind(spec);
  if (b.kind === 'fd') {
    try {
      fs.fstatSync(b.fd);
    } catch {
      throw new Error(`cannot use ${spec}: file descriptor ${b.fd} is not open in this process`);
    }
    return { spec, fd: b.fd, kind: 'fd', protocol: b.protocol, tls: b.tls, name: formatBind(b), port: 0, close: () => {} };
  }
  if (b.kind === 'unix') {
    if (await staleUnixSocket(b.path)) fs.unlinkSync(b.path);
    const h = createServerHandle(b.path, -1, -1);
    if (typeof h === 'number') throw errnoError(h, spec);
    if (unixMode !== undefined) fs.chmodSync(b.path, unixMode);
    return {
      spec, fd: h.fd, kind: 'unix', protocol: b.protocol, tls: b.tls, name: formatBind(b), port: 0,
      close: () => {
        h.close();
        try { fs.unlinkSync(b.path); } catch { /* already gone */ }
      },
    };
  }
  // An empty host means every address: '::' is dual-stack, as the embedding server does.
  let host = b.host === '' ? '::' : b.host;
  let family = net.isIP(host);
  if (family === 0) {
    const found = await dns.lookup(host);
    host = found.address;
    family = found.family;
  }
  const h = createServerHandle(host, b.port, family);
  if (typeof h !== 'number' && b.port !== 0 && (await someoneListens(host, b.port, family))) {
    h.close();
    throw errnoError(-98 /* EADDRINUSE */, spec);
  }
  if (typeof h === 'number') throw errnoError(h, spec);
  const addr: Record<string, unknown> = {};
  h.getsockname?.(addr);
  const port = Number(addr.port ?? b.port);
  const name = formatBind({ kind: 'tcp', host, port, protocol: b.protocol, tls: b.tls });
  return { spec, fd: h.fd, kind: 'tcp', protocol: b.protocol, tls: b.tls, name, port, close: () => h.close() };
}

/**
 * The kernel lets two SO_REUSEADDR sockets bind one address as long as neither listens
 * yet, so a port held by another server only fails at listen(), in the worker. The
 * master's socket does not listen, so any answer on the address is another server's.
 */
function someoneListens(host: string, port: number, family: number): Promise<boolean> {
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return new Promise((resolve) => {
    const c = net.connect({ host: target, port, family });
    const done = (v: boolean) => { c.destroy(); resolve(v); };
    c.setTimeout(500, () => done(false));
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
  });
}

/** Binds every address (ports given as 0 get one from the kernel); closes what it bound if one fails. */
export async function bindAll(specs: readonly string[], unixSocketMode: string): Promise<ListenSocket[]> {
  const mode = unixSocketMode ? parseInt(unixSocketMode, 8) : undefined;
  const out: ListenSocket[] = [];
  try {
    for (const spec of specs) out.push(await bindOne(spec, mode));
  } catch (err) {
    for (const s of out) s.close();
    throw err;
  }
  return out;
}
