// Replacing workers without failing requests: --reload on file changes, HUP with an
// application that no longer loads (the old workers keep serving), backoff for a
// crashing application, and --reload-on-rss.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { APPS, get, killAll, removeTmpdirs, sleep, startServer, tmpdir, tsgi } from './manager-harness';

afterEach(async () => {
  await killAll();
  removeTmpdirs();
});

function appDir() {
  const dir = tmpdir('tsgi-reload-');
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
    // Five boots of a worker: generous for a loaded machine (the delays themselves sum to 1.5 s).
    await t.waitFor(/(msg="worker died"[\s\S]*){5}/, 45_000);
    const delays = [...t.err().matchAll(/msg="worker died" .*how="code 7" respawn_in_ms=(\d+)/g)].map((m) => Number(m[1]));
    expect(delays.slice(0, 5)).toEqual([0, 100, 200, 400, 800]);
  });

  it('HUP: an old worker still running a request at --graceful-timeout is killed then, and the new one serves', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--graceful-timeout', '1s']);
    const [old] = t.workerPids();
    const slow = get({ port }, '/slow?ms=20000', undefined, 30_000).catch((e: Error) => e);
    await sleep(300);
    process.kill(t.pid, 'SIGHUP');
    // The master's own timestamps: when it asked the old worker to stop, and when it killed it.
    const stopping = await t.waitFor(new RegExp(`time=(\\S+) level=info msg="stopping worker" .*worker_pid=${old}`));
    const killing = await t.waitFor(new RegExp(`time=(\\S+) level=warning msg="worker did not stop within the graceful timeout; killing it" .*worker_pid=${old}`), 10_000);
    const after = Date.parse(killing[1]) - Date.parse(stopping[1]);
    expect(after).toBeGreaterThanOrEqual(1000);
    expect(after).toBeLessThan(4000);
    // The worker's own close ends at the same graceful timeout: it may exit by itself first.
    await t.waitFor(new RegExp(`msg="worker died" .*worker_pid=${old} how="[^"]+" reason="graceful timeout"`));
    expect(await slow).toBeInstanceOf(Error);
    expect((await get({ port })).body.split(' ')[0]).not.toBe(String(old));
  });

  it('--reload-on-rss recycles a worker whose memory is over the limit', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--reload-on-rss', '1']);
    await t.waitFor(/msg="recycling worker" .*reason="resident memory \d+ MB is over reload-on-rss 1 MB"/, 10_000);
    expect((await get({ port })).status).toBe(200);
  });
});

describe('--reload sees every way an editor saves', () => {
  /** Saves as vim, sed -i and most IDEs do: a new file written beside it, renamed over it. */
  function renameSave(file: string, text: string) {
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  }
  const app = (word: string, dep = '') => `'use strict';
${dep}
exports.app = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [${word} + ' ' + process.pid];
};
`;
  async function waitBody(port: number, prefix: string) {
    const deadline = Date.now() + 15_000;
    let body = '';
    while (!(body = (await get({ port }).catch(() => ({ body: '' }))).body).startsWith(prefix) && Date.now() < deadline) await sleep(100);
    return body;
  }

  it('three successive rename-saves of the application file each reload it', async () => {
    const cwd = appDir();
    fs.writeFileSync(path.join(cwd, 'app.js'), app("'v0'"));
    const { t, port } = await startServer(['app.js', '--bind', '127.0.0.1:0', '--reload'], { cwd });
    expect((await get({ port })).body).toMatch(/^v0 /);
    for (const v of ['v1', 'v2', 'v3']) {
      const reloads = t.count(/msg="reload complete"/);
      renameSave(path.join(cwd, 'app.js'), app(`'${v}'`));
      expect(await waitBody(port, v)).toMatch(new RegExp(`^${v} `));
      await t.waitFor(new RegExp(`(msg="reload complete"[\\s\\S]*){${reloads + 1}}`), 15_000);
    }
    expect(t.count(/msg="file changed, reloading workers" .*app\.js/)).toBeGreaterThanOrEqual(3);
  });

  it('a required module in a subdirectory, saved by rename, twice; and a new file', async () => {
    const cwd = appDir();
    fs.mkdirSync(path.join(cwd, 'lib', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(cwd, 'lib', 'deep', 'word.js'), "module.exports = 'one';\n");
    fs.writeFileSync(path.join(cwd, 'app.js'), app('word', "const word = require('./lib/deep/word');"));
    const { t, port } = await startServer(['app.js', '--bind', '127.0.0.1:0', '--reload'], { cwd });
    expect((await get({ port })).body).toMatch(/^one /);
    renameSave(path.join(cwd, 'lib', 'deep', 'word.js'), "module.exports = 'two';\n");
    expect(await waitBody(port, 'two')).toMatch(/^two /);
    renameSave(path.join(cwd, 'lib', 'deep', 'word.js'), "module.exports = 'three';\n");
    expect(await waitBody(port, 'three')).toMatch(/^three /);
    // A new directory and file, then the application starts using it.
    fs.mkdirSync(path.join(cwd, 'lib', 'fresh'));
    fs.writeFileSync(path.join(cwd, 'lib', 'fresh', 'word.js'), "module.exports = 'four';\n");
    await t.waitFor(/msg="file changed, reloading workers" .*fresh/, 15_000);
    await t.waitFor(/(msg="reload complete"[\s\S]*){3}/, 15_000);
    fs.writeFileSync(path.join(cwd, 'lib', 'fresh', 'word.js'), "module.exports = 'five';\n");
    renameSave(path.join(cwd, 'app.js'), app('word', "const word = require('./lib/fresh/word');"));
    expect(await waitBody(port, 'five')).toMatch(/^five /);
  });

  it('a module the application loaded from outside its directory is watched too', async () => {
    const cwd = appDir();
    fs.mkdirSync(path.join(cwd, 'service'));
    fs.mkdirSync(path.join(cwd, 'shared'));
    fs.writeFileSync(path.join(cwd, 'shared', 'word.js'), "module.exports = 'outside';\n");
    fs.writeFileSync(path.join(cwd, 'service', 'app.js'), app('word', "const word = require('../shared/word');"));
    const { t, port } = await startServer(['service/app.js', '--bind', '127.0.0.1:0', '--reload'], { cwd });
    expect((await get({ port })).body).toMatch(/^outside /);
    await sleep(500); // the worker's list of loaded files reaches the master just after it is ready
    renameSave(path.join(cwd, 'shared', 'word.js'), "module.exports = 'seen';\n");
    await t.waitFor(/msg="file changed, reloading workers" .*shared\/word\.js/, 15_000);
    expect(await waitBody(port, 'seen')).toMatch(/^seen /);
  });

  it('a deleted module is seen (the application then fails to load, and the old workers keep serving)', async () => {
    const cwd = appDir();
    fs.writeFileSync(path.join(cwd, 'word.js'), "module.exports = 'kept';\n");
    fs.writeFileSync(path.join(cwd, 'app.js'), app('word', "const word = require('./word');"));
    const { t, port } = await startServer(['app.js', '--bind', '127.0.0.1:0', '--reload'], { cwd });
    fs.unlinkSync(path.join(cwd, 'word.js'));
    await t.waitFor(/msg="file changed, reloading workers" .*word\.js/, 15_000);
    await t.waitFor(/msg="worker failed to boot; retrying" .*Cannot find module '\.\/word'/, 15_000);
    expect((await get({ port })).body).toMatch(/^kept /);
  });
});
