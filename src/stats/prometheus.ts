// The stats snapshot in Prometheus text exposition format (version 0.0.4).
import type { StatsSnapshot } from './snapshot';

type Sample = [labels: Record<string, string | number>, value: number];

function metric(out: string[], name: string, type: 'gauge' | 'counter', help: string, samples: Sample[]) {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of samples) {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
    out.push(`${name}${l ? `{${l}}` : ''} ${value}`);
  }
}

export function prometheusText(s: StatsSnapshot): string {
  const out: string[] = [];
  const per = (f: (w: StatsSnapshot['workers'][number]) => number): Sample[] => s.workers.map((w) => [{ worker: w.id, pid: w.pid }, f(w)]);
  metric(out, 'tsgi_requests_total', 'counter', 'Requests served since the server started.', [[{}, s.totals.requests]]);
  metric(out, 'tsgi_exceptions_total', 'counter', 'Requests that ended in an application error since the server started.', [[{}, s.totals.exceptions]]);
  metric(out, 'tsgi_harakiri_total', 'counter', 'Workers killed by harakiri since the server started.', [[{}, s.totals.harakiri_count]]);
  metric(out, 'tsgi_sent_bytes_total', 'counter', 'Bytes sent since the server started.', [[{}, s.totals.tx]]);
  metric(out, 'tsgi_workers', 'gauge', 'Worker processes running.', [[{}, s.workers.length]]);
  metric(out, 'tsgi_load', 'gauge', 'Requests in flight.', [[{}, s.load]]);
  metric(out, 'tsgi_listen_queue', 'gauge', 'Connections waiting to be accepted.', s.sockets.map((k): Sample => [{ socket: k.name }, k.queue]));
  metric(out, 'tsgi_worker_requests_total', 'counter', 'Requests served by the worker.', per((w) => w.requests));
  metric(out, 'tsgi_worker_exceptions_total', 'counter', 'Application errors in the worker.', per((w) => w.exceptions));
  metric(out, 'tsgi_worker_harakiri_total', 'counter', 'Harakiri kills in the worker slot.', per((w) => w.harakiri_count));
  metric(out, 'tsgi_worker_respawn_total', 'counter', 'Times the worker slot was respawned.', per((w) => w.respawn_count));
  metric(out, 'tsgi_worker_sent_bytes_total', 'counter', 'Bytes sent by the worker.', per((w) => w.tx));
  metric(out, 'tsgi_worker_rss_bytes', 'gauge', 'Resident memory of the worker process.', per((w) => w.rss));
  metric(out, 'tsgi_worker_avg_response_seconds', 'gauge', 'Average response time of the worker.', per((w) => w.avg_rt / 1e6));
  metric(out, 'tsgi_worker_busy', 'gauge', '1 when the worker has requests in flight.', per((w) => (w.status === 'busy' ? 1 : 0)));
  metric(out, 'tsgi_worker_accepting', 'gauge', '1 when the worker accepts connections.', per((w) => w.accepting));
  return out.join('\n') + '\n';
}
