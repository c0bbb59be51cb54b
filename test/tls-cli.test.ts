// HTTPS under the process manager: `tsgi --bind https://… --certfile … --keyfile …` serves
// TLS from every worker, and a certificate replaced at the same paths is picked up on
// HUP (the workers are replaced; no connection is dropped by it).
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, sleep, startServer } from './manager-harness';
import { makeTestCerts, type TestCerts } from './helpers/tls-certs';
import { httpsRequest } from './helpers/tls-client';

let certs: TestCerts;

beforeAll(() => {
  certs = makeTestCerts();
}, 60_000);

afterAll(async () => {
  await killAll();
  certs?.remove();
});

describe('tsgi --bind https://', () => {
  it('serves TLS from its workers and picks up a replaced certificate on HUP', async () => {
    const cert = certs.file('live.pem');
    const key = certs.file('live.key');
    fs.copyFileSync(certs.file('server.pem'), cert);
    fs.copyFileSync(certs.file('server.key'), key);
    const { t, port } = await startServer(['deploy.js:app', '--bind', 'https://127.0.0.1:0', '--workers', '2',
      '--certfile', cert, '--keyfile', key]);
    expect(port).toBeGreaterThan(0);
    const first = await httpsRequest(port, certs, { path: '/environ' });
    expect(first.status).toBe(200);
    expect(first.peerCN).toBe('localhost');
    const env = JSON.parse(first.body.toString());
    expect(env.HTTPS).toBe('on');
    expect(env['wsgi.url_scheme']).toBe('https');
    expect(env['tsgi.tls'].protocol).toBe('TLSv1.3');

    fs.copyFileSync(certs.file('server2.pem'), cert);
    fs.copyFileSync(certs.file('server2.key'), key);
    process.kill(t.pid, 'SIGHUP');
    const deadline = Date.now() + 20_000;
    let cn: string | undefined;
    while (Date.now() < deadline) {
      try {
        cn = (await httpsRequest(port, certs)).peerCN;
        if (cn === 'localhost-2') break;
      } catch { /* a worker being replaced */ }
      await sleep(200);
    }
    expect(cn).toBe('localhost-2');
  }, 60_000);
});
