// Entry of a worker process, started by the master with the listening sockets as
// extra descriptors and the WorkerConfig as argv[2]. Signals from the master:
//   TERM   graceful stop: stop accepting, finish requests in flight, exit
//   INT, QUIT   stop now
//   USR1   reopen log files
// The 'stop' message is TERM for a server that stops for good: the listening sockets the
// master bound stop listening as well, so new clients are refused.
import { WORKER_KINDS, kindFor, type WorkerKind } from './worker-kinds';
import type { MasterMessage, WorkerConfig, WorkerMessage } from './protocol';
import { APP_LOAD_ERROR, WORKER_BOOT_ERROR } from './exit-codes';

const cfg = JSON.parse(process.argv[2]) as WorkerConfig;
const rssLimit = Number(cfg.settings.reloadOnRss) * 1024 * 1024;
let retiring = false;

function send(m: WorkerMessage) {
  if (m.t === 'beat' && !retiring) {
    // Recycling is asked of the master, which starts the replacement before stopping this one.
    const threads = Number(cfg.settings.threads);
    // A thread worker's threads each serve a share; the process retires when one has served its share.
    const limit = threads > 1 ? Math.ceil(cfg.maxRequests / threads) : cfg.maxRequests;
    if (cfg.maxRequests > 0 && (m.c.requests >= cfg.maxRequests || (threads > 1 && m.c.maxThreadRequests >= limit))) retire(`served ${m.c.requests} requests (max-requests ${cfg.maxRequests})`);
    else if (rssLimit > 0 && m.c.rss > rssLimit) retire(`resident memory ${Math.round(m.c.rss / 1048576)} MB is over reload-on-rss ${cfg.settings.reloadOnRss} MB`);
  }
  if (process.connected) process.send!(m);
}

function retire(reason: string) {
  retiring = true;
  if (process.connected) process.send!({ t: 'retire', reason } satisfies WorkerMessage);
}

const worker: WorkerKind = new WORKER_KINDS[kindFor(cfg.settings)](cfg, send);
let stopping = false;

function gracefulStop(refuseFds?: readonly number[]) {
  if (stopping) return;
  stopping = true;
  worker.stop(refuseFds).then(() => process.exit(0), (err) => {
    process.stderr.write(`worker ${cfg.id}: error while stopping: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}

function fastStop() {
  stopping = true;
  void worker.kill().finally(() => process.exit(0));
}

process.on('SIGTERM', () => gracefulStop());
process.on('SIGINT', fastStop);
process.on('SIGQUIT', fastStop);
process.on('SIGUSR1', () => worker.reopenLogs());
process.on('SIGHUP', () => { /* the master reloads; a worker ignores HUP */ });
// Without the master, nothing would replace or stop this worker: finish and go.
process.on('disconnect', () => gracefulStop());
process.on('message', (m: MasterMessage) => {
  if (m.t === 'stats') {
    const w = worker as WorkerKind & { refresh?: () => void };
    if (w.refresh) w.refresh();
    else worker.notify();
  } else if (m.t === 'reopen') worker.reopenLogs();
  else if (m.t === 'stop') gracefulStop(m.refuseFds);
});

if (process.env.TSGI_WORKER_CHDIR !== '0') process.chdir(cfg.cwd);
worker.init().then(
  () => {
    worker.run();
    send({ t: 'ready' });
  },
  (err: Error & { code?: string }) => {
    const code = err?.code === 'TSGI_ERR_APP_LOAD' ? APP_LOAD_ERROR : WORKER_BOOT_ERROR;
    const message = err?.stack ?? String(err);
    if (process.connected) process.send!({ t: 'boot-error', code, message } satisfies WorkerMessage, () => process.exit(code));
    else process.exit(code);
  },
);
