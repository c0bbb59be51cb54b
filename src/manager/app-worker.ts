// One event loop serving the application: loads the app, runs the embedding server on
// the inherited sockets (whose gateway ends a request that runs past harakiri), counts
// requests for stats, tracks requests in flight (the master sees the oldest), writes the
// access log, and reports to its parent with heartbeats. A process worker runs one of
// these on its main thread; a thread worker runs one per worker thread.
import path from 'node:path';
import { createServer, type InternalCloseOptions, type Server } from '../server';
import { kRefuseFds } from '../symbols';
import type { ServerHooks } from '../types';
import type { App } from '../types';
import { loadApp } from '../app-loader';
import { resolveApp } from '../adapters/detect';
import { AccessLog, accessEnvironKeys, accessHeaderKeys } from '../logging/access-log';
import { binding } from '../native';
import { LogFile } from '../logging/log-file';
import { ErrorLog } from '../logging/error-log';
import { SETTINGS } from '../settings/registry';
import { tlsFromSettings } from '../tls-options';
import type { InFlight, WorkerConfig, WorkerCounters, WorkerMessage } from './protocol';
import { zeroCounters } from './protocol';
import { residentMemory } from './resident-memory';
import { isNativeApp, type NativeApp } from '../native-app';
import { loadPythonApp, pythonSpec } from '../python';

type Environ = Record<string, unknown>;


// A native application's access entries kept between two drains (more: the oldest are
// dropped), and how often they are drained.
const NATIVE_ACCESS_ENTRIES = 16384;
const DRAIN_MS = 100;

// Sections whose settings are the embedding server's own options, passed through by name.
// TLS settings (--certfile …) become the `tls` option.
const MANAGER_SECTIONS = new Set(['sockets', 'TLS', 'workers', 'process', 'logging', 'stats', 'development', 'python']);


/** The application's own modules this process has loaded (--reload watches their directories). */
function loadedFiles(): string[] {
  const own = path.join(__dirname, '..') + path.sep; // tsgi's own files
  return Object.keys(require.cache).filter((f) => !/[\\/]node_modules[\\/]/.test(f) && !f.startsWith(own));
}

export class AppWorker {
  private server: Server | undefined;
  private readonly counters: WorkerCounters = zeroCounters();
  private readonly inFlight = new Map<Environ, InFlight>();
  private accessLog: AccessLog | undefined;
  readonly log: ErrorLog;
  private timer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  /** The application answers inside the native core (no per-request hooks run). */
  private native = false;
  /** The process-wide request count shared by a thread worker's threads. */
  private readonly served: Int32Array | undefined;
  /** A native application's access log: the request header keys the core keeps, and the drain timer. */
  private nativeKeys: string[] = [];
  private drainTimer: NodeJS.Timeout | undefined;
  private nativeDropped = 0;

  constructor(private readonly cfg: WorkerConfig, private readonly send: (m: WorkerMessage) => void) {
    const s = cfg.settings;
    const fields = cfg.thread === undefined ? { worker: cfg.id } : { worker: cfg.id, thread: cfg.thread };
    this.log = new ErrorLog(String(s.errorLog), String(s.logLevel), fields);
    this.served = cfg.served ? new Int32Array(cfg.served) : undefined;
  }

  /** Loads the application and starts serving on the inherited sockets. */
  async init(): Promise<void> {
    const s = this.cfg.settings;
    if (s.accessLog) this.accessLog = new AccessLog(new LogFile(String(s.accessLog), 1), String(s.accessLogFormat));
    // Heartbeats start before the app loads, so a load that hangs is caught by --timeout.
    this.run();
    const app = await this.loadApplication();
    if (s.reload) this.send({ t: 'files', files: loadedFiles() });
    const options: Record<string, unknown> = {};
    for (const setting of SETTINGS) if (!MANAGER_SECTIONS.has(setting.section) && setting.name in s) options[setting.name] = s[setting.name];
    Object.assign(options, {
      // The inherited sockets, each with its protocol ('https+fd://3', 'uwsgi+fd://4').
      bind: this.cfg.binds ?? this.cfg.fds.map((fd) => `fd://${fd}`),
      tls: tlsFromSettings(s),
      backlog: s.backlog,
      // The per-request deadline is the gateway's; the graceful timeout bounds close().
      harakiri: s.harakiri,
      gracefulTimeout: s.gracefulTimeout,
      multiprocess: Number(s.workers) > 1,
      multithread: Number(s.threads) > 1,
      hooks: this.hooks(),
      logger: this.log.logger,
      // wsgi.errors goes to the error log, wherever --error-log points.
      errors: this.log,
    });
    this.server = createServer(app as App, options);
    this.native = isNativeApp(app);
    await this.server.listen();
    if (this.native) this.startNativeLogs();
  }

