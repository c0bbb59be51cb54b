// Entry of a worker process, started by the master with the listening sockets as
// extra descriptors and the WorkerConfig as argv[2]. Signals from the master:
//   TERM   graceful stop: stop accepting, finish requests in flight, exit
//   INT, QUIT   stop now
//   USR1   reopen log files
// The 'stop' message is TERM for a server that stops for good: the listening sockets the
// master bound stop listening as well, so new clients are refused.
import fs from 'node:fs';
import { WORKER_KINDS, kindFor, type WorkerKind } from './worker-kinds';
import { WORKER_KEY_PASSWORD_ENV, type MasterMessage, type WorkerConfig, type WorkerMessage } from './protocol';
import { APP_LOAD_ERROR, WORKER_BOOT_ERROR } from './exit-codes';

const cfg = JSON.parse(process.argv[2]) as WorkerConfig;
// --keyfile-password came through the environment (not argv); the application does not see it.
if (process.env[WORKER_KEY_PASSWORD_ENV] !== undefined) {
  cfg.settings.keyfilePassword = process.env[WORKER_KEY_PASSWORD_ENV];
  delete process.env[WORKER_KEY_PASSWORD_ENV];
}
const rssLimit = Number(cfg.settings.reloadOnRss) * 1024 * 1024;
let retiring = false;

function send(m: WorkerMessage) {
  if (m.t === 'beat' && !retiring) {
    // Recycling is asked of the master, which starts the replacement before stopping this
    // one. max-requests counts the process's requests, across its threads.
    if (cfg.maxRequests > 0 && m.c.requests >= cfg.maxRequests) retire(`served ${m.c.requests} requests (max-requests ${cfg.maxRequests})`);
    else if (rssLimit > 0 && m.c.rss > rssLimit) retire(`resident memory ${Math.round(m.c.rss / 1048576)} MB is over reload-on-rss ${cfg.settings.reloadOnRss} MB`);
  }
  post(m);
}

/** To the master; a failed send (the master just died) is not an error: 'disconnect' follows. */
function post(m: WorkerMessage) {
  if (process.connected) process.send!(m, undefined, undefined, ignore);
}

function ignore() { /* see post() */ }

function retire(reason: string) {
  retiring = true;
  post({ t: 'retire', reason });
}

const worker: WorkerKind = new WORKER_KINDS[kindFor(cfg.settings, cfg.app)](cfg, send);
let stopping = false;

function gracefulStop(refuseFds?: readonly number[]) {
  if (stopping) return;
  stopping = true;
  worker.stop(refuseFds).then(() => process.exit(0), (err) => {
    process.stderr.write(`worker ${cfg.id}: error while stopping: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}

/**
 * The master is gone: nothing would replace, stop or kill this worker, and it holds the
 * listening sockets. It stops as on TERM, and past the graceful timeout (which the master
 * would have enforced) it exits, dropping what is still in flight.
 */
let orphan = false;
function orphaned(how: string) {
  if (orphan) return;
  orphan = true;
  clearInterval(orphanCheck);
  // Straight to the descriptor: a closed pipe (EPIPE) must not become an uncaught error here.
  try {
    fs.writeSync(2, `time=${new Date().toISOString()} level=warning msg="the master is gone; stopping" pid=${process.pid} worker=${cfg.id} how=${JSON.stringify(how)}\n`);
  } catch { /* nowhere to report */ }
  const limit = Number(cfg.settings.gracefulTimeout);
  setTimeout(() => void worker.kill().finally(() => process.exit(0)), limit).unref();
  gracefulStop();
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
// Without the master, nothing would replace or stop this worker: finish and go. The IPC
// channel closes when the master dies; its pid changing as the worker is reparented
// catches a master that died with the channel still held open elsewhere.
process.on('disconnect', () => orphaned('its IPC channel closed'));
const masterPid = process.ppid;
const orphanCheck: NodeJS.Timeout | undefined = setInterval(() => {
  if (process.ppid !== masterPid) orphaned(`parent pid changed from ${masterPid} to ${process.ppid}`);
}, Math.min(1000, cfg.heartbeatMs));
orphanCheck.unref();
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
