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

/** Validates one scenario against a server; resolves { ok, problems }. */
async function validateScenario(scenario, { host = '127.0.0.1', port, timeoutMs = 10000 }) {
  const req = scenarioRequest(scenario);
  const count = scenario.kind === 'idle' ? 2 : scenario.pipeline;
  const problems = [];
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
    if (responses.length !== count) problems.push(`${responses.length} responses to ${count} requests`);
    responses.forEach((res, i) => {
      for (const p of checkResponse(scenario, res)) problems.push(count > 1 ? `response ${i + 1}: ${p}` : p);
    });
  } catch (e) {
    problems.push(e.message);
  }
  // Report each distinct problem once (pipelined answers tend to fail alike).
  return { ok: problems.length === 0, problems: [...new Set(problems)].slice(0, 5) };
}

/** Validates all scenarios; resolves { ok, failures: { scenario: problems[] } }. */
async function validateServer(scenarios, target) {
  const failures = {};
  for (const s of scenarios) {
    const r = await validateScenario(s, target);
    if (!r.ok) failures[s.name] = r.problems;
  }
  return { ok: Object.keys(failures).length === 0, failures };
}

module.exports = { normalizeType, checkResponse, validateScenario, validateServer };
