// The master. It runs no application code: it binds the sockets, starts the workers
// with the sockets as inherited descriptors, watches their heartbeats and deadlines,
// replaces the ones that die or must be recycled, and answers signals:
//   HUP         reload: re-read the config, start new workers, stop the old ones once
//               the new ones accept
//   TERM        graceful stop: workers stop accepting, finish what is in flight, exit
//   INT, QUIT   fast stop
//   TTIN, TTOU  one worker more, one fewer
//   USR1        reopen log files (the master's and every worker's)
//   USR2        ignored, with a warning (no binary upgrade)
// Its loop takes one signal at a time off a queue and dispatches it through onSignal,
// kills workers past a deadline (murderWorkers) and starts the workers that are missing
// (manageWorkers); then it sleeps until the next of those deadlines or respawns, a signal,
// or a worker's message or exit that needs it (at most MAX_SLEEP_MS), so an idle master
// wakes about once a second.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ErrorLog } from '../logging/error-log';
import { resolveSettings, type ResolvedSettings, type SettingInputs } from '../settings/sources';
import type { SettingValues } from '../settings/registry';
import { bindAll, type ListenSocket } from './sockets';
import { formatBind } from '../bind';
import { WORKER_KEY_PASSWORD_ENV } from './protocol';
import { Pidfile } from './pidfile';
import { dropPrivileges } from './privileges';
import { SignalQueue, type MasterSignal } from './signals';
import { APP_LOAD_ERROR, EXIT_FAILURE, EXIT_OK, WORKER_BOOT_ERROR } from './exit-codes';
import type { MasterMessage, WorkerConfig, WorkerCounters, WorkerMessage } from './protocol';
import { zeroCounters } from './protocol';
import { kindFor } from './worker-kinds';
import { StatsServer } from '../stats/server';
import type { StatsSnapshot } from '../stats/snapshot';
import { buildSnapshot } from '../stats/snapshot';
import { FileWatcher } from '../reload/watcher';
import { parseAppSpec } from '../app-loader';
import { HEARTBEAT_INTERVAL_MS } from '../settings/workers';

/** The longest the master sleeps: what wakes it earlier is a deadline it computed, a signal, or a worker's message or exit. */
const MAX_SLEEP_MS = 1000;
/** How soon a deadline already acted on is looked at again while its worker has not exited yet (SIGKILL again). */
const AGAIN_MS = 100;

/** Why murderWorkers kills a worker. */
type Murder = 'graceful timeout' | 'timeout' | 'harakiri';

type WorkerState = 'booting' | 'ready' | 'stopping';

export interface WorkerRecord {
  id: number;
  pid: number;
  child: ChildProcess;
  generation: number;
  state: WorkerState;
  spawnedAt: number;
  readyAt: number;
  lastBeat: number;
  counters: WorkerCounters;
  /** Requests at the previous stats snapshot, for delta_requests. */
  requestsAtLastSnapshot: number;
  /** Set when a replacement should take this worker's place (recycling, reload, fewer workers). */
  retiring: string | undefined;
  stopDeadline: number;
  killed: string | undefined;
}

export interface Slot {
  id: number;
  respawnCount: number;
  lastSpawn: number;
  harakiriCount: number;
  failures: number;
  nextSpawnAt: number;
}

export interface ArbiterOptions {
  app: string;
  cwd: string;
  inputs: SettingInputs;
  resolved: ResolvedSettings;
  version: string;
}

export class Arbiter {
  settings: SettingValues;
  readonly version: string;
  readonly startedAt = Date.now();
  readonly workers = new Map<number, WorkerRecord>();
  readonly slots = new Map<number, Slot>();
  sockets: ListenSocket[] = [];
  numWorkers: number;
  log: ErrorLog;
  /** Totals of workers that have exited, so the server's counters never go backwards. */
  readonly retired = zeroCounters();
  /** Every harakiri since the start: requests ended by the deadline, and workers killed for it. */
  retiredHarakiri = 0;

