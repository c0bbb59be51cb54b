// The tsgi command's actions, run as real processes: --help, --version, --check,
// --print-config, and the errors a user sees for bad input.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { APPS, BIN, ROOT, killAll, run, removeTmpdirs, tmpdir, tsgi } from './manager-harness';
import { SETTINGS } from '../src/settings/registry';

afterEach(killAll);
afterAll(removeTmpdirs);

describe('tsgi --help and --version', () => {
  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`tsgi ${JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version}`);
  });

  it('--help is generated from the settings registry', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage:\n {2}tsgi MODULE\[:EXPORT\] \[options\]/);
    for (const s of SETTINGS) expect(r.stdout).toContain(s.cli);
  });

  it('an unknown option is a usage error (exit 2) that names it', async () => {
    const r = await run(['pid.js', '--wokrers', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option --wokrers/);
  });

  it('a bad value is a usage error that names the flag', async () => {
    const r = await run(['pid.js', '--workers', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--workers expects a whole number, got "many"/);
  });

  it('no application is a usage error', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no application given/);
  });

  it('bin/tsgi.js says how to build when dist/ is missing', async () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.copyFileSync(BIN, path.join(dir, 'bin', 'tsgi.js'));
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [path.join(dir, 'bin', 'tsgi.js'), '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/dist\/cli\.js is missing.*\n.*npm run build:ts/);
  });
});

describe('tsgi --check loads the application and exits', () => {
  it.each([
    ['pid.js'], ['pid.js:app'], ['pid'], ['esm.mjs'], ['esm.mjs:app'], ['common.cjs'], ['typed.ts'], ['typed.ts:createApp()'],
  ])('%s loads', async (spec) => {
    const r = await run([spec, '--check']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${spec}: the application loads`);
  });

  it('a module that throws on load fails with its error', async () => {
    const r = await run(['broken.js', '--check']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/broken on purpose: this module cannot be loaded/);
  });

  it('a missing export names what the module does export', async () => {
    const r = await run(['esm.mjs:nope', '--check']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no export "nope"; it exports: .*app/);
  });

  it('an export that is not a function is refused', async () => {
    const r = await run(['esm.mjs:notAnApp', '--check']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/notAnApp is a number, not an application function/);
  });

  it('a missing module is named', async () => {
    const r = await run(['nowhere.js:app', '--check']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/application module not found: .*nowhere\.js/);
  });
});

describe('tsgi --print-config', () => {
  it('shows the merged settings and where each came from: CLI over env over config file over default', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'tsgi.config.mjs'), 'export default { workers: 3, threads: 2, backlog: 100, timeout: "5s" };\n');
    const r = await run(['app.js', '--print-config', '--workers', '7', '--bind', '127.0.0.1:1', '--bind', 'unix:/tmp/s.sock'], {
      cwd: dir, env: { TSGI_WORKERS: '5', TSGI_THREADS: '4' },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const line = (name: string) => r.stdout.split('\n').find((l) => l.startsWith(name + ' '));
    expect(line('workers')).toMatch(/= 7 +\(cli\)/);
    expect(line('threads')).toMatch(/= 4 +\(env\)/);
    expect(line('backlog')).toMatch(/= 100 +\(config\)/);
    expect(line('timeout')).toMatch(/= "5s" +\(config\)/);
    expect(line('maxRequests')).toMatch(/= 0 +\(default\)/);
    expect(line('bind')).toMatch(/= \["127\.0\.0\.1:1","unix:\/tmp\/s\.sock"\] +\(cli\)/);
    expect(line('config')).toContain(path.join(dir, 'tsgi.config.mjs'));
  });

  it('--config names a JSON file', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'prod.json'), '{"workers": 9, "accessLog": "-"}');
    const r = await run(['--print-config', '--config', 'prod.json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^workers +\s= 9 +\(config\)$/m);
    expect(r.stdout).toMatch(/^accessLog +\s= "-" +\(config\)$/m);
  });

  it('a bad config file is reported with its name', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'tsgi.config.json'), '{"workers": "lots"}');
    const r = await run(['--print-config'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tsgi\.config\.json: --workers expects a whole number/);
  });
});

describe('startup failures stop the server with their error', () => {
  it('an application that cannot load stops the server (exit 4) with the error, without respawning', async () => {
    const t = tsgi(['broken.js', '--bind', '127.0.0.1:0', '--workers', '2']);
    const timer = setTimeout(() => t.child.kill('SIGKILL'), 20_000);
    const { code } = await t.exited;
    clearTimeout(timer);
    expect(code).toBe(4);
    expect(t.err()).toMatch(/the application cannot be loaded.*broken on purpose/s);
    expect(t.count(/msg="booting worker"/)).toBeLessThanOrEqual(2);
  });

  it('an address in use stops the server (exit 1) and says so', async () => {
    const net = await import('node:net');
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await run(['pid.js', '--bind', `127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot bind.*EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });
});

void APPS;
