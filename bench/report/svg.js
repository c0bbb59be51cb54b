'use strict';
// The chart: one panel per scenario, one horizontal bar per server (best first),
// each bar labelled with its figure, its ratio to node:http and the server's CPU time
// per request. Plain SVG 1.1 with no scripts or external references, so it renders on
// GitHub and in any browser.
const f = require('./format');

const WIDTH = 1040; // the longest bar (BAR_MAX) leaves room for its label
const LABEL_W = 190;
const BAR_MAX = 520;
const BAR_H = 18;
const GAP = 6;
const PANEL_HEAD = 34;
const PANEL_GAP = 18;

function xml(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function colorOf(id) {
  if (id.startsWith('tsgi')) return '#e4572e';
  if (id.startsWith('node')) return '#5b8c5a';
  if (id === 'uws') return '#2e86ab';
  return '#8d99ae';
}

function render(doc) {
  const groups = f.grouped(doc.rows, doc.scenarios);
  const m = doc.machine;
  const parts = [];
  let y = 64;
  for (const g of groups) {
    const max = Math.max(...g.rows.map((r) => r.value));
    parts.push(`<g class="panel" data-scenario="${xml(g.scenario)}">`);
    parts.push(`<text x="16" y="${y + 16}" class="h2">${xml(g.scenario)}</text>`);
    parts.push(`<text x="${LABEL_W}" y="${y + 16}" class="sub">${xml(f.unit(g.scenario))}</text>`);
    y += PANEL_HEAD;
    for (const r of g.rows) {
      const w = max > 0 ? Math.max(1, Math.round((r.value / max) * BAR_MAX)) : 1;
      const vsNode = r.ratios && r.ratios.node != null && r.server !== 'node' ? `  (${f.ratio(r.ratios.node)} node:http)` : '';
      const cpu = r.cpuPerRequestUs != null ? `  · ${f.us(r.cpuPerRequestUs)} CPU/req` : '';
      parts.push(
        `<text x="${LABEL_W - 8}" y="${y + 13}" class="label" text-anchor="end">${xml(r.label)}</text>`,
        `<rect class="bar" data-server="${xml(r.server)}" x="${LABEL_W}" y="${y}" width="${w}" height="${BAR_H}" rx="2" fill="${colorOf(r.server)}"/>`,
        `<text x="${LABEL_W + w + 6}" y="${y + 13}" class="value">${xml(f.value(r) + vsNode + cpu)}</text>`,
      );
      y += BAR_H + GAP;
    }
    parts.push('</g>');
    y += PANEL_GAP;
  }
  const height = y + 24;
  const title = `tsgi vs peers — ${m.cpuModel}, ${m.cpus} CPUs, Node ${m.node}, ${doc.generator.version}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    '<style>.h1{font-size:18px;font-weight:600;fill:#222}.h2{font-size:15px;font-weight:600;fill:#222}.sub{font-size:12px;fill:#666}.label{font-size:13px;fill:#333}.value{font-size:12px;fill:#333}</style>',
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="28" class="h1">${xml(title)}</text>`,
    `<text x="16" y="48" class="sub">${xml(`${doc.options.connections} connections, ${doc.options.duration} s × ${doc.options.rounds} round${doc.options.rounds === 1 ? '' : 's'}, medians; ${doc.pinning.pinned ? doc.pinning.why : 'not pinned'}`)}</text>`,
    ...parts,
    `<text x="16" y="${height - 10}" class="sub">${xml(doc.finishedAt || '')}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

module.exports = { render };
