// Entry of one worker thread: the same AppWorker as a process worker, reporting to the
// worker process's main thread instead of the master.
import { parentPort, workerData } from 'node:worker_threads';
import { AppWorker } from './app-worker';
import type { WorkerConfig } from './protocol';
import type { ThreadMessage, ToThread } from './worker-kinds';

const port = parentPort!;
const cfg = workerData as WorkerConfig;
// A heartbeat must not throw: a report that cannot be posted (the process is going) is dropped.
const send = (m: ThreadMessage) => {
  try {
    port.postMessage(m);
  } catch {
    // the port is closed: the worker process is stopping
  }
};
const worker = new AppWorker(cfg, send);

port.on('message', (m: ToThread) => {
  if (m.t === 'stop') void worker.stop(m.refuseFds).finally(() => process.exit(0));
  else if (m.t === 'reopen') worker.reopenLogs();
  else if (m.t === 'stats') worker.notify();
});

worker.init().then(
  () => send({ t: 'ready' }),
  (err: Error & { code?: string }) => {
    send({ t: 'boot-error', code: err.code === 'TSGI_ERR_APP_LOAD' ? 4 : 3, message: err.message });
    process.exit(1);
  },
);