  private readonly signals = new SignalQueue();
  private generation = 1;
  private everReady = false;
  private halting: { code: number; reason: string } | undefined;
  private stopping: 'graceful' | 'fast' | undefined;
  private stopDeadline = 0;
  private pidfile: Pidfile | undefined;
  private stats: StatsServer | undefined;
  private watcher: FileWatcher | undefined;
  private readonly workerEntry = path.join(__dirname, 'worker-process.js');

  constructor(private readonly opts: ArbiterOptions) {
    this.settings = opts.resolved.values;
    this.version = opts.version;
    this.numWorkers = this.settings.workers;
    this.log = new ErrorLog(this.settings.errorLog, this.settings.logLevel, { role: 'master' });
  }

  /** Runs the server until it stops; resolves to the exit code. */
  async run(): Promise<number> {
    const s = this.settings;
    this.log.info('starting tsgi', { version: this.version, app: this.opts.app, worker_class: kindFor(s, this.opts.app), workers: s.workers, threads: s.threads });
    try {
      this.sockets = await bindAll(s.bind, s.unixSocketMode);
    } catch (err) {
      this.log.critical('cannot bind', { error: (err as Error).message });
      return EXIT_FAILURE;
    }
    for (const sock of this.sockets) this.log.info('listening', { address: sock.name, bind: sock.spec });
    try {
      if (s.pidfile) {
        this.pidfile = new Pidfile(path.resolve(this.opts.cwd, s.pidfile));
        this.pidfile.create();
      }
      dropPrivileges(s.user, s.group);
      if (s.stats) {
        this.stats = new StatsServer(s.stats, s.statsHttp, () => this.snapshot());
        const where = await this.stats.listen();
        this.log.info('stats server listening', { address: where, http: s.statsHttp });
      }
    } catch (err) {
      this.log.critical('cannot start', { error: (err as Error).message });
      this.cleanup();
      return EXIT_FAILURE;
    }
    if (s.reload) this.startWatcher();
    this.signals.install();
    try {
      await this.loop();
    } finally {
      this.signals.uninstall();
      this.cleanup();
    }
    if (this.halting) {
      this.log.info('shutting down', { reason: this.halting.reason });
      return this.halting.code;
    }
    return EXIT_OK;
  }

  /** When the loop next wakes by itself (ms since the epoch): a worker's message that brings a deadline before it wakes the loop at once. */
  private wakeAt = 0;

  private async loop() {
    for (;;) {
      let sig: MasterSignal | undefined;
      while ((sig = this.signals.shift()) !== undefined) this.dispatch(sig);
      const now = Date.now();
      let next: number;
      if (this.stopping) {
        if (this.workers.size === 0) return;
        if (now > this.stopDeadline) {
          for (const w of this.workers.values()) this.kill(w, 'SIGKILL', 'did not stop in time');
          next = now + AGAIN_MS;
        } else next = this.stopDeadline + 1;
      } else if (this.halting) {
        this.beginStop('fast');
        continue;
      } else {
        next = Math.min(this.murderWorkers(now), this.manageWorkers(now));
      }
      this.wakeAt = Math.min(next, now + MAX_SLEEP_MS);
      await this.signals.sleep(Math.max(0, this.wakeAt - Date.now()));
    }
  }

  /** What the master does on each signal it installs: a handler per signal, or the compiler complains. */
  private readonly onSignal: Readonly<Record<MasterSignal, () => void>> = {
    SIGHUP: () => {
      if (!this.stopping) void this.reload();
    },
    SIGTERM: () => this.beginStop('graceful'),
    SIGINT: () => this.beginStop('fast'),
    SIGQUIT: () => this.beginStop('fast'),
    SIGTTIN: () => {
      if (this.stopping) return;
      this.numWorkers++;
      this.log.info('one more worker', { workers: this.numWorkers });
    },
    SIGTTOU: () => {
      if (this.stopping || this.numWorkers <= 1) return;
      this.numWorkers--;
      this.log.info('one fewer worker', { workers: this.numWorkers });
    },
    SIGUSR1: () => {
      this.log.reopen();
      for (const w of this.workers.values()) this.signal(w, 'SIGUSR1');
      this.log.info('log files reopened');
    },
    // Installed so that it does not end the master (the default action), but tsgi has no
    // binary upgrade: a new master can take over the same fd:// sockets instead.
    SIGUSR2: () => this.log.warning('SIGUSR2 ignored: tsgi has no binary upgrade; send HUP to reload the workers'),
    // The master runs in the foreground and the terminal may resize.
    SIGWINCH: () => {},
  };

