'use strict';
// The Markdown report: context, one table for all scenarios, the chart, the caveats.
const f = require('./format');
const summary = require('./summary');
const { baselinesOf } = require('./table');

function esc(s) {
  return String(s).replace(/\|/g, '\\|');
}

function render(doc, { chart = null } = {}) {
  const baselines = baselinesOf(doc);
  const cpu = doc.rows.some((r) => r.cpuPerRequestUs != null);
  const out = [];
  out.push(...summary.context(doc).map((l) => `- ${esc(l).replace(/^Command: (.*)$/, 'Command: `$1`')}`), '');
  const head = [
    'Scenario', 'Server', 'req/s · RSS/conn', 'p50', 'p99', ...baselines.map((b) => `× ${b.name}`),
    ...(cpu ? ['CPU/req', ...baselines.map((b) => `CPU × ${b.name}`)] : []),
    'Notes',
  ];
  out.push(`| ${head.join(' | ')} |`);
  out.push(`|${head.map((h, i) => (i >= 2 && i < head.length - 1 ? ' ---: ' : ' --- ')).join('|')}|`);
  for (const g of f.grouped(doc.rows, doc.scenarios)) {
    g.rows.forEach((r, i) => {
      const cells = [
        i === 0 ? `**${r.scenario}**` : '',
        r.server.startsWith('tsgi') ? `**${esc(r.label)}**` : esc(r.label),
        f.value(r),
        r.metric === 'rps' ? f.ms(r.p50Ms) : '',
        r.metric === 'rps' ? f.ms(r.p99Ms) : '',
        ...baselines.map((b) => f.ratio(r.ratios[b.id])),
        ...(cpu ? [r.metric === 'rps' ? f.us(r.cpuPerRequestUs) : '', ...baselines.map((b) => (r.cpuRatios ? f.ratio(r.cpuRatios[b.id]) : ''))] : []),
        esc(f.notes(r)),
      ];
      out.push(`| ${cells.join(' | ')} |`);
    });
  }
  out.push('');
  if (chart) out.push(`![tsgi benchmark chart](${chart})`, '');
  const ceil = summary.ceilings(doc);
  if (ceil.length) out.push('Generator ceiling (its rate against the fastest peer):', '', ...ceil.map((l) => `- ${esc(l)}`), '');
  const skipped = summary.skipped(doc);
  if (skipped.length) out.push('Not measured:', '', ...skipped.map((l) => `- ${esc(l)}`), '');
  if (doc.notes && doc.notes.length) out.push('Notes:', '', ...doc.notes.map((l) => `- ${esc(l)}`), '');
  return out.join('\n');
}

module.exports = { render };
