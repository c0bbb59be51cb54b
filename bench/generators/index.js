'use strict';
// Picks the load generator: wrk when it is on PATH, autocannon otherwise or on request.
const wrk = require('./wrk');
const autocannon = require('./autocannon');

const GENERATORS = { wrk, autocannon };

/** Resolves --generator (auto|wrk|autocannon) to { generator, note }. Throws if impossible. */
function choose(requested = 'auto') {
  if (requested === 'auto') {
    const why = wrk.available();
    if (!why) return { generator: wrk, note: 'wrk found on PATH' };
    const acWhy = autocannon.available();
    if (acWhy) throw new Error(`no load generator: ${why}; ${acWhy}`);
    return { generator: autocannon, note: `${why}; using autocannon` };
  }
  const g = GENERATORS[requested];
  if (!g) throw new Error(`unknown generator '${requested}' (wrk, autocannon, auto)`);
  const why = g.available();
  if (why) throw new Error(why);
  return { generator: g, note: 'requested with --generator' };
}

module.exports = { GENERATORS, choose };
