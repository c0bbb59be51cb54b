// The embedding API: a tsgi server inside a Node process. createServer() validates the
// options; listen() opens the listeners on the native core; close() stops accepting,
// lets in-flight requests finish and resolves once every connection is gone.
import dns from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import { formatBind, type BindAddress } from './bind';
import { buildEnviron, type EnvironContext } from './environ';
import { ErrorOutput } from './errors-stream';
import { ListenError, OptionError } from './errors';
import { fileWrapper } from './file-wrapper';
import { EMPTY_INPUT, RequestInput } from './input';
import { checkCapabilities, nativeListenOptions } from './listen-options';
import { binding, FLAG_PIPELINED, REC_FLAGS, type NativeAddress, type NativeTlsInfo, type NativeBinding, type NativeHandlers, type NativeStats, type NativeAppDrain } from './native';
import { resolveOptions, type ResolvedOptions, type ServerOptions } from './options';
import { resolveTls, type TlsOptions } from './tls-options';
import { Exchange, type GatewayContext } from './response';
import { kNativeId, kOptions, kRefuseFds, kRelease } from './symbols';
import { forwardedTrust } from './forwarded-trust';
import type { App, Environ, FileWrapperFactory, ServerAddress } from './types';
import { isNativeApp, type NativeApp } from './native-app';

type State = 'new' | 'listening' | 'closing' | 'closed';

export interface CloseOptions {
  /** false: close every connection now (in-flight requests are abandoned). Default true. */
  graceful?: boolean;
  /** Milliseconds to wait for in-flight requests before closing what is left. Default: the server's gracefulTimeout option (30 s). */
  timeout?: number;
}

/** close() options used inside tsgi: a pre-fork worker whose server stops for good. */
export interface InternalCloseOptions extends CloseOptions {
  /** fd:// listeners (by descriptor) whose shared socket stops listening for everyone, so new clients are refused. */
  [kRefuseFds]?: readonly number[];
}

let knownKeys: string[] | undefined;
const noop = () => {};

export class Server {
  readonly [kOptions]: ResolvedOptions;
  [kNativeId] = -1;
  private readonly app: App | NativeApp;
  private state: State = 'new';
  private listeners: ServerAddress[] = [];
  private closing: Promise<void> | undefined;
  private onSignal: (() => void) | undefined;
  private nb: NativeBinding | undefined;
  /** The tls option as given (paths are read again by reloadTls()). */
  private readonly tlsOption: TlsOptions | undefined;

  constructor(app: App | NativeApp, options?: ServerOptions) {
    if (typeof app !== 'function' && !isNativeApp(app)) {
      throw new OptionError('TSGI_ERR_INVALID_OPTION', `the application must be a function (environ, startResponse) => body, got ${app === null ? 'null' : typeof app}`);
    }
    this.app = app;
    this[kOptions] = resolveOptions(options);
    this.tlsOption = options?.tls;
  }

  /**
   * A new certificate configuration for the HTTPS listeners: `tls` as for the tls option
   * ({ cert, key, ... }; paths are read now), or without it the tls option given at
   * creation read again (a renewed certificate at the same paths). New handshakes use
   * it; open connections keep the one they started with. Throws an OptionError saying
   * what is wrong (the current configuration stays). Returns how many listeners took it.
   */
  reloadTls(tls?: TlsOptions): number {
    const given = tls ?? this.tlsOption;
    if (given === undefined) throw new OptionError('TSGI_ERR_INVALID_OPTION', 'reloadTls(): this server has no tls option; give the new one: reloadTls({ cert, key })');
    const resolved = resolveTls(given);
    if (this.nb === undefined || this[kNativeId] < 0 || this.state !== 'listening' || this.nb.reloadTls === undefined) return 0;
    try {
      return this.nb.reloadTls(this[kNativeId], resolved);
    } catch (e) {
      throw new OptionError('TSGI_ERR_INVALID_OPTION', `reloadTls(): ${(e as Error).message}; the current certificates stay in use`);
    }
  }

