// `tsgi top ADDR`: a live terminal view of a server's workers, read from its stats
// endpoint (ADDR as given to --stats; http://HOST:PORT when it runs with --stats-http).
import http from 'node:http';
import net from 'node:net';
import type { StatsSnapshot } from './snapshot';

export function fetchStats(address: string, timeoutMs = 3000): Promise<StatsSnapshot> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => reject(new Error(`cannot read stats from ${address}: ${err.message}`));
    if (address.startsWith('http://')) {
      const req = http.get(address.replace(/\/?$/, ''), { timeout: timeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          try { resolve(JSON.parse(body)); } catch (err) { fail(err as Error); }
        });
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', fail);
      return;
    }
    let sock: net.Socket;
    if (address.startsWith('unix:')) sock = net.connect(address.slice(5));
    else {
      const colon = address.lastIndexOf(':');
      sock = net.connect(Number(address.slice(colon + 1)), address.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1');
    }
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error('timed out')));
    let body = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => (body += d));
    sock.on('end', () => {
      try { resolve(JSON.parse(body)); } catch (err) { fail(err as Error); }
    });
    sock.on('error', fail);
  });
}

const human = (bytes: number) => {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let i = 0;
  let n = bytes;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n}${units[i]}`;
};

/** Renders one screen; `previous` (the snapshot before) gives requests per second. */
export function renderTop(s: StatsSnapshot, previous: StatsSnapshot | undefined, intervalS: number, address: string): string {
  const prevReq = new Map(previous?.workers.map((w) => [w.pid, w.requests]) ?? []);
  let total = 0;
  const lines = [
    `tsgi ${s.version} - ${address} - master pid ${s.pid} - ${new Date().toISOString()}`,
    `workers: ${s.workers.length}  load: ${s.load}  listen queue: ${s.listen_queue}  requests: ${s.totals?.requests ?? 0}`,
    '',
    ['WID', 'PID', 'STATUS', 'REQ', 'RPS', 'EXC', 'HARA', 'AVG', 'RSS', 'TX', 'RESP', 'SPAWNED'].map((h, i) => (i < 3 ? h.padEnd(i === 2 ? 9 : 8) : h.padStart(8))).join(''),
  ];
  for (const w of s.workers) {
    const rps = prevReq.has(w.pid) ? Math.max(0, w.requests - prevReq.get(w.pid)!) / intervalS : 0;
    total += w.requests;
    lines.push([
      String(w.id).padEnd(8), String(w.pid).padEnd(8), w.status.padEnd(9),
      String(w.requests).padStart(8), rps.toFixed(0).padStart(8), String(w.exceptions).padStart(8),
      String(w.harakiri_count).padStart(8), `${(w.avg_rt / 1000).toFixed(1)}ms`.padStart(8), human(w.rss).padStart(8),
      human(w.tx).padStart(8), String(w.respawn_count).padStart(8),
      `${Math.max(0, Math.floor(Date.now() / 1000) - w.last_spawn)}s`.padStart(8),
    ].join(''));
  }
  return lines.join('\n') + '\n';
}

/** Runs the live view until interrupted (or for `rounds` screens, when given). */
export async function runTop(address: string, options: { intervalMs?: number; rounds?: number; out?: NodeJS.WritableStream } = {}): Promise<void> {
  const out = options.out ?? process.stdout;
  const interval = options.intervalMs ?? 1000;
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  let previous: StatsSnapshot | undefined;
  for (let round = 0; options.rounds === undefined || round < options.rounds; round++) {
    const s = await fetchStats(address);
    out.write((tty ? '\x1b[H\x1b[2J' : '') + renderTop(s, previous, interval / 1000, address));
    previous = s;
    if (options.rounds !== undefined && round + 1 >= options.rounds) break;
    await new Promise((r) => setTimeout(r, interval));
  }
}