  /**
   * A native application runs no JavaScript per request: the core keeps what the access
   * log and the counters need, and it is read here in batches (every DRAIN_MS, and with
   * each heartbeat). Its error lines (tracebacks, wsgi.errors) go to the error log's file.
   */
  private startNativeLogs() {
    if (!this.accessLog) return;
    // Request headers the core takes from the head; other keys (REMOTE_USER…) the application gives.
    const format = String(this.cfg.settings.accessLogFormat);
    this.nativeKeys = [...accessHeaderKeys(format), ...accessEnvironKeys(format)];
    if (!this.server?.nativeAppLog(NATIVE_ACCESS_ENTRIES, this.nativeKeys)) return;
    this.drainTimer = setInterval(() => this.drainNative(), DRAIN_MS);
    this.drainTimer.unref();
  }

  private nativeErrorLog() {
    if (this.native) binding().nativeAppErrorLog(this.log.descriptor);
  }

  /** The native application's counters, and its finished requests to the access log. */
  private drainNative() {
    const d = this.server?.nativeAppDrain();
    if (!d) return;
    const c = this.counters;
    c.requests = d.finished;
    c.exceptions = d.errors;
    c.tx = d.bytes;
    c.runningTimeUs = Math.round(d.timeUs);
    c.inFlight = d.inFlight;
    c.harakiri = d.harakiri;
    if (d.dropped > this.nativeDropped) {
      if (this.nativeDropped === 0) {
        this.log.warning('access log lines dropped: requests finished faster than the log was written', { dropped: d.dropped, kept: NATIVE_ACCESS_ENTRIES });
      }
      this.nativeDropped = d.dropped;
    }
    const log = this.accessLog;
    if (d.count === 0 || !log) return;
    const keys = this.nativeKeys;
    const fields = d.text.split('\0');
    const width = 6 + keys.length;
    const n = d.numbers;
    const pid = process.pid;
    const worker = this.cfg.thread === undefined ? this.cfg.id : `${this.cfg.id}.${this.cfg.thread}`;
    for (let i = 0; i < d.count; i++) {
      const at = i * width;
      const environ: Environ = {
        REQUEST_METHOD: fields[at], REQUEST_URI: fields[at + 1], SERVER_PROTOCOL: fields[at + 2],
        REMOTE_ADDR: fields[at + 3], PATH_INFO: fields[at + 4], QUERY_STRING: fields[at + 5],
      };
      for (let k = 0; k < keys.length; k++) if (fields[at + 6 + k]) environ[keys[k]] = fields[at + 6 + k];
      log.log({ environ, start: n[4 * i], durationMs: n[4 * i + 1], status: n[4 * i + 2], bytesSent: n[4 * i + 3], pid, worker });
    }
  }

  /** The application: a Python WSGI callable in the embedded interpreter, or a JavaScript one. */
  private async loadApplication(): Promise<App | NativeApp> {
    const s = this.cfg.settings;
    const python = pythonSpec(this.cfg.app, String(s.python ?? ''));
    if (python !== undefined) {
      // The interpreter's error lines (tracebacks, wsgi.errors) go to the error log from the start.
      binding().nativeAppErrorLog(this.log.descriptor);
      const app = loadPythonApp({
        app: python,
        chdir: String(s.chdir ?? ''),
        pythonpath: (s.pythonpath as string[] | undefined) ?? [],
        virtualenv: String(s.virtualenv || process.env.VIRTUAL_ENV || ''),
        scriptName: String(s.scriptName ?? ''),
        urlScheme: String(s.urlScheme ?? 'http'),
        multiprocess: Number(s.workers) > 1,
        harakiri: Number(s.harakiri ?? 0),
        threads: Number(s.threads ?? 1),
        forwardedAllowIps: (s.forwardedAllowIps as string[] | undefined) ?? [],
      });
      this.log.info('application', { app: python, interface: 'python-wsgi' });
      return app;
    }
    const { app, detection } = await resolveApp(await loadApp(this.cfg.app, this.cfg.cwd), String(s.interface ?? 'auto'), this.cfg.app, { overrideGlobalObjects: s.overrideGlobalObjects !== false });
    this.log.info('application', { app: this.cfg.app, interface: detection.interface, detected: detection.kind, why: detection.why });
    return app;
  }

