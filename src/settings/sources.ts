// Decides every setting's value. Sources, highest first: the command line, TSGI_*
// environment variables, the config file, the declared default. This is the only
// place precedence is decided. A setting given in a source replaces the value of every
// lower source (a --bind on the command line replaces the config file's binds); PORT
// from the environment stands for --bind 0.0.0.0:$PORT when no bind is given anywhere.
import fs from 'node:fs';
import path from 'node:path';
import type { SettingValue } from './setting';
import { SETTINGS, settingByName, type SettingValues } from './registry';
import { parseBind } from '../bind';
import { coerceConfigValue, parseSettingString, validated } from './parse';
import { ConfigError } from './config-error';
import { importModule } from '../app-loader';
import { didYouMean } from './suggest';

export type SettingSource = 'cli' | 'env' | 'config' | 'default';

export interface SettingInputs {
  /** Raw command-line values by setting name (a list setting may be given several times). */
  cli: ReadonlyMap<string, readonly string[]>;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface ResolvedSettings {
  values: SettingValues;
  sources: Readonly<Record<string, SettingSource>>;
  /** The config file that was read, if any. */
  configFile?: string;
  /** What was ignored, for the user to see (e.g. an unknown TSGI_* variable). */
  warnings?: readonly string[];
}

/** TSGI_* variables that are not settings: build and debugging switches read elsewhere. */
const OTHER_ENV = new Set(['TSGI_WORKER_CHDIR', 'TSGI_NO_SENDFILE', 'TSGI_NATIVE_ADDON', 'TSGI_SANITIZE', 'TSGI_PARSER_NO_SIMD', 'TSGI_ADDON_SOURCES', 'TSGI_TEST_ROOT', 'TSGI_TEST_FILE']);

/** The config files looked for in the working directory, in this order; the first found is read. */
export const CONFIG_NAMES = [
  'tsgi.config.js', 'tsgi.config.mjs', 'tsgi.config.cjs',
  'tsgi.config.ts', 'tsgi.config.mts', 'tsgi.config.cts',
  'tsgi.config.json',
];

/** Loads a JavaScript or TypeScript config file anew (a reload must see its changes), as the application is loaded. */
async function importFresh(file: string): Promise<unknown> {
  const mod = await importModule(file, true);
  // A CommonJS module.exports, an ES module's default export, or its named exports.
  if ('default' in mod && mod.default !== undefined) return mod.default;
  return mod;
}

async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let data: unknown;
  try {
    if (file.endsWith('.json')) {
      data = JSON.parse(fs.readFileSync(file, 'utf8'));
    } else {
      data = await importFresh(file);
      if (typeof data === 'function') data = await (data as () => unknown)();
    }
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ConfigError(`config file ${file} must export an object of settings`);
  return data as Record<string, unknown>;
}

function findConfigFile(explicit: string, cwd: string): string | undefined {
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    if (!fs.existsSync(file)) throw new ConfigError(`config file ${file} does not exist`);
    return file;
  }
  for (const name of CONFIG_NAMES) {
    const file = path.join(cwd, name);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

function fromCli(name: string, raws: readonly string[]): SettingValue {
  const s = settingByName(name)!;
  const origin = 'command line';
  if (s.type === 'list') return validated(s, raws.flatMap((r) => (parseSettingString(s, r, origin) as string[])), origin);
  return validated(s, parseSettingString(s, raws[raws.length - 1], origin), origin);
}

/** Applies precedence to the inputs, validates every value, and freezes the result. */
export async function resolveSettings(inputs: SettingInputs): Promise<ResolvedSettings> {
  const values: Record<string, unknown> = {};
  const sources: Record<string, SettingSource> = {};
  for (const s of SETTINGS) {
    values[s.name] = s.default;
    sources[s.name] = 'default';
  }
  const envValue = (name: string) => {
    const s = settingByName(name)!;
    const raw = inputs.env[s.env];
    return raw === undefined ? undefined : validated(s, parseSettingString(s, raw, `environment ${s.env}`), `environment ${s.env}`);
  };

  // The config file's own location comes from the command line or the environment.
  const configPath = inputs.cli.has('config') ? (fromCli('config', inputs.cli.get('config')!) as string) : ((envValue('config') as string | undefined) ?? '');
  const configFile = findConfigFile(configPath, inputs.cwd);
  if (configFile) {
    const data = await readConfigFile(configFile);
    for (const [key, raw] of Object.entries(data)) {
      const s = settingByName(key);
      if (!s) throw new ConfigError(`config file ${configFile}: unknown setting ${JSON.stringify(key)}${didYouMean(key, SETTINGS.map((x) => x.name))}; see tsgi --help or docs/settings.md`);
      if (s.name === 'config') throw new ConfigError(`config file ${configFile}: 'config' can only be given on the command line or as ${s.env}`);
      values[key] = coerceConfigValue(s, raw, `config file ${configFile}`);
      sources[key] = 'config';
    }
  }
  const warnings: string[] = [];
  const known = new Set(SETTINGS.map((s) => s.env));
  for (const name of Object.keys(inputs.env)) {
    if (!name.startsWith('TSGI_') || known.has(name) || OTHER_ENV.has(name) || name.startsWith('TSGI_ERR')) continue;
    warnings.push(`environment ${name} is not a setting and is ignored${didYouMean(name, known)}`);
  }
  for (const s of SETTINGS) {
    const v = envValue(s.name);
    if (v !== undefined) {
      values[s.name] = v;
      sources[s.name] = 'env';
    }
  }
  for (const [name, raws] of inputs.cli) {
    if (!settingByName(name)) throw new ConfigError(`unknown setting ${name}`);
    values[name] = fromCli(name, raws);
    sources[name] = 'cli';
  }
  // PaaS convention (Heroku, Cloud Run, …; Gunicorn honours it too): with no bind given
  // anywhere, PORT from the environment means every address on that port.
  const port = inputs.env.PORT;
  if (sources.bind === 'default' && port !== undefined && port.trim() !== '') {
    if (!/^\s*\d{1,5}\s*$/.test(port) || Number(port) > 65535) {
      throw new ConfigError(`environment PORT: expected a port number (0-65535), got ${JSON.stringify(port)}; unset it or give --bind`);
    }
    values.bind = [`0.0.0.0:${Number(port)}`];
    sources.bind = 'env';
  }
  if (configFile) values.config = configFile;
  checkTogether(values);
  for (const v of Object.values(values)) if (Array.isArray(v)) Object.freeze(v);
  return { values: Object.freeze(values) as SettingValues, sources: Object.freeze(sources), configFile, warnings };
}

/** Settings that only make sense together: https binds need a certificate, client certificates a CA. */
function checkTogether(values: Record<string, unknown>): void {
  const https = (values.bind as string[]).find((b) => parseBind(b).tls);
  if (https === undefined) return;
  if (values.certfile === '') {
    throw new ConfigError(`--bind ${https} is https and needs a certificate: give --certfile CERT.pem (and --keyfile KEY.pem)`);
  }
  if (values.certReqs !== 'none' && values.caCerts === '') {
    throw new ConfigError(`--cert-reqs ${String(values.certReqs)} needs --ca-certs: the CA certificates client certificates are verified against`);
  }
}
