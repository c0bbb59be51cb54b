// Sources, highest first: command line, TSGI_* environment, config file, default.
// Checked for every setting in the registry, each with a value of its own type.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../src/settings/registry';
import type { Setting } from '../src/settings/setting';
import { resolveSettings } from '../src/settings/sources';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-precedence-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An existing file for the settings that name one (the TLS files). */
function pemFile(n: number): string {
  const file = path.join(dir, `file${n}.pem`);
  fs.writeFileSync(file, '-----BEGIN CERTIFICATE-----\n');
  return file;
}

/**
 * Three distinct valid values for a setting: as text (for the CLI and env), as the config
 * file gives it (`config`, when not the same as the resolved value) and as resolved (`value`).
 */
function samples(s: Setting): Array<{ text: string; value: unknown; config?: unknown }> {
  switch (s.type) {
    case 'duration': {
      // A bare number is seconds on the command line, in the environment and in config files.
      const base = Math.max(Math.ceil((s.min ?? 0) / 1000), 1);
      return [base + 1, base + 2, base + 3].map((n) => ({ text: String(n), config: n, value: n * 1000 }));
    }
    case 'boolean':
      return s.default ? [{ text: 'false', value: false }, { text: 'true', value: true }, { text: 'false', value: false }]
        : [{ text: 'true', value: true }, { text: 'false', value: false }, { text: 'true', value: true }];
    case 'list':
      if (s.name === 'bind') return [1, 2, 3].map((n) => ({ text: `127.0.0.1:${9000 + n}`, value: [`127.0.0.1:${9000 + n}`] }));
      if (s.name === 'sni') return [1, 2, 3].map((n) => ({ text: `h${n}.example=${pemFile(n)}`, value: [`h${n}.example=${pemFile(n)}`] }));
      if (s.name.endsWith('AllowIps')) return [1, 2, 3].map((n) => ({ text: `10.0.${n}.0/24`, value: [`10.0.${n}.0/24`] }));
      return [1, 2, 3].map((n) => ({ text: `extra${n}.js`, value: [`extra${n}.js`] }));
    case 'string': {
      if (s.choices) {
        const others = s.choices.filter((c) => c !== s.default);
        return [0, 1, 2].map((i) => ({ text: others[i % others.length], value: others[i % others.length] }));
      }
      if (['certfile', 'keyfile', 'caCerts'].includes(s.name)) return [1, 2, 3].map((n) => ({ text: pemFile(n), value: pemFile(n) }));
      if (s.name === 'healthPath') return ['/a', '/b', '/c'].map((m) => ({ text: m, value: m }));
      if (s.name === 'unixSocketMode') return ['600', '640', '660'].map((m) => ({ text: m, value: m }));
      if (s.name === 'stats') return ['127.0.0.1:9191', '127.0.0.1:9192', '127.0.0.1:9193'].map((m) => ({ text: m, value: m }));
      if (s.name === 'scriptName') return ['/a', '/b', '/c'].map((m) => ({ text: m, value: m }));
      if (s.name === 'accessLogFormat') return ['%(h)s', '%(r)s', 'json'].map((m) => ({ text: m, value: m }));
      return ['one', 'two', 'three'].map((m) => ({ text: m, value: m }));
    }
    default: {
      const base = Math.max(s.min ?? 0, 1);
      return [base + 1, base + 2, base + 3].map((n) => ({ text: String(n), value: n }));
    }
  }
}

async function resolveWith(s: Setting, layers: { config?: unknown; env?: string; cli?: string }) {
  const file = path.join(dir, `${s.name}.json`);
  fs.writeFileSync(file, JSON.stringify(layers.config === undefined ? {} : { [s.name]: layers.config }));
  const env: NodeJS.ProcessEnv = layers.env === undefined ? {} : { [s.env]: layers.env };
  const cli = new Map<string, string[]>([['config', [file]]]);
  if (layers.cli !== undefined) cli.set(s.name, [layers.cli]);
  return resolveSettings({ cli, env, cwd: dir });
}

describe.each(SETTINGS.filter((s) => s.name !== 'config').map((s) => [s.name, s] as const))('precedence of %s', (_name, s) => {
  const [c, e, l] = samples(s);
  const inConfig = 'config' in c ? c.config : c.value;
  it('default, then config file, then environment, then command line', async () => {
    let r = await resolveWith(s, {});
    expect(r.values[s.name]).toEqual(s.default);
    expect(r.sources[s.name]).toBe('default');
    r = await resolveWith(s, { config: inConfig });
    expect([r.values[s.name], r.sources[s.name]]).toEqual([c.value, 'config']);
    r = await resolveWith(s, { config: inConfig, env: e.text });
    expect([r.values[s.name], r.sources[s.name]]).toEqual([e.value, 'env']);
    r = await resolveWith(s, { config: inConfig, env: e.text, cli: l.text });
    expect([r.values[s.name], r.sources[s.name]]).toEqual([l.value, 'cli']);
    r = await resolveWith(s, { config: inConfig, cli: l.text });
    expect([r.values[s.name], r.sources[s.name]]).toEqual([l.value, 'cli']);
  });
});

describe('config file', () => {
  it('is found as tsgi.config.js in the working directory, and may export a function', async () => {
    const cwd = fs.mkdtempSync(path.join(dir, 'js-'));
    fs.writeFileSync(path.join(cwd, 'tsgi.config.js'), 'module.exports = () => ({ workers: 3, timeout: "10s" });\n');
    const r = await resolveSettings({ cli: new Map(), env: {}, cwd });
    expect(r.values.workers).toBe(3);
    expect(r.values.timeout).toBe(10_000);
    expect(r.configFile).toBe(path.join(cwd, 'tsgi.config.js'));
  });

  it('can be named by TSGI_CONFIG', async () => {
    const file = path.join(dir, 'named.json');
    fs.writeFileSync(file, '{"workers": 5}');
    const r = await resolveSettings({ cli: new Map(), env: { TSGI_CONFIG: file }, cwd: dir });
    expect(r.values.workers).toBe(5);
  });

  it('rejects unknown keys and bad values with the file named', async () => {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, '{"wokrers": 5}');
    await expect(resolveSettings({ cli: new Map([['config', [file]]]), env: {}, cwd: dir })).rejects.toThrow(/bad\.json: unknown setting "wokrers"/);
    fs.writeFileSync(file, '{"workers": 0}');
    await expect(resolveSettings({ cli: new Map([['config', [file]]]), env: {}, cwd: dir })).rejects.toThrow(/bad\.json: workers \(--workers\) must be at least 1/);
  });

  it('a missing --config file is an error', async () => {
    await expect(resolveSettings({ cli: new Map([['config', ['nope.json']]]), env: {}, cwd: dir })).rejects.toThrow(/does not exist/);
  });
});

describe('list settings', () => {
  it('repeat on the command line and are comma-separated in the environment', async () => {
    let r = await resolveSettings({ cli: new Map([['bind', ['127.0.0.1:1', 'unix:/tmp/a.sock']]]), env: {}, cwd: dir });
    expect(r.values.bind).toEqual(['127.0.0.1:1', 'unix:/tmp/a.sock']);
    r = await resolveSettings({ cli: new Map(), env: { TSGI_BIND: '127.0.0.1:1,[::]:2' }, cwd: dir });
    expect(r.values.bind).toEqual(['127.0.0.1:1', '[::]:2']);
  });

  it('a malformed bind is refused with the reason', async () => {
    await expect(resolveSettings({ cli: new Map([['bind', ['localhost']]]), env: {}, cwd: dir })).rejects.toThrow(/port is missing/);
  });
});
