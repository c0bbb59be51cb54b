// CPU per request in the summary and the reports (beside req/s, with its ratios to the
// baselines, taken within rounds), and --compare: the change of every server and
// scenario against an earlier results file, regressions marked (red on a colour terminal).
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { summarize } = require('../bench/stats.js');
const table = require('../bench/report/table.js');
const markdown = require('../bench/report/markdown.js');
const compare = require('../bench/report/compare.js');

const m = (round: number, scenario: string, server: string, rps: number, cpuPerRequestUs: number) => ({
  round, scenario, server, label: server, rps, cpuPerRequestUs, p50Ms: 1, p99Ms: 2, errors: 0, non2xx: 0, generatorCpu: 50,
});

// Round 2 ran on a machine twice as slow for everyone; the CPU ratios must not move.
const measurements = [
  m(1, 'hello', 'tsgi', 1000, 20), m(1, 'hello', 'uws', 1200, 16), m(1, 'hello', 'node', 500, 40),
  m(2, 'hello', 'tsgi', 500, 40), m(2, 'hello', 'uws', 600, 32), m(2, 'hello', 'node', 250, 80),
  m(3, 'hello', 'tsgi', 1000, 21), m(3, 'hello', 'uws', 1200, 16), m(3, 'hello', 'node', 500, 40),
  m(1, 'py-hello', 'uwsgi', 800, 100), m(1, 'py-hello', 'gunicorn-sync', 400, 150),
];

function doc(rows = summarize(measurements, { baselines: ['node', 'uws', 'uwsgi'] })) {
  return {
    startedAt: '2026-01-01T00:00:00.000Z',
    command: 'npm run bench',
    machine: { cpuModel: 'Test CPU', cpus: 2, memoryGiB: 4, os: 'Linux', node: 'v20' },
    generator: { version: 'wrk 4', note: 'test', threads: 1 },
    pinning: { pinned: true, why: 'test' },
    options: { connections: 100, duration: 10, rounds: 3, workers: 1, threads: 1 },
    baselines: ['node', 'uws', 'uwsgi'],
    scenarios: ['hello', 'py-hello'],
    servers: [],
    rows,
    ceilings: [],
    notes: [],
  };
}

const row = (rows: Array<Record<string, unknown>>, scenario: string, server: string) => rows.find((r) => r.scenario === scenario && r.server === server)!;

