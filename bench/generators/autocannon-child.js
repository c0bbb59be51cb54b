'use strict';
// Runs one autocannon measurement in its own process (so it can be pinned to its own
// CPU like wrk) and prints the result as one JSON line. Argument: JSON options.
const autocannon = require('autocannon');

const o = JSON.parse(process.argv[2]);
const instance = autocannon(
  {
    url: o.url,
    connections: o.connections,
    duration: o.duration,
    pipelining: o.pipelining,
    method: o.method,
    headers: o.headers,
    body: o.body ? Buffer.from(o.body, 'base64') : undefined,
    timeout: o.timeout,
  },
  (err, r) => {
    if (err) {
      process.stderr.write(`${err.stack || err}\n`);
      process.exit(1);
    }
    process.stdout.write(
      `${JSON.stringify({
        requests: r.requests.total,
        seconds: r.duration,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        errors: r.errors + r.timeouts,
        non2xx: r.non2xx,
      })}\n`,
    );
  },
);
process.on('SIGTERM', () => instance.stop());
