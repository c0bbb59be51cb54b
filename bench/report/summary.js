'use strict';
// The lines around the table: machine, generator and pinning, the generator's ceiling,
// and every server that was not measured with the reason.
const f = require('./format');

function context(doc) {
  const m = doc.machine;
  const g = doc.generator;
  const cpu = doc.rows.some((r) => r.cpuPerRequestUs != null);
  const procs = doc.options.workers > 1 || doc.options.threads > 1
    ? [`Processes: --workers ${doc.options.workers}${doc.options.threads > 1 ? `, --threads ${doc.options.threads} (Python servers)` : ''}`]
    : [];
  return [
    `Machine: ${m.cpuModel}, ${m.cpus} CPUs, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}`,
    `Generator: ${g.version} (${g.note}); ${doc.pinning.pinned ? `pinned: ${doc.pinning.why}` : `not pinned: ${doc.pinning.why}`}`,
    `Load: ${doc.options.connections} connections, ${doc.options.duration} s per run, ${doc.options.rounds} round${doc.options.rounds === 1 ? '' : 's'} interleaved; medians shown`,
    'Ratios: taken within each round, then the median; req/s ÷ baseline (above 1: faster), idle RSS ÷ baseline (below 1: leaner)',
    ...(cpu ? ['CPU/req: the server\'s CPU time (user + system, all its processes) over the run ÷ requests completed; CPU × baseline below 1: cheaper per request'] : []),
    ...procs,
    `Command: ${doc.command}`,
  ];
}

function ceilings(doc) {
  return doc.ceilings.map(
    (c) =>
      `${c.scenario}: ${f.int(c.rps)} req/s against ${labelOf(doc, c.server)}, generator CPU ${c.generatorCpu == null ? '?' : `${Math.round(c.generatorCpu)}%`}` +
      (c.saturated ? ' — saturated: the generator, not the server, is the limit here' : ''),
  );
}

function skipped(doc) {
  return doc.servers
    .filter((s) => s.status !== 'measured')
    .map((s) => {
      const detail = s.failures
        ? Object.entries(s.failures).map(([sc, p]) => `${sc}: ${p.join('; ')}`).join(' / ')
        : s.reason;
      return `${s.label}: ${s.status.replace(/-/g, ' ')} — ${detail}`;
    });
}

function labelOf(doc, id) {
  const s = doc.servers.find((x) => x.id === id);
  return s ? s.label : id;
}

module.exports = { context, ceilings, skipped };
