// The registry declares each setting once; flags, environment variables, --help and the
// reference page are all derived from it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS, settingByFlag, settingByName } from '../src/settings/registry';
import { settingsReference } from '../src/settings/reference';
import { helpText } from '../src/cli/help';
import { checkValue } from '../src/settings/setting';
import { parseSettingString } from '../src/settings/parse';

describe('settings registry', () => {
  it('gives every setting a unique name, flag and environment variable', () => {
    for (const key of ['name', 'cli', 'env'] as const) {
      const values = SETTINGS.map((s) => s[key]);
      expect(new Set(values).size, key).toBe(values.length);
    }
    for (const s of SETTINGS) {
      expect(s.cli).toMatch(/^--[a-z][a-z0-9-]*$/);
      expect(s.env).toMatch(/^TSGI_[A-Z0-9_]+$/);
      expect(s.doc.length).toBeGreaterThan(10);
      expect(settingByName(s.name)).toBe(s);
      expect(settingByFlag(s.cli)).toBe(s);
    }
  });

  it('has defaults that pass their own validation', () => {
    for (const s of SETTINGS) expect(checkValue(s, s.default), s.name).toBeUndefined();
  });

  it('includes the process manager settings the issue names', () => {
    for (const name of ['bind', 'backlog', 'workers', 'threads', 'timeout', 'harakiri', 'maxRequests', 'maxRequestsJitter',
      'reloadOnRss', 'gracefulTimeout', 'pidfile', 'user', 'group', 'accessLog', 'accessLogFormat', 'errorLog', 'stats', 'statsHttp', 'reload', 'config']) {
      expect(settingByName(name), name).toBeDefined();
    }
    expect(settingByName('backlog')!.default).toBe(2048);
    expect(settingByName('workers')!.default).toBe(1);
  });

  it('lists every setting in --help', () => {
    const help = helpText('0.0.0');
    for (const s of SETTINGS) {
      expect(help).toContain(s.cli);
      expect(help).toContain(s.env);
    }
  });

  it('docs/settings.md is the current output of the generator', () => {
    const file = fs.readFileSync(path.join(__dirname, '..', 'docs', 'settings.md'), 'utf8');
    expect(file.trim()).toBe(settingsReference().trim());
    for (const s of SETTINGS) expect(file).toContain('`' + s.cli + '`');
  });
});

describe('setting values from text', () => {
  const by = (n: string) => settingByName(n)!;
  it('reads durations, sizes, booleans and lists', () => {
    expect(parseSettingString(by('timeout'), '30s', 't')).toBe(30_000);
    expect(parseSettingString(by('timeout'), '1500ms', 't')).toBe(1500);
    expect(parseSettingString(by('timeout'), '2m', 't')).toBe(120_000);
    expect(parseSettingString(by('timeout'), '1.5s', 't')).toBe(1500);
    expect(parseSettingString(by('maxBodySize'), '10MB', 't')).toBe(10 * 1024 * 1024);
    expect(parseSettingString(by('statsHttp'), 'yes', 't')).toBe(true);
    expect(parseSettingString(by('statsHttp'), '0', 't')).toBe(false);
    expect(parseSettingString(by('bind'), 'a:1, unix:/tmp/x', 't')).toEqual(['a:1', 'unix:/tmp/x']);
  });

  it('rejects malformed text with a message naming the flag', () => {
    expect(() => parseSettingString(by('workers'), 'four', 'command line')).toThrow(/--workers expects a whole number/);
    expect(() => parseSettingString(by('timeout'), '30 fortnights', 'command line')).toThrow(/--timeout expects a duration/);
    expect(() => parseSettingString(by('statsHttp'), 'maybe', 'command line')).toThrow(/true or false/);
  });
});

describe('SettingValues is derived from the declarations', () => {
  it('a misspelt or undeclared name, or a value of the wrong type, fails to compile', async () => {
    const ts = await import('typescript');
    const file = path.join(__dirname, 'fixtures', 'types', 'setting-values.ts');
    const program = ts.createProgram([file], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, types: ['node'], skipLibCheck: true, esModuleInterop: true });
    const messages = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    // Every @ts-expect-error in the fixture found its error, and nothing else is wrong.
    expect(messages).toEqual([]);
  }, 60_000);

  it('each setting is exported under its own name, so the derived type is keyed by the name', () => {
    expect(settingByName('interface')?.cli).toBe('--interface');
    expect(SETTINGS.every((s) => settingByName(s.name) === s)).toBe(true);
  });
});