  /** True between listen() resolving and close() being called. */
  get listening(): boolean {
    return this.state === 'listening';
  }

  /** Opens every listener. Resolves with the server once it accepts connections. */
  async listen(): Promise<this> {
    if (this.state !== 'new') {
      throw new OptionError('TSGI_ERR_SERVER_STATE', `listen() was called on a server that is ${this.state === 'listening' ? 'already listening' : 'closed'}; create a new server instead`);
    }
    const opts = this[kOptions];
    if (opts.signal?.aborted) {
      this.state = 'closed';
      throw opts.signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
    }
    this.state = 'listening';
    // Resolve names before anything native is created, so a bad name leaves nothing open.
    const hosts: string[] = [];
    try {
      for (const b of opts.binds) hosts.push(b.kind === 'tcp' ? await resolveHost(b.host) : '');
    } catch (e) {
      if (this.state === 'listening') this.state = 'new';
      throw e;
    }
    if (this.state !== 'listening') {
      throw new OptionError('TSGI_ERR_SERVER_STATE', 'close() was called before listen() finished; the server did not start');
    }

    const nb = (this.nb = binding());
    knownKeys ??= nb.knownHeaders();
    const errors = new ErrorOutput(opts.errors);
    const ctx: EnvironContext = {
      scriptName: opts.scriptName,
      urlScheme: opts.urlScheme,
      multithread: opts.multithread,
      multiprocess: opts.multiprocess,
      errors,
      fileWrapper: fileWrapper as FileWrapperFactory,
      knownKeys,
      serverNames: [],
      serverPorts: [],
      urlSchemes: [],
    };
    const app = this.app;
    const gateway: GatewayContext = { nb, app: app as App, errors, hooks: opts.hooks, live: new Map(), harakiri: opts.harakiri, take: false, next: undefined };
    const front: FrontContext = {
      forwarded: forwardedTrust(opts.forwardedAllowIps),
    };
    // A native application answers inside the core: the handlers are never called for it.
    const id = isNativeApp(app)
      ? nb.createServer({ ...opts.limits }, makeHandlers(nb, ctx, gateway, front), app.handle)
      : nb.createServer({ ...opts.limits }, makeHandlers(nb, ctx, gateway, front));
    this[kNativeId] = id;

    try {
      opts.binds.forEach((b, i) => {
        const addr = listenOne(nb, id, b, hosts[i], opts);
        this.listeners.push(Object.freeze({ address: addr.address, family: addr.family, port: addr.port }));
        ctx.serverNames.push(serverName(b, addr));
        ctx.serverPorts.push(addr.family === 'unix' ? '' : String(addr.port));
        ctx.urlSchemes!.push(b.tls ? 'https' : opts.urlScheme);
      });
    } catch (e) {
      nb.stopListening(id);
      await new Promise<void>((resolve) => nb.close(id, false, resolve));
      this.state = 'closed';
      throw e;
    }
    // A native application builds its environ itself: it gets the server's forwardedAllowIps
    // (which, when not empty, replaces the one it was loaded with).
    if (isNativeApp(app)) {
      app.configure({ serverNames: ctx.serverNames.slice(), serverPorts: ctx.serverPorts.slice(), forwardedAllowIps: opts.forwardedAllowIps.slice() });
    }
    opts.logger.info('listening', { addresses: this.listeners.map((a) => formatBind(a.family === 'unix' ? { kind: 'unix', path: a.address } : { kind: 'tcp', host: a.address, port: a.port })).join(' ') });

    if (opts.signal !== undefined) {
      this.onSignal = () => { void this.close(); };
      opts.signal.addEventListener('abort', this.onSignal, { once: true });
    }
    return this;
  }

  /** The first listener's address ({ address, family, port }), or null before listen(). */
  address(): ServerAddress | null {
    return this.listeners[0] ?? null;
  }