describe('CPU per request in the summary', () => {
  const rows = summarize(measurements, { baselines: ['node', 'uws', 'uwsgi'] });

  it('takes the median over rounds and ratios to each baseline within rounds', () => {
    const t = row(rows, 'hello', 'tsgi') as { cpuPerRequestUs: number; cpuRatios: Record<string, number | null> };
    expect(t.cpuPerRequestUs).toBe(21); // median of 20, 40, 21
    expect(t.cpuRatios.uws).toBe(1.25); // per round 1.25, 1.25, 1.3125
    expect(t.cpuRatios.node).toBe(0.5); // per round 0.5, 0.5, 0.525
    expect(t.cpuRatios.uwsgi).toBeNull(); // no uWSGI in this scenario
    const g = row(rows, 'py-hello', 'gunicorn-sync') as { cpuRatios: Record<string, number | null>; ratios: Record<string, number | null> };
    expect(g.cpuRatios.uwsgi).toBe(1.5);
    expect(g.ratios.uwsgi).toBe(0.5);
    expect(g.cpuRatios.uws).toBeNull();
  });

  it('shows CPU/req and its ratios beside req/s in the table and the Markdown', () => {
    const t = table.render(doc());
    const head = t.split('\n')[0];
    expect(head).toMatch(/req\/s · RSS\/conn .*vs uWS .*vs uWSGI .*CPU\/req .*CPU vs node:http .*CPU vs uWS .*CPU vs uWSGI/);
    const tsgi = t.split('\n').find((l) => /^\s*tsgi\s/.test(l) || /hello\s+tsgi/.test(l))!;
    expect(tsgi).toMatch(/1,000 .*21\.0 µs .*0\.50× .*1\.25×/);
    const md = markdown.render(doc());
    expect(md).toMatch(/\| Scenario \| Server \| req\/s · RSS\/conn \| p50 \| p99 \| × node:http \| × uWS \| × uWSGI \| CPU\/req \| CPU × node:http \| CPU × uWS \| CPU × uWSGI \| Notes \|/);
    expect(md).toMatch(/\| Gunicorn sync|gunicorn-sync \| 400 \|.*\| 150 µs \| – \| – \| 1\.50× \|/);
    expect(md).toMatch(/^- CPU\/req: the server's CPU time/m);
  });

  it('labels each bar of the chart with the CPU time per request', () => {
    const chart = require('../bench/report/svg.js').render({ ...doc(), finishedAt: 'x' });
    expect(chart).toMatch(/1,000 +\(2\.00× node:http\) +· 21\.0 µs CPU\/req<\/text>/);
  });

  it('leaves the CPU columns out of results that have none (older files)', () => {
    const old = summarize(measurements.map(({ cpuPerRequestUs, ...rest }) => rest), { baselines: ['node', 'uws'] });
    expect(table.render(doc(old)).split('\n')[0]).not.toMatch(/CPU/);
    expect(markdown.render(doc(old))).not.toMatch(/CPU\/req|CPU ×/);
  });
});

describe('--compare', () => {
  const before = doc();
  const slower = summarize(
    measurements.map((x) => (x.server === 'tsgi' ? { ...x, rps: x.rps * 0.9 } : x.server === 'node' ? { ...x, cpuPerRequestUs: x.cpuPerRequestUs * 1.2 } : x.server === 'uws' ? { ...x, rps: x.rps * 0.97 } : x)),
    { baselines: ['node', 'uws', 'uwsgi'] },
  );
  const now = doc(slower);

  it('computes each change and marks the ones worse than the threshold', () => {
    const entries = compare.compare(before, now, { threshold: 5 });
    expect(entries).toHaveLength(5);
    const e = (server: string) => entries.find((x: { server: string }) => x.server === server)!; // one scenario each
    expect(e('tsgi').change).toBeCloseTo(-10, 9);
    expect(e('tsgi').regression).toBe(true);
    expect(e('tsgi').why).toEqual(['req/s']);
    expect(e('node').cpuChange).toBeCloseTo(20, 9);
    expect(e('node').why).toEqual(['CPU/req']); // same req/s, more CPU per request
    expect(e('uws').change).toBeCloseTo(-3, 9);
    expect(e('uws').regression).toBe(false); // within 5 %
    expect(compare.compare(before, now, { threshold: 2 }).find((x: { server: string }) => x.server === 'uws').regression).toBe(true);
    expect(e('uwsgi').change).toBe(0);
  });

  it('prints the regressions, in red only on a colour terminal', () => {
    const entries = compare.compare(before, now, { threshold: 5 });
    const plain = compare.render(entries, { threshold: 5, color: false, file: 'old.json' });
    expect(plain[0]).toBe('Compared with old.json (regression: worse by more than 5%):');
    const tsgi = plain.find((l: string) => /^hello\s+tsgi/.test(l))!;
    expect(tsgi).toMatch(/1,000\s+900\s+-10\.0%.*REGRESSION \(req\/s\)/);
    expect(plain.join('\n')).not.toContain('\x1b[');
    expect(plain[plain.length - 1]).toBe('2 regressions');
    const red = compare.render(entries, { threshold: 5, color: true });
    expect(red.filter((l: string) => l.startsWith('\x1b[31m'))).toHaveLength(2);
    expect(red.find((l: string) => /^\x1b\[31mhello\s+tsgi/.test(l))).toMatch(/REGRESSION.*\x1b\[39m$/);
    expect(compare.useColor({ isTTY: true }, {})).toBe(true);
    expect(compare.useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(compare.useColor({ isTTY: false }, {})).toBe(false);
    expect(compare.useColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
  });

  it('counts idle RSS growth as a regression, and says when nothing is in common', () => {
    const idle = (v: number) => ({ rows: [{ scenario: 'idle', server: 'tsgi', label: 'tsgi', metric: 'bytesPerConnection', higherIsBetter: false, value: v }] });
    expect(compare.compare(idle(1000), idle(1100))[0]).toMatchObject({ regression: true, why: ['RSS/conn'] });
    expect(compare.compare(idle(1000), idle(900))[0].regression).toBe(false);
    expect(compare.render([], {}).join('\n')).toMatch(/no server and scenario in common/);
  });

  it('reads only results files, with a message that names the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-compare-'));
    try {
      const bad = path.join(dir, 'bad.json');
      fs.writeFileSync(bad, '{"hello": 1}');
      expect(() => compare.load(bad)).toThrow(/bad\.json: not a results file/);
      expect(() => compare.load(path.join(dir, 'none.json'))).toThrow(/none\.json: no such file/);
      const good = path.join(dir, 'good.json');
      fs.writeFileSync(good, JSON.stringify(before));
      expect(compare.load(good).rows).toHaveLength(before.rows.length);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
