// Where the server listens: a --bind on the command line replaces the binds of the config
// file, the environment and the default; under `npm start -- --bind X` the user's binds
// replace the ones the npm script passes; PORT is honoured when no bind is given anywhere.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli/args';
import { appendedArgsStart, shellWords } from '../src/cli/script-args';
import { resolveSettings } from '../src/settings/sources';
import { BIN, ROOT, get, killAll, startServer, removeTmpdirs, tmpdir } from './manager-harness';

afterEach(killAll);
afterAll(removeTmpdirs);

function cwdWithConfig(config: object) {
  const dir = tmpdir();
  fs.writeFileSync(path.join(dir, 'tsgi.config.json'), JSON.stringify(config));
  return dir;
}

describe('binds from each source', () => {
  it('the command line replaces the binds of the config file and the environment', async () => {
    const cwd = cwdWithConfig({ bind: ['127.0.0.1:1', '127.0.0.1:2'] });
    let r = await resolveSettings({ cli: new Map(), env: {}, cwd });
    expect(r.values.bind).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
    r = await resolveSettings({ cli: new Map(), env: { TSGI_BIND: '127.0.0.1:3' }, cwd });
    expect(r.values.bind).toEqual(['127.0.0.1:3']);
    r = await resolveSettings({ cli: new Map([['bind', ['127.0.0.1:4']]]), env: { TSGI_BIND: '127.0.0.1:3' }, cwd });
    expect(r.values.bind).toEqual(['127.0.0.1:4']);
  });

  it('PORT means 0.0.0.0:$PORT when no bind is given anywhere', async () => {
    const cwd = cwdWithConfig({});
    const r = await resolveSettings({ cli: new Map(), env: { PORT: '3000' }, cwd });
    expect(r.values.bind).toEqual(['0.0.0.0:3000']);
    expect(r.sources.bind).toBe('env');
  });

  it('PORT gives way to any bind given', async () => {
    let r = await resolveSettings({ cli: new Map(), env: { PORT: '3000' }, cwd: cwdWithConfig({ bind: '127.0.0.1:1' }) });
    expect(r.values.bind).toEqual(['127.0.0.1:1']);
    r = await resolveSettings({ cli: new Map(), env: { PORT: '3000', TSGI_BIND: 'unix:/tmp/x.sock' }, cwd: cwdWithConfig({}) });
    expect(r.values.bind).toEqual(['unix:/tmp/x.sock']);
    r = await resolveSettings({ cli: new Map([['bind', ['127.0.0.1:5']]]), env: { PORT: '3000' }, cwd: cwdWithConfig({}) });
    expect(r.values.bind).toEqual(['127.0.0.1:5']);
  });

  it('a PORT that is not a port is an error that says what to do', async () => {
    await expect(resolveSettings({ cli: new Map(), env: { PORT: 'http' }, cwd: cwdWithConfig({}) }))
      .rejects.toThrow(/environment PORT: expected a port number \(0-65535\), got "http"; unset it or give --bind/);
  });

  it('a server started with PORT listens on every address on that port', async () => {
    const { t, port } = await startServer(['pid.js'], { env: { PORT: '0' } });
    expect(t.err()).toMatch(/msg=listening pid=\d+ role=master address=0\.0\.0\.0:\d+ bind=0\.0\.0\.0:0/);
    expect((await get({ port })).status).toBe(200);
  });
});

describe('arguments appended to an npm script', () => {
  const script = 'node bin/tsgi.js examples/hello.js:app --bind 127.0.0.1:8000';

  it('are found after the words of the script', () => {
    expect(shellWords(`node "my dir/tsgi.js" 'a b' c\\ d e"f"`)).toEqual(['node', 'my dir/tsgi.js', 'a b', 'c d', 'ef']);
    const argv = ['examples/hello.js:app', '--bind', '127.0.0.1:8000', '--bind', '127.0.0.1:9000'];
    expect(appendedArgsStart(argv, { npm_lifecycle_script: script })).toBe(3);
    expect(appendedArgsStart(argv, {})).toBe(0);
    expect(appendedArgsStart(argv.slice(0, 3), { npm_lifecycle_script: script })).toBe(0);
  });

  it('a --bind among them replaces the script\'s binds; repeated, all of them apply', () => {
    const argv = ['app.js', '--bind', '127.0.0.1:8000', '--bind', '127.0.0.1:9000', '--bind', 'unix:/tmp/a.sock'];
    expect(parseArgs(argv, 3).settings.get('bind')).toEqual(['127.0.0.1:9000', 'unix:/tmp/a.sock']);
    // Typed by the user in one command line, every --bind applies.
    expect(parseArgs(argv).settings.get('bind')).toEqual(['127.0.0.1:8000', '127.0.0.1:9000', 'unix:/tmp/a.sock']);
  });

  function npmStart(cwd: string, args: string[]) {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('TSGI_') || k.startsWith('npm_') || k === 'PORT' || k === 'NODE_OPTIONS') delete env[k];
    return spawnSync('npm', ['start', '--silent', '--', ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 });
  }

  it('npm start -- --bind X listens on X only, in a project whose start script passes --bind', () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
      name: 'app', private: true,
      scripts: { start: `node ${JSON.stringify(BIN)} app.js --bind 127.0.0.1:8000 --print-config` },
    }));
    let r = npmStart(dir, ['--bind', '127.0.0.1:9000']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^bind +\s= \["127\.0\.0\.1:9000"\] +\(cli\)$/m);
    r = npmStart(dir, ['--bind', '127.0.0.1:9000', '--bind', '127.0.0.1:9001']);
    expect(r.stdout).toMatch(/^bind +\s= \["127\.0\.0\.1:9000","127\.0\.0\.1:9001"\] +\(cli\)$/m);
    r = npmStart(dir, ['--workers', '2']);
    expect(r.stdout).toMatch(/^bind +\s= \["127\.0\.0\.1:8000"\] +\(cli\)$/m);
  });

  it("tsgi's own npm start: -- --bind X listens on X only", () => {
    const r = npmStart(ROOT, ['--bind', '127.0.0.1:9000', '--print-config']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^bind +\s= \["127\.0\.0\.1:9000"\] +\(cli\)$/m);
  });
});
