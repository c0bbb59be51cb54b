// Turns the text of a command-line value or a TSGI_* environment variable into a
// setting's typed value. Config files give typed values, but may use the same strings.
import { checkValue, type Setting, type SettingValue } from './setting';
import { ConfigError } from './config-error';

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };
const DURATION_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function withUnit(raw: string, units: Record<string, number>): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(raw);
  if (!m) return undefined;
  const unit = units[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const n = Number(m[1]) * unit;
  return Number.isFinite(n) ? Math.round(n) : undefined;
}

/** Parses `raw` for `setting`; `origin` names where the text came from, for the error. */
export function parseSettingString(setting: Setting, raw: string, origin: string): SettingValue {
  const bad = (what: string) => new ConfigError(`${origin}: ${setting.cli} expects ${what}, got ${JSON.stringify(raw)}`);
  let value: SettingValue;
  switch (setting.type) {
    case 'int':
      if (!/^\s*-?\d+\s*$/.test(raw)) throw bad('a whole number');
      value = Number(raw);
      break;
    case 'bytes':
      value = withUnit(raw, BYTE_UNITS);
      if (value === undefined) throw bad("a size such as 65536, '64KB' or '10MB'");
      break;
    case 'duration':
      value = withUnit(raw, DURATION_UNITS);
      if (value === undefined) throw bad("a duration such as 500 (ms), '500ms', '30s' or '5m'");
      break;
    case 'boolean': {
      const t = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(t)) value = true;
      else if (['0', 'false', 'no', 'off', ''].includes(t)) value = false;
      else throw bad('true or false');
      break;
    }
    case 'list':
      // One value from the command line; the environment separates several with commas.
      value = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
      break;
    default:
      value = raw;
  }
  return value;
}

/** Accepts a value from a config file: typed values as they are, strings parsed like the command line. */
export function coerceConfigValue(setting: Setting, value: unknown, origin: string): SettingValue {
  let v = value;
  if (typeof v === 'string' && setting.type !== 'string' && setting.type !== 'list') v = parseSettingString(setting, v, origin);
  if (typeof v === 'string' && setting.type === 'list') v = [v];
  return validated(setting, v, origin);
}

export function validated(setting: Setting, value: unknown, origin: string): SettingValue {
  const problem = checkValue(setting, value);
  if (problem) throw new ConfigError(`${origin}: ${problem}`);
  return value as SettingValue;
}
