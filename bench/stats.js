'use strict';
// The result math: medians over rounds, and ratios to the baselines computed within
// each round (server and baseline measured back to back) before taking the median.

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** The figure a scenario is judged by, and whether more is better. */
function metricOf(scenario) {
  return scenario === 'idle' ? { key: 'bytesPerConnection', higherIsBetter: false } : { key: 'rps', higherIsBetter: true };
}

/**
 * Per-round ratios of `server` to `baseline` in `scenario`: value(server) / value(baseline)
 * for every round in which both were measured.
 */
function roundRatios(measurements, scenario, server, baseline, key = metricOf(scenario).key) {
  if (server === baseline) {
    return measurements.filter((m) => m.scenario === scenario && m.server === server && typeof m[key] === 'number').map(() => 1);
  }
  const byRound = new Map();
  for (const m of measurements) {
    if (m.scenario !== scenario || (m.server !== server && m.server !== baseline)) continue;
    if (!byRound.has(m.round)) byRound.set(m.round, {});
    byRound.get(m.round)[m.server === server ? 'a' : 'b'] = m[key];
  }
  const out = [];
  for (const { a, b } of byRound.values()) {
    if (typeof a === 'number' && typeof b === 'number' && b > 0 && Number.isFinite(a)) out.push(a / b);
  }
  return out;
}

/**
 * One row per (scenario, server) measured: medians over rounds and the median of the
 * within-round ratios to each baseline present.
 */
function summarize(measurements, { baselines = ['node', 'uws'], generatorCores = 1 } = {}) {
  const groups = new Map();
  for (const m of measurements) {
    const k = `${m.scenario}\u0000${m.server}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(m);
  }
  const rows = [];
  for (const ms of groups.values()) {
    const { scenario, server } = ms[0];
    const { key, higherIsBetter } = metricOf(scenario);
    const ratios = {};
    const latencyRatios = {};
    const medianRatio = (b, k) => {
      const r = roundRatios(measurements, scenario, server, b, k);
      return r.length ? median(r) : null;
    };
    const cpuRatios = {};
    for (const b of baselines) {
      ratios[b] = medianRatio(b, key);
      // Server CPU time per request against the baseline's (below 1: cheaper).
      if (key === 'rps') cpuRatios[b] = medianRatio(b, 'cpuPerRequestUs');
      // Latency ratios (below 1: lower latency), also taken within rounds; JSON only.
      if (key === 'rps') latencyRatios[b] = { p50: medianRatio(b, 'p50Ms'), p99: medianRatio(b, 'p99Ms') };
    }
    const generatorCpu = median(ms.map((m) => m.generatorCpu));
    rows.push({
      scenario,
      server,
      label: ms[0].label || server,
      rounds: ms.length,
      metric: key,
      higherIsBetter,
      value: median(ms.map((m) => m[key])),
      p50Ms: median(ms.map((m) => m.p50Ms)),
      p99Ms: median(ms.map((m) => m.p99Ms)),
      errors: ms.reduce((s, m) => s + (m.errors || 0), 0),
      non2xx: ms.reduce((s, m) => s + (m.non2xx || 0), 0),
      generatorCpu,
      serverCpu: median(ms.map((m) => m.serverCpu)),
      ...(key === 'rps' ? { cpuPerRequestUs: median(ms.map((m) => m.cpuPerRequestUs)), cpuRatios } : {}),
      generatorBound: generatorCpu != null && generatorCpu >= 90 * generatorCores,
      ratios,
      ...(key === 'rps' ? { latencyRatios } : {}),
      ...(key === 'bytesPerConnection'
        ? { connections: Math.min(...ms.map((m) => m.connections)), wanted: Math.max(...ms.map((m) => m.wanted)) }
        : {}),
    });
  }
  return rows;
}

/**
 * The generator's ceiling per throughput scenario: its rate against the fastest peer.
 * When the fastest peer's run also saturated the generator's CPU, the generator (not
 * the servers) is the limit for everything near that rate.
 */
function generatorCeilings(rows) {
  const best = new Map();
  for (const r of rows) {
    if (r.metric !== 'rps' || r.value == null) continue;
    if (!best.has(r.scenario) || r.value > best.get(r.scenario).value) best.set(r.scenario, r);
  }
  return [...best.values()].map((r) => ({
    scenario: r.scenario,
    server: r.server,
    rps: r.value,
    generatorCpu: r.generatorCpu,
    saturated: r.generatorBound,
  }));
}

module.exports = { median, metricOf, roundRatios, summarize, generatorCeilings };
