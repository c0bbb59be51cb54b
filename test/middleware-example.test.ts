// examples/site.js, served by the real command: the static site, the mounted API behind
// proxyFix and compress, and a streamed response compressed as it streams.
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, killAll, startServer } from './manager-harness';
import { get, rawRequest } from './helpers/http';

afterAll(async () => { await killAll(); });

describe('examples/site.js', () => {
  it('serves the static site, the API (with proxyFix and compress) and a compressed stream', async () => {
    const { port } = await startServer(['examples/site.js:app', '--bind', '127.0.0.1:0', '--workers', '1'], { cwd: ROOT });
    expect(port).toBeGreaterThan(0);

    const index = (await rawRequest(port, get('/'))).responses[0];
    expect(index.status).toBe(200);
    expect(index.header['content-type']).toBe('text/html; charset=utf-8');
    expect(index.header['cache-control']).toBe('public, max-age=300');
    expect(index.body.toString()).toContain('<h1>tsgi example site</h1>');

    const css = (await rawRequest(port, get('/style.css', { 'If-None-Match': index.header['etag'] }))).responses[0];
    expect(css.status).toBe(200);
    const again = (await rawRequest(port, get('/', { 'If-None-Match': index.header['etag'] }))).responses[0];
    expect(again.status).toBe(304);

    const hello = (await rawRequest(port, get('/api/hello?name=test', { 'X-Forwarded-For': '198.51.100.23', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'example.org' }))).responses[0];
    expect(hello.status).toBe(200);
    expect(JSON.parse(hello.body.toString())).toEqual({ hello: 'test', client: '198.51.100.23', url: 'https://example.org/api/hello?name=test', mountedAt: '/api' });

    const ticks = (await rawRequest(port, get('/api/ticks?n=3', { 'Accept-Encoding': 'gzip' }), { timeoutMs: 10_000 })).responses[0];
    expect(ticks.header['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(ticks.body).toString()).toBe('tick 1\ntick 2\ntick 3\n');

    const missing = (await rawRequest(port, get('/nope.html'))).responses[0];
    expect(missing.status).toBe(404);
    const traversal = await rawRequest(port, 'GET /%2e%2e/site.js HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(traversal.responses[0].status).toBe(404);
    expect(traversal.raw.toString()).not.toContain('proxyFix');
  });
});
