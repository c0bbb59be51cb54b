// The reports: the chart is well-formed SVG with one bar per measured server in each
// scenario; the table and Markdown carry the figures and ratios.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { summarize, generatorCeilings } = require('../bench/stats.js');
const svg = require('../bench/report/svg.js');
const table = require('../bench/report/table.js');
const markdown = require('../bench/report/markdown.js');
const { updateMarkedSection } = require('../bench/run.js');

/**
 * A strict XML well-formedness check (elements, attributes, entities, comments, one
 * root). Returns the element names in document order; throws on the first error.
 */
function wellFormed(text: string): Array<{ name: string; attrs: Record<string, string> }> {
  const elements: Array<{ name: string; attrs: Record<string, string> }> = [];
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  const checkText = (t: string) => {
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(t)) throw new Error(`bad entity in ${JSON.stringify(t.slice(0, 40))}`);
    if (t.includes('<')) throw new Error('stray <');
  };
  if (text.startsWith('<?xml')) i = text.indexOf('?>') + 2;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    checkText(chunk);
    if (!stack.length && chunk.trim()) throw new Error('text outside the root element');
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
      continue;
    }
    const gt = text.indexOf('>', lt);
    if (gt < 0) throw new Error('unterminated tag');
    const tag = text.slice(lt + 1, gt);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      if (stack.pop() !== name) throw new Error(`mismatched </${name}>`);
    } else {
      const selfClosing = tag.endsWith('/');
      const body = selfClosing ? tag.slice(0, -1) : tag;
      const m = /^([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*"[^"<]*")*)\s*$/.exec(body);
      if (!m) throw new Error(`malformed tag <${tag.slice(0, 60)}>`);
      const attrs: Record<string, string> = {};
      for (const a of m[2].matchAll(/([A-Za-z_][\w.:-]*)\s*=\s*"([^"]*)"/g)) {
        if (a[1] in attrs) throw new Error(`duplicate attribute ${a[1]}`);
        checkText(a[2]);
        attrs[a[1]] = a[2];
      }
      if (!stack.length && ++roots > 1) throw new Error('more than one root element');
      elements.push({ name: m[1], attrs });
      if (!selfClosing) stack.push(m[1]);
    }
    i = gt + 1;
  }
  if (stack.length) throw new Error(`unclosed <${stack.pop()}>`);
  if (!roots) throw new Error('no root element');
  return elements;
}

function sampleDoc() {
  const servers = [
    ['tsgi', 'tsgi & co <fast>'],
    ['node', 'node:http'],
    ['uws', 'uWebSockets.js'],
    ['fastify', 'fastify'],
  ];
  const measurements = [];
  for (let round = 1; round <= 3; round++) {
    servers.forEach(([id, label], k) => {
      measurements.push({ round, scenario: 'hello', server: id, label, rps: 1000 * (k + 1) + round, p50Ms: 1, p99Ms: 5, generatorCpu: 50 });
      measurements.push({ round, scenario: 'json', server: id, label, rps: 500 * (k + 1), p50Ms: 2, p99Ms: 9, generatorCpu: 50 });
      measurements.push({ round, scenario: 'idle', server: id, label, bytesPerConnection: 1024 * (k + 1), connections: 10000, wanted: 10000 });
    });
  }
  const rows = summarize(measurements);
  return {
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:10:00.000Z',
    command: 'npm run bench',
    machine: { cpuModel: 'Test CPU', cpus: 2, memoryGiB: 4, os: 'Linux', node: 'v20.0.0' },
    generator: { name: 'wrk', version: 'wrk 4.1.0', note: 'wrk found on PATH' },
    pinning: { pinned: true, why: 'server on CPU 0, generator on CPU 1' },
    options: { connections: 100, duration: 10, rounds: 3 },
    baselines: ['node', 'uws'],
    scenarios: ['hello', 'json', 'idle'],
    servers: [
      ...servers.map(([id, label]) => ({ id, label, status: 'measured' })),
      { id: 'express', label: 'express', status: 'failed-validation', failures: { json: ['status 500, expected 200'] } },
    ],
    measurements,
    rows,
    ceilings: generatorCeilings(rows),
    notes: [],
  };
}

