'use strict';
// The terminal table: one block per scenario, best first, ratios to the baselines.
const f = require('./format');

const BASELINE_NAMES = { node: 'node:http', uws: 'uWS', uwsgi: 'uWSGI', 'app-node': 'node:http' };

/** The baselines measured in this run, each with its short name. */
function baselinesOf(doc) {
  const present = new Set(doc.rows.map((r) => r.server));
  return (doc.baselines || ['node', 'uws']).filter((b) => present.has(b)).map((id) => ({ id, name: BASELINE_NAMES[id] || id }));
}

function columns(doc) {
  const baselines = baselinesOf(doc);
  const cpu = doc.rows.some((r) => r.cpuPerRequestUs != null);
  return [
    { head: 'scenario', get: (r, first) => (first ? r.scenario : '') },
    { head: 'server', get: (r) => r.label },
    { head: 'req/s · RSS/conn', get: (r) => f.value(r), right: true },
    { head: 'p50', get: (r) => (r.metric === 'rps' ? f.ms(r.p50Ms) : ''), right: true },
    { head: 'p99', get: (r) => (r.metric === 'rps' ? f.ms(r.p99Ms) : ''), right: true },
    ...baselines.map((b) => ({ head: `vs ${b.name}`, get: (r) => f.ratio(r.ratios[b.id]), right: true })),
    ...(cpu
      ? [
          { head: 'CPU/req', get: (r) => (r.metric === 'rps' ? f.us(r.cpuPerRequestUs) : ''), right: true },
          ...baselines.map((b) => ({ head: `CPU vs ${b.name}`, get: (r) => (r.cpuRatios ? f.ratio(r.cpuRatios[b.id]) : ''), right: true })),
        ]
      : []),
    { head: 'notes', get: (r) => f.notes(r) },
  ];
}

function render(doc) {
  const cols = columns(doc);
  const lines = [];
  for (const g of f.grouped(doc.rows, doc.scenarios)) {
    g.rows.forEach((r, i) => lines.push(cols.map((c) => String(c.get(r, i === 0)))));
    lines.push(null); // separator between scenarios
  }
  if (lines.length) lines.pop();
  const widths = cols.map((c, i) => Math.max(c.head.length, ...lines.filter(Boolean).map((l) => l[i].length)));
  const fmt = (cells) => cells.map((s, i) => (cols[i].right ? s.padStart(widths[i]) : s.padEnd(widths[i]))).join('  ').trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  const out = [fmt(cols.map((c) => c.head)), rule];
  for (const l of lines) out.push(l ? fmt(l) : '');
  return out.join('\n');
}

module.exports = { render, baselinesOf, BASELINE_NAMES };
