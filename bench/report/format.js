'use strict';
// Number formatting and row ordering shared by the table, Markdown and SVG reports.

function int(n) {
  return n == null ? '–' : Math.round(n).toLocaleString('en-US');
}

function ms(n) {
  if (n == null) return '–';
  return n >= 100 ? `${n.toFixed(0)} ms` : n >= 10 ? `${n.toFixed(1)} ms` : `${n.toFixed(2)} ms`;
}

/** Microseconds of CPU per request. */
function us(n) {
  if (n == null) return '–';
  return n >= 100 ? `${n.toFixed(0)} µs` : n >= 10 ? `${n.toFixed(1)} µs` : `${n.toFixed(2)} µs`;
}

function ratio(r) {
  return r == null ? '–' : `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** The main figure of a row with its unit: req/s, or KB per idle connection. */
function value(row) {
  if (row.value == null) return '–';
  return row.metric === 'rps' ? int(row.value) : `${(row.value / 1024).toFixed(1)} KB`;
}

function unit(scenario) {
  return scenario === 'idle' ? 'RSS per idle connection (lower is better)' : 'requests/s (higher is better)';
}

/** Problems worth a reader's attention, short. */
function notes(row) {
  const n = [];
  if (row.metric === 'rps' && row.value === 0) n.push('no responses completed');
  if (row.generatorBound) n.push('generator-bound');
  if (row.errors) n.push(`${row.errors} errors`);
  if (row.non2xx) n.push(`${row.non2xx} non-2xx`);
  if (row.connections != null && row.wanted != null && row.connections < row.wanted) n.push(`${row.connections} conns`);
  return n.join(', ');
}

/** Rows grouped by scenario in `order`, best first within each scenario. */
function grouped(rows, order) {
  const out = [];
  for (const scenario of order) {
    const rs = rows.filter((r) => r.scenario === scenario && r.value != null);
    if (!rs.length) continue;
    rs.sort((a, b) => (a.higherIsBetter ? b.value - a.value : a.value - b.value));
    out.push({ scenario, rows: rs });
  }
  return out;
}

module.exports = { int, ms, us, ratio, value, unit, notes, grouped };
