// Access log lines: a format string of Gunicorn's atoms, or one JSON object per line.
//
//   h remote address   l '-'              u remote user ('-')   t [time]      r request line
//   m method           U path             q query string        H protocol    s status
//   B body bytes       b bytes or '-'     f referer             a user agent
//   T seconds          M milliseconds     D microseconds        L seconds, decimal
//   p pid              w worker id        {header}i request header         {key}e environ value
import type { LogFile } from './log-file';

export type Environ = Record<string, unknown>;

export interface AccessRecord {
  environ: Environ;
  status: number;
  bytesSent: number;
  durationMs: number;
  /** When the request started (ms since the epoch). */
  start: number;
  pid: number;
  worker: number | string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Common Log Format time: [10/Oct/2000:13:55:36 +0000] in local time. */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `[${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}]`;
}

const str = (v: unknown) => (v === undefined || v === null || v === '' ? '-' : String(v));

function requestLine(e: Environ): string {
  const uri = (e.REQUEST_URI as string | undefined) ?? `${e.PATH_INFO ?? ''}${e.QUERY_STRING ? '?' + e.QUERY_STRING : ''}`;
  return `${e.REQUEST_METHOD ?? '-'} ${uri} ${e.SERVER_PROTOCOL ?? '-'}`;
}

const envKey = (header: string) => {
  const k = header.toUpperCase().replace(/-/g, '_');
  return k === 'CONTENT_TYPE' || k === 'CONTENT_LENGTH' ? k : 'HTTP_' + k;
};

function atom(name: string, r: AccessRecord): string {
  const e = r.environ;
  switch (name) {
    case 'h': return str(e.REMOTE_ADDR);
    case 'l': return '-';
    case 'u': return str(e.REMOTE_USER);
    case 't': return clfTime(r.start);
    case 'r': return requestLine(e);
    case 'm': return str(e.REQUEST_METHOD);
    case 'U': return str(e.PATH_INFO);
    case 'q': return String(e.QUERY_STRING ?? '');
    case 'H': return str(e.SERVER_PROTOCOL);
    case 's': return String(r.status);
    case 'B': return String(r.bytesSent);
    case 'b': return r.bytesSent ? String(r.bytesSent) : '-';
    case 'f': return str(e.HTTP_REFERER);
    case 'a': return str(e.HTTP_USER_AGENT);
    case 'T': return String(Math.floor(r.durationMs / 1000));
    case 'M': return String(Math.round(r.durationMs));
    case 'D': return String(Math.round(r.durationMs * 1000));
    case 'L': return (r.durationMs / 1000).toFixed(6);
    case 'p': return `<${r.pid}>`;
    case 'w': return String(r.worker);
  }
  const braced = /^\{([^}]*)\}([ieo])$/.exec(name);
  if (braced) {
    if (braced[2] === 'i') return str(e[envKey(braced[1])]);
    if (braced[2] === 'e') return str(e[braced[1]]);
    return '-'; // response headers are not seen by the access log
  }
  return `%(${name})s`;
}

/** Every atom a format may use, besides {Header}i, {KEY}e and {Header}o. */
export const ACCESS_ATOMS = ['h', 'l', 'u', 't', 'r', 'm', 'U', 'q', 'H', 's', 'B', 'b', 'f', 'a', 'T', 'M', 'D', 'L', 'p', 'w'] as const;
const KNOWN_ATOMS = new Set<string>(ACCESS_ATOMS);

/** What is wrong with an access log format (an unknown atom), or undefined. */
export function accessFormatProblem(format: string): string | undefined {
  if (format === 'json') return undefined;
  const unknown: string[] = [];
  for (const m of format.matchAll(/%\(([^)]+)\)s/g)) {
    if (!KNOWN_ATOMS.has(m[1]) && !/^\{[^}]*\}[ieo]$/.test(m[1]) && !unknown.includes(m[0])) unknown.push(m[0]);
  }
  if (unknown.length === 0) return undefined;
  return `accessLogFormat (--access-log-format) has unknown atom${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; `
    + `the atoms are ${ACCESS_ATOMS.map((a) => `%(${a})s`).join(' ')}, %({Header}i)s, %({Header}o)s and %({KEY}e)s, or the format 'json'`;
}

