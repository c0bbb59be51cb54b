// Command-line options, the CPU split, the idle-connection plan and the wrk scripts.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const options = require('../bench/options.js');
const { cpuPlan, expandCpuList } = require('../bench/system.js');
const idle = require('../bench/idle.js');
const wrk = require('../bench/generators/wrk.js');
const { getScenario } = require('../bench/scenarios.js');

describe('options', () => {
  it('has defaults: all scenarios, 3 rounds, single-process servers only', () => {
    const o = options.parse([]);
    expect(o.rounds).toBe(3);
    expect(o.scenarios).toEqual(['hello', 'json', 'headers', 'echo', 'stream', 'file', 'pipelined', 'idle', 'py-hello', 'flask-json', 'flask-echo', 'django']);
    expect(o.servers).toEqual(['tsgi', 'node', 'uws', 'fastify', 'express', 'hono', 'hono-tsgi', 'tsgi-python', 'uwsgi', 'gunicorn-sync', 'gunicorn-gthread', 'waitress', 'cheroot']);
    expect(o.threads).toBe(1);
    expect(o.app).toBeNull();
  });

  it('runs the frameworks-on-tsgi peers only when --servers names them', () => {
    expect(options.parse([]).servers).not.toContain('express-tsgi');
    expect(options.parse(['--servers', 'express,express-tsgi,fastify-tsgi']).servers).toEqual(['express', 'express-tsgi', 'fastify-tsgi']);
  });

  it('adds the multi-process peers with --workers > 1', () => {
    const o = options.parse(['--workers', '4']);
    expect(o.servers).toContain('tsgi-workers');
    expect(o.servers).toContain('node-cluster');
  });

  it('parses lists, numbers and --flag=value', () => {
    const o = options.parse(['--servers=uws,node', '--scenarios', 'json,hello', '--duration', '2', '--connections=64', '--generator', 'autocannon']);
    expect(o.servers).toEqual(['uws', 'node']);
    expect(o.scenarios).toEqual(['hello', 'json']); // canonical order
    expect(o.duration).toBe(2);
    expect(o.connections).toBe(64);
    expect(o.generator).toBe('autocannon');
  });

  it('takes --threads, --compare and --threshold', () => {
    const o = options.parse(['--threads', '4', '--compare', 'old.json', '--threshold=2.5']);
    expect(o.threads).toBe(4);
    expect(o.compare).toBe(path.resolve('old.json'));
    expect(o.threshold).toBe(2.5);
    expect(() => options.parse(['--threads', '0'])).toThrow(/--threads must be between 1 and 256/);
    expect(() => options.parse(['--threshold', '0'])).toThrow(/--threshold/);
  });

  it('--app runs the application on tsgi and node:http with the app-* scenarios, GET --path', () => {
    const o = options.parse(['--app', './server.js:app', '--path', '/api']);
    expect(o.servers).toEqual(['app-tsgi', 'app-node']);
    expect(o.scenarios).toEqual(['app-get', 'app-close']);
    expect(o.app).toEqual({ spec: './server.js:app', cwd: process.cwd(), interface: 'auto' });
    expect(o.path).toBe('/api');
    expect(o.out).toBe(path.join(os.tmpdir(), 'tsgi-bench-app')); // never the committed bench/results
    expect(options.parse(['--app', 'a.js', '--scenarios', 'app-pipelined']).scenarios).toEqual(['app-pipelined']);
    expect(getScenario('app-get', { path: '/api' }).path).toBe('/api');
    expect(getScenario('hello', { path: '/api' }).path).toBe('/hello'); // fixed scenarios keep theirs
    expect(() => options.parse(['--app', 'a.js', '--scenarios', 'hello'])).toThrow(/scenario 'hello' does not apply with --app/);
    expect(() => options.parse(['--app', 'a.js', '--servers', 'node'])).toThrow(/--servers does not apply with --app/);
    expect(() => options.parse(['--app', 'a.js', '--path', 'api'])).toThrow(/--path must start with \//);
    expect(() => options.parse(['--app', 'a.js', '--update-docs'])).toThrow(/--update-docs does not apply/);
    expect(() => options.parse(['--scenarios', 'app-get'])).toThrow(/unknown scenario 'app-get'/);
    expect(() => options.parse(['--servers', 'app-tsgi'])).toThrow(/unknown server 'app-tsgi'/);
  });

  it('rejects what it does not know, with a readable message', () => {
    expect(() => options.parse(['--servers', 'nginx'])).toThrow(/unknown server 'nginx'/);
    expect(() => options.parse(['--scenarios', 'upload'])).toThrow(/unknown scenario 'upload'/);
    expect(() => options.parse(['--duration', '0'])).toThrow(/--duration/);
    expect(() => options.parse(['--rounds', '1.5'])).toThrow(/integer/);
    expect(() => options.parse(['--generator', 'ab'])).toThrow(/--generator/);
    expect(() => options.parse(['--bogus'])).toThrow(/unknown option --bogus/);
    expect(() => options.parse(['--duration'])).toThrow(/needs a value/);
  });
});

describe('CPU split', () => {
  it('pins the server to one core and the generator to the other on 2 cores', () => {
    const p = cpuPlan({ cpus: [0, 1], hasTaskset: true });
    expect(p).toMatchObject({ pinned: true, server: [0], generator: [1] });
  });

  it('gives the generator a quarter of larger machines', () => {
    const p = cpuPlan({ cpus: [0, 1, 2, 3, 4, 5, 6, 7], hasTaskset: true });
    expect(p.server).toEqual([0, 1, 2, 3, 4, 5]);
    expect(p.generator).toEqual([6, 7]);
  });

  it('does not pin on one core, without taskset, or when asked not to', () => {
    expect(cpuPlan({ cpus: [0], hasTaskset: true }).pinned).toBe(false);
    expect(cpuPlan({ cpus: [0, 1], hasTaskset: false }).pinned).toBe(false);
    expect(cpuPlan({ cpus: [0, 1], hasTaskset: true, pin: 'none' }).pinned).toBe(false);
  });

  it('reads cpuset lists', () => {
    expect(expandCpuList('0-2,5,7-8')).toEqual([0, 1, 2, 5, 7, 8]);
  });
});

describe('idle plan', () => {
  it('opens all connections when the open-files limit allows', () => {
    expect(idle.plan(10000, 20000)).toEqual({ count: 10000, note: null });
  });

  it('degrades with a clear message under a low ulimit -n', () => {
    const p = idle.plan(10000, 1024);
    expect(p.count).toBe(768);
    expect(p.note).toMatch(/ulimit -n is 1024: idle measured with 768 connections instead of 10000/);
  });
});

describe('wrk scripts', () => {
  it('sends 16 requests per write for the pipelined scenario', () => {
    const lua = wrk.luaScript(getScenario('pipelined'));
    expect(lua).toMatch(/for i = 1, 16 do r\[i\] = wrk.format\(nil, "\/hello"\) end/);
    expect(lua).toMatch(/request = function\(\) return pipelined end/);
    expect(lua).toMatch(/done = function\(summary, latency, requests\)/);
  });

  it('posts the echo body and sets the 19 extra headers', () => {
    const echo = wrk.luaScript(getScenario('echo'));
    expect(echo).toContain('wrk.method = "POST"');
    expect(echo).toMatch(/wrk\.body = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef/);
    const headers = wrk.luaScript(getScenario('headers'));
    expect(headers.match(/^wrk\.headers\[/gm)).toHaveLength(19);
    expect(headers).toContain('wrk.headers["X-Request-Id"] = "7f3c9a2e-1b4d-4e8f-9a6b-2c5d8e1f0a3b"');
  });

  it('escapes Lua strings', () => {
    expect(wrk.luaString('a"b\\c\n')).toBe('"a\\"b\\\\c\\10"');
  });

  it('parses the done hook output', () => {
    const r = wrk.parseOutput(
      'Running 1s test\n@@TSGI-BENCH {"requests":5000,"duration_us":2000000,"bytes":1,"connect":0,"read":1,"write":0,"status":3,"timeout":2,"p50_us":1500,"p99_us":9000,"mean_us":1.0,"max_us":1}\n',
    );
    expect(r).toEqual({ requests: 5000, seconds: 2, rps: 2500, p50Ms: 1.5, p99Ms: 9, errors: 3, non2xx: 3 });
    expect(() => wrk.parseOutput('unable to connect\n')).toThrow(/wrk printed no result/);
  });
});
