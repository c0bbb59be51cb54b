// `npm run bench -- --app MODULE[:EXPORT]` and `tsgi bench MODULE[:EXPORT]`: the user's own
// application (a node:http handler, an Express app, a fetch handler, a tsgi app), loaded
// as the CLI loads it, served by tsgi and by node:http, measured, with the ratio printed;
// --compare marks a regression against an earlier results file.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { launch } = require('../bench/launch.js');
const { getScenario } = require('../bench/scenarios.js');
const { validateServer, differences } = require('../bench/validate.js');

const ROOT = path.join(__dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-app-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const APPS: Record<string, string> = {
  'node.js': `exports.app = (req, res) => { res.setHeader('Content-Type', 'text/plain'); res.end('node ' + req.method + ' ' + req.url); };`,
  'express.js': `const express = require(${JSON.stringify(require.resolve('express'))});
    const app = express(); app.get('/api', (req, res) => res.json({ from: 'express', path: req.path })); exports.app = app;`,
  'fetch.mjs': `export default { fetch: (request) => new Response('fetch ' + new URL(request.url).pathname, { headers: { 'content-type': 'text/plain' } }) };`,
  'wsgi.js': `exports.app = (environ, startResponse) => { startResponse('200 OK', [['Content-Type', 'text/plain']]); return ['tsgi ' + environ.PATH_INFO]; };`,
  'broken.js': `exports.app = (req, res) => { res.statusCode = 500; res.end('no'); };`,
};
for (const [name, text] of Object.entries(APPS)) fs.writeFileSync(path.join(dir, name), text);

function run(cmd: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, cmd, { cwd: dir, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const SHORT = ['--duration', '1', '--warmup', '0', '--rounds', '1', '--connections', '8'];

describe('--app: the user\'s application on tsgi and on node:http', () => {
  const cases: Array<[string, string, string, string]> = [
    ['node.js:app', '/x', 'node:http handler', 'node GET /x'],
    ['express.js:app', '/api', 'Express app', '{"from":"express","path":"/api"}'],
    ['fetch.mjs', '/y', 'object with a fetch method', 'fetch /y'],
    ['wsgi.js:app', '/z', 'tsgi app', 'tsgi /z'],
  ];
  for (const [spec, urlPath, kind, body] of cases) {
    it(`serves ${spec} (${kind}) the same on both servers`, async () => {
      const app = { spec, cwd: dir, interface: 'auto' };
      const scenarios = ['app-get', 'app-close', 'app-pipelined'].map((n) => getScenario(n, { path: urlPath }));
      const answers: Record<string, Record<string, { body: Buffer; status: number }>> = {};
      for (const id of ['app-tsgi', 'app-node']) {
        const h = await launch(id, { app });
        try {
          const v = await validateServer(scenarios, h);
          expect(v.failures).toEqual({});
          answers[id] = v.answers;
          expect(h.stderr()).toContain(`is a ${kind}`);
        } finally {
          await h.stop();
        }
      }
      for (const s of scenarios) {
        expect(answers['app-tsgi'][s.name].status).toBe(200);
        expect(answers['app-tsgi'][s.name].body.toString()).toBe(body);
        expect(differences(answers['app-tsgi'][s.name], answers['app-node'][s.name])).toBeNull();
      }
    });
  }

  it('refuses an application that answers with a server error, saying what to do', async () => {
    const r = await run([path.join(ROOT, 'bench', 'run.js'), '--app', 'broken.js:app', ...SHORT, '--out', path.join(dir, 'out-broken')]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/status 500 for GET \/ \(choose another --path\?\)/);
  });

  it('tsgi bench measures it, prints the ratio, and --compare marks a regression in red', async () => {
    const out = path.join(dir, 'out');
    const r = await run([path.join(ROOT, 'bin', 'tsgi.js'), 'bench', 'node.js:app', '--path', '/hello', ...SHORT, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/node\.js:app on tsgi against node:http \(GET \/hello\):/);
    expect(r.stdout).toMatch(/app-get: \d+\.\d\d× the requests per second \([\d,]+ vs [\d,]+\), CPU per request \d+\.\d\d×/);
    expect(r.stdout).toMatch(/app-close: \d+\.\d\d× the requests per second/);
    const doc = JSON.parse(fs.readFileSync(path.join(out, 'latest.json'), 'utf8'));
    expect(doc.command).toBe('tsgi bench node.js:app --path /hello --duration 1 --warmup 0 --rounds 1 --connections 8 --out ' + out);
    expect(doc.options).toMatchObject({ app: 'node.js:app', path: '/hello' });
    const tsgi = doc.rows.find((x: { scenario: string; server: string }) => x.scenario === 'app-get' && x.server === 'app-tsgi');
    const node = doc.rows.find((x: { scenario: string; server: string }) => x.scenario === 'app-get' && x.server === 'app-node');
    expect(tsgi.value).toBeGreaterThan(0);
    expect(tsgi.errors + node.errors).toBe(0);
    expect(tsgi.ratios['app-node']).toBeCloseTo(tsgi.value / node.value, 6);
    expect(tsgi.cpuPerRequestUs).toBeGreaterThan(0);
    expect(tsgi.cpuRatios['app-node']).toBeCloseTo(tsgi.cpuPerRequestUs / node.cpuPerRequestUs, 6);

    // An earlier run in which tsgi served a thousand times as many requests (short runs on a busy machine vary by several times): now a regression.
    const old = { ...doc, rows: doc.rows.map((x: { server: string; value: number }) => (x.server === 'app-tsgi' ? { ...x, value: x.value * 1000 } : x)) };
    const oldFile = path.join(dir, 'old.json');
    fs.writeFileSync(oldFile, JSON.stringify(old));
    const again = await run([path.join(ROOT, 'bin', 'tsgi.js'), 'bench', 'node.js:app', '--path', '/hello', ...SHORT, '--out', out, '--compare', oldFile], { FORCE_COLOR: '1' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Compared with old\.json \(regression: worse by more than 5%\):/);
    // (CPU per request may be marked too: short runs on a busy machine vary.)
    expect(again.stdout).toMatch(/\x1b\[31mapp-get\s+tsgi .*-\d+\.\d%.*REGRESSION \(req\/s(, CPU\/req)?\)\x1b\[39m/);
    expect(again.stdout).toMatch(/\d regressions?/);
  });

  it('tsgi bench explains itself', async () => {
    const none = await run([path.join(ROOT, 'bin', 'tsgi.js'), 'bench']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no application given: tsgi bench MODULE\[:EXPORT\]/);
    const help = await run([path.join(ROOT, 'bin', 'tsgi.js'), 'bench', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: tsgi bench MODULE\[:EXPORT\] \[options\]/);
    expect(help.stdout).toMatch(/--compare FILE/);
    const bad = await run([path.join(ROOT, 'bin', 'tsgi.js'), 'bench', 'node.js:app', '--scenarios', 'hello']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/scenario 'hello' does not apply with --app/);
  });

  it('ships what tsgi bench needs in the package, without the results', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], {
      cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    const files: string[] = JSON.parse(out.slice(out.search(/^\[/m)))[0].files.map((f: { path: string }) => f.path);
    for (const f of ['bench/run.js', 'bench/options.js', 'bench/launch.js', 'bench/servers/user-app.js', 'bench/servers/common.js', 'bench/report/compare.js', 'bench/generators/wrk.js', 'dist/cli/bench-command.js']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('bench/results/'))).toEqual([]);
  });
});
