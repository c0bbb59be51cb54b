// Starts real `node bin/tsgi.js` processes for the CLI and process-manager tests, reads
// their logs, and makes sure every process they started is gone after each test.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sleep } from './helpers/time';

export const ROOT = path.join(__dirname, '..');
export const BIN = path.join(ROOT, 'bin', 'tsgi.js');
export const APPS = path.join(__dirname, 'fixtures', 'apps');

export interface Tsgi {
  child: ChildProcess;
  pid: number;
  /** Everything the process wrote so far (stdout, stderr). */
  out(): string;
  err(): string;
  /** Resolves with the first match of `re` in stderr (the error log), waiting at most `ms`. */
  waitFor(re: RegExp, ms?: number, from?: 'stderr' | 'stdout'): Promise<RegExpMatchArray>;
  /** Counts the matches of `re` in stderr. */
  count(re: RegExp): number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Worker pids ever booted, from the log. */
  workerPids(): number[];
}

const started = new Set<Tsgi>();

export interface TsgiOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Descriptors of this process passed on as the child's 3, 4, … (for --bind fd://3). */
  fds?: number[];
  /** Starts the master under `ulimit -n N` (its workers inherit the limit). */
  maxOpenFiles?: number;
}

export function tsgi(args: string[], options: TsgiOptions = {}): Tsgi {
  // Under a descriptor limit, bash sets it and then becomes the master (same pid).
  const [cmd, argv] = options.maxOpenFiles === undefined
    ? [process.execPath, [BIN, ...args]]
    : ['bash', ['-c', `ulimit -n ${options.maxOpenFiles} && exec "$0" "$@"`, process.execPath, BIN, ...args]];
  const child = spawn(cmd, argv, {
    cwd: options.cwd ?? APPS,
    env: { ...cleanEnv(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', ...(options.fds ?? [])],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  const poke = () => { for (const w of waiters.splice(0)) w(); };
  child.stdout!.setEncoding('utf8').on('data', (d) => { stdout += d; poke(); });
  child.stderr!.setEncoding('utf8').on('data', (d) => { stderr += d; poke(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => { poke(); resolve({ code, signal }); });
  });
  const t: Tsgi = {
    child,
    pid: child.pid!,
    out: () => stdout,
    err: () => stderr,
    exited,
    count: (re) => (stderr.match(new RegExp(re.source, 'g')) ?? []).length,
    workerPids: () => [...stderr.matchAll(/msg="booting worker" .*?worker_pid=(\d+)/g)].map((m) => Number(m[1])),
    waitFor(re, ms = 15_000, from = 'stderr') {
      const deadline = Date.now() + ms;
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = (from === 'stderr' ? stderr : stdout).match(re);
          if (m) return resolve(m);
          if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null) {
            return reject(new Error(`timed out waiting for ${re} (exit ${child.exitCode ?? child.signalCode})\n--- stderr ---\n${stderr.slice(-4000)}\n--- stdout ---\n${stdout.slice(-2000)}`));
          }
          waiters.push(check);
          setTimeout(check, Math.min(200, Math.max(0, deadline - Date.now()) + 1));
        };
        check();
      });
    },
  };
  started.add(t);
  return t;
}

/** Starts a server and waits until all its workers accept; returns it with its first TCP port. */
export async function startServer(args: string[], options: TsgiOptions = {}) {
  const t = tsgi(args, options);
  await t.waitFor(/msg="server ready"/, 30_000);
  const m = t.err().match(/msg=listening pid=\d+ role=master address=(\S+)/);
  const port = m && /:(\d+)$/.test(m[1]) ? Number(/:(\d+)$/.exec(m[1])![1]) : 0;
  return { t, port };
}

export function alive(pid: number) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Kills every process the tests started (masters and their workers), and waits for them. */
export async function killAll() {
  for (const t of started) {
    const pids = [t.pid, ...t.workerPids()];
    for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    const deadline = Date.now() + 5000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }
  started.clear();
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TSGI_') && !k.startsWith('VITEST') && k !== 'NODE_OPTIONS') env[k] = v;
  return env;
}

const tmpdirs: string[] = [];

/** A new temporary directory; removeTmpdirs() removes it (and every other made so far). */
export function tmpdir(prefix = 'tsgi-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpdirs.push(dir);
  return dir;
}