  private dispatch(sig: MasterSignal) {
    if (sig !== 'SIGWINCH') this.log.info('signal', { signal: sig });
    this.onSignal[sig]();
  }

  // --- reload ----------------------------------------------------------------

  private reloading = false;

  /** Re-reads the config, then replaces every worker: new ones start, and each old one stops once its replacement accepts. */
  async reload(reason = 'reload') {
    if (this.reloading) return;
    this.reloading = true;
    try {
      let next: ResolvedSettings;
      try {
        next = await resolveSettings(this.opts.inputs);
      } catch (err) {
        this.log.error('reload: cannot read the settings; keeping the current ones', { error: (err as Error).message });
        next = { values: this.settings, sources: {} };
      }
      const v = next.values;
      const changed = (['bind', 'unixSocketMode', 'user', 'group', 'stats', 'statsHttp', 'pidfile'] as const)
        .filter((k) => JSON.stringify(v[k]) !== JSON.stringify(this.settings[k]));
      if (changed.length) this.log.warning('reload: these settings take effect on restart only', { settings: changed.join(',') });
      if (v.errorLog !== this.settings.errorLog || v.logLevel !== this.settings.logLevel) {
        this.log.close();
        this.log = new ErrorLog(v.errorLog, v.logLevel, { role: 'master' });
      }
      if (v.workers !== this.settings.workers) this.numWorkers = v.workers;
      this.settings = v;
      this.generation++;
      for (const w of this.workers.values()) if (w.state !== 'stopping' && !w.retiring) w.retiring = reason;
      this.reloadInProgress = true;
      this.log.info('reloading', { reason, generation: this.generation, workers: this.numWorkers });
      this.manageWorkers();
      // The settings' deadlines (--timeout, --harakiri, …) may now come sooner than the loop's wake-up.
      this.signals.wakeUp();
    } finally {
      this.reloading = false;
    }
  }

  private startWatcher() {
    let root: string;
    try {
      root = path.dirname(parseAppSpec(this.opts.app, this.opts.cwd).file);
    } catch {
      root = this.opts.cwd;
    }
    // A Python application's directories too: --chdir and --pythonpath.
    const python = [String(this.settings.chdir ?? ''), ...((this.settings.pythonpath as readonly string[] | undefined) ?? [])].filter((d) => d !== '');
    const extra = [...this.settings.reloadExtraFiles, ...python].map((f) => path.resolve(this.opts.cwd, f));
    this.watcher = new FileWatcher([root, ...extra], (file) => {
      this.log.info('file changed, reloading workers', { file });
      void this.reload('file change');
    }, 200, (msg, fields) => this.log.warning(msg, fields));
    this.watcher.start();
  }

  // --- stopping --------------------------------------------------------------

  private beginStop(how: 'graceful' | 'fast') {
    if (this.stopping === 'fast' || this.stopping === how) return;
    this.stopping = how;
    this.stopDeadline = Date.now() + (how === 'graceful' ? this.settings.gracefulTimeout : 1000);
    this.log.info(how === 'graceful' ? 'stopping gracefully' : 'stopping', { workers: this.workers.size });
    // The sockets stay open until the workers are gone: closing them in the master does
    // not stop workers from accepting, and a graceful worker stops accepting itself. The
    // workers make the sockets this master bound stop listening (after taking the
    // connections already queued), so new clients are refused at once; an inherited
    // fd:// socket is left listening, for whoever shares it (a new master taking over).
    this.stats?.close();
    this.watcher?.stop();
    const refuseFds = this.sockets.flatMap((sock, i) => (sock.kind === 'fd' ? [] : [3 + i]));
    for (const w of this.workers.values()) {
      if (how === 'graceful') this.stopWorker(w, 'server stopping', refuseFds);
      else {
        // A fast stop is expected: a worker that exits on it is logged like one stopped on TERM.
        w.state = 'stopping';
        this.signal(w, 'SIGQUIT');
      }
    }
  }

