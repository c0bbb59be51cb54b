// The master's stats endpoint. Plain mode answers each connection with the JSON
// snapshot and closes it, as uWSGI's stats server does; HTTP mode answers GET / with
// the JSON and GET /metrics with Prometheus text.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { StatsSnapshot } from './snapshot';
import { prometheusText } from './prometheus';

export class StatsServer {
  private server: net.Server | undefined;

  constructor(private readonly address: string, private readonly http: boolean, private readonly snapshot: () => Promise<StatsSnapshot>) {}

  listen(): Promise<string> {
    const server = this.http ? http.createServer((req, res) => void this.answerHttp(req, res)) : net.createServer((sock) => void this.answerPlain(sock));
    this.server = server;
    const a = this.address;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        server.off('error', reject);
        // A failed accept (descriptors exhausted) must not take the master down; the client retries.
        server.on('error', () => {});
        const where = server.address();
        resolve(typeof where === 'string' ? `unix:${where}` : where ? `${where.family === 'IPv6' ? `[${where.address}]` : where.address}:${where.port}` : a);
      };
      if (a.startsWith('unix:')) {
        const p = a.slice(5);
        try { if (fs.statSync(p).isSocket()) fs.unlinkSync(p); } catch { /* not there */ }
        server.listen(p, done);
      } else {
        const colon = a.lastIndexOf(':');
        const host = a.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1';
        server.listen({ host, port: Number(a.slice(colon + 1)) }, done);
      }
    });
  }

  private async answerPlain(sock: net.Socket) {
    sock.on('error', () => {});
    try {
      sock.end(JSON.stringify(await this.snapshot(), null, 2) + '\n');
    } catch (err) {
      sock.destroy(err as Error);
    }
  }

  private async answerHttp(req: http.IncomingMessage, res: http.ServerResponse) {
    res.on('error', () => {});
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path !== '/' && path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try / or /metrics\n');
      return;
    }
    let snap: StatsSnapshot;
    try {
      snap = await this.snapshot();
    } catch (err) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end(`stats unavailable: ${(err as Error).message}\n`);
      return;
    }
    if (path === '/metrics') res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(prometheusText(snap));
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(snap, null, 2) + '\n');
  }

  close() {
    this.server?.close();
    this.server = undefined;
  }
}
