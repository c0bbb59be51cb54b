// The stats snapshot, in the shape of uWSGI's stats server so that tools written for
// it (uwsgitop and friends) read it: top level version, pid, listen_queue, load,
// sockets[], workers[]; per worker id, pid, accepting, requests, delta_requests,
// exceptions, harakiri_count, status, rss, running_time, last_spawn, respawn_count,
// tx, avg_rt. Times are microseconds and last_spawn is a Unix time in seconds, as in uWSGI.
import type { Arbiter } from '../manager/arbiter';
import { listenQueues } from './listen-queue';

export interface WorkerStats {
  id: number;
  pid: number;
  accepting: 0 | 1;
  requests: number;
  delta_requests: number;
  exceptions: number;
  harakiri_count: number;
  signals: number;
  status: 'idle' | 'busy' | 'booting' | 'stopping';
  rss: number;
  vsz: number;
  running_time: number;
  last_spawn: number;
  respawn_count: number;
  tx: number;
  avg_rt: number;
  in_flight: number;
  generation: number;
}

export interface SocketStats {
  name: string;
  proto: 'http';
  queue: number;
  max_queue: number;
  shared: 0;
  can_offload: 0;
}

export interface StatsSnapshot {
  version: string;
  pid: number;
  uid: number;
  gid: number;
  cwd: string;
  listen_queue: number;
  listen_queue_errors: number;
  load: number;
  signal_queue: number;
  /** Counters of the whole server since it started, including workers that have exited. */
  totals: { requests: number; exceptions: number; harakiri_count: number; tx: number };
  sockets: SocketStats[];
  workers: WorkerStats[];
}

export function buildSnapshot(a: Arbiter): StatsSnapshot {
  const queues = listenQueues(a.sockets.map((s) => s.fd));
  const sockets: SocketStats[] = a.sockets.map((s, i) => ({
    name: s.name, proto: 'http', queue: queues[i]?.queue ?? 0, max_queue: a.settings.backlog, shared: 0, can_offload: 0,
  }));
  const workers: WorkerStats[] = [];
  let load = 0;
  const totals = { requests: a.retired.requests, exceptions: a.retired.exceptions, harakiri_count: a.retiredHarakiri, tx: a.retired.tx };
  for (const w of [...a.workers.values()].sort((x, y) => x.id - y.id || x.spawnedAt - y.spawnedAt)) {
    const c = w.counters;
    const slot = a.slots.get(w.id);
    load += c.inFlight;
    totals.requests += c.requests;
    totals.exceptions += c.exceptions;
    totals.tx += c.tx;
    workers.push({
      id: w.id,
      pid: w.pid,
      accepting: w.state === 'ready' ? 1 : 0,
      requests: c.requests,
      delta_requests: c.requests - w.requestsAtLastSnapshot,
      exceptions: c.exceptions,
      harakiri_count: slot?.harakiriCount ?? 0,
      signals: 0,
      status: w.state === 'ready' ? (c.inFlight > 0 ? 'busy' : 'idle') : w.state,
      rss: c.rss,
      vsz: 0,
      running_time: c.runningTimeUs,
      last_spawn: Math.floor(w.spawnedAt / 1000),
      respawn_count: slot?.respawnCount ?? 0,
      tx: c.tx,
      avg_rt: c.requests ? Math.round(c.runningTimeUs / c.requests) : 0,
      in_flight: c.inFlight,
      generation: w.generation,
    });
    w.requestsAtLastSnapshot = c.requests;
  }
  return {
    version: a.version,
    pid: process.pid,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    cwd: process.cwd(),
    listen_queue: sockets.reduce((n, k) => n + k.queue, 0),
    listen_queue_errors: 0,
    load,
    signal_queue: 0,
    totals,
    sockets,
    workers,
  };
}
