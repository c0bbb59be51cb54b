// The messages between the master and a worker process (over the IPC channel), and
// between a worker process and its worker threads (over MessagePorts).

/** The environment variable that carries --keyfile-password from the master to a worker process (kept out of argv). */
export const WORKER_KEY_PASSWORD_ENV = 'TSGI_WORKER_KEY_PASSWORD';

/** What the master tells a worker when it starts it (argv[2], JSON). */
export interface WorkerConfig {
  app: string;
  cwd: string;
  /** Worker slot, 1..workers; a replacement takes the slot of the worker it replaces. */
  id: number;
  /** Descriptors of the listening sockets in the worker process (3, 4, …). */
  fds: number[];
  /** The same sockets as bind strings with their protocol ('fd://3', 'https+fd://4', 'uwsgi+fd://5'). */
  binds?: string[];
  /** The settings, after precedence. */
  settings: Record<string, unknown>;
  /** max-requests for this worker, jitter included (0: no limit). */
  maxRequests: number;
  /** How often the worker reports, in ms. */
  heartbeatMs: number;
  /** Thread index inside the worker process (thread workers only). */
  thread?: number;
  /** One Int32 counting the requests of every thread of the process (thread workers only). */
  served?: SharedArrayBuffer;
}

/** The oldest request a worker has in flight, for harakiri. */
export interface InFlight {
  start: number;
  line: string;
  remote: string;
}

/** Counters one worker reports with each heartbeat. */
export interface WorkerCounters {
  requests: number;
  exceptions: number;
  /** Bytes sent. */
  tx: number;
  /** Sum of request durations, microseconds. */
  runningTimeUs: number;
  inFlight: number;
  /** Requests ended by the harakiri deadline. */
  harakiri: number;
  oldest: InFlight | null;
  rss: number;
  /** Age in ms of the oldest heartbeat among the worker's threads (0 for a process worker). */
  stalledMs: number;
}

export type WorkerMessage =
  | { t: 'ready' }
  | { t: 'beat'; c: WorkerCounters }
  | { t: 'boot-error'; code: number; message: string }
  | { t: 'retire'; reason: string }
  /** With --reload: the files the application loaded (CommonJS modules outside node_modules), for the master to watch. */
  | { t: 'files'; files: string[] };

export type MasterMessage =
  | { t: 'stats' }
  | { t: 'reopen' }
  /**
   * Graceful stop of the whole server (the master's TERM): as the TERM signal a replaced
   * worker gets, and the listening sockets the master bound itself (these descriptors)
   * stop listening, so new clients are refused rather than queued for nobody.
   */
  | { t: 'stop'; refuseFds: number[] };

export const zeroCounters = (): WorkerCounters => ({
  requests: 0, exceptions: 0, tx: 0, runningTimeUs: 0, inFlight: 0, harakiri: 0, oldest: null, rss: 0, stalledMs: 0,
});
