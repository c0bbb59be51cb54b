// Every setting of tsgi, in one list. The command line, the TSGI_* environment
// variables, config-file keys, --help and docs/settings.md are all derived from it.
import type { Setting } from './setting';
import * as sockets from './sockets';
import * as workers from './workers';
import * as processSettings from './process';
import * as logging from './logging';
import * as stats from './stats';
import * as development from './development';
import * as server from './server';
import * as limits from './limits';
import * as tls from './tls';
import * as proxy from './proxy';

/** The order sections appear in --help and the reference page. */
export const SECTIONS = ['sockets', 'TLS', 'proxy', 'workers', 'server', 'limits', 'logging', 'stats', 'process', 'development'];

function isSetting(v: unknown): v is Setting {
  return typeof v === 'object' && v !== null && typeof (v as Setting).name === 'string'
    && typeof (v as Setting).cli === 'string' && typeof (v as Setting).env === 'string' && 'default' in v;
}

// Embedding options that the process manager decides itself: the CLI listens where
// --bind says, and sets wsgi.multiprocess / wsgi.multithread from --workers / --threads.
export const EMBEDDING_ONLY = new Set(['host', 'port', 'multiprocess', 'multithread']);

// Settings whose name is not a valid export name: export name → setting name.
const EXPORT_ALIASES = { appInterface: 'interface' } as const;

function collect(modules: object[]): readonly Setting[] {
  const list: Setting[] = [];
  const seen = new Map<string, Setting>();
  for (const mod of modules) {
    for (const [exported, v] of Object.entries(mod)) {
      if (!isSetting(v)) continue;
      // SettingValues takes each name from the export: they must agree.
      const expected = (EXPORT_ALIASES as Record<string, string>)[exported] ?? exported;
      if (v.name !== expected) throw new Error(`setting ${v.name} is exported as ${exported}; export it under its own name (or list it in EXPORT_ALIASES)`);
      if (EMBEDDING_ONLY.has(v.name)) continue;
      for (const key of [v.name, v.cli, v.env, ...(v.short ? [v.short] : [])]) {
        const other = seen.get(key);
        if (other && other !== v) throw new Error(`settings ${other.name} and ${v.name} both claim ${key}`);
        seen.set(key, v);
      }
      if (!list.includes(v)) list.push(v);
    }
  }
  const rank = (s: Setting) => (SECTIONS.indexOf(s.section) + SECTIONS.length + 1) % (SECTIONS.length + 1);
  return Object.freeze(list.sort((a, b) => rank(a) - rank(b)));
}

export const SETTINGS: readonly Setting[] = collect([sockets, tls, proxy, workers, server, limits, processSettings, logging, stats, development]);

const byName = new Map(SETTINGS.map((s) => [s.name, s]));
const byCli = new Map(SETTINGS.map((s) => [s.cli, s]));

export function settingByName(name: string): Setting | undefined {
  return byName.get(name);
}

export function settingByFlag(flag: string): Setting | undefined {
  return byCli.get(flag);
}

/** The value type a declaration holds (lists read-only). */
type ValueOf<S> = S extends { readonly default: infer T } ? (T extends string[] ? readonly string[] : T) : never;
/** One settings module's values, by export name (collect() checks that it is the setting's name). */
type ModuleValues<M> = { readonly [K in keyof M as M[K] extends { readonly cli: string; readonly env: string } ? K : never]: ValueOf<M[K]> };
type Declared = ModuleValues<typeof sockets> & ModuleValues<typeof workers> & ModuleValues<typeof server>
  & ModuleValues<typeof limits> & ModuleValues<typeof processSettings> & ModuleValues<typeof logging>
  & ModuleValues<typeof stats> & ModuleValues<typeof development> & ModuleValues<typeof tls>
  & ModuleValues<typeof proxy>;

/**
 * The settings' values after precedence; frozen. Derived from the declarations, so a
 * misspelt setting name does not compile.
 */
export type SettingValues = Omit<Declared, 'host' | 'port' | 'multiprocess' | 'multithread' | keyof typeof EXPORT_ALIASES>
  & { readonly interface: ValueOf<typeof workers.appInterface> };

export function defaults(): SettingValues {
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) out[s.name] = s.default;
  return Object.freeze(out) as SettingValues;
}