/**
 * The request header environ keys ('HTTP_USER_AGENT') a format reads: what an application
 * answering in the native core must keep per request for its access log.
 */
export function accessHeaderKeys(format: string): string[] {
  const keys = new Set<string>();
  if (format === 'json') return ['HTTP_REFERER', 'HTTP_USER_AGENT'];
  for (const m of format.matchAll(/%\(([^)]+)\)s/g)) {
    const name = m[1];
    if (name === 'a') keys.add('HTTP_USER_AGENT');
    else if (name === 'f') keys.add('HTTP_REFERER');
    const braced = /^\{([^}]*)\}([ie])$/.exec(name);
    if (braced?.[2] === 'i') keys.add(envKey(braced[1]));
    else if (braced?.[2] === 'e' && /^(HTTP_|CONTENT_(TYPE|LENGTH)$)/.test(braced[1])) keys.add(braced[1]);
  }
  return [...keys];
}

/** The environ keys a native application's access entry carries outright (AccessEntry's fixed fields). */
const FIXED_KEYS = new Set(['REQUEST_METHOD', 'REQUEST_URI', 'SERVER_PROTOCOL', 'REMOTE_ADDR', 'PATH_INFO', 'QUERY_STRING']);

/**
 * The other environ keys a format reads (REMOTE_USER for %(u)s, KEY for %({KEY}e)s):
 * what an application answering in the native core gives from its environ when a
 * request ends.
 */
export function accessEnvironKeys(format: string): string[] {
  const keys = new Set<string>();
  if (format === 'json') return [];
  for (const m of format.matchAll(/%\(([^)]+)\)s/g)) {
    const name = m[1];
    if (name === 'u') keys.add('REMOTE_USER');
    const braced = /^\{([^}]*)\}e$/.exec(name);
    if (braced && !/^(HTTP_|CONTENT_(TYPE|LENGTH)$)/.test(braced[1]) && !FIXED_KEYS.has(braced[1]) && braced[1] !== '') keys.add(braced[1]);
  }
  return [...keys];
}

export type AccessFormatter = (r: AccessRecord) => string;

/** Compiles a format once; returns a function that renders one line (without newline). */
export function compileAccessFormat(format: string): AccessFormatter {
  if (format === 'json') return jsonLine;
  const parts: Array<string | { atom: string }> = [];
  const re = /%\(([^)]+)\)s/g;
  let last = 0;
  for (let m; (m = re.exec(format)); ) {
    if (m.index > last) parts.push(format.slice(last, m.index));
    parts.push({ atom: m[1] });
    last = m.index + m[0].length;
  }
  if (last < format.length) parts.push(format.slice(last));
  return (r) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : atom(p.atom, r);
    return out;
  };
}

function jsonLine(r: AccessRecord): string {
  const e = r.environ;
  return JSON.stringify({
    time: new Date(r.start).toISOString(),
    remote_addr: e.REMOTE_ADDR ?? null,
    method: e.REQUEST_METHOD ?? null,
    uri: e.REQUEST_URI ?? null,
    path: e.PATH_INFO ?? null,
    query: e.QUERY_STRING ?? '',
    protocol: e.SERVER_PROTOCOL ?? null,
    status: r.status,
    bytes: r.bytesSent,
    duration_ms: Math.round(r.durationMs * 1000) / 1000,
    referer: e.HTTP_REFERER ?? null,
    user_agent: e.HTTP_USER_AGENT ?? null,
    pid: r.pid,
    worker: r.worker,
  });
}

export class AccessLog {
  private readonly format: AccessFormatter;
  constructor(private readonly file: LogFile, format: string) {
    this.format = compileAccessFormat(format);
  }
  log(r: AccessRecord) {
    this.file.write(this.format(r) + '\n');
  }
  reopen() {
    this.file.reopen();
  }
  close() {
    this.file.close();
  }
}
