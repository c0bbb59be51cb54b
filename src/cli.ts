// The tsgi command: `tsgi MODULE[:EXPORT] [options]` serves an application with the
// pre-fork process manager; `tsgi top ADDR` shows a running server's workers.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from './cli/args';
import { appendedArgsStart } from './cli/script-args';
import { helpText } from './cli/help';
import { ConfigError } from './settings/config-error';
import { resolveSettings } from './settings/sources';
import { SETTINGS } from './settings/registry';
import { settingsReference } from './settings/reference';
import { formatDuration } from './settings/units';
import { checkApp } from './cli/check';
import { Arbiter } from './manager/arbiter';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './manager/exit-codes';
import { topMain } from './stats/top-command';
import { benchMain } from './cli/bench-command';

export function version(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function printConfig(values: Record<string, unknown>, sources: Record<string, string>): string {
  const width = Math.max(...SETTINGS.map((s) => s.name.length));
  // Durations are shown with their unit ("30s"), as a bare number would read as seconds.
  const shown = (name: string, type: string) => JSON.stringify(type === 'duration' ? formatDuration(values[name] as number) : values[name]);
  return SETTINGS.map((s) => `${s.name.padEnd(width)} = ${shown(s.name, s.type)}  (${sources[s.name]})`).join('\n') + '\n';
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const out = (text: string) => process.stdout.write(text);
  const err = (text: string) => process.stderr.write(text);
  if (argv[0] === 'top') return topMain(argv.slice(1), { out, err });
  if (argv[0] === 'bench') return benchMain(argv.slice(1), { out, err });
  try {
    const args = parseArgs(argv, appendedArgsStart(argv, process.env));
    if (args.actions.has('help')) {
      out(helpText(version()));
      return EXIT_OK;
    }
    if (args.actions.has('version')) {
      out(`tsgi ${version()} (node ${process.version})\n`);
      return EXIT_OK;
    }
    if (args.actions.has('settings-reference')) {
      out(settingsReference() + '\n');
      return EXIT_OK;
    }
    const cwd = process.cwd();
    const resolved = await resolveSettings({ cli: args.settings, env: process.env, cwd });
    for (const w of resolved.warnings ?? []) err(`tsgi: warning: ${w}\n`);
    if (args.actions.has('print-config')) {
      if (args.app) out(`app = ${JSON.stringify(args.app)}\n`);
      out(printConfig(resolved.values, resolved.sources));
      return EXIT_OK;
    }
    if (!args.app) throw new ConfigError('no application given: tsgi MODULE[:EXPORT] [options], e.g. tsgi app.js:app (see tsgi --help)');
    if (args.actions.has('check')) {
      let result;
      try {
        result = await checkApp(args.app, cwd, String(resolved.values.interface ?? 'auto'));
      } catch (e) {
        err(`tsgi: ${args.app}: ${(e as Error).message}\n`);
        return EXIT_FAILURE;
      }
      if (!result.ok) {
        err(`tsgi: ${args.app}: ${result.message}\n`);
        return EXIT_FAILURE;
      }
      out(`tsgi: ${args.app}: ${result.message}\n`);
      return EXIT_OK;
    }
    const arbiter = new Arbiter({ app: args.app, cwd, inputs: { cli: args.settings, env: process.env, cwd }, resolved, version: version() });
    return await arbiter.run();
  } catch (e) {
    if (e instanceof ConfigError || (e as { code?: string }).code === 'TSGI_ERR_INVALID_BIND') {
      err(`tsgi: error: ${(e as Error).message}\n`);
      return EXIT_USAGE;
    }
    err(`tsgi: ${(e as Error)?.stack ?? e}\n`);
    return EXIT_FAILURE;
  }
}

if (require.main === module) {
  void main().then((code) => process.exit(code));
}
