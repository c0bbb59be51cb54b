// Test clients for the TLS listeners: one request with node:https, a raw TLS socket
// that records what it receives (pipelining, renegotiation), and curl.
import { execFile } from 'node:child_process';
import https from 'node:https';
import tls from 'node:tls';
import type { TestCerts } from './tls-certs';

export interface HttpsResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** What the socket saw: protocol, the server's certificate CN, whether the session was reused. */
  protocol: string | null;
  peerCN: string | undefined;
  reused: boolean;
  localPort: number | undefined;
}

export interface HttpsOptions {
  method?: string;
  path?: string;
  body?: Buffer | string;
  servername?: string;
  agent?: https.Agent | false;
  clientCert?: boolean;
  headers?: Record<string, string>;
  maxVersion?: tls.SecureVersion;
  minVersion?: tls.SecureVersion;
  ciphers?: string;
}

/** One request over HTTPS, trusting the test CA (servername defaults to localhost). */
export function httpsRequest(port: number, certs: TestCerts, o: HttpsOptions = {}): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1',
      port,
      method: o.method ?? 'GET',
      path: o.path ?? '/',
      servername: o.servername ?? 'localhost',
      ca: certs.read('ca.pem'),
      cert: o.clientCert ? certs.read('client.pem') : undefined,
      key: o.clientCert ? certs.read('client.key') : undefined,
      agent: o.agent ?? false,
      headers: o.headers,
      maxVersion: o.maxVersion,
      minVersion: o.minVersion,
      ciphers: o.ciphers,
    }, (res) => {
      const parts: Buffer[] = [];
      const sock = res.socket as tls.TLSSocket;
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: Buffer.concat(parts),
        protocol: sock.getProtocol?.() ?? null,
        peerCN: sock.getPeerCertificate?.()?.subject?.CN as string | undefined,
        reused: sock.isSessionReused?.() ?? false,
        localPort: sock.localPort,
      }));
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(o.body);
  });
}

export interface RawTls {
  socket: tls.TLSSocket;
  received(): Buffer;
  closed: Promise<void>;
  isClosed(): boolean;
}

/** A raw TLS connection that records everything it receives. */
export function rawTls(port: number, certs: TestCerts, options: tls.ConnectionOptions = {}): Promise<RawTls> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let closed = false;
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.read('ca.pem'), ...options }, () => {
      resolve({ socket, received: () => Buffer.concat(chunks), closed: closedPromise, isClosed: () => closed });
    });
    const closedPromise = new Promise<void>((r) => socket.once('close', () => { closed = true; r(); }));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('error', (e) => { if (!closed) reject(e); });
  });
}

export interface CurlResult { code: number; stdout: string; stderr: string }

/** Runs curl; resolves with its exit code (never rejects on a non-zero exit). */
export function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    // LD_PRELOAD from a sanitizer run of the addon must not leak into curl.
    const env = { ...process.env, LD_PRELOAD: '' };
    execFile('curl', ['-sS', '--max-time', '20', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
