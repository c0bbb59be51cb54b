// The shape of one setting. Every setting of tsgi is declared once with this shape; the
// embedding options, CLI flags, TSGI_* environment variables, config-file keys and the
// settings reference page are all derived from the declarations.
import { formatDuration } from './units';

export type SettingType =
  | 'int'       // a whole number
  | 'bytes'     // a whole number of bytes; strings may say '64KB', '10MB', '1GB' (powers of 1024)
  | 'duration'  // held in milliseconds; on the command line, in TSGI_* variables and in
                //   config files a bare number is seconds, and text may say '500ms', '30s', '5m'
  | 'string'
  | 'boolean'
  | 'list';     // of strings; repeatable on the command line

export type SettingValue = number | string | boolean | string[] | undefined;

export interface Setting<T extends SettingValue = SettingValue> {
  /** camelCase: the embedding option and the config-file key, e.g. 'maxBodySize'. */
  readonly name: string;
  /** Groups the reference page and the --help output: 'server', 'limits', 'workers', 'logging', … */
  readonly section: string;
  readonly type: SettingType;
  readonly default: T;
  /** The command-line flag, e.g. '--max-body-size'; derived from name when omitted. */
  readonly cli: string;
  /** The environment variable, e.g. 'TSGI_MAX_BODY_SIZE'; derived from name when omitted. */
  readonly env: string;
  /** A one-letter command-line flag, e.g. '-w' for --workers; most settings have none. */
  readonly short?: string;
  /** One line for --help and the reference page. */
  readonly doc: string;
  readonly min?: number;
  readonly max?: number;
  /** Allowed values for a string setting. */
  readonly choices?: readonly string[];
  /** Extra validation; returns what is wrong, or undefined. */
  readonly validate?: (value: T) => string | undefined;
}

type Declaration<T extends SettingValue> = Omit<Setting<T>, 'cli' | 'env'> & { cli?: string; env?: string };

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/** Declares a setting, deriving its flag and environment variable from its name. */
export function defineSetting<T extends SettingValue>(decl: Declaration<T>): Setting<T> {
  return Object.freeze({
    ...decl,
    cli: decl.cli ?? '--' + kebab(decl.name),
    env: decl.env ?? 'TSGI_' + kebab(decl.name).replace(/-/g, '_').toUpperCase(),
  });
}

/** Checks an already-typed value (from embedding options or a config file); returns what is wrong, or undefined. */
export function checkValue(setting: Setting, value: unknown): string | undefined {
  const where = `${setting.name} (${setting.cli})`;
  switch (setting.type) {
    case 'duration': {
      if (typeof value !== 'number' || !Number.isInteger(value)) return `${where} must be a duration such as '30s' or '500ms', got ${JSON.stringify(value)}`;
      if (setting.min !== undefined && value < setting.min) return `${where} must be at least ${formatDuration(setting.min)}, got ${formatDuration(value)}`;
      if (setting.max !== undefined && value > setting.max) {
        // Most likely milliseconds written as a bare number, which is seconds.
        const ms = value % 1000 === 0 && value / 1000 <= setting.max ? ` (a bare number is seconds; for milliseconds write ${value / 1000}ms)` : '';
        return `${where} must be at most ${formatDuration(setting.max)}, got ${formatDuration(value)}${ms}`;
      }
      break;
    }
    case 'int':
    case 'bytes':
      if (typeof value !== 'number' || !Number.isInteger(value)) return `${where} must be a whole number, got ${JSON.stringify(value)}`;
      if (setting.min !== undefined && value < setting.min) return `${where} must be at least ${setting.min}, got ${value}`;
      if (setting.max !== undefined && value > setting.max) return `${where} must be at most ${setting.max}, got ${value}`;
      break;
    case 'string':
      if (typeof value !== 'string') return `${where} must be a string, got ${JSON.stringify(value)}`;
      if (setting.choices && !setting.choices.includes(value)) return `${where} must be one of ${setting.choices.join(', ')}, got ${JSON.stringify(value)}`;
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return `${where} must be true or false, got ${JSON.stringify(value)}`;
      break;
    case 'list':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return `${where} must be a list of strings`;
      break;
  }
  return setting.validate ? setting.validate(value as never) : undefined;
}
