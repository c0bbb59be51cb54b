// The real nginx in front of tsgi for the deployment tests: its own prefix and config in a
// temporary directory, loopback ports, its error log captured, stopped at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const NGINX = '/usr/sbin/nginx';
export const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
export const UWSGI_PARAMS = '/etc/nginx/uwsgi_params';

/** Why nginx cannot run here ('' when it can): the binary or the stream module is missing. */
export function nginxMissing(opts: { stream?: boolean } = {}): string {
  if (!fs.existsSync(NGINX)) return `${NGINX} is not installed (apt-get install nginx)`;
  if (opts.stream && !fs.existsSync(STREAM_MODULE)) return `${STREAM_MODULE} is not installed (apt-get install libnginx-mod-stream)`;
  return '';
}

/** A free loopback TCP port (the kernel's pick, released before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface NginxConfig {
  /** The inside of the http { } block (server and upstream blocks). */
  http?: string;
  /** The inside of the stream { } block; loads the stream module. */
  stream?: string;
  /** Ports nginx listens on: it is ready once each accepts connections. */
  listens: number[];
}

export interface Nginx {
  /** The temporary prefix (config, logs, temp files, pid). */
  prefix: string;
  /** The error log so far. */
  errorLog(): string;
  /** Stops nginx (QUIT, then KILL after 5 s) and removes the prefix. */
  stop(): Promise<void>;
}

function config(prefix: string, c: NginxConfig): string {
  const p = (name: string) => path.join(prefix, name);
  return [
    c.stream !== undefined ? `load_module ${STREAM_MODULE};` : '',
    // The workers run as the test's user (a root master would switch them to nobody).
    process.getuid?.() === 0 ? 'user root root;' : '',
    'worker_processes 1;',
    `pid ${p('nginx.pid')};`,
    `error_log ${p('error.log')} warn;`,
    'events { worker_connections 1024; }',
    c.http === undefined ? '' : `http {
  access_log off;
  client_body_temp_path ${p('client_body')};
  proxy_temp_path ${p('proxy')};
  uwsgi_temp_path ${p('uwsgi')};
  fastcgi_temp_path ${p('fastcgi')};
  scgi_temp_path ${p('scgi')};
  ${c.http}
}`,
    c.stream === undefined ? '' : `stream {
  ${c.stream}
}`,
  ].join('\n');
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Starts nginx with `c` (checked with `nginx -t` first, so a bad config fails with nginx's message). */
export async function startNginx(c: NginxConfig): Promise<Nginx> {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-nginx-'));
  const conf = path.join(prefix, 'nginx.conf');
  const errorFile = path.join(prefix, 'error.log');
  fs.writeFileSync(conf, config(prefix, c));
  const args = ['-p', prefix + '/', '-e', errorFile, '-c', conf, '-g', 'daemon off;'];
  let output = '';
  const child: ChildProcess = spawn(NGINX, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.setEncoding('utf8').on('data', (d) => { output += d; });
  child.stderr!.setEncoding('utf8').on('data', (d) => { output += d; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = () => { try { return fs.readFileSync(errorFile, 'utf8'); } catch { return ''; } };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(prefix, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (const port of c.listens) {
    while (!(await accepts(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        const log = errorLog();
        await stop();
        throw new Error(`nginx did not start (listening on ${port}):\n${output}${log}\n--- config ---\n${config(prefix, c)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { prefix, errorLog, stop };
}
