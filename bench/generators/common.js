'use strict';
// Shared by the generator drivers: running a pinned child process with a hard time
// limit while sampling its CPU use, and the result shape every driver returns.
const { spawn } = require('node:child_process');
const { pinned, cpuSampler } = require('../system');

/**
 * @typedef {object} LoadResult
 * @property {number} requests    completed responses
 * @property {number} seconds     measured wall time
 * @property {number} rps         requests / seconds
 * @property {number} p50Ms
 * @property {number} p99Ms
 * @property {number} errors      connect/read/write errors and timeouts
 * @property {number} non2xx      responses with a status outside 2xx
 * @property {number|null} generatorCpu  generator CPU use in % of one core
 */

/**
 * Runs `cmd args` (pinned to `cpus`), kills it after `limitMs`, and resolves
 * { stdout, stderr, code, signal, generatorCpu }.
 */
function runChild(cmd, args, { cpus = null, limitMs, env } = {}) {
  return new Promise((resolve, reject) => {
    const [c, a] = pinned(cpus, cmd, args);
    const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'], env: env || process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-8192); });
    const sampler = cpuSampler(() => [child.pid]);
    const kill = setTimeout(() => {
      stderr += `\n(killed after ${limitMs} ms)`;
      child.kill('SIGKILL');
    }, limitMs);
    const onExit = () => {
      try { child.kill('SIGKILL'); } catch {}
    };
    process.on('exit', onExit);
    child.on('error', (e) => {
      clearTimeout(kill);
      sampler.stop();
      process.off('exit', onExit);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(kill);
      process.off('exit', onExit);
      resolve({ stdout, stderr, code, signal, generatorCpu: sampler.stop() });
    });
  });
}

module.exports = { runChild };
