// What a user is told when something is wrong: each message names what was wrong and what
// to do. Real `tsgi` processes, real sockets.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAll, run, startServer, removeTmpdirs, tmpdir, tsgi } from './manager-harness';
import { resolveSettings } from '../src/settings/sources';
import { closest } from '../src/settings/suggest';

afterEach(killAll);
afterAll(removeTmpdirs);

describe('the application named on the command line', () => {
  it('a module without an app export lists its exports and says what was expected', async () => {
    const r = await run(['factory.js', '--check']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/factory\.js has no export "app", and its default export is an object, not an application function \(environ, startResponse\) => body; it exports: createApp, handler, version\. Name the application's export: factory\.js:EXPORT; did you mean factory\.js:createApp\(\)\?/);
  });

  it('a factory named without () is refused with "did you mean createApp()?"', async () => {
    const r = await run(['factory.js:createApp', '--check']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/createApp looks like a factory \(it takes no arguments\), not an application \(environ, startResponse\); did you mean factory\.js:createApp\(\)\?/);
    const ok = await run(['factory.js:createApp()', '--check']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/factory\.js:createApp\(\): the application loads \(tsgi app, interface tsgi: .*\) and answers GET \/ with 200/);
  });

  it('--check serves GET / once: a factory whose name does not say so is caught there', async () => {
    const r = await run(['factory.js:handler', '--check']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the application loads \(tsgi app, .*\), but GET \/ failed: .*got function/);
    expect(r.stderr).toMatch(/returned a function \(app\) instead of a body: is the export a factory\? Did you mean factory\.js:handler\(\)\?/);
  });

  it('--check detects a Node.js (req, res) handler and serves it; forced to the tsgi interface, it is caught with a hint', async () => {
    const ok = await run(['node-handler.js', '--check']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/the application loads \(node:http handler, interface node: its parameters are \(req, res\)\) and answers GET \/ with 200/);
    const r = await run(['node-handler.js', '--interface', 'tsgi', '--check']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/GET \/ failed: TypeError: res\.writeHead is not a function/);
    expect(r.stderr).toMatch(/looks like a Node\.js \(req, res\) handler .*serve it with --interface node/);
  });

  it('an Express application is detected and served through fromNodeHandler', async () => {
    const r = await run(['express-app.js', '--check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/the application loads \(Express app, interface node: .*\) and answers GET \/ with 200/);
  });

  it("a syntax error at startup keeps its line breaks: the caret under the code, after the structured line", async () => {
    const r = await run(['syntax-error.js', '--bind', '127.0.0.1:0']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/level=critical msg="the application cannot be loaded" .*error=".*syntax-error\.js:4 SyntaxError: Unexpected token ';'"\n/);
    expect(r.stderr).toMatch(/syntax-error\.js:4\n {2}const x = ;\n {12}\^\n\nSyntaxError: Unexpected token ';'\n/);
  });
});

describe('the environment of the server', () => {
  it('an address in use says another process holds it and what to do', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await run(['pid.js', '--bind', `127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`cannot bind 127\\.0\\.0\\.1:${port}: EADDRINUSE: another process is already listening on this address; stop it, or choose another address with --bind`));
    } finally {
      blocker.close();
    }
  });

  it('a pidfile in a missing directory names the pidfile and the directory, not a temporary file', async () => {
    const file = path.join(tmpdir(), 'no', 'such', 'dir', 'tsgi.pid');
    const r = await run(['pid.js', '--bind', '127.0.0.1:0', '--pidfile', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot write the pidfile ${file}: the directory ${path.dirname(file)} does not exist; create it, or choose another --pidfile`);
    expect(r.stderr).not.toMatch(/\.tmp/);
  });
});

describe('misspelt settings', () => {
  it('an unknown config key gets "did you mean"', async () => {
    const d = tmpdir();
    fs.writeFileSync(path.join(d, 'tsgi.config.json'), '{"wokrers": 4}');
    await expect(resolveSettings({ cli: new Map(), env: {}, cwd: d })).rejects.toThrow(/unknown setting "wokrers" \(did you mean workers\?\)/);
    fs.writeFileSync(path.join(d, 'tsgi.config.json'), '{"gracefullTimeout": 4}');
    await expect(resolveSettings({ cli: new Map(), env: {}, cwd: d })).rejects.toThrow(/unknown setting "gracefullTimeout" \(did you mean gracefulTimeout\?\)/);
  });

  it('an unknown TSGI_* variable is reported, with "did you mean", and ignored', async () => {
    const r = await run(['pid.js', '--print-config'], { env: { TSGI_WOKRERS: '3', TSGI_ACCESSLOG: '-' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('tsgi: warning: environment TSGI_WOKRERS is not a setting and is ignored (did you mean TSGI_WORKERS?)');
    expect(r.stderr).toContain('tsgi: warning: environment TSGI_ACCESSLOG is not a setting and is ignored (did you mean TSGI_ACCESS_LOG?)');
    expect(r.stdout).toMatch(/^workers +\s= 1 +\(default\)$/m);
  });

  it('an unknown command-line option suggests the nearest by spelling', async () => {
    const r = await run(['pid.js', '--wrokers', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option --wrokers \(did you mean --workers\?\)/);
  });

  it('no suggestion when nothing is close', () => {
    expect(closest('TSGI_SOMETHING_ELSE_ENTIRELY', ['TSGI_WORKERS', 'TSGI_BIND'])).toBeUndefined();
  });
});

describe('the access log format', () => {
  it('an unknown atom is refused at startup with the known atoms', async () => {
    const r = await run(['pid.js', '--bind', '127.0.0.1:0', '--access-log', '-', '--access-log-format', '%(h)s %(x)s %(status)s']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/accessLogFormat \(--access-log-format\) has unknown atoms %\(x\)s, %\(status\)s; the atoms are %\(h\)s %\(l\)s .*%\(w\)s, %\(\{Header\}i\)s, %\(\{Header\}o\)s and %\(\{KEY\}e\)s, or the format 'json'/);
  });

  it('known atoms, headers and environ keys are accepted', async () => {
    const { t } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--access-log', '-', '--access-log-format', '%(h)s %({User-Agent}i)s %({REMOTE_ADDR}e)s %(D)s']);
    expect(t.err()).toMatch(/server ready/);
  });
});

void tsgi;
