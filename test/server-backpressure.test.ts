// A client that pipelines requests and never reads the responses cannot make the server
// buffer them: past a high-water mark of queued output the connection is neither read nor
// dispatched until it drains, and then every request is still answered, in order.
import fs from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { readPort, spawnFixture } from './helpers/child-server';
import { sleep } from './helpers/time';

const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const PAGE = 16 * 1024;

describe('pipelined output is bounded', () => {
  it('10,000 pipelined GETs of 16 KB pages, unread: RSS stays under baseline + 64 MB, then all arrive in order', async () => {
    const child = spawnFixture('page-server.ts');
    try {
      const port = await readPort(child);
      // warm up: the app loaded and a few pages served
      await new Promise<void>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1');
        let got = 0;
        s.on('data', (d) => { got += d.length; if (got >= 5 * PAGE) { s.destroy(); resolve(); } });
        s.on('error', reject);
        s.write('GET /warm HTTP/1.1\r\nHost: t\r\n\r\n'.repeat(5));
      });
      await sleep(300);
      const baseline = rss(child.pid!);

      const N = 10_000;
      const sock = net.connect(port, '127.0.0.1');
      sock.setNoDelay(true);
      await new Promise((r) => sock.once('connect', r));
      sock.pause();  // reads nothing for now
      let requests = '';
      for (let i = 0; i < N; i++) requests += `GET /r${i} HTTP/1.1\r\nHost: t\r\n\r\n`;
      sock.write(requests);
      let peak = baseline;
      for (let t = 0; t < 30; t++) {  // 3 s of not reading
        await sleep(100);
        peak = Math.max(peak, rss(child.pid!));
      }
      expect(peak - baseline, `RSS grew ${((peak - baseline) / 1048576).toFixed(1)} MB`).toBeLessThan(64 * 1024 * 1024);

      // now read everything: every response, in order
      const paths: string[] = [];
      await new Promise<void>((resolve, reject) => {
        let pending = Buffer.alloc(0);
        const timer = setTimeout(() => reject(new Error(`only ${paths.length} of ${N} responses`)), 60_000);
        sock.on('data', (d: Buffer) => {
          pending = pending.length ? Buffer.concat([pending, d]) : d;
          for (;;) {
            const e = pending.indexOf('\r\n\r\n');
            if (e < 0) break;
            const len = Number(/content-length: (\d+)/i.exec(pending.subarray(0, e).toString('latin1'))?.[1]);
            if (pending.length < e + 4 + len) break;
            const body = pending.subarray(e + 4, e + 4 + len);
            paths.push(body.subarray(0, body.indexOf('\n')).toString('latin1'));
            pending = pending.subarray(e + 4 + len);
          }
          if (paths.length >= N) { clearTimeout(timer); resolve(); }
        });
        sock.on('error', (e) => reject(new Error(`${e.message} after ${paths.length} responses`)));
        sock.resume();
      });
      sock.destroy();
      expect(paths.length).toBe(N);
      expect(paths.every((p, i) => p === `/r${i}`)).toBe(true);
    } finally {
      child.kill();
    }
  }, 120_000);
});