  private cleanup() {
    for (const s of this.sockets) s.close();
    this.sockets = [];
    this.stats?.close();
    this.watcher?.stop();
    this.pidfile?.remove();
    this.log.close();
  }

  // --- workers ---------------------------------------------------------------

  private slot(id: number): Slot {
    let s = this.slots.get(id);
    if (!s) {
      s = { id, respawnCount: 0, lastSpawn: 0, harakiriCount: 0, failures: 0, nextSpawnAt: 0 };
      this.slots.set(id, s);
    }
    return s;
  }

  /**
   * Starts the workers that are missing, and stops those that have been replaced.
   * Returns when it must run again by itself: the next respawn after a backoff (Infinity
   * when none is waiting; everything else it does follows a signal, message or exit).
   */
  manageWorkers(now = Date.now()): number {
    let next = Infinity;
    if (this.stopping || this.halting) return next;
    const bySlot = new Map<number, WorkerRecord[]>();
    for (const w of this.workers.values()) {
      if (w.state === 'stopping') continue;
      const list = bySlot.get(w.id) ?? [];
      list.push(w);
      bySlot.set(w.id, list);
    }
    for (let id = 1; id <= this.numWorkers; id++) {
      const list = bySlot.get(id) ?? [];
      const current = list.filter((w) => !w.retiring);
      if (current.length === 0) {
        const slot = this.slot(id);
        if (now >= slot.nextSpawnAt) this.spawn(id);
        // Still waiting for its backoff, or the process could not be started (retried later).
        if (slot.nextSpawnAt > now) next = Math.min(next, slot.nextSpawnAt);
        continue;
      }
      // Old workers of this slot stop once their replacement accepts.
      if (current.some((w) => w.state === 'ready')) {
        for (const w of list) if (w.retiring) this.stopWorker(w, w.retiring);
      }
    }
    for (const [id, list] of bySlot) {
      if (id > this.numWorkers) for (const w of list) this.stopWorker(w, 'fewer workers');
    }
    if (this.reloadInProgress && ![...this.workers.values()].some((w) => w.state !== 'stopping' && (w.retiring || w.state === 'booting'))) {
      this.reloadInProgress = false;
      this.log.info('reload complete', { generation: this.generation, workers: this.numWorkers });
    }
    return next;
  }

  private reloadInProgress = false;

  private spawn(id: number) {
    const s = this.settings;
    const slot = this.slot(id);
    const jitter = s.maxRequestsJitter > 0 ? Math.floor(Math.random() * (s.maxRequestsJitter + 1)) : 0;
    const heartbeatMs = this.heartbeatMs();
    const cfg: WorkerConfig = {
      app: this.opts.app,
      cwd: this.opts.cwd,
      id,
      fds: this.sockets.map((_, i) => 3 + i),
      binds: this.sockets.map((sock, i) => formatBind({ kind: 'fd', fd: 3 + i, protocol: sock.protocol, tls: sock.tls })),
      // The key's passphrase goes through the environment, not argv (which anyone may read in ps).
      settings: { ...s, keyfilePassword: '' },
      maxRequests: s.maxRequests > 0 ? s.maxRequests + jitter : 0,
      heartbeatMs,
    };
    const password = String(s.keyfilePassword ?? '');
    const child = fork(this.workerEntry, [JSON.stringify(cfg)], {
      cwd: this.opts.cwd,
      env: password === '' ? process.env : { ...process.env, [WORKER_KEY_PASSWORD_ENV]: password },
      execArgv: [],
      stdio: ['inherit', 'inherit', 'inherit', ...this.sockets.map((sock) => sock.fd), 'ipc'],
    });
    const now = Date.now();
    if (slot.lastSpawn) slot.respawnCount++;
    slot.lastSpawn = now;
    const w: WorkerRecord = {
      id, pid: child.pid ?? 0, child, generation: this.generation, state: 'booting',
      spawnedAt: now, readyAt: 0, lastBeat: now, counters: zeroCounters(), requestsAtLastSnapshot: 0,
      retiring: undefined, stopDeadline: 0, killed: undefined,
    };
    if (!child.pid) {
      this.log.error('cannot start a worker process', { worker: id });
      slot.nextSpawnAt = now + 1000;
      return;
    }
    this.workers.set(w.pid, w);
    this.log.info('booting worker', { worker: id, worker_pid: w.pid, max_requests: cfg.maxRequests || undefined });
    child.on('message', (m: WorkerMessage) => this.onMessage(w, m));
    child.on('exit', (code, signal) => this.onExit(w, code, signal));
    child.on('error', (err) => this.log.error('worker process error', { worker: id, worker_pid: w.pid, error: err.message }));
  }

