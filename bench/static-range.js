// Byte ranges of a static file, in one run: the same minimal app sending the range with
// wsgi.file_wrapper(handle, undefined, { offset, length }) (the native file path: pread and
// send to this loopback client under the default `sendfile: 'auto'`) or streaming it
// with fs.createReadStream through JavaScript; and staticFiles() itself (lookup included).
//   node bench/static-range.js [--seconds 8] [--connections 8]
// Prints requests/s and the ratio; no target is asserted (a bench, not a test).
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { serve, staticFiles } = require('..');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const seconds = arg('--seconds', 8);
const connections = arg('--connections', 8);

async function measure(app, range) {
  const server = await serve(app, { host: '127.0.0.1', port: 0 });
  const { port } = server.address();
  try {
    const r = await autocannon({ url: `http://127.0.0.1:${port}/big.bin`, connections, duration: seconds, headers: { range } });
    return { rps: r.requests.average, mbps: r.throughput.average / 1e6, non2xx: r.non2xx };
  } finally {
    await server.close();
  }
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-range-'));
  const size = 8 * 1024 * 1024;
  fs.writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(size, 7));
  const file = path.join(dir, 'big.bin');
  const viaSendfile = staticFiles(dir)(() => { throw new Error('unreachable'); });
  const head = (environ, startResponse) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(environ.HTTP_RANGE);
    const start = Number(m[1]);
    const end = Number(m[2]);
    startResponse('206 Partial Content', [['Content-Type', 'application/octet-stream'],
      ['Content-Range', `bytes ${start}-${end}/${size}`], ['Content-Length', String(end - start + 1)]]);
    return { start, end };
  };
  const viaWrapper = async (environ, startResponse) => {
    const handle = await fs.promises.open(file, 'r');
    const { start, end } = head(environ, startResponse);
    return environ['wsgi.file_wrapper'](handle, undefined, { offset: start, length: end - start + 1 });
  };
  const viaStream = (environ, startResponse) => {
    const { start, end } = head(environ, startResponse);
    const stream = fs.createReadStream(file, { start, end, highWaterMark: 64 * 1024 });
    const it = stream[Symbol.asyncIterator]();
    return Object.assign(it, { close: () => { it.return().catch(() => {}); } });
  };
  try {
    for (const [label, range] of [['1 MB range', 'bytes=1000000-2048575'], ['4 KB range', 'bytes=4096-8191']]) {
      const a = await measure(viaWrapper, range);
      const b = await measure(viaStream, range);
      const c = await measure(viaSendfile, range);
      console.log(`${label}: file_wrapper range (native) ${a.rps.toFixed(0)} req/s (${a.mbps.toFixed(0)} MB/s), ` +
        `createReadStream ${b.rps.toFixed(0)} req/s (${b.mbps.toFixed(0)} MB/s), ratio ${(a.rps / b.rps).toFixed(2)}; ` +
        `staticFiles ${c.rps.toFixed(0)} req/s (${(c.rps / b.rps).toFixed(2)} of createReadStream)` +
        (a.non2xx + b.non2xx + c.non2xx > 0 ? ` (non-2xx: ${a.non2xx}/${b.non2xx}/${c.non2xx})` : ''));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
