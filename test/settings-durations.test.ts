// A bare number for a duration is seconds, as in Gunicorn and uWSGI, on the command line,
// in TSGI_* variables and in config files; units stay accepted. --timeout shorter than the
// workers' heartbeat interval is refused.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SETTINGS, settingByName } from '../src/settings/registry';
import { parseSettingString } from '../src/settings/parse';
import { resolveSettings } from '../src/settings/sources';
import { get, killAll, run, sleep, startServer, removeTmpdirs, tmpdir } from './manager-harness';

afterEach(killAll);
afterAll(removeTmpdirs);

const by = (n: string) => settingByName(n)!;

describe('durations from text', () => {
  it('a bare number is seconds, for every duration setting', () => {
    for (const s of SETTINGS.filter((x) => x.type === 'duration')) {
      expect(parseSettingString(s, '30', 'command line'), s.name).toBe(30_000);
      expect(parseSettingString(s, '1.5', 'command line'), s.name).toBe(1500);
    }
  });

  it('units stay accepted', () => {
    expect(parseSettingString(by('timeout'), '500ms', 't')).toBe(500);
    expect(parseSettingString(by('timeout'), '1.5s', 't')).toBe(1500);
    expect(parseSettingString(by('timeout'), '2m', 't')).toBe(120_000);
    expect(parseSettingString(by('timeout'), '1h', 't')).toBe(3_600_000);
  });

  it('the command line, the environment and a config file agree', async () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'tsgi.config.json'), '{"timeout": 45, "gracefulTimeout": 2.5, "keepAliveTimeout": "750ms"}');
    const r = await resolveSettings({
      cli: new Map([['harakiri', ['20']]]),
      env: { TSGI_HEADER_TIMEOUT: '7', TSGI_BODY_TIMEOUT: '3s' },
      cwd: dir,
    });
    expect(r.values.timeout).toBe(45_000);
    expect(r.values.gracefulTimeout).toBe(2500);
    expect(r.values.keepAliveTimeout).toBe(750);
    expect(r.values.harakiri).toBe(20_000);
    expect(r.values.headerTimeout).toBe(7000);
    expect(r.values.bodyTimeout).toBe(3000);
  });

  it('a limit out of range is reported with units', async () => {
    await expect(resolveSettings({ cli: new Map([['keepAliveTimeout', ['2h']]]), env: {}, cwd: '/' }))
      .rejects.toThrow(/keepAliveTimeout \(--keep-alive-timeout\) must be at most 1h, got 2h/);
    await expect(resolveSettings({ cli: new Map([['keepAliveTimeout', ['5000']]]), env: {}, cwd: '/' }))
      .rejects.toThrow(/must be at most 1h, got 5000s \(a bare number is seconds; for milliseconds write 5000ms\)/);
  });
});

describe('--timeout', () => {
  it.each([['0.5'], ['10ms'], ['999ms']])('%s is shorter than the heartbeat interval and refused, saying why', async (value) => {
    const r = await run(['pid.js', '--timeout', value, '--print-config']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/timeout \(--timeout\) must be 0 \(off\) or at least 1s, got [\d.]+m?s: workers send a heartbeat as seldom as every 1s/);
  });

  it('0 turns it off', async () => {
    const r = await run(['pid.js', '--timeout', '0', '--print-config']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^timeout +\s= "0" +\(cli\)$/m);
  });

  it('--print-config shows durations with their unit', async () => {
    const r = await run(['pid.js', '--print-config', '--timeout', '10'], { env: { TSGI_GRACEFUL_TIMEOUT: '90' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^timeout +\s= "10s" +\(cli\)$/m);
    expect(r.stdout).toMatch(/^gracefulTimeout +\s= "90s" +\(env\)$/m);
    expect(r.stdout).toMatch(/^keepAliveTimeout +\s= "5s" +\(default\)$/m);
  });

  it('--timeout 2 (seconds) keeps a healthy worker alive', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0', '--timeout', '2']);
    const first = (await get({ port })).body;
    await sleep(2500);
    expect((await get({ port })).body).toBe(first);
    expect(t.err()).not.toMatch(/WORKER TIMEOUT/);
    expect(t.workerPids()).toHaveLength(1);
  });

  it('TSGI_TIMEOUT=2 (seconds) in the environment does too', async () => {
    const { t, port } = await startServer(['pid.js', '--bind', '127.0.0.1:0'], { env: { TSGI_TIMEOUT: '2' } });
    await sleep(1500);
    expect((await get({ port })).status).toBe(200);
    expect(t.err()).not.toMatch(/WORKER TIMEOUT/);
    expect(t.workerPids()).toHaveLength(1);
  });
});
