'use strict';
// `--compare OLD.json`: each server and scenario of this run against an earlier results
// file, as a change in percent; a change for the worse beyond the threshold is a
// regression (marked, and red on a colour terminal).
const fs = require('node:fs');
const f = require('./format');

/** Reads a results file written by the harness; throws a readable error otherwise. */
function load(file) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`--compare ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  if (!doc || !Array.isArray(doc.rows)) throw new Error(`--compare ${file}: not a results file of npm run bench (it has no rows)`);
  return doc;
}

/** Relative change from a to b in percent; null when either is missing. */
function change(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number' || !(a > 0)) return null;
  return ((b - a) / a) * 100;
}

/**
 * One entry per row of `now` that `before` also has (same scenario and server):
 * { scenario, server, label, metric, before, now, change, cpuBefore, cpuNow, cpuChange,
 *   regression, why }. The main figure regresses when it moves the wrong way by more than
 * `threshold` percent (req/s down, idle RSS up); CPU per request when it rises by more.
 */
function compare(before, now, { threshold = 5 } = {}) {
  const out = [];
  for (const r of now.rows) {
    const old = before.rows.find((x) => x.scenario === r.scenario && x.server === r.server);
    if (!old) continue;
    const c = change(old.value, r.value);
    const cpuChange = change(old.cpuPerRequestUs, r.cpuPerRequestUs);
    const why = [];
    if (c != null && (r.higherIsBetter ? -c : c) > threshold) why.push(r.metric === 'rps' ? 'req/s' : 'RSS/conn');
    if (cpuChange != null && cpuChange > threshold) why.push('CPU/req');
    out.push({
      scenario: r.scenario,
      server: r.server,
      label: r.label,
      metric: r.metric,
      before: old.value,
      now: r.value,
      change: c,
      cpuBefore: old.cpuPerRequestUs ?? null,
      cpuNow: r.cpuPerRequestUs ?? null,
      cpuChange,
      regression: why.length > 0,
      why,
    });
  }
  return out;
}

const pct = (c) => (c == null ? '–' : `${c >= 0 ? '+' : ''}${c.toFixed(1)}%`);

/** Whether to colour `stream`: a terminal, unless NO_COLOR; FORCE_COLOR forces it. */
function useColor(stream, env = process.env) {
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR) return false;
  return !!stream.isTTY;
}

/** The comparison as text lines; regressions marked, and red when `color`. */
function render(entries, { threshold = 5, color = false, file = 'the earlier run' } = {}) {
  const head = ['scenario', 'server', 'before', 'now', 'change', 'CPU/req before', 'now', 'change', ''];
  const rows = entries.map((e) => [
    e.scenario,
    e.label,
    e.metric === 'rps' ? f.int(e.before) : f.value({ metric: e.metric, value: e.before }),
    e.metric === 'rps' ? f.int(e.now) : f.value({ metric: e.metric, value: e.now }),
    pct(e.change),
    f.us(e.cpuBefore),
    f.us(e.cpuNow),
    pct(e.cpuChange),
    e.regression ? `REGRESSION (${e.why.join(', ')})` : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const right = (i) => i >= 2 && i <= 7;
  const fmt = (cells) => cells.map((s, i) => (right(i) ? s.padStart(widths[i]) : s.padEnd(widths[i]))).join('  ').trimEnd();
  const lines = [`Compared with ${file} (regression: worse by more than ${threshold}%):`, fmt(head), widths.map((w) => '─'.repeat(w)).join('  ')];
  entries.forEach((e, i) => {
    const line = fmt(rows[i]);
    lines.push(e.regression && color ? `\x1b[31m${line}\x1b[39m` : line);
  });
  if (!entries.length) lines.push('(no server and scenario in common)');
  const n = entries.filter((e) => e.regression).length;
  lines.push(n ? `${n} regression${n === 1 ? '' : 's'}` : 'no regressions');
  return lines;
}

module.exports = { load, change, compare, render, useColor };