  private hooks(): ServerHooks {
    const c = this.counters;
    const inFlight = this.inFlight;
    const pid = process.pid;
    const worker = this.cfg.thread === undefined ? this.cfg.id : `${this.cfg.id}.${this.cfg.thread}`;
    return {
      requestStart: (environ) => {
        c.inFlight++;
        inFlight.set(environ, {
          start: Date.now(),
          line: `${environ.REQUEST_METHOD} ${environ.REQUEST_URI ?? environ.PATH_INFO} ${environ.SERVER_PROTOCOL}`,
          remote: String(environ.REMOTE_ADDR ?? ''),
        });
      },
      requestEnd: (environ, status, bytesSent, durationMs, error) => {
        const started = inFlight.get(environ);
        if (started) {
          inFlight.delete(environ);
          c.inFlight--;
        }
        c.requests++;
        // Reaching max-requests (counted per process, across its threads) is reported at
        // once, so the replacement starts without waiting for a heartbeat.
        const total = this.served ? Atomics.add(this.served, 0, 1) + 1 : c.requests;
        if (total === this.cfg.maxRequests) this.notify();
        if (error !== undefined || status >= 500) c.exceptions++;
        const harakiri = (error as { code?: string } | undefined)?.code === 'TSGI_ERR_HARAKIRI';
        if (harakiri) {
          c.harakiri++;
          this.log.error('HARAKIRI: request ran too long; ended it', {
            request: started?.line, remote_addr: started?.remote, running_ms: Math.round(durationMs), status: status || undefined,
          });
        }
        c.tx += bytesSent;
        c.runningTimeUs += Math.round(durationMs * 1000);
        this.accessLog?.log({ environ, status, bytesSent, durationMs, start: started?.start ?? Date.now() - durationMs, pid, worker });
        // A request ended by harakiri is reported at once (it is rare, and the stats count it).
        if (harakiri) this.notify();
      },
    };
  }

  /** Starts the heartbeat. */
  run() {
    if (this.timer) return;
    this.timer = setInterval(() => this.notify(), this.cfg.heartbeatMs);
    this.timer.unref();
    this.notify();
  }

  snapshot(): WorkerCounters {
    // A native application runs no JavaScript per request: its counts come from the core.
    if (this.native) this.drainNative();
    const first = this.inFlight.values().next();
    this.counters.oldest = first.done ? null : first.value;
    this.counters.rss = residentMemory();
    return { ...this.counters };
  }

  /** Sends a heartbeat with the counters. */
  notify() {
    this.send({ t: 'beat', c: this.snapshot() });
  }

  reopenLogs() {
    this.accessLog?.reopen();
    this.log.reopen();
    this.nativeErrorLog();
  }

  /**
   * Graceful: stop accepting, let requests in flight finish, end idle keep-alive
   * connections after the drain grace. refuseFds: inherited listening sockets that stop
   * listening for every process (the whole server stops; nobody takes over), so new
   * clients are refused at once. Resolves when the server is closed.
   */
  stop(refuseFds: readonly number[] = []): Promise<void> {
    if (!this.stopping) {
      this.stopping = (async () => {
        try {
          const options: InternalCloseOptions = { [kRefuseFds]: refuseFds };
          await this.server?.close(options);
        } finally {
          if (this.native) this.drainNative(); // the requests that finished while closing
          if (this.drainTimer) clearInterval(this.drainTimer);
          if (this.timer) clearInterval(this.timer);
          this.accessLog?.close();
        }
      })();
    }
    return this.stopping;
  }

  flushLogs() {
    this.accessLog?.close();
  }
}