  /** Every listener's address, in bind order. */
  addresses(): ServerAddress[] {
    return this.listeners.slice();
  }

  /** A native application's requests are kept for the access log (see NativeBinding.nativeAppLog). */
  nativeAppLog(capacity: number, keys: string[]): boolean {
    return this.nb !== undefined && this[kNativeId] >= 0 && this.state !== 'closed' ? this.nb.nativeAppLog(this[kNativeId], capacity, keys) : false;
  }

  /** A native application's counters and finished requests since the last call (null: none); also once closed, for the last ones. */
  nativeAppDrain(): NativeAppDrain | null {
    return this.nb !== undefined && this[kNativeId] >= 0 ? this.nb.nativeAppDrain(this[kNativeId]) : null;
  }

  /** Counters of the native core (open connections, requests, bytes). */
  stats(): NativeStats | null {
    return this.nb !== undefined && this[kNativeId] >= 0 && this.state !== 'closed' ? this.nb.stats(this[kNativeId]) : null;
  }

  /**
   * Stops accepting (the listeners close at once: new clients are refused), lets in-flight
   * requests finish (their responses carry Connection: close), answers the next request
   * of an idle keep-alive connection that sends one within the drain grace (with
   * Connection: close), ends the other idle connections cleanly, and resolves once no
   * connection is left. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closing) return this.closing;
    const graceful = options.graceful ?? true;
    if (this.state === 'new' || this[kNativeId] < 0) {
      // Not listening (yet): nothing native to close; a listen() in progress gives up.
      this.state = 'closed';
      return (this.closing = Promise.resolve());
    }
    this.state = 'closing';
    const nb = this.nb!;
    const id = this[kNativeId];
    if (this.onSignal) this[kOptions].signal?.removeEventListener('abort', this.onSignal);
    const refuse = (options as InternalCloseOptions)[kRefuseFds];
    this.closing = new Promise<void>((resolve) => {
      nb.stopListening(id, refuse ? [...refuse] : undefined);
      // Logged once the listeners are closed: whoever reads it may count on new
      // connections being refused from then on.
      this[kOptions].logger.info('closing', { graceful });
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      // Keeps the event loop alive until the native core reports the close, so a process
      // awaiting close() does not exit with the promise pending.
      const keepAlive = setInterval(noop, 1 << 30);
      const finish = () => {
        if (done) return;
        done = true;
        clearInterval(keepAlive);
        if (timer) clearTimeout(timer);
        this.state = 'closed';
        resolve();
      };
      nb.close(id, graceful, finish);
      const limit = options.timeout ?? this[kOptions].gracefulTimeout;
      if (graceful) {
        timer = setTimeout(() => nb.close(id, false, finish), Math.min(limit, 2 ** 31 - 1));
        timer.unref();
      }
    });
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** What the server does with a request before the application sees it. */
interface FrontContext {
  /** forwardedAllowIps: trusted forwarded headers into the environ. */
  readonly forwarded: ((environ: Environ) => void) | undefined;
}

/** The native callbacks of one server. */
function makeHandlers(nb: NativeBinding, ctx: EnvironContext, gateway: GatewayContext, front: FrontContext): NativeHandlers {
  const rec = nb.record;
  const live = gateway.live;
  const handle = (conn: number, head: string, body: Buffer | null, bodyFd: number, bodyLength: number, tls: NativeTlsInfo | undefined) => {
    let input: RequestInput | null = null;
    try {
      if (body !== null || bodyFd >= 0) input = new RequestInput(body, bodyFd, bodyLength);
      const environ = buildEnviron(ctx, rec, head, conn, input ?? EMPTY_INPUT, bodyLength, tls);
      if (front.forwarded !== undefined) front.forwarded(environ);
      new Exchange(gateway, conn, environ, input).run();
    } catch (e) {
      // Only a bug in tsgi itself gets here; never let it reach the native caller.
      if (input !== null) input[kRelease]();
      try { ctx.errors.write(`tsgi: internal error handling a request: ${e instanceof Error ? e.stack : String(e)}\n`); } catch { /* nowhere to report */ }
      try { nb.abort(conn); } catch { /* already closed */ }
    }
  };
  return {
    onRequest(conn, head, body, bodyFd, bodyLength, tls) {
      let more = (rec[REC_FLAGS] & FLAG_PIPELINED) !== 0;
      handle(conn, head, body, bodyFd, bodyLength, tls);
      // More requests came in the same read (pipelined): while each is answered at once,
      // the next one without a body is taken from here rather than by another call from
      // the core (nextRequest has none once a request is still in flight).
      while (more) {
        const next = nb.nextRequest(conn);
        if (next === undefined) break;
        more = (rec[REC_FLAGS] & FLAG_PIPELINED) !== 0;
        handle(conn, next, null, -1, 0, tls);
      }
    },
    onQueued() {
      const current = nb.current;
      let head = nb.takeQueued();
      while (head !== undefined) {
        // The request's response, if it goes out whole now, brings the next one (respondTake).
        gateway.take = true;
        handle(current[0], head, null, -1, 0, undefined);
        gateway.take = false;
        head = gateway.next;
        if (head !== undefined) gateway.next = undefined;
        else head = nb.takeQueued();
      }
    },
    onDrain(conn) {
      live.get(conn)?.drained();
    },
    onAbort(conn) {
      live.get(conn)?.abort();
    },
  };
}

async function resolveHost(host: string): Promise<string> {
  if (host === '' || net.isIP(host) !== 0) return host;
  try {
    return (await dns.lookup(host)).address;
  } catch (e) {
    throw new ListenError(`cannot listen on host ${JSON.stringify(host)}: the name does not resolve (${(e as NodeJS.ErrnoException).code ?? e}); use an IP address or a resolvable name`, (e as NodeJS.ErrnoException).code, e);
  }
}

function listenOne(nb: NativeBinding, id: number, b: BindAddress, host: string, opts: ResolvedOptions): NativeAddress {
  // What the listener speaks: its protocol (a uwsgi bind), TLS, and the PROXY protocol settings.
  const options = nativeListenOptions(b, opts);
  checkCapabilities(nb, b, options);
  try {
    switch (b.kind) {
      case 'tcp': return nb.listenTcp(id, host, b.port, opts.backlog, options);
      case 'unix': return nb.listenUnix(id, b.path, opts.backlog, opts.unixSocketMode, options);
      case 'fd': return nb.listenFd(id, b.fd, opts.backlog, options);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint = code === 'EADDRINUSE' ? 'another process listens there (or a stale socket file exists): stop it or pick another address'
      : code === 'EACCES' ? 'permission denied: use a port above 1023 or run with the needed privilege'
      : code === 'EADDRNOTAVAIL' ? 'that address is not on this machine'
      : code === 'ERR_TSGI_TLS' ? 'check the tls options: certificate, key, passphrase, CA certificates, ciphers'
      : code === 'EBADF' || code === 'ENOTSOCK' ? 'the file descriptor is not an inherited listening socket'
      : 'see the cause';
    throw new ListenError(`cannot listen on ${formatBind(b)}: ${(e as Error).message ?? e} (${hint})`, code, e);
  }
}

function serverName(b: BindAddress, addr: NativeAddress): string {
  if (addr.family === 'unix') return 'localhost';
  if (b.kind === 'tcp' && b.host !== '' && net.isIP(b.host) === 0) return b.host;
  if (addr.address === '0.0.0.0' || addr.address === '::' || addr.address === '') return os.hostname();
  return addr.address;
}

/** A server that is not listening yet: call listen(). */
export function createServer(app: App | NativeApp, options?: ServerOptions): Server {
  return new Server(app, options);
}

/** Creates a server and resolves once it listens. */
export function serve(app: App, options?: ServerOptions): Promise<Server> {
  try {
    return new Server(app, options).listen();
  } catch (e) {
    return Promise.reject(e);
  }
}
