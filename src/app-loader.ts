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
  return { file, exportPath: m[1].split('.'), call: m[2] !== undefined, implicit: exportPart === '' };
}

// CommonJS output would turn import() into require(); this keeps a real dynamic import.
const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<Record<string, unknown>>;

let tsRegistered = false;

async function importModule(file: string): Promise<Record<string, unknown>> {
  const ext = path.extname(file);
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
      (require('node:module') as { register(s: string, parent: string): void }).register('tsx/esm', pathToFileURL(__filename).href);
      return dynamicImport(pathToFileURL(file).href);
    }
  }
  if (ext === '.mjs') return dynamicImport(pathToFileURL(file).href);
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const exported = require(file);
    return { ...(typeof exported === 'object' && exported !== null ? exported : {}), default: exported };
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw err;
    return dynamicImport(pathToFileURL(file).href);
  }
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
  if (found === undefined && parsed.implicit) found = mod.default;
  const name = parsed.exportPath.join('.') + (parsed.call ? '()' : '');
  if (found === undefined) {
    const names = Object.keys(mod).filter((k) => k !== '__esModule');
    throw new AppLoadError(`${parsed.file} has no export ${JSON.stringify(parsed.exportPath.join('.'))}` +
      (names.length ? `; it exports: ${names.join(', ')}` : '; it exports nothing'));
  }
  if (parsed.call) {
    if (typeof found !== 'function') throw new AppLoadError(`${parsed.file}: ${name} is not a function to call`);
    try {
      found = await (found as () => unknown)();
    } catch (err) {
      throw new AppLoadError(`${parsed.file}: ${name} threw: ${(err as Error)?.stack ?? String(err)}`, { cause: err });
    }
  }
  if (!isApplicationExport(found)) {
    throw new AppLoadError(`${parsed.file}: ${name} is ${found === null ? 'null' : typeof found}, not an application function (environ, startResponse) => body`);
  }
  return found;
}