describe('SVG chart', () => {
  const doc = sampleDoc();
  const text = svg.render(doc);
  const elements = wellFormed(text);

  it('is well-formed SVG with the SVG namespace and a size', () => {
    expect(elements[0].name).toBe('svg');
    expect(elements[0].attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(Number(elements[0].attrs.width)).toBeGreaterThan(0);
    expect(Number(elements[0].attrs.height)).toBeGreaterThan(0);
    expect(text).toContain('tsgi &amp; co &lt;fast&gt;'); // labels are escaped
  });

  it('has one panel per scenario and one bar per measured server in each', () => {
    const panels = elements.filter((e) => e.name === 'g' && e.attrs.class === 'panel').map((e) => e.attrs['data-scenario']);
    expect(panels).toEqual(['hello', 'json', 'idle']);
    const bars = elements.filter((e) => e.name === 'rect' && e.attrs.class === 'bar');
    expect(bars).toHaveLength(3 * 4);
    for (let p = 0; p < 3; p++) {
      const ids = bars.slice(p * 4, p * 4 + 4).map((b) => b.attrs['data-server']);
      expect([...ids].sort()).toEqual(['fastify', 'node', 'tsgi', 'uws']);
    }
  });

  it('scales bars to the best server of each scenario, best first', () => {
    const bars = elements.filter((e) => e.name === 'rect' && e.attrs.class === 'bar');
    const hello = bars.slice(0, 4);
    expect(hello[0].attrs['data-server']).toBe('fastify'); // highest req/s
    expect(Number(hello[0].attrs.width)).toBe(520);
    expect(Number(hello[3].attrs.width)).toBeLessThan(Number(hello[0].attrs.width) / 3);
    const idle = bars.slice(8, 12);
    expect(idle[0].attrs['data-server']).toBe('tsgi'); // lowest RSS per connection first
  });

  it('rejects malformed markup (the checker itself can fail)', () => {
    expect(() => wellFormed('<svg><g></svg>')).toThrow(/mismatched/);
    expect(() => wellFormed('<svg a="1" a="2"/>')).toThrow(/duplicate/);
    expect(() => wellFormed('<svg>a & b</svg>')).toThrow(/entity/);
  });
});

describe('table and Markdown', () => {
  const doc = sampleDoc();

  it('prints req/s, latency and ratios computed within rounds', () => {
    const t = table.render(doc);
    expect(t).toMatch(/vs node:http/);
    expect(t).toMatch(/vs uWS/);
    const tsgiHello = t.split('\n').find((l) => l.includes('tsgi & co') && l.includes('1,002'));
    expect(tsgiHello).toBeDefined();
    expect(tsgiHello).toMatch(/0\.50×/); // 1002 / 2002 per round
    expect(t).toMatch(/1\.0 KB/); // idle: RSS per connection
  });

  it('renders a Markdown table with the chart, the machine and the failed server', () => {
    const md = markdown.render(doc, { chart: 'latest.svg' });
    expect(md).toMatch(/^- Machine: Test CPU, 2 CPUs/m);
    expect(md).toMatch(/\| Scenario \| Server \|/);
    expect(md).toContain('![tsgi benchmark chart](latest.svg)');
    expect(md).toMatch(/express: failed validation — json: status 500, expected 200/);
    const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Scenario') && !l.startsWith('| ---'));
    expect(rows).toHaveLength(12);
  });
});

describe('docs update', () => {
  it('replaces only the marked section, and leaves files without markers alone', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-docs-'));
    try {
      const file = path.join(dir, 'README.md');
      fs.writeFileSync(file, '# Title\n\n<!-- bench:start -->\nold table\n<!-- bench:end -->\n\nAfter.\n');
      expect(updateMarkedSection(file, sampleDoc(), 'bench/results/latest.svg')).toBe(true);
      const text = fs.readFileSync(file, 'utf8');
      expect(text).not.toContain('old table');
      expect(text.startsWith('# Title\n\n<!-- bench:start -->\n- Machine: Test CPU')).toBe(true);
      expect(text).toContain('![tsgi benchmark chart](bench/results/latest.svg)');
      expect(text.endsWith('<!-- bench:end -->\n\nAfter.\n')).toBe(true);
      const plain = path.join(dir, 'plain.md');
      fs.writeFileSync(plain, 'no markers\n');
      expect(updateMarkedSection(plain, sampleDoc(), 'x.svg')).toBe(false);
      expect(fs.readFileSync(plain, 'utf8')).toBe('no markers\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
