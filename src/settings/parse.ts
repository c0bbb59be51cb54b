// Turns the text of a command-line value or a TSGI_* environment variable into a
// setting's typed value. Config files give typed values, but may use the same strings.
import { checkValue, type Setting, type SettingValue } from './setting';
import { ConfigError } from './config-error';
import { BARE_DURATION_UNIT_MS, parseBytes, parseDuration } from './units';

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
      value = parseBytes(raw);
      if (value === undefined) throw bad("a size such as 65536, '64KB' or '10MB'");
      break;
    case 'duration':
      // A bare number is seconds, as in Gunicorn and uWSGI: --timeout 30 is 30 seconds.
      value = parseDuration(raw);
      if (value === undefined) throw bad("a duration: seconds such as 30 or 1.5, or text such as '500ms', '30s' or '5m'");
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

/**
 * Accepts a value from a config file: strings are parsed like the command line, and a
 * number for a duration is seconds (as on the command line); other typed values are
 * taken as they are.
 */
export function coerceConfigValue(setting: Setting, value: unknown, origin: string): SettingValue {
  let v = value;
  if (setting.type === 'duration' && typeof v === 'number' && Number.isFinite(v)) v = Math.round(v * BARE_DURATION_UNIT_MS);
  if (typeof v === 'string' && setting.type !== 'string' && setting.type !== 'list') v = parseSettingString(setting, v, origin);
  if (typeof v === 'string' && setting.type === 'list') v = [v];
  return validated(setting, v, origin);
}

export function validated(setting: Setting, value: unknown, origin: string): SettingValue {
  const problem = checkValue(setting, value);
  if (problem) throw new ConfigError(`${origin}: ${problem}`);
  return value as SettingValue;
}
