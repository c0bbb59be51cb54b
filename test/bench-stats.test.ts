// The result math: medians over rounds, ratios within rounds, the generator ceiling.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { median, roundRatios, summarize, generatorCeilings } = require('../bench/stats.js');

const m = (round: number, server: string, rps: number, extra: Record<string, unknown> = {}) => ({
  round,
  scenario: 'hello',
  server,
  rps,
  p50Ms: rps / 1000,
  p99Ms: rps / 100,
  errors: 0,
  non2xx: 0,
  generatorCpu: 50,
  ...extra,
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
    expect(median([null, 5, undefined])).toBe(5);
  });
});

describe('ratios within rounds', () => {
  // Round 2 ran on a machine that was twice as slow for everyone: the ratio must not move.
  const ms = [m(1, 'tsgi', 200), m(1, 'node', 100), m(2, 'tsgi', 100), m(2, 'node', 50), m(3, 'tsgi', 210), m(3, 'node', 100)];

  it('pairs each round with the baseline of the same round', () => {
    expect(roundRatios(ms, 'hello', 'tsgi', 'node')).toEqual([2, 2, 2.1]);
  });

  it('reports the median of the per-round ratios, not the ratio of medians', () => {
    const rows = summarize(ms, { baselines: ['node', 'uws'] });
    const tsgi = rows.find((r: { server: string }) => r.server === 'tsgi');
    expect(tsgi.value).toBe(200); // median of 200, 100, 210
    expect(tsgi.ratios.node).toBe(2); // median of 2, 2, 2.1 (ratio of medians would be 2)
    expect(tsgi.ratios.uws).toBeNull(); // no uWS measured
    expect(tsgi.rounds).toBe(3);
    expect(rows.find((r: { server: string }) => r.server === 'node').ratios.node).toBe(1);
    // p50 is rps / 1000 in these fixtures, so its per-round ratio is the rps ratio too.
    expect(tsgi.latencyRatios.node.p50).toBe(2);
    // Ratio of medians differs when rounds disagree: 200 / 100 = 2 vs per-round 2, 2, 2.1.
    const skew = [m(1, 'a', 300), m(1, 'node', 100), m(2, 'a', 100), m(2, 'node', 200), m(3, 'a', 100), m(3, 'node', 90)];
    const a = summarize(skew).find((r: { server: string }) => r.server === 'a');
    expect(a.ratios.node).toBeCloseTo(100 / 90, 10); // per-round 3, 0.5, 1.11 → 1.11
    expect(a.value / 100).toBe(1); // ratio of medians would say 1.0
  });

  it('skips rounds where the baseline is missing', () => {
    const partial = [m(1, 'tsgi', 200), m(1, 'node', 100), m(2, 'tsgi', 300)];
    expect(roundRatios(partial, 'hello', 'tsgi', 'node')).toEqual([2]);
  });

  it('uses RSS per connection for idle, where lower is better', () => {
    const idle = [
      { round: 1, scenario: 'idle', server: 'tsgi', bytesPerConnection: 1000, connections: 10000, wanted: 10000 },
      { round: 1, scenario: 'idle', server: 'node', bytesPerConnection: 4000, connections: 9000, wanted: 10000 },
    ];
    const rows = summarize(idle);
    const t = rows.find((r: { server: string }) => r.server === 'tsgi');
    expect(t.metric).toBe('bytesPerConnection');
    expect(t.higherIsBetter).toBe(false);
    expect(t.ratios.node).toBe(0.25);
    expect(rows.find((r: { server: string }) => r.server === 'node').connections).toBe(9000);
  });

  it('sums errors and non-2xx over rounds', () => {
    const rows = summarize([m(1, 'x', 10, { errors: 2, non2xx: 1 }), m(2, 'x', 12, { errors: 3 })]);
    expect(rows[0].errors).toBe(5);
    expect(rows[0].non2xx).toBe(1);
  });
});

describe('generator ceiling', () => {
  it('is the rate against the fastest peer, flagged when the generator was saturated', () => {
    const ms = [
      m(1, 'uws', 900, { generatorCpu: 97 }),
      m(1, 'node', 300, { generatorCpu: 40 }),
      { ...m(1, 'uws', 50, { generatorCpu: 20 }), scenario: 'file' },
      { ...m(1, 'node', 80, { generatorCpu: 30 }), scenario: 'file' },
    ];
    const rows = summarize(ms, { generatorCores: 1 });
    const c = generatorCeilings(rows);
    expect(c).toEqual([
      { scenario: 'hello', server: 'uws', rps: 900, generatorCpu: 97, saturated: true },
      { scenario: 'file', server: 'node', rps: 80, generatorCpu: 30, saturated: false },
    ]);
    // With two generator cores, 97% of one core is not saturation.
    expect(generatorCeilings(summarize(ms, { generatorCores: 2 }))[0].saturated).toBe(false);
  });
});
