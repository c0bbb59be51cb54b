// Replacing workers without failing requests: --reload on file changes, HUP with an
// application that no longer loads (the old workers keep serving), backoff for a
// crashing application, and --reload-on-rss.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { APPS, get, killAll, sleep, startServer, tmpdir, tsgi } from './manager-harness';

const dirs: string[] = [];
afterEach(async () => {
  await killAll();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function appDir() {
  const dir = tmpdir('tsgi-reload-');
  dirs.push(dir);
  fs.copyFileSync(path.join(APPS, 'pid.js'), path.join(dir, 'app.js'));
  return dir;
}

describe('reloading', () => {
  it('--reload restarts the workers when an application file changes', async () => {
    const cwd = appDir();
    fs.writeFileSync(path.join(cwd, 'greeting.js'), "module.exports = 'one';\n");
    fs.writeFileSync(path.join(cwd, 'app.js'), `'use strict';
const greeting = require('./greeting');
exports.app = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [greeting + ' ' + process.pid];
};
`);
    const { t, port } = await startServer(['app.js', '--bind', '127.0.0.1:0', '--reload'], { cwd });
    expect((await get({ port })).body).toMatch(/^one /);
    fs.writeFileSync(path.join(cwd, 'greeting.js'), "module.exports = 'two';\n");
    await t.waitFor(/msg="file changed, reloading workers" .*greeting\.js/, 10_000);
    const deadline = Date.now() + 10_000;
    let body = '';
    while (!(body = (await get({ port })).body).startsWith('two') && Date.now() < deadline) await sleep(100);
    expect(body).toMatch(/^two /);
  });

  it('HUP with an application that no longer loads keeps the old workers serving, and retries with backoff', async () => {
    const cwd = appDir();
    const { t, port } = await startServer(['app.js', '--bind', '127.0.0.1:0'], { cwd });
    const [old] = t.workerPids();
    fs.writeFileSync(path.join(cwd, 'app.js'), "throw new Error('broken by the deploy');\n");
    process.kill(t.pid, 'SIGHUP');
    await t.waitFor(/msg="worker failed to boot; retrying" .*broken by the deploy/, 10_000);
    await sleep(1500);
    // Still served by the old worker.
    expect((await get({ port })).body.split(' ')[0]).toBe(String(old));
    const retries = [...t.err().matchAll(/retry_in_ms=(\d+)/g)].map((m) => Number(m[1]));
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries.length).toBeLessThan(8);
    for (let i = 1; i < retries.length; i++) expect(retries[i]).toBeGreaterThan(retries[i - 1]);
    // Fixed: the next attempt succeeds and replaces the old worker.
    fs.copyFileSync(path.join(APPS, 'pid.js'), path.join(cwd, 'app.js'));
    await t.waitFor(new RegExp(`msg="worker exited" .*worker_pid=${old}`), 15_000);
    expect((await get({ port })).body.split(' ')[0]).not.toBe(String(old));
  });

  it('a worker that keeps crashing is respawned with growing delays, not in a tight loop', async () => {
    const t = tsgi(['crash-soon.js', '--bind', '127.0.0.1:0']);
    await t.waitFor(/(msg="worker died"[\s\S]*){5}/, 20_000);
    const delays = [...t.err().matchAll(/msg="worker died" .*how="code 7" respawn_in_ms=(\d+)/g)].map((m) => Number(m[1]));
    expect(delays.slice(0, 5)).toEqual([0, 100, 200, 400, 800]);
  });

  it('--reload-on-rss recycles a worker whose memory is over the limit', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--reload-on-rss', '1']);
    await t.waitFor(/msg="recycling worker" .*reason="resident memory \d+ MB is over reload-on-rss 1 MB"/, 10_000);
    expect((await get({ port })).status).toBe(200);
  });
});
