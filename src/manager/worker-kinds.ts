// The two kinds of worker process, behind one contract, picked by name:
//   process  the application runs on the worker process's main thread;
//   thread   the worker process runs N worker threads, each with its own event loop
//            and its own copy of the application (the same AppWorker as above), so one
//            process uses N cores.
// The contract, in the order the worker process calls it: construct, init (load the
// application and start serving), run (heartbeats), notify (one heartbeat now), and
// stop (graceful: finish what is in flight).
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppWorker } from './app-worker';
import { pythonSpec } from '../python';
import type { WorkerConfig, WorkerCounters, WorkerMessage } from './protocol';
import { zeroCounters } from './protocol';
import { AppLoadError } from '../app-loader';
import { residentMemory } from './resident-memory';

export interface WorkerKind {
  init(): Promise<void>;
  run(): void;
  notify(): void;
  snapshot(): WorkerCounters;
  reopenLogs(): void;
  /** Graceful; refuseFds: see AppWorker.stop. */
  stop(refuseFds?: readonly number[]): Promise<void>;
  /** Stops at once, dropping requests in flight. */
  kill(): Promise<void>;
}

export type Send = (m: WorkerMessage) => void;

class ProcessWorker implements WorkerKind {
  private readonly worker: AppWorker;
  constructor(cfg: WorkerConfig, send: Send) {
    this.worker = new AppWorker(cfg, send);
  }
  init() { return this.worker.init(); }
  run() { this.worker.run(); }
  notify() { this.worker.notify(); }
  snapshot() { return this.worker.snapshot(); }
  reopenLogs() { this.worker.reopenLogs(); }
  stop(refuseFds?: readonly number[]) { return this.worker.stop(refuseFds); }
  async kill() { this.worker.flushLogs(); }
}

interface ThreadState {
  worker: Worker;
  counters: WorkerCounters;
  lastBeat: number;
  /** Resolves when the thread has exited, however it ended. */
  exited: Promise<void>;
}

export type ThreadMessage = WorkerMessage | { t: 'error'; message: string };
export type ToThread = { t: 'stop'; refuseFds?: number[] } | { t: 'reopen' } | { t: 'stats' };

class ThreadWorker implements WorkerKind {
  private readonly threads: ThreadState[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Requests served by all the threads, counted by the threads themselves. */
  private readonly served = new Int32Array(new SharedArrayBuffer(4));
  private booted = false;

  constructor(private readonly cfg: WorkerConfig, private readonly send: Send) {}

  async init() {
    const count = Number(this.cfg.settings.threads);
    const max = this.cfg.maxRequests;
    const ready: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      // max-requests counts the requests of the whole process: every thread adds to one
      // shared counter, and the thread whose request reaches the limit reports at once.
      const worker = new Worker(path.join(__dirname, 'worker-thread.js'), { workerData: { ...this.cfg, thread: i + 1, served: this.served.buffer } });
      let exited!: () => void;
      const state: ThreadState = {
        worker, counters: zeroCounters(), lastBeat: Date.now(),
        exited: new Promise((resolve) => { exited = resolve; }),
      };
      this.threads.push(state);
      worker.on('exit', (code) => {
        exited();
        // After boot, a thread that dies takes its process with it, and the master replaces the process.
        if (this.booted && !this.stopping) process.exit(code || 1);
      });
      ready.push(new Promise<void>((resolve, reject) => {
        worker.on('message', (m: ThreadMessage) => {
          if (m.t === 'beat') {
            state.counters = m.c;
            state.lastBeat = Date.now();
            if (max > 0 && this.requests() >= max) this.notify();
          } else if (m.t === 'ready') resolve();
          else if (m.t === 'boot-error') reject(new AppLoadError(m.message));
        });
        worker.once('error', (err) => reject(err));
        worker.once('exit', (code) => reject(new Error(`worker thread ${i + 1} exited with code ${code} while starting`)));
      }));
    }
    this.run();
    await Promise.all(ready);
    this.booted = true;
    for (const [i, t] of this.threads.entries()) {
      t.worker.on('error', (err) => process.stderr.write(`worker thread ${i + 1} failed: ${err?.stack ?? err}\n`));
    }
  }

  /** Requests the process has served, across its threads. */
  private requests(): number {
    return Atomics.load(this.served, 0);
  }

  run() {
    if (this.timer) return;
    this.timer = setInterval(() => this.notify(), this.cfg.heartbeatMs);
    this.timer.unref();
    // The first heartbeat goes at once, as a process worker's does: the threads may take a while to boot.
    this.notify();
  }

  snapshot(): WorkerCounters {
    const sum = zeroCounters();
    const now = Date.now();
    for (const t of this.threads) {
      const c = t.counters;
      sum.requests += c.requests;
      sum.exceptions += c.exceptions;
      sum.tx += c.tx;
      sum.runningTimeUs += c.runningTimeUs;
      sum.inFlight += c.inFlight;
      sum.harakiri += c.harakiri;
      if (c.oldest && (!sum.oldest || c.oldest.start < sum.oldest.start)) sum.oldest = c.oldest;
      sum.stalledMs = Math.max(sum.stalledMs, now - t.lastBeat);
    }
    // A thread's last report may lag behind the shared count.
    sum.requests = Math.max(sum.requests, this.requests());
    sum.rss = residentMemory();
    return sum;
  }

  notify() {
    this.send({ t: 'beat', c: this.snapshot() });
  }

  /** Asks every thread for fresh counters, then reports. */
  refresh() {
    for (const t of this.threads) t.worker.postMessage({ t: 'stats' } satisfies ToThread);
    setTimeout(() => this.notify(), 50).unref();
  }

  reopenLogs() {
    for (const t of this.threads) t.worker.postMessage({ t: 'reopen' } satisfies ToThread);
  }

  private stopping = false;

  async stop(refuseFds?: readonly number[]) {
    this.stopping = true;
    for (const t of this.threads) t.worker.postMessage({ t: 'stop', refuseFds: refuseFds ? [...refuseFds] : undefined } satisfies ToThread);
    await Promise.all(this.threads.map((t) => t.exited));
    if (this.timer) clearInterval(this.timer);
  }

  async kill() {
    this.stopping = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}

export const WORKER_KINDS = {
  process: ProcessWorker,
  thread: ThreadWorker,
} as const;

export type WorkerKindName = keyof typeof WORKER_KINDS;

export function kindFor(settings: Record<string, unknown>, app?: string): WorkerKindName {
  // A Python application has one interpreter per process: its threads are Python threads
  // inside the process worker (native/python/threads.cc), not worker_threads.
  if (pythonSpec(app, String(settings.python ?? '')) !== undefined) return 'process';
  return Number(settings.threads) > 1 ? 'thread' : 'process';
}
