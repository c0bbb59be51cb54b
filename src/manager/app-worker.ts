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
import { AccessLog } from '../logging/access-log';
import { LogFile } from '../logging/log-file';
import { ErrorLog } from '../logging/error-log';
import { SETTINGS } from '../settings/registry';
import { tlsFromSettings } from '../tls-options';
import type { InFlight, WorkerConfig, WorkerCounters, WorkerMessage } from './protocol';
import { zeroCounters } from './protocol';
import { residentMemory } from './resident-memory';

type Environ = Record<string, unknown>;


// Sections whose settings are the embedding server's own options, passed through by name.
// TLS settings (--certfile …) become the `tls` option.
const MANAGER_SECTIONS = new Set(['sockets', 'TLS', 'workers', 'process', 'logging', 'stats', 'development']);


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
  /** The process-wide request count shared by a thread worker's threads. */
  private readonly served: Int32Array | undefined;

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
    const { app, detection } = await resolveApp(await loadApp(this.cfg.app, this.cfg.cwd), String(s.interface ?? 'auto'), this.cfg.app, { overrideGlobalObjects: s.overrideGlobalObjects !== false });
    this.log.info('application', { app: this.cfg.app, interface: detection.interface, detected: detection.kind, why: detection.why });
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
    await this.server.listen();
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
