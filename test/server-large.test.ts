// Large bodies: a 50 MB upload spooled to disk arrives intact; a 1 GB streamed download
// completes while the server's RSS stays bounded (the server runs in a child process).
import crypto from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnFixture } from './helpers/child-server';
import { startServer, type TestServer } from './helpers/server';

let ts: TestServer | undefined;
afterEach(async () => { await ts?.close(); ts = undefined; });

describe('large request bodies', () => {
  it('a 50 MB upload is spooled to disk and reaches the application intact (hash compare)', async () => {
    const size = 50 * 1024 * 1024;
    const upload = crypto.randomBytes(size);
    const expected = crypto.createHash('sha256').update(upload).digest('hex');
    let spooled = false;
    ts = await startServer((env, sr) => {
      const input = env['wsgi.input'];
      spooled = (input as unknown as { body: Buffer | null }).body === null;
      const h = crypto.createHash('sha256');
      let n = 0;
      for (;;) {
        const b = input.read(1 << 20);
        if (b.length === 0) break;
        h.update(b);
        n += b.length;
      }
      const body = JSON.stringify({ n, sha: h.digest('hex'), cl: env.CONTENT_LENGTH });
      sr('200 OK', [['Content-Type', 'application/json']]);
      return [body];
    }, { maxBodySize: 64 * 1024 * 1024, bodyMemorySize: 1024 * 1024 });
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(ts!.port, '127.0.0.1');
      let out = '';
      s.setEncoding('latin1');
      s.on('data', (d) => { out += d; if (out.includes('}')) { s.destroy(); resolve(out); } });
      s.on('error', reject);
      s.write(`POST /upload HTTP/1.1\r\nHost: h\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`);
      s.write(upload);
    });
    const json = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
    expect(json).toEqual({ n: size, sha: expected, cl: String(size) });
    expect(spooled).toBe(true);
  }, 120_000);
});

describe('large responses', () => {
  it('a 1 GB streamed download completes and the server\'s RSS grows by less than 64 MB', async () => {
    const child = spawnFixture('download-server.ts');
    try {
      let out = '';
      const lines: string[] = [];
      const waiters: Array<() => void> = [];
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        out += d;
        let i;
        while ((i = out.indexOf('\n')) >= 0) { lines.push(out.slice(0, i)); out = out.slice(i + 1); waiters.splice(0).forEach((w) => w()); }
      });
      const next = async (prefix: string) => {
        for (;;) {
          const at = lines.findIndex((l) => l.startsWith(prefix));
          if (at >= 0) return lines.splice(at, 1)[0].slice(prefix.length + 1);
          await new Promise<void>((r, j) => { waiters.push(r); setTimeout(() => j(new Error(`no "${prefix}" from the child`)), 30_000); });
        }
      };
      const port = Number(await next('port'));
      // The server's resident size before the download: what loading tsgi (through tsx) costs.
      child.stdin!.write('rss\n');
      const baseline = Number(await next('rss'));
      const total = 1024 * 1024 * 1024;
      let received = 0;
      let peakRss = 0;
      const sampler = setInterval(() => child.stdin!.write('rss\n'), 100);
      const sampling = (async () => {
        for (;;) {
          const v = await next('rss').catch(() => null);
          if (v === null) return;
          peakRss = Math.max(peakRss, Number(v));
        }
      })();
      const t0 = Date.now();
      await new Promise<void>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1');
        let headDone = false;
        let pending = Buffer.alloc(0);
        s.on('data', (d: Buffer) => {
          if (!headDone) {
            pending = Buffer.concat([pending, d]);
            const e = pending.indexOf('\r\n\r\n');
            if (e < 0) return;
            headDone = true;
            received += pending.length - e - 4;
          } else received += d.length;
          // Chunk framing adds a little; the terminating chunk ends the body.
          if (received >= total && d.subarray(-5).toString() === '0\r\n\r\n') { s.destroy(); resolve(); }
        });
        s.on('error', reject);
        s.setTimeout(100_000, () => reject(new Error(`download stalled at ${received} bytes`)));
        s.write('GET /download?bytes=' + total + ' HTTP/1.1\r\nHost: h\r\n\r\n');
      });
      clearInterval(sampler);
      const seconds = (Date.now() - t0) / 1000;
      child.stdin!.write('rss\n');
      await new Promise((r) => setTimeout(r, 200));
      expect(received).toBeGreaterThanOrEqual(total);
      expect(peakRss).toBeGreaterThan(0);
      expect(peakRss - baseline).toBeLessThan(64 * 1024 * 1024);
      expect(seconds).toBeLessThan(100);
      child.stdin!.write('exit\n');
      void sampling;
    } finally {
      child.kill();
    }
  }, 150_000);
});
