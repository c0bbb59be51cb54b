// Reads the command line: the application (MODULE[:EXPORT]), actions such as --check,
// and raw setting values by name. Turning the raw values into typed ones is the
// settings resolver's job.
import { SETTINGS, settingByFlag } from '../settings/registry';
import { ConfigError } from '../settings/config-error';
import { didYouMean } from '../settings/suggest';

export const ACTIONS = ['help', 'version', 'check', 'print-config', 'settings-reference'] as const;
export type Action = (typeof ACTIONS)[number];

const SHORT: Record<string, string> = Object.fromEntries(SETTINGS.filter((s) => s.short).map((s) => [s.short, s.cli]));
const SHORT_ACTIONS: Record<string, Action> = { '-h': 'help', '-v': 'version' };

export interface ParsedArgs {
  /** The application, MODULE[:EXPORT]; undefined when not given. */
  app?: string;
  actions: Set<Action>;
  settings: Map<string, string[]>;
}

/**
 * `appendedFrom`: where arguments appended to an npm script start (see script-args.ts).
 * A list setting (--bind) given there replaces the values the script itself gave; given
 * several times there, all of them apply.
 */
export function parseArgs(argv: readonly string[], appendedFrom = 0): ParsedArgs {
  const out: ParsedArgs = { actions: new Set(), settings: new Map() };
  const replaced = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const at = i;
    let arg = argv[i];
    if (arg === '--') {
      if (argv[i + 1] !== undefined) setApp(out, argv[i + 1]);
      if (argv.length > i + 2) throw new ConfigError(`unexpected argument ${JSON.stringify(argv[i + 2])}`);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      setApp(out, arg);
      continue;
    }
    if (SHORT_ACTIONS[arg]) {
      out.actions.add(SHORT_ACTIONS[arg]);
      continue;
    }
    if (SHORT[arg]) arg = SHORT[arg];
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const action = ACTIONS.find((a) => '--' + a === arg);
    if (action) {
      if (inline !== undefined) throw new ConfigError(`${arg} takes no value`);
      out.actions.add(action);
      continue;
    }
    let setting = settingByFlag(arg);
    let negated = false;
    if (!setting && arg.startsWith('--no-')) {
      setting = settingByFlag('--' + arg.slice(5));
      negated = setting?.type === 'boolean';
      if (!negated) setting = undefined;
    }
    if (!setting) throw new ConfigError(`unknown option ${arg}${suggest(arg)}; see tsgi --help`);
    let raw: string;
    if (setting.type === 'boolean') {
      if (inline !== undefined && negated) throw new ConfigError(`${arg} takes no value`);
      raw = negated ? 'false' : inline ?? 'true';
    } else if (inline !== undefined) {
      raw = inline;
    } else {
      if (i + 1 >= argv.length) throw new ConfigError(`${arg} needs a value`);
      raw = argv[++i];
    }
    let list = out.settings.get(setting.name) ?? [];
    if (appendedFrom > 0 && at >= appendedFrom && !replaced.has(setting.name)) {
      replaced.add(setting.name);
      list = [];
    }
    list.push(raw);
    out.settings.set(setting.name, list);
  }
  return out;
}

function setApp(out: ParsedArgs, arg: string) {
  if (out.app !== undefined) throw new ConfigError(`one application only: got ${JSON.stringify(out.app)} and ${JSON.stringify(arg)}`);
  out.app = arg;
}

function suggest(flag: string): string {
  return didYouMean(flag, [...SETTINGS.map((s) => s.cli), ...ACTIONS.map((a) => '--' + a)]);
}