/** Removes the directories tmpdir() made (register as an afterAll or afterEach hook). */
export function removeTmpdirs(): void {
  for (const dir of tmpdirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Runs the command to its end; resolves with its exit code and output. */
export async function run(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}) {
  const t = tsgi(args, options);
  const timer = setTimeout(() => t.child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  const { code } = await t.exited;
  clearTimeout(timer);
  return { code, stdout: t.out(), stderr: t.err() };
}

export interface Reply { status: number; body: string; headers: http.IncomingHttpHeaders }

/** One GET over a new connection (or over `agent`). */
export function get(target: { port?: number; socketPath?: string }, pathName = '/', agent?: http.Agent, timeoutMs = 10_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', ...target, path: pathName, agent: agent ?? false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

/** A keep-alive client over raw sockets: sends GETs one at a time per connection, and reconnects when the server closes. */
export interface LoadResult { ok: number; failed: number; retried: number; pids: Map<string, number>; errors: string[] }

export async function load(port: number, opts: { requests: number; connections: number; path?: string; deadlineMs: number; onProgress?: (done: number) => void; close?: boolean }): Promise<LoadResult> {
  const result: LoadResult = { ok: 0, failed: 0, retried: 0, pids: new Map(), errors: [] };
  const deadline = Date.now() + opts.deadlineMs;
  let issued = 0;
  const reqText = `GET ${opts.path ?? '/'} HTTP/1.1\r\nHost: 127.0.0.1\r\n${opts.close ? 'Connection: close\r\n' : ''}\r\n`;
  const worker = async () => {
    let sock: net.Socket | undefined;
    let buf = '';
    let onData: (() => void) | undefined;
    let closed = true;
    let partial = false;
    const connect = () => new Promise<void>((resolve, reject) => {
      buf = '';
      const s = net.connect(port, '127.0.0.1');
      s.setNoDelay(true);
      s.setEncoding('latin1');
      s.on('data', (d: string) => { buf += d; onData?.(); });
      s.on('close', () => { closed = true; onData?.(); });
      s.on('error', () => {});
      s.once('connect', () => { closed = false; sock = s; resolve(); });
      s.once('error', reject);
    });
    // Reads one response; undefined when the connection closed before a complete response.
    const readResponse = () => new Promise<{ status: number; body: string; close: boolean } | undefined>((resolve) => {
      const tryParse = () => {
        const end = buf.indexOf('\r\n\r\n');
        if (end >= 0) {
          const head = buf.slice(0, end);
          const status = Number(head.slice(9, 12));
          const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
          const chunked = /\r\ntransfer-encoding: *chunked/i.test(head);
          const close = /\r\nconnection: *close/i.test(head);
          if (cl) {
            const len = Number(cl[1]);
            if (buf.length >= end + 4 + len) {
              const body = buf.slice(end + 4, end + 4 + len);
              buf = buf.slice(end + 4 + len);
              onData = undefined;
              return resolve({ status, body, close });
            }
          } else if (chunked) {
            const term = buf.indexOf('\r\n0\r\n\r\n', end);
            if (term >= 0) {
              let rest = buf.slice(end + 4, term + 2);
              let body = '';
              while (rest.length) {
                const nl = rest.indexOf('\r\n');
                const size = parseInt(rest.slice(0, nl), 16);
                body += rest.slice(nl + 2, nl + 2 + size);
                rest = rest.slice(nl + 4 + size);
              }
              buf = buf.slice(term + 7);
              onData = undefined;
              return resolve({ status, body, close });
            }
          }
        }
        if (closed) { onData = undefined; partial = buf.length > 0; resolve(undefined); }
      };
      onData = tryParse;
      tryParse();
    });
    while (issued < opts.requests && Date.now() < deadline) {
      issued++;
      let attempts = 0;
      for (;;) {
        attempts++;
        let reused = true;
        try {
          if (closed || !sock) { await connect(); reused = false; }
        } catch (e) {
          result.failed++;
          result.errors.push(`connect: ${(e as Error).message}`);
          break;
        }
        sock!.write(reqText);
        const r = await readResponse();
        if (!r) {
          // The server closed an idle keep-alive connection as the request went out: an
          // idempotent request on a reused connection is retried, as HTTP clients do.
          sock?.destroy();
          sock = undefined;
          if (reused && !partial && attempts < 3) { result.retried++; continue; }
          result.failed++;
          result.errors.push('connection closed without a response');
          break;
        }
        if (r.status === 200) {
          result.ok++;
          const pid = r.body.trim();
          result.pids.set(pid, (result.pids.get(pid) ?? 0) + 1);
        } else {
          result.failed++;
          result.errors.push(`status ${r.status}`);
        }
        if (r.close) { sock!.destroy(); sock = undefined; closed = true; }
        opts.onProgress?.(result.ok + result.failed);
        break;
      }
    }
    sock?.destroy();
  };
  await Promise.all(Array.from({ length: opts.connections }, worker));
  return result;
}

export { sleep } from './helpers/time';