  private bootError: string | undefined;

  private onMessage(w: WorkerRecord, m: WorkerMessage) {
    switch (m.t) {
      case 'beat': {
        w.lastBeat = Date.now();
        // Requests the worker ended at the harakiri deadline since its last report.
        const ended = m.c.harakiri - w.counters.harakiri;
        if (ended > 0) {
          this.slot(w.id).harakiriCount += ended;
          this.retiredHarakiri += ended;
        }
        w.counters = m.c;
        this.resolveStatsWaiters(w);
        // A report can bring a deadline closer (a thread stalled, a request in flight for harakiri).
        if (!this.stopping && this.deadline(w, Date.now()).at < this.wakeAt) this.signals.wakeUp();
        break;
      }
      case 'ready':
        w.lastBeat = Date.now();
        if (w.state === 'booting') {
          w.state = 'ready';
          w.readyAt = Date.now();
        }
        this.log.info('worker ready', { worker: w.id, worker_pid: w.pid });
        if (!this.everReady && [...this.workers.values()].filter((x) => x.state === 'ready').length >= this.numWorkers) {
          this.everReady = true;
          this.log.info('server ready', { workers: this.numWorkers, threads: this.settings.threads });
        }
        // Stopping the old worker of the slot now rather than at the next tick.
        this.signals.wakeUp();
        break;
      case 'boot-error':
        this.bootError = m.message;
        break;
      case 'files':
        this.watcher?.add(m.files);
        break;
      case 'retire':
        if (!w.retiring && w.state !== 'stopping') {
          w.retiring = m.reason;
          this.log.info('recycling worker', { worker: w.id, worker_pid: w.pid, reason: m.reason });
          this.signals.wakeUp();
        }
        break;
    }
  }

  private onExit(w: WorkerRecord, code: number | null, signal: NodeJS.Signals | null) {
    this.workers.delete(w.pid);
    const c = w.counters;
    this.retired.requests += c.requests;
    this.retired.exceptions += c.exceptions;
    this.retired.tx += c.tx;
    this.retired.runningTimeUs += c.runningTimeUs;
    const slot = this.slot(w.id);
    const now = Date.now();
    const expected = w.state === 'stopping' || this.stopping !== undefined;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (expected && !w.killed) {
      this.log.info('worker exited', { worker: w.id, worker_pid: w.pid, how });
    } else if (code === APP_LOAD_ERROR || code === WORKER_BOOT_ERROR) {
      const message = this.bootError ?? `worker exited with code ${code}`;
      this.bootError = undefined;
      if (!this.everReady) {
        this.log.critical(code === APP_LOAD_ERROR ? 'the application cannot be loaded' : 'the worker cannot boot', { worker: w.id, error: errorSummary(message) });
        this.log.write(errorText(message));
        this.halting = { code: code!, reason: 'the application cannot be loaded' };
      } else {
        slot.failures++;
        slot.nextSpawnAt = now + backoff(slot.failures);
        this.log.error('worker failed to boot; retrying', { worker: w.id, worker_pid: w.pid, error: errorSummary(message), retry_in_ms: slot.nextSpawnAt - now });
        if (this.log.logger.enabled('error')) this.log.write(errorText(message));
      }
    } else {
      // A crash. A worker that served a while is replaced at once; one that keeps dying young waits longer each time.
      if (w.readyAt && now - w.readyAt > 1000) slot.failures = 0;
      else slot.failures++;
      slot.nextSpawnAt = now + backoff(slot.failures);
      this.log.error('worker died', { worker: w.id, worker_pid: w.pid, how, reason: w.killed, respawn_in_ms: slot.nextSpawnAt - now });
    }
    this.resolveStatsWaiters(w);
    this.signals.wakeUp();
  }

