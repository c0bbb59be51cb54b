// The master's signal queue. Handlers only enqueue; the arbiter's loop takes signals
// off the queue one at a time and dispatches each through its table of handlers, so no
// handler runs in the middle of another.

export const MASTER_SIGNALS = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGTTIN', 'SIGTTOU', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;
export type MasterSignal = (typeof MASTER_SIGNALS)[number];

export class SignalQueue {
  private readonly queue: MasterSignal[] = [];
  private readonly listeners = new Map<MasterSignal, () => void>();
  private wake: (() => void) | undefined;

  install() {
    for (const sig of MASTER_SIGNALS) {
      const fn = () => this.push(sig);
      this.listeners.set(sig, fn);
      process.on(sig, fn);
    }
  }

  uninstall() {
    for (const [sig, fn] of this.listeners) process.off(sig, fn);
    this.listeners.clear();
  }

  push(sig: MasterSignal) {
    // Like Gunicorn, a burst of signals is capped: the queue holds at most five.
    if (this.queue.length < 5) this.queue.push(sig);
    this.wakeUp();
  }

  shift(): MasterSignal | undefined {
    return this.queue.shift();
  }

  wakeUp() {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves after `ms`, or sooner when a signal arrives or wakeUp() is called. */
  sleep(ms: number): Promise<void> {
    if (this.queue.length) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = undefined; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); resolve(); };
    });
  }
}
