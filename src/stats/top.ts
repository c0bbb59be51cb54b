// `tsgi top ADDR`: a live terminal view of a server's workers, read from its stats
// endpoint. ADDR is what was given to --stats (HOST:PORT, unix:PATH), a bare socket path,
// or http://HOST:PORT. The stats server speaks either plain JSON (one snapshot per
// connection) or HTTP (--stats-http); the reader understands both on any address form.
import fs from 'node:fs';
import net from 'node:net';
import type { StatsSnapshot } from './snapshot';

export type StatsAddress =
  | { kind: 'tcp'; host: string; port: number; http: boolean }
  | { kind: 'unix'; path: string; http: boolean };

const FORMS = 'give HOST:PORT, unix:PATH (or an absolute socket path), or http://HOST:PORT, as given to --stats';

/** Parses a stats address; throws an Error saying which forms are understood. */
export function parseStatsAddress(address: string): StatsAddress {
  const bad = (why: string) => new Error(`${JSON.stringify(address)} is not a stats address (${why}): ${FORMS}`);
  let rest = address;
  let http = false;
  if (/^https:\/\//i.test(rest)) throw bad("tsgi's stats server does not speak TLS");
  if (/^http:\/\//i.test(rest)) {
    http = true;
    rest = rest.slice(7);
    const slash = rest.indexOf('/');
    if (slash >= 0) {
      if (rest.slice(slash) !== '/') throw bad('tsgi top reads the JSON at /, leave the path out');
      rest = rest.slice(0, slash);
    }
  }
  if (!http && rest.startsWith('unix:')) {
    if (rest.length === 5) throw bad('the socket path is empty');
    return { kind: 'unix', path: rest.slice(5), http };
  }
  if (!http && (rest.startsWith('/') || rest.startsWith('./') || rest.startsWith('../'))) return { kind: 'unix', path: rest, http };
  let host = '127.0.0.1';
  let portText = rest;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    host = rest.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1';
    portText = rest.slice(colon + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw bad(portText === '' ? 'no port' : `bad port ${JSON.stringify(portText)}`);
  return { kind: 'tcp', host, port, http };
}

/** Parses what the stats server sent: the JSON itself, or an HTTP response carrying it. */
function parseReply(text: string): StatsSnapshot {
  if (!text.startsWith('HTTP/')) return JSON.parse(text);
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error('incomplete HTTP response');
  const status = text.slice(0, text.indexOf('\r\n'));
  if (!/^HTTP\/1\.[01] 200 /.test(status)) throw new Error(`the stats server answered ${status}`);
  return JSON.parse(text.slice(end + 4));
}

/**
 * Reads one snapshot. A plain stats server answers as soon as the connection opens; when
 * nothing arrives within `httpAfterMs` (or at once for http://), the reader asks with an
 * HTTP/1.0 GET /, which an HTTP stats server answers and a plain one ignores.
 */
export function fetchStats(address: string, timeoutMs = 3000, httpAfterMs = 300): Promise<StatsSnapshot> {
  return new Promise((resolve, reject) => {
    let where: StatsAddress;
    try {
      where = parseStatsAddress(address);
    } catch (err) {
      reject(err);
      return;
    }
    const fail = (err: Error) => reject(new Error(`cannot read stats from ${address}: ${err.message}`));
    const sock = where.kind === 'unix' ? net.connect(where.path) : net.connect(where.port, where.host);
    let body = '';
    let asked = false;
    const ask = () => {
      if (asked || body.length > 0 || sock.destroyed) return;
      asked = true;
      sock.write('GET / HTTP/1.0\r\nHost: tsgi-stats\r\nAccept: application/json\r\n\r\n');
    };
    const askTimer = setTimeout(ask, where.http ? 0 : httpAfterMs);
    sock.once('connect', () => { if (where.http) ask(); });
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    sock.setEncoding('utf8');
    sock.on('data', (d) => (body += d));
    sock.on('end', () => {
      clearTimeout(askTimer);
      try {
        resolve(parseReply(body));
      } catch (err) {
        fail(new Error(`not a tsgi stats snapshot (${(err as Error).message})`));
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(askTimer);
      if (where.kind === 'unix' && err.code === 'ENOENT') fail(new Error(`no socket at ${where.path} (is the server running with --stats unix:${where.path}?)`));
      else if (where.kind === 'unix' && err.code === 'ECONNREFUSED') fail(new Error(isSocket(where.path) ? `nothing listens on ${where.path}` : `${where.path} is not a socket`));
      else fail(err);
    });
  });
}

function isSocket(p: string): boolean {
  try {
    return fs.statSync(p).isSocket();
  } catch {
    return false;
  }
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
  const lines = [
    `tsgi ${s.version} - ${address} - master pid ${s.pid} - ${new Date().toISOString()}`,
    `workers: ${s.workers.length}  load: ${s.load}  listen queue: ${s.listen_queue}  requests: ${s.totals?.requests ?? 0}`,
    '',
    ['WID', 'PID', 'STATUS', 'REQ', 'RPS', 'EXC', 'HARA', 'AVG', 'RSS', 'TX', 'RESP', 'SPAWNED'].map((h, i) => (i < 3 ? h.padEnd(i === 2 ? 9 : 8) : h.padStart(8))).join(''),
  ];
  for (const w of s.workers) {
    const rps = prevReq.has(w.pid) ? Math.max(0, w.requests - prevReq.get(w.pid)!) / intervalS : 0;
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

export interface TopOptions {
  intervalMs?: number;
  /** Screens to show before returning; unlimited when undefined. */
  rounds?: number;
  out?: NodeJS.WritableStream;
  /** Keys: `q` or Ctrl-C quits. Read in raw mode when it is a terminal. Not read with `rounds`. */
  input?: NodeJS.ReadableStream;
}

/** Runs the live view until `q`, Ctrl-C or a signal (or for `rounds` screens, when given). */
export async function runTop(address: string, options: TopOptions = {}): Promise<void> {
  const out = options.out ?? process.stdout;
  const interval = options.intervalMs ?? 1000;
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  let quit!: () => void;
  const quitting = new Promise<'quit'>((resolve) => (quit = () => resolve('quit')));
  const cleanups: Array<() => void> = [];
  if (options.rounds === undefined) {
    const input = options.input ?? process.stdin;
    const rawTty = (input as NodeJS.ReadStream).isTTY === true && typeof (input as NodeJS.ReadStream).setRawMode === 'function';
    if (rawTty) (input as NodeJS.ReadStream).setRawMode(true);
    const onKey = (chunk: Buffer | string) => {
      const keys = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
      if (/[qQ\x03\x04]/.test(keys)) quit();
    };
    input.on('data', onKey);
    input.on('error', () => {});
    input.resume();
    cleanups.push(() => {
      input.off('data', onKey);
      if (rawTty) (input as NodeJS.ReadStream).setRawMode(false);
      input.pause();
    });
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, quit);
      cleanups.push(() => process.off(sig, quit));
    }
  }
  let previous: StatsSnapshot | undefined;
  try {
    for (let round = 0; options.rounds === undefined || round < options.rounds; round++) {
      const s = await Promise.race([fetchStats(address), quitting]);
      if (s === 'quit') break;
      out.write((tty ? '\x1b[H\x1b[2J' : '') + renderTop(s, previous, interval / 1000, address));
      previous = s;
      if (options.rounds !== undefined && round + 1 >= options.rounds) break;
      let timer: NodeJS.Timeout | undefined;
      const next = await Promise.race([new Promise<'next'>((r) => (timer = setTimeout(() => r('next'), interval))), quitting]);
      clearTimeout(timer);
      if (next === 'quit') break;
    }
  } finally {
    for (const c of cleanups) c();
  }
}