  private signal(w: WorkerRecord, sig: NodeJS.Signals) {
    try {
      process.kill(w.pid, sig);
    } catch {
      // already gone: its exit event is on the way
    }
  }

  private kill(w: WorkerRecord, sig: NodeJS.Signals, reason: string) {
    if (!w.killed || sig === 'SIGKILL') w.killed = reason;
    this.signal(w, sig);
  }

  /** Graceful stop of one worker: TERM, or for the whole server the 'stop' message (refuseFds: see MasterMessage). */
  private stopWorker(w: WorkerRecord, reason: string, refuseFds?: number[]) {
    if (w.state === 'stopping') return;
    w.state = 'stopping';
    w.stopDeadline = Date.now() + this.settings.gracefulTimeout;
    this.log.info('stopping worker', { worker: w.id, worker_pid: w.pid, reason });
    if (refuseFds && w.child.connected) {
      try {
        w.child.send({ t: 'stop', refuseFds } satisfies MasterMessage);
        return;
      } catch {
        // the channel just closed: the signal still works
      }
    }
    this.signal(w, 'SIGTERM');
  }

  /**
   * Kills workers whose event loop stopped answering (--timeout), is stuck on a request
   * past --harakiri, or that did not stop within the graceful timeout. Returns when it must
   * look again: the earliest deadline of the workers it left alone.
   */
  murderWorkers(now = Date.now()): number {
    let next = Infinity;
    for (const w of this.workers.values()) {
      const d = this.deadline(w, now);
      if (d.kill === undefined) {
        next = Math.min(next, d.at);
        continue;
      }
      const silent = Math.max(now - w.lastBeat, w.counters.stalledMs);
      if (d.kill === 'graceful timeout') {
        this.log.warning('worker did not stop within the graceful timeout; killing it', { worker: w.id, worker_pid: w.pid });
        this.kill(w, 'SIGKILL', 'graceful timeout');
        // Killed again at each look until its exit is seen.
        next = Math.min(next, now + AGAIN_MS);
      } else if (d.kill === 'timeout') {
        this.log.critical('WORKER TIMEOUT: event loop blocked; killing the worker', { worker: w.id, worker_pid: w.pid, blocked_ms: silent });
        this.kill(w, 'SIGKILL', 'timeout');
      } else {
        const oldest = w.counters.oldest;
        this.slot(w.id).harakiriCount++;
        this.retiredHarakiri++;
        this.log.critical('HARAKIRI: event loop blocked past harakiri; killing the worker', {
          worker: w.id, worker_pid: w.pid, blocked_ms: silent,
          ...(oldest ? { request: oldest.line, remote_addr: oldest.remote, running_ms: now - oldest.start } : {}),
        });
        this.kill(w, 'SIGKILL', 'harakiri');
      }
    }
    return next;
  }

