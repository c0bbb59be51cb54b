// The packed tarball installs offline without running any script (so without a compiler)
// and serves: the prebuild for this platform is inside it and is what loads. It carries
// what builds the addon and nothing of the native tests (fuzzers, their corpus, unit
// tests): the addon builds from the installed sources alone and serves too.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-pack-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 240_000,
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
  });
}

describe('npm package', () => {
  it('packs with a prebuild, installs offline with --ignore-scripts, and serves', () => {
    const packOut = npm(['pack', '--json', '--pack-destination', tmp], root);
    // lifecycle scripts may print before the JSON
    const packed = JSON.parse(packOut.slice(packOut.search(/^\[/m)));
    const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
    const platform = `${process.platform}-${process.arch}`;
    expect(files.some((f) => f.startsWith(`prebuilds/${platform}/`) && f.endsWith('.node'))).toBe(true);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('binding.gyp');
    expect(files.some((f) => f.startsWith('build/'))).toBe(false);
    expect(files.filter((f) => f.startsWith('native/test/') || f.startsWith('native/unit/') || f.startsWith('test/'))).toEqual([]);
    for (const source of JSON.parse(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8')).targets[0].sources) expect(files).toContain(source);
    const tarball = path.join(tmp, packed[0].filename);

    const app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    npm(['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball], app);
    const installed = path.join(app, 'node_modules', 'tsgi');
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
    expect(fs.existsSync(path.join(installed, 'native', 'test'))).toBe(false);
    expect(fs.existsSync(path.join(installed, 'native', 'unit'))).toBe(false);

    fs.writeFileSync(path.join(app, 'run.js'), `
      const { serve } = require('tsgi');
      const loaded = require('node-gyp-build').resolve(require('path').dirname(require.resolve('tsgi/package.json')));
      const app = (environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return [Buffer.from('hello ' + environ.PATH_INFO)];
      };
      (async () => {
        const server = await serve(app, { host: '127.0.0.1', port: 0 });
        const { port } = server.address();
        const res = await fetch('http://127.0.0.1:' + port + '/from-the-package');
        const body = await res.text();
        await server.close();
        console.log(JSON.stringify({ status: res.status, body, loaded }));
        process.exit(0);
      })().catch((e) => { console.error(e); process.exit(1); });
    `);
    const out = execFileSync(process.execPath, ['run.js'], { cwd: app, encoding: 'utf8', timeout: 30_000 });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result.status).toBe(200);
    expect(result.body).toBe('hello /from-the-package');
    expect(result.loaded).toContain(`${path.sep}prebuilds${path.sep}${platform}${path.sep}`);

    // The same package from ESM: named imports resolve to the same implementation.
    fs.writeFileSync(path.join(app, 'run.mjs'), `
      import { serve, Request } from 'tsgi';
      import tsgi from 'tsgi';
      const app = (environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return ['esm ' + new Request(environ).path];
      };
      const server = await serve(app, { host: '127.0.0.1', port: 0 });
      const res = await fetch('http://127.0.0.1:' + server.address().port + '/x');
      const body = await res.text();
      await server.close();
      console.log(JSON.stringify({ status: res.status, body, same: tsgi.serve === serve }));
      process.exit(0);
    `);
    const esm = JSON.parse(execFileSync(process.execPath, ['run.mjs'], { cwd: app, encoding: 'utf8', timeout: 30_000 }).trim().split('\n').pop()!);
    expect(esm).toEqual({ status: 200, body: 'esm /x', same: true });

    // The types resolve for both module kinds under node16 resolution ("exports" conditions).
    const typed = `
      const app: App = (environ: Environ, startResponse: StartResponse) => {
        const method: string = environ.REQUEST_METHOD;
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return [method];
      };
      export const start = () => serve(app, { port: 0 });
    `;
    fs.writeFileSync(path.join(app, 'typed.mts'), `import { serve, type App, type Environ, type StartResponse } from 'tsgi';\n${typed}`);
    fs.writeFileSync(path.join(app, 'typed.cts'), `import { serve, type App, type Environ, type StartResponse } from 'tsgi';\n${typed}`);
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true,
        typeRoots: [path.join(root, 'node_modules', '@types')], types: ['node'] },
      files: ['typed.mts', 'typed.cts'],
    }));
    const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
    execFileSync(process.execPath, [tsc, '-p', path.join(app, 'tsconfig.json')], { cwd: app, encoding: 'utf8', timeout: 120_000 });

    // The addon builds from the installed package's own files (what `npm install` does where
    // no prebuild loads), with node-gyp as npm provides it, and that build is what serves.
    const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
    execFileSync(process.execPath, [path.join(installed, 'scripts', 'install-native.js'), '--force'], {
      cwd: installed, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000,
      env: { ...process.env, npm_config_node_gyp: nodeGyp },
    });
    const built = JSON.parse(execFileSync(process.execPath, ['run.js'], { cwd: app, encoding: 'utf8', timeout: 30_000 }).trim().split('\n').pop()!);
    expect(built.status).toBe(200);
    expect(built.body).toBe('hello /from-the-package');
    expect(built.loaded).toContain(`${path.sep}build${path.sep}Release${path.sep}`);
  }, 600_000);
});
