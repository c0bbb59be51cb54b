// Loads the application named on the command line: MODULE[:EXPORT]. MODULE is a file
// (.js, .mjs, .cjs or .ts); EXPORT is an export name, dotted for a nested property
// ('handlers.app'), and may end in '()' to call a factory that returns the app.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TsgiError } from './errors';
import { isApplicationExport } from './adapters/shape';

export class AppLoadError extends TsgiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TSGI_ERR_APP_LOAD', message, options);
  }
}

export interface AppSpec {
  /** Absolute path of the module file. */
  file: string;
  /** MODULE as the user wrote it, for messages. */
  module: string;
  /** Property path of the export, e.g. ['app'] or ['handlers', 'app']. */
  exportPath: string[];
  /** Whether the export is a factory to call. */
  call: boolean;
  /** True when EXPORT was left out (so `app` is assumed, with the default export as fallback). */
  implicit: boolean;
}

const EXPORT_RE = /^([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)(\(\))?$/;
const EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

export function parseAppSpec(spec: string, cwd: string): AppSpec {
  let modulePart = spec;
  let exportPart = '';
  const colon = spec.lastIndexOf(':');
  if (colon > 0 && EXPORT_RE.test(spec.slice(colon + 1))) {
    modulePart = spec.slice(0, colon);
    exportPart = spec.slice(colon + 1);
  } else if (colon > 0 && colon < spec.length - 1 && !spec.slice(colon + 1).includes('/')) {
    throw new AppLoadError(`cannot read the export name in ${JSON.stringify(spec)}: expected MODULE[:EXPORT], e.g. app.js:app`);
  }
  if (!modulePart) throw new AppLoadError(`no module in ${JSON.stringify(spec)}: expected MODULE[:EXPORT], e.g. app.js:app`);
  let file = path.resolve(cwd, modulePart);
  if (!fs.existsSync(file)) {
    const found = EXTENSIONS.map((ext) => file + ext).find((f) => fs.existsSync(f));
    if (!found) throw new AppLoadError(`application module not found: ${file}`);
    file = found;
  }
  if (fs.statSync(file).isDirectory()) {
    const index = EXTENSIONS.map((ext) => path.join(file, 'index' + ext)).find((f) => fs.existsSync(f));
    if (!index) throw new AppLoadError(`application module ${file} is a directory without an index file`);
    file = index;
  }
  const m = EXPORT_RE.exec(exportPart || 'app')!;
  return { file, module: modulePart, exportPath: m[1].split('.'), call: m[2] !== undefined, implicit: exportPart === '' };
}

// CommonJS output would turn import() into require(); this keeps a real dynamic import.
const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<Record<string, unknown>>;

let tsRegistered = false;

/**
 * Loads a module the way the application is loaded: .ts/.mts/.cts through tsx, .mjs and
 * ES modules by import(), the rest by require(). `fresh` loads it anew even if it was
 * loaded before (a config file re-read on reload).
 */
export async function importModule(file: string, fresh = false): Promise<Record<string, unknown>> {
  const ext = path.extname(file);
  const url = () => pathToFileURL(file).href + (fresh ? `?t=${Date.now()}` : '');
  if (fresh) {
    try { delete require.cache[require.resolve(file)]; } catch { /* not loadable by require: imported below */ }
  }
  if (['.ts', '.mts', '.cts', '.tsx'].includes(ext)) {
    if (!tsRegistered) {
      // tsx compiles TypeScript as it is required.
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      require('tsx/cjs/api').register();
      tsRegistered = true;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      return { ...require(file) };
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_REQUIRE_ESM' && (err as { code?: string }).code !== 'ERR_REQUIRE_ASYNC_MODULE') throw err;
      // A module that must be an ES module (top-level await): import it through tsx's loader hooks.
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      await registerTsxEsm();
      return dynamicImport(url());
    }
  }
  if (ext === '.mjs') return dynamicImport(url());
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const exported = require(file);
    return { ...(typeof exported === 'object' && exported !== null ? exported : {}), default: exported };
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw err;
    return dynamicImport(url());
  }
}

let tsxEsmRegistered = false;

/**
 * Registers tsx's ES module hooks through its API, which passes the hooks the data they
 * need (module.register('tsx/esm') alone makes them refuse: "tsx must be loaded with
 * --import"). The API's ES module build is used: its CommonJS build registers the hooks
 * by a path that does not exist.
 */
