// mount() dispatches on path prefixes at segment boundaries and moves the prefix from
// PATH_INFO to SCRIPT_NAME; compose() applies middleware with the first listed outermost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, mount, type App, type Middleware } from '../src/index';
import { get, rawRequest } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';

const named = (name: string): App => (environ, sr) => {
  sr('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify({ app: name, SCRIPT_NAME: environ.SCRIPT_NAME, PATH_INFO: environ.PATH_INFO })];
};

let srv: TestServer;
let bare: TestServer;
beforeAll(async () => {
  srv = await startServer(mount({ '/api': named('api'), '/api/v2/': named('v2'), '/': named('site'), '/café': named('cafe') }));
  bare = await startServer(mount({ '/api': named('api') }));
});
afterAll(async () => {
  await srv.close();
  await bare.close();
});

const hit = async (s: TestServer, target: string) => {
  const r = (await rawRequest(s.port, get(target))).responses[0];
  return { status: r.status, ...(r.status === 200 ? JSON.parse(r.body.toString()) : { body: r.body.toString() }) };
};

describe('mount', () => {
  const cases: Array<[string, string, string, string]> = [
    ['/api', 'api', '/api', ''],
    ['/api/', 'api', '/api', '/'],
    ['/api/users/7', 'api', '/api', '/users/7'],
    ['/apix', 'site', '', '/apix'],
    ['/api/v2', 'v2', '/api/v2', ''],
    ['/api/v2/x', 'v2', '/api/v2', '/x'],
    ['/api/v20', 'api', '/api', '/v20'],
    ['/', 'site', '', '/'],
    ['/about?q=1', 'site', '', '/about'],
    ['/caf%C3%A9/menu', 'cafe', Buffer.from('/café').toString('latin1'), '/menu'],
  ];
  for (const [target, app, script, path] of cases) {
    it(`${target} → ${app} with SCRIPT_NAME ${JSON.stringify(script)}, PATH_INFO ${JSON.stringify(path)}`, async () => {
      expect(await hit(srv, target)).toEqual({ status: 200, app, SCRIPT_NAME: script, PATH_INFO: path });
    });
  }

  it('404 when nothing matches and there is no "/"', async () => {
    expect((await hit(bare, '/other')).status).toBe(404);
    expect((await hit(bare, '/apix')).status).toBe(404);
    expect((await hit(bare, '/api/x')).app).toBe('api');
  });

  it('nested mounts add up in SCRIPT_NAME', async () => {
    const s = await startServer(mount({ '/a': mount({ '/b': named('inner') }) }));
    try {
      expect(await hit(s, '/a/b/c')).toEqual({ status: 200, app: 'inner', SCRIPT_NAME: '/a/b', PATH_INFO: '/c' });
    } finally {
      await s.close();
    }
  });

  it('rejects bad prefixes with a message', () => {
    expect(() => mount({ api: named('x') })).toThrow(/must start with '\/'/);
    expect(() => mount({ '/a/../b': named('x') })).toThrow(/plain decoded path/);
    expect(() => mount({ '/a': 'nope' as never })).toThrow(/must be a function/);
  });
});

describe('compose', () => {
  const tag = (name: string, log: string[]): Middleware => (app) => (environ, sr) => {
    log.push(`${name} in`);
    return app(environ, (status, headers, exc) => {
      log.push(`${name} start`);
      return sr(status, [...headers, ['X-Order', name]], exc);
    });
  };

  it('the first listed is the outermost', async () => {
    const log: string[] = [];
    const s = await startServer(compose(tag('outer', log), tag('middle', log), tag('inner', log))(named('app')));
    try {
      const r = (await rawRequest(s.port, get('/'))).responses[0];
      expect(log).toEqual(['outer in', 'middle in', 'inner in', 'inner start', 'middle start', 'outer start']);
      expect(r.headers.filter(([k]) => k === 'X-Order').map(([, v]) => v)).toEqual(['inner', 'middle', 'outer']);
    } finally {
      await s.close();
    }
  });

  it('compose() with nothing is the app itself; a non-function is refused with a hint', () => {
    const app = named('x');
    expect(compose()(app)).toBe(app);
    expect(() => compose((() => 1) as never, 'x' as never)).toThrow(/argument 1 must be a middleware/);
  });
});

describe('mount with staticFiles', () => {
  it('a static site mounted at /docs: files under the prefix, /docs redirected to /docs/', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { staticFiles } = await import('../src/index');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-mount-static-'));
    fs.writeFileSync(path.join(dir, 'index.html'), 'docs home');
    fs.writeFileSync(path.join(dir, 'a.txt'), 'file a');
    const s = await startServer(mount({ '/docs': staticFiles(dir)(named('fallback')), '/': named('site') }));
    try {
      const r = (await rawRequest(s.port, get('/docs'))).responses[0];
      expect(r.status).toBe(301);
      expect(r.header['location']).toBe('/docs/');
      expect((await rawRequest(s.port, get('/docs/'))).responses[0].body.toString()).toBe('docs home');
      expect((await rawRequest(s.port, get('/docs/a.txt'))).responses[0].body.toString()).toBe('file a');
      expect(await hit(s, '/docs/missing')).toEqual({ status: 200, app: 'fallback', SCRIPT_NAME: '/docs', PATH_INFO: '/missing' });
    } finally {
      await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