  /**
   * The first of a worker's deadlines: `kill` says which one has passed at `now`, in this
   * order; otherwise `at` is when the first one will pass (ms since the epoch; Infinity for
   * none), as long as nothing new is heard from the worker.
   *   - stopping, past its graceful timeout;
   *   - silent (no heartbeat, or a thread reported stalled) for more than --timeout;
   *   - ready and blocked past --harakiri. The gateway ends a request that runs past
   *     harakiri (504) while the event loop turns. A worker whose loop is blocked cannot:
   *     one that reported a request now past harakiri and has since been silent for the
   *     grace, or that has been silent for harakiri plus the grace (the request began after
   *     its last report), is killed. The grace keeps a loaded machine's late heartbeats from
   *     passing for a blocked loop.
   * A condition "more than N ms" first holds at the whole millisecond after N.
   */
  private deadline(w: WorkerRecord, now: number): { at: number; kill?: Murder } {
    if (w.killed === 'timeout' || w.killed === 'harakiri') return { at: Infinity };
    const { timeout, harakiri } = this.settings;
    // From when the worker has been silent for more than `ms`: a thread's stall it reported holds now.
    const silentFor = (ms: number) => (w.counters.stalledMs > ms ? now : w.lastBeat + ms + 1);
    const stop = w.state === 'stopping' ? w.stopDeadline + 1 : Infinity;
    if (stop <= now) return { at: stop, kill: 'graceful timeout' };
    const blocked = timeout > 0 ? silentFor(timeout) : Infinity;
    if (blocked <= now) return { at: blocked, kill: 'timeout' };
    let stuck = Infinity;
    if (harakiri > 0 && w.state === 'ready') {
      const grace = Math.max(1000, 3 * this.heartbeatMs());
      const oldest = w.counters.oldest;
      stuck = Math.min(silentFor(harakiri + grace), oldest === null ? Infinity : Math.max(oldest.start + harakiri + 1, silentFor(grace)));
    }
    if (stuck <= now) return { at: stuck, kill: 'harakiri' };
    return { at: Math.min(stop, blocked, stuck) };
  }

  /** How often workers report: often enough for the shortest of --timeout and --harakiri. */
  private heartbeatMs(): number {
    const s = this.settings;
    return Math.max(50, Math.min(HEARTBEAT_INTERVAL_MS, ...[s.timeout, s.harakiri].filter((t) => t > 0).map((t) => Math.floor(t / 4))));
  }

  // --- stats -----------------------------------------------------------------

  private statsWaiters = new Map<number, Array<() => void>>();

  private resolveStatsWaiters(w: WorkerRecord) {
    const list = this.statsWaiters.get(w.pid);
    if (!list) return;
    this.statsWaiters.delete(w.pid);
    for (const fn of list) fn();
  }

  /** Asks every worker for fresh counters (waiting at most 250 ms), then builds the snapshot. */
  async snapshot(): Promise<StatsSnapshot> {
    const waits: Promise<void>[] = [];
    for (const w of this.workers.values()) {
      if (!w.child.connected) continue;
      waits.push(new Promise((resolve) => {
        const list = this.statsWaiters.get(w.pid) ?? [];
        list.push(resolve);
        this.statsWaiters.set(w.pid, list);
      }));
      try {
        w.child.send({ t: 'stats' } satisfies MasterMessage);
      } catch {
        this.resolveStatsWaiters(w);
      }
    }
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 250))]);
    return buildSnapshot(this);
  }
}

/**
 * One line for the structured log: the error's first line, with the line naming the
 * error when that comes later (a SyntaxError's text starts with the file, line and caret).
 */
function errorSummary(message: string): string {
  const lines = message.split('\n');
  const named = lines.slice(1).find((l) => /^[A-Z]\w*(Error|Exception)\b/.test(l));
  return named ? `${lines[0]} ${named}` : lines[0];
}

/** The error's full text as it was written (its line breaks kept: a SyntaxError's caret), after the structured line. */
function errorText(message: string): string {
  return message.endsWith('\n') ? message : message + '\n';
}

/** Delay before restarting a worker after `failures` failures in a row: the first is replaced at once, then 100 ms, 200 ms, … up to 10 s. */
function backoff(failures: number): number {
  return failures <= 1 ? 0 : Math.min(100 * 2 ** (failures - 2), 10_000);
}
