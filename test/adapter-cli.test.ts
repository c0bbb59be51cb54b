// The tsgi command serves whatever kind of application a module exports, says what it
// detected, and --interface overrides the guess.
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { get, killAll, ROOT, run, startServer } from './manager-harness';

afterEach(async () => {
  await killAll();
});

describe('tsgi serves each kind of export', () => {
  it.each([
    ['pid.js:app', '/', /^\d+ /, /interface=tsgi detected="tsgi app"/],
    ['hono-app.js:app', '/json', /^\{"framework":"hono"\}$/, /interface=fetch detected="Hono app" why="it has a fetch\(\) method"/],
    ['fetch-fn.js:handler', '/some/path', /^fetch \/some\/path$/, /interface=fetch detected="fetch function" why="it takes one argument \(request\)"/],
    ['workers.mjs', '/?x=42', /^worker 42$/, /interface=fetch detected="object with a fetch method"/],
  ])('%s', async (spec, path, body, logLine) => {
    const { t, port } = await startServer([spec, '--bind', '127.0.0.1:0', '--workers', '1']);
    const r = await get({ port }, path);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(body);
    expect(t.err()).toMatch(/msg=application /);
    expect(t.err()).toMatch(logLine);
    expect(t.count(/msg=application /)).toBe(1);
  });

  it('--interface overrides the guess', async () => {
    // Nothing in its shape says fetch: guessed as a tsgi app, it fails; declared, it serves.
    const guessed = await startServer(['fetch-fn.js:opaque', '--bind', '127.0.0.1:0']);
    expect(guessed.t.err()).toMatch(/interface=tsgi detected="tsgi app"/);
    expect((await get({ port: guessed.port }, '/')).status).toBe(500);
    await killAll();
    const declared = await startServer(['fetch-fn.js:opaque', '--bind', '127.0.0.1:0', '--interface', 'fetch']);
    expect(declared.t.err()).toMatch(/interface=fetch .*why="set by --interface"/);
    const r = await get({ port: declared.port }, '/');
    expect([r.status, r.body]).toEqual([200, 'opaque GET']);
  });

  it('TSGI_INTERFACE sets it too, and a bad value is refused with the choices', async () => {
    const bad = await run(['pid.js:app', '--interface', 'grpc', '--check']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/interface \(--interface\) must be one of auto, tsgi, node, fetch/);
    const { t, port } = await startServer(['fetch-fn.js:opaque', '--bind', '127.0.0.1:0'], { env: { TSGI_INTERFACE: 'fetch' } });
    expect(t.err()).toMatch(/interface=fetch/);
    expect((await get({ port }, '/')).body).toBe('opaque GET');
  });

  it('examples/hono-app.js runs as the README says', async () => {
    const { port } = await startServer([path.join('examples', 'hono-app.js') + ':app', '--bind', '127.0.0.1:0'], { cwd: ROOT });
    const hello = await get({ port }, '/hello/tsgi');
    expect([hello.status, hello.body, hello.headers['x-served-by']]).toEqual([200, '{"hello":"tsgi"}', 'tsgi']);
    const countdown = await get({ port }, '/countdown');
    expect(countdown.body).toBe('3\n2\n1\nliftoff\n');
  });

  it('a fetch handler gets the lighter global Response unless --no-override-global-objects', async () => {
    const byDefault = await startServer(['fetch-fn.js:globals', '--bind', '127.0.0.1:0']);
    expect((await get({ port: byDefault.port }, '/')).body).toBe('replaced');
    await killAll();
    const optedOut = await startServer(['fetch-fn.js:globals', '--bind', '127.0.0.1:0', '--no-override-global-objects']);
    expect((await get({ port: optedOut.port }, '/')).body).toBe('untouched');
    await killAll();
    const byEnv = await startServer(['fetch-fn.js:globals', '--bind', '127.0.0.1:0'], { env: { TSGI_OVERRIDE_GLOBAL_OBJECTS: 'false' } });
    expect((await get({ port: byEnv.port }, '/')).body).toBe('untouched');
  });

  it('--check says what it detected', async () => {
    const r = await run(['hono-app.js:app', '--check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/the application loads \(Hono app, interface fetch: it has a fetch\(\) method\)/);
  });
});
