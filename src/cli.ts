// The tsgi command: `tsgi MODULE[:EXPORT] [options]` serves an application with the
// pre-fork process manager; `tsgi top ADDR` shows a running server's workers.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from './cli/args';
import { helpText } from './cli/help';
import { ConfigError } from './settings/config-error';
import { resolveSettings } from './settings/sources';
import { SETTINGS } from './settings/registry';
import { settingsReference } from './settings/reference';
import { loadApp } from './app-loader';
import { describeExport } from './adapters/detect';
import { Arbiter } from './manager/arbiter';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './manager/exit-codes';
import { runTop } from './stats/top';

export function version(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function printConfig(values: Record<string, unknown>, sources: Record<string, string>): string {
  const width = Math.max(...SETTINGS.map((s) => s.name.length));
  return SETTINGS.map((s) => `${s.name.padEnd(width)} = ${JSON.stringify(values[s.name])}  (${sources[s.name]})`).join('\n') + '\n';
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const out = (text: string) => process.stdout.write(text);
  const err = (text: string) => process.stderr.write(text);
  if (argv[0] === 'top') {
    if (!argv[1] || argv[1].startsWith('-')) {
      err('usage: tsgi top ADDR   (the address given to --stats; http://HOST:PORT with --stats-http)\n');
      return EXIT_USAGE;
    }
    const rounds = argv.includes('--once') ? 1 : undefined;
    try {
      await runTop(argv[1], { rounds });
      return EXIT_OK;
    } catch (e) {
      err(`tsgi top: ${(e as Error).message}\n`);
      return EXIT_FAILURE;
    }
  }
  try {
    const args = parseArgs(argv);
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
    if (args.actions.has('print-config')) {
      if (args.app) out(`app = ${JSON.stringify(args.app)}\n`);
      out(printConfig(resolved.values, resolved.sources));
      return EXIT_OK;
    }
    if (!args.app) throw new ConfigError('no application given: tsgi MODULE[:EXPORT] [options], e.g. tsgi app.js:app (see tsgi --help)');
    if (args.actions.has('check')) {
      let detected: string;
      try {
        const d = describeExport(await loadApp(args.app, cwd), String(resolved.values.interface ?? 'auto'), args.app);
        detected = `${d.kind}, interface ${d.interface}: ${d.why}`;
      } catch (e) {
        err(`tsgi: ${args.app}: ${(e as Error).message}\n`);
        return EXIT_FAILURE;
      }
      out(`tsgi: ${args.app}: the application loads (${detected})\n`);
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
