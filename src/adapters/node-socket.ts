// The `socket` a node:http handler sees when it runs on tsgi: the connection's addresses
// and the state flags frameworks read (readable, writable, destroyed, encrypted). It
// carries no bytes — the native core owns the real connection; destroy() asks the
// adapter to close it. One per request.
import { EventEmitter } from 'node:events';
import net from 'node:net';

/** What the socket reports back to the request it belongs to. */
export interface SocketOwner {
  /** The handler destroyed the socket (or the request/response): close the connection. */
  destroyConnection(error: Error | undefined): void;
}

const HIGH_WATER_MARK = 16 * 1024;

export class NodeSocket extends EventEmitter {
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  localAddress: string | undefined;
  localPort: number | undefined;
  /** true over TLS (wsgi.url_scheme 'https'), as on a tls.TLSSocket; undefined otherwise. */
  encrypted: true | undefined;
  readable = true;
  writable = true;
  destroyed = false;
  readonly writableLength = 0;
  readonly writableHighWaterMark = HIGH_WATER_MARK;
  readonly readableHighWaterMark = HIGH_WATER_MARK;
  readonly writableCorked = 0;
  readonly bytesRead = 0;
  readonly bytesWritten = 0;
  readonly pending = false;
  readonly connecting = false;
  /** node:http keeps the response being written here; frameworks read it. */
  _httpMessage: unknown = null;
  private readonly owner: SocketOwner;

  constructor(owner: SocketOwner, remoteAddress: string, remotePort: number, localAddress: string | undefined,
              localPort: number | undefined, encrypted: boolean) {
    super();
    this.owner = owner;
    this.remoteAddress = remoteAddress === '' ? undefined : remoteAddress;
    this.remotePort = remotePort > 0 ? remotePort : undefined;
    this.localAddress = localAddress;
    this.localPort = localPort;
    this.encrypted = encrypted ? true : undefined;
  }

  get remoteFamily(): string | undefined {
    const v = this.remoteAddress === undefined ? 0 : net.isIP(this.remoteAddress);
    return v === 4 ? 'IPv4' : v === 6 ? 'IPv6' : undefined;
  }

  address(): { address: string; family: string; port: number } | Record<string, never> {
    if (this.localAddress === undefined) return {};
    return { address: this.localAddress, family: net.isIP(this.localAddress) === 6 ? 'IPv6' : 'IPv4', port: this.localPort ?? 0 };
  }

  // Timeouts, keep-alive and Nagle belong to the native core's settings: these accept the call and do nothing.
  setTimeout(_ms: number, callback?: () => void): this {
    if (callback !== undefined) this.once('timeout', callback);
    return this;
  }
  setNoDelay(): this { return this; }
  setKeepAlive(): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }
  cork(): void { /* the native core corks its own writes */ }
  uncork(): void { /* the native core corks its own writes */ }
  pause(): this { return this; }
  resume(): this { return this; }

  /** Raw bytes cannot bypass the response: tsgi frames every response itself. */
  write(): boolean {
    throw new Error('tsgi: writing to the socket directly is not supported on tsgi (the native core frames every response); write to the response (res.write/res.end) instead');
  }

  end(): this {
    this.destroy();
    return this;
  }

  destroySoon(): void {
    this.destroy();
  }

  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.owner.destroyConnection(error);
    return this;
  }

  /** The connection is gone (client left, or destroyed): emits 'close' (after 'error' when there is one) next tick. */
  markClosed(error?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.readable = false;
    this.writable = false;
    process.nextTick(emitClose, this, error);
  }
}

function emitClose(socket: NodeSocket, error: Error | undefined): void {
  if (error !== undefined && socket.listenerCount('error') > 0) socket.emit('error', error);
  socket.emit('close', error !== undefined);
}
