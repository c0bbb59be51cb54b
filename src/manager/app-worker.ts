// One event loop serving the application: loads the app, runs the embedding server on
// the inherited sockets, counts requests for stats, tracks requests in flight for
// harakiri, writes the access log, and reports to its parent with heartbeats. A
// process worker runs one of these on its main thread; a thread worker runs one per
// worker thread.
import { createServer, type Server } from '../server';
import type { ServerHooks } from '../types';
import type { App } from '../types';
import { loadApp } from '../app-loader';
import { resolveApp } from '../adapters/detect';
import { AccessLog } from '../logging/access-log';
import { LogFile } from '../logging/log-file';
import { ErrorLog } from '../logging/error-log';
import { SETTINGS } from '../settings/registry';
import type { InFlight, WorkerConfig, WorkerCounters, WorkerMessage } from './protocol';
import { zeroCounters } from './protocol';

type Environ = Record<string, unknown>;


// Sections whose settings are the embedding server's own options, passed through by name.
const MANAGER_SECTIONS = new Set(['sockets', 'workers', 'process', 'logging', 'stats', 'development']);


export class AppWorker {
  private server: Server | undefined;
  private readonly counters: WorkerCounters = zeroCounters();
  private readonly inFlight = new Map<Environ, InFlight>();
  private accessLog: AccessLog | undefined;
  readonly log: ErrorLog;
  private timer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly cfg: WorkerConfig, private readonly send: (m: WorkerMessage) => void) {
    const s = cfg.settings;
    const fields = cfg.thread === undefined ? { worker: cfg.id } : { worker: cfg.id, thread: cfg.thread };
    this.log = new ErrorLog(String(s.errorLog), String(s.logLevel), fields);
  }

  /** Loads the application and starts serving on the inherited sockets. */
  async init(): Promise<void> {
    const s = this.cfg.settings;
    if (s.accessLog) this.accessLog = new AccessLog(new LogFile(String(s.accessLog), 1), String(s.accessLogFormat));
    // Heartbeats start before the app loads, so a load that hangs is caught by --timeout.
    this.run();
    const { app, detection } = await resolveApp(await loadApp(this.cfg.app, this.cfg.cwd), String(s.interface ?? 'auto'), this.cfg.app);
    this.log.info('application', { app: this.cfg.app, interface: detection.interface, detected: detection.kind, why: detection.why });
    const options: Record<string, unknown> = {};
    for (const setting of SETTINGS) if (!MANAGER_SECTIONS.has(setting.section) && setting.name in s) options[setting.name] = s[setting.name];
    Object.assign(options, {
      bind: this.cfg.fds.map((fd) => `fd://${fd}`),
      backlog: s.backlog,
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
        // Reaching max-requests is reported at once, so the replacement starts without waiting for a heartbeat.
        if (c.requests === this.cfg.maxRequests) this.notify();
        if (error !== undefined || status >= 500) c.exceptions++;
        c.tx += bytesSent;
        c.runningTimeUs += Math.round(durationMs * 1000);
        this.accessLog?.log({ environ, status, bytesSent, durationMs, start: started?.start ?? Date.now() - durationMs, pid, worker });
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
    this.counters.rss = process.memoryUsage.rss();
    this.counters.maxThreadRequests = this.counters.requests;
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

  /** Graceful: stop accepting, let requests in flight finish. Resolves when the server is closed. */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = (async () => {
        try {
          await this.server?.close();
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
