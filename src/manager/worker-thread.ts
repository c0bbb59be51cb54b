// Entry of one worker thread: the same AppWorker as a process worker, reporting to the
// worker process's main thread instead of the master.
import { parentPort, workerData } from 'node:worker_threads';
import { AppWorker } from './app-worker';
import type { WorkerConfig } from './protocol';
import type { ThreadMessage, ToThread } from './worker-kinds';

const port = parentPort!;
const cfg = workerData as WorkerConfig;
const send = (m: ThreadMessage) => port.postMessage(m);
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