async function registerTsxEsm() {
  if (tsxEsmRegistered) return;
  const cjs = require.resolve('tsx/esm/api');
  const mjs = cjs.replace(/\.cjs$/, '.mjs');
  const api = (await dynamicImport(pathToFileURL(fs.existsSync(mjs) ? mjs : cjs).href)) as { register(): unknown };
  api.register();
  tsxEsmRegistered = true;
}

function dig(obj: unknown, keys: string[]): unknown {
  let cur = obj;
  for (const k of keys) {
    if (cur === null || cur === undefined) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Loads the module and returns what it exports (a function, or an object adapters/detect.ts serves). */
export async function loadApp(spec: string, cwd = process.cwd()): Promise<unknown> {
  const parsed = parseAppSpec(spec, cwd);
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(parsed.file);
  } catch (err) {
    throw new AppLoadError(`failed to load ${parsed.file}: ${(err as Error)?.stack ?? String(err)}`, { cause: err });
  }
  let found = dig(mod, parsed.exportPath);
  // CommonJS modules imported as ESM put module.exports under default.
  if (found === undefined) found = dig(mod.default, parsed.exportPath);
  const named = found !== undefined;
  if (found === undefined && parsed.implicit) found = mod.default;
  const name = parsed.exportPath.join('.') + (parsed.call ? '()' : '');
  const exportsList = () => {
    const names = exportNames(mod);
    return names.length ? `it exports: ${names.join(', ')}` : 'it exports nothing';
  };
  const factoryHint = () => {
    const f = exportNames(mod).find((k) => typeof mod[k] === 'function' && FACTORY_NAME.test(k));
    return f ? `; did you mean ${parsed.module}:${f}()?` : '';
  };
  if (found === undefined) {
    throw new AppLoadError(`${parsed.file} has no export ${JSON.stringify(parsed.exportPath.join('.'))}; ${exportsList()}${factoryHint()}`);
  }
  if (parsed.call) {
    if (typeof found !== 'function') throw new AppLoadError(`${parsed.file}: ${name} is not a function to call (it is ${describe(found)})`);
    try {
      found = await (found as () => unknown)();
    } catch (err) {
      throw new AppLoadError(`${parsed.file}: ${name} threw: ${(err as Error)?.stack ?? String(err)}`, { cause: err });
    }
  }
  if (!isApplicationExport(found)) {
    if (parsed.implicit && !named) {
      throw new AppLoadError(`${parsed.file} has no export "app", and its default export is ${describe(found, false)}, not an application function `
        + `(environ, startResponse) => body; ${exportsList()}. Name the application's export: ${parsed.module}:EXPORT${factoryHint()}`);
    }
    throw new AppLoadError(`${parsed.file}: ${name} is ${describe(found)}, not an application function (environ, startResponse) => body`
      + (parsed.call ? ': the factory must return the application' : factoryHint()));
  }
  if (typeof found !== 'function') return found;
  const fn = found as ((...args: unknown[]) => unknown) & Record<string, unknown>;
  // A factory named without its parentheses: called per request, it would return the application instead of a body.
  const fnName = parsed.implicit && !named ? fn.name : parsed.exportPath[parsed.exportPath.length - 1];
  if (!parsed.call && fn.length === 0 && FACTORY_NAME.test(fnName)) {
    const exportText = parsed.implicit && !named ? 'default' : parsed.exportPath.join('.');
    throw new AppLoadError(`${parsed.file}: ${fnName} looks like a factory (it takes no arguments), not an application (environ, startResponse); `
      + `did you mean ${parsed.module}:${exportText}()?`);
  }
  return found;
}

/** Names such as createApp, makeApp, buildServer, appFactory. */
const FACTORY_NAME = /^(create|make|build|new|get|init)[A-Z_$]|[a-z]Factory$|^factory$/;

function exportNames(mod: Record<string, unknown>): string[] {
  // A CommonJS module's default is module.exports itself, whose properties are listed already.
  return Object.keys(mod).filter((k) => k !== '__esModule' && !(k === 'default' && typeof mod.default === 'object' && mod.default !== null));
}

function describe(v: unknown, keys = true): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && !keys) return 'an object';
  if (typeof v === 'object') {
    const keys = Object.keys(v as object);
    return keys.length ? `an object with ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', …' : ''}` : 'an empty object';
  }
  return typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`;
}
