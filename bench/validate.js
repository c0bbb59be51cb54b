'use strict';
// Before anything is measured, every server must answer every scenario correctly:
// status, Content-Type and body bytes, and for `pipelined` all 16 answers in order.
const { exchange } = require('./http-client');

/** Content-Type values compare case-insensitively and without whitespace. */
function normalizeType(t) {
  return String(t || '').toLowerCase().replace(/\s+/g, '');
}

/** Describes how `res` differs from the scenario's expectation; [] when it matches. */
function checkResponse(scenario, res) {
  const problems = [];
  const want = scenario.expect;
  if (!want) {
    // The user's application (--app): any answer but a server error.
    if (res.status >= 500) problems.push(`status ${res.status} for ${scenario.method} ${scenario.path} (choose another --path?)`);
    return problems;
  }
  if (res.status !== want.status) problems.push(`status ${res.status}, expected ${want.status}`);
  if (normalizeType(res.headers['content-type']) !== normalizeType(want.contentType)) {
    problems.push(`Content-Type ${JSON.stringify(res.headers['content-type'] ?? null)}, expected ${JSON.stringify(want.contentType)}`);
  }
  if (!res.body.equals(want.body)) {
    let at = 0;
    while (at < res.body.length && at < want.body.length && res.body[at] === want.body[at]) at++;
    problems.push(`body differs at byte ${at} (got ${res.body.length} bytes, expected ${want.body.length})`);
  }
  return problems;
}

function scenarioRequest(scenario) {
  return { method: scenario.method, path: scenario.path, headers: scenario.headers, body: scenario.body };
}

/** Validates one scenario against a server; resolves { ok, problems, first } (first: the first response). */
async function validateScenario(scenario, { host = '127.0.0.1', port, timeoutMs = 10000 }) {
  const req = scenarioRequest(scenario);
  const count = scenario.kind === 'idle' ? 2 : scenario.pipeline;
  const problems = [];
  let first = null;
  try {
    let responses;
    if (scenario.kind === 'idle') {
      // Idle connections must be kept alive: two requests, one after the other, one socket.
      const first = await exchange({ host, port, requests: [req], timeoutMs });
      const second = await exchange({ host, port, socket: first.socket, requests: [req], timeoutMs });
      second.socket.destroy();
      responses = [first.responses[0], second.responses[0]];
    } else {
      const r = await exchange({ host, port, requests: Array(count).fill(req), timeoutMs });
      r.socket.destroy();
      responses = r.responses;
    }
    first = responses[0] || null;
    if (responses.length !== count) problems.push(`${responses.length} responses to ${count} requests`);
    responses.forEach((res, i) => {
      for (const p of checkResponse(scenario, res)) problems.push(count > 1 ? `response ${i + 1}: ${p}` : p);
    });
  } catch (e) {
    problems.push(e.message);
  }
  // Report each distinct problem once (pipelined answers tend to fail alike).
  return { ok: problems.length === 0, problems: [...new Set(problems)].slice(0, 5), first };
}

/**
 * Validates all scenarios; resolves { ok, failures: { scenario: problems[] }, answers:
 * { scenario: first response } }.
 */
async function validateServer(scenarios, target) {
  const failures = {};
  const answers = {};
  for (const s of scenarios) {
    const r = await validateScenario(s, target);
    if (!r.ok) failures[s.name] = r.problems;
    answers[s.name] = r.first;
  }
  return { ok: Object.keys(failures).length === 0, failures, answers };
}

/**
 * How two servers' answers to the same request differ (status, Content-Type, body);
 * null when they agree. For `--app`, where no answer is known in advance.
 */
function differences(a, b) {
  if (!a || !b) return null;
  const d = [];
  if (a.status !== b.status) d.push(`status ${a.status} vs ${b.status}`);
  if (normalizeType(a.headers['content-type']) !== normalizeType(b.headers['content-type'])) {
    d.push(`Content-Type ${JSON.stringify(a.headers['content-type'] ?? null)} vs ${JSON.stringify(b.headers['content-type'] ?? null)}`);
  }
  if (!a.body.equals(b.body)) d.push(`body of ${a.body.length} vs ${b.body.length} bytes${a.body.length === b.body.length ? ', different bytes' : ''}`);
  return d.length ? d.join(', ') : null;
}

module.exports = { normalizeType, checkResponse, validateScenario, validateServer, differences };
