// docs/cli.md carries every flag and short flag of the settings registry: its `tsgi --help`
// block is the generator's current output, the short flags are declared once (in the
// registry) and the real command accepts each of them.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../src/settings/registry';
import { HELP_END, HELP_START, helpBlock, withHelpBlock } from '../src/cli/help-doc';
import { killAll, run } from './manager-harness';

const ROOT = path.join(__dirname, '..');
const cliDoc = fs.readFileSync(path.join(ROOT, 'docs', 'cli.md'), 'utf8');
const settingsDoc = fs.readFileSync(path.join(ROOT, 'docs', 'settings.md'), 'utf8');

afterAll(killAll);

describe('docs/cli.md', () => {
  it('its --help block is the current output of the generator (regenerate with `npm run docs`)', () => {
    expect(withHelpBlock(cliDoc)).toBe(cliDoc);
    const lines = cliDoc.split('\n');
    const between = lines.slice(lines.indexOf(HELP_START) + 1, lines.indexOf(HELP_END)).join('\n');
    expect(between).toBe(helpBlock());
  });

  it('names every flag and every short flag of the registry, and so do --help and docs/settings.md', async () => {
    const shorts = SETTINGS.filter((s) => s.short);
    expect(shorts.map((s) => `${s.short} ${s.cli}`).sort()).toEqual(['-b --bind', '-c --config', '-t --timeout', '-w --workers']);
    const help = (await run(['--help'])).stdout;
    for (const s of SETTINGS) {
      expect(cliDoc, s.cli).toMatch(new RegExp(`(^|[\\s\`(,])${s.cli}([\\s\`=,)]|$)`, 'm'));
      expect(help, s.cli).toContain(s.cli);
      expect(settingsDoc, s.cli).toContain('`' + s.cli + '`');
      if (!s.short) continue;
      expect(cliDoc, s.short).toContain(`${s.short}, ${s.cli}`);
      expect(cliDoc, s.short).toContain(`\`${s.short}\` (\`${s.cli}\`)`);
      expect(help, s.short).toContain(`${s.short}, ${s.cli}`);
      expect(settingsDoc, s.short).toContain(`\`${s.short}\`, \`${s.cli}\``);
    }
  });

  it('every short flag of the registry works on the real command', async () => {
    const values: Record<string, string> = { bind: '127.0.0.1:8123', workers: '3', timeout: '7s', config: 'none.json' };
    const args = SETTINGS.filter((s) => s.short && s.name !== 'config').flatMap((s) => [s.short!, values[s.name]]);
    const r = await run(['pid.js', ...args, '--print-config']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^bind += \["127\.0\.0\.1:8123"\]  \(cli\)$/m);
    expect(r.stdout).toMatch(/^workers += 3  \(cli\)$/m);
    expect(r.stdout).toMatch(/^timeout += "7s"  \(cli\)$/m);
    // -c reads the config file it names (here one that does not exist).
    const c = await run(['pid.js', '-c', 'none.json', '--print-config']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('none.json');
  });
});
