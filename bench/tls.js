// HTTPS with keep-alive: tsgi's native TLS against node:https and uWebSockets.js's
// SSLApp, each server alone in its own process, loaded by wrk in turn.
//   node bench/tls.js [--seconds 4] [--connections 32] [--threads 1] [--servers tsgi,node,uws]
// Scenarios: GET /hello (13 bytes), GET /buffer (1 MB from memory), GET /file (a 1 MB
// file: tsgi wsgi.file_wrapper, node fs.createReadStream piped, uWS the bytes read once
// at start, having no file API). Prints requests/s, the server's CPU milliseconds per
// 1000 requests (from /proc), and the ratios of tsgi to each peer. No target is
// asserted here (a bench, not a test); needs `npm run build` (dist/ and the addon).
'use strict';

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const HELLO = 'Hello, World!';
const MB = 1024 * 1024;

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
}

// ---- the servers (run as `node bench/tls.js --serve KIND DIR`) -------------------------

async function serveTsgi(dir) {
  const { serve } = require(path.join(__dirname, '..', 'dist', 'index.js'));
  const big = fs.readFileSync(path.join(dir, 'big.bin'));
  const app = async (environ, startResponse) => {
    const p = environ.PATH_INFO;
    if (p === '/hello') {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [HELLO];
    }
    if (p === '/buffer') {
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return [big];
    }
    if (p === '/file') {
      const handle = await fs.promises.open(path.join(dir, 'big.bin'), 'r');
      startResponse('200 OK', [['Content-Type', 'application/octet-stream'], ['Content-Length', String(MB)]]);
      return environ['wsgi.file_wrapper'](handle);
    }
    startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
    return ['not found'];
  };
  const server = await serve(app, {
    bind: 'https://127.0.0.1:0',
    tls: { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') },
    logLevel: 'warning',
  });
  return server.address().port;
}

async function serveNode(dir) {
  const https = require('node:https');
  const big = fs.readFileSync(path.join(dir, 'big.bin'));
  const server = https.createServer({
    cert: fs.readFileSync(path.join(dir, 'cert.pem')),
    key: fs.readFileSync(path.join(dir, 'key.pem')),
  }, (req, res) => {
    if (req.url === '/hello') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(HELLO);
    } else if (req.url === '/buffer') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': big.length });
      res.end(big);
    } else if (req.url === '/file') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': MB });
      fs.createReadStream(path.join(dir, 'big.bin')).pipe(res);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return server.address().port;
}

async function serveUws(dir) {
  const uws = require('@trufflesuite/uws-js-unofficial');
  const big = fs.readFileSync(path.join(dir, 'big.bin'));
  const app = uws.SSLApp({ cert_file_name: path.join(dir, 'cert.pem'), key_file_name: path.join(dir, 'key.pem') });
  app.get('/hello', (res) => { res.writeHeader('Content-Type', 'text/plain').end(HELLO); });
  const sendBig = (res) => {
    // tryEnd with backpressure: the rest goes out from onWritable.
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    res.writeHeader('Content-Type', 'application/octet-stream');
    const start = res.getWriteOffset();
    const [ok, done] = res.tryEnd(big, big.length);
    if (ok || done) return;
    res.onWritable((offset) => {
      if (aborted) return true;
      const [ok2] = res.tryEnd(big.subarray(offset - start), big.length);
      return ok2;
    });
  };
  app.get('/buffer', sendBig);
  app.get('/file', sendBig);
  const port = await new Promise((resolve, reject) => {
    app.listen('127.0.0.1', 0, (sock) => (sock ? resolve(uws.us_socket_local_port(sock)) : reject(new Error('uWS listen failed'))));
  });
  return port;
}

if (process.argv[2] === '--serve') {
  const kind = process.argv[3];
  const dir = process.argv[4];
  const start = { tsgi: serveTsgi, node: serveNode, uws: serveUws }[kind];
  start(dir).then((port) => process.stdout.write(`PORT ${port}\n`), (e) => {
    console.error(e);
    process.exit(1);
  });
  return;
}

// ---- the driver ------------------------------------------------------------------------

function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);  // utime + stime
  return (ticks * 1000) / 100;  // USER_HZ is 100 on Linux
}

function startServer(kind, dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--serve', kind, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${kind} did not start`)), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.on('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
}

function wrk(url, seconds, connections, threads) {
  const out = execFileSync('wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, url],
    { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
  const socketErrors = /Socket errors: ([^\n]+)/.exec(out)?.[1] ?? '';
  return { rps, requests, errors: Number(errors), socketErrors };
}

async function main() {
  const seconds = Number(arg('--seconds', 4));
  const connections = Number(arg('--connections', 32));
  const threads = Number(arg('--threads', 1));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-tls-bench-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { cwd: dir, stdio: 'pipe' });
  fs.writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(MB, 'x'));
  const kinds = String(arg('--servers', 'tsgi,node,uws')).split(',');
  const scenarios = ['/hello', '/buffer', '/file'];
  const results = {};
  console.log(`wrk -t${threads} -c${connections} -d${seconds}s, HTTPS keep-alive, node ${process.version}, OpenSSL ${process.versions.openssl}`);
  try {
    for (const kind of kinds) {
      const { child, port } = await startServer(kind, dir);
      try {
        for (const s of scenarios) {
          const url = `https://127.0.0.1:${port}${s}`;
          wrk(url, 1, 4, 1);  // warm-up: handshakes, JIT
          const before = cpuMs(child.pid);
          const r = wrk(url, seconds, connections, threads);
          const cpu = cpuMs(child.pid) - before;
          results[`${kind} ${s}`] = { ...r, cpuPer1k: r.requests > 0 ? (cpu * 1000) / r.requests : NaN };
          console.log(`${kind.padEnd(5)} ${s.padEnd(8)} ${r.rps.toFixed(0).padStart(8)} req/s  ` +
            `server CPU ${results[`${kind} ${s}`].cpuPer1k.toFixed(1).padStart(7)} ms/1k req` +
            (r.errors ? `  non-2xx ${r.errors}` : '') + (r.socketErrors ? `  socket errors: ${r.socketErrors}` : ''));
        }
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log('ratios (tsgi / peer): req/s, and CPU per request (peer / tsgi: above 1 means tsgi spends less)');
  for (const s of scenarios) {
    const t = results[`tsgi ${s}`];
    for (const peer of ['node', 'uws']) {
      const p = results[`${peer} ${s}`];
      if (!t || !p) continue;
      console.log(`  ${s.padEnd(8)} vs ${peer.padEnd(5)} req/s ${(t.rps / p.rps).toFixed(2)}  CPU ${(p.cpuPer1k / t.cpuPer1k).toFixed(2)}`);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
