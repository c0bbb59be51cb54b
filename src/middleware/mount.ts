// mount({ '/api': api, '/': site }): dispatch on path prefix at segment boundaries, the
// longest prefix first, moving the prefix from PATH_INFO to SCRIPT_NAME (as uWSGI's
// --mount and Werkzeug's DispatcherMiddleware). 404 when nothing matches and there is no '/'.
import { encodeNative } from '../request';
import type { App, Environ, StartResponse } from '../types';
import { plain } from './headers';

export interface MountOptions {
  /** The application for requests no prefix matches (replaces the built-in 404; same as a '/' key). */
  fallback?: App;
}

interface Entry { prefix: string; app: App }

export function mount(apps: Record<string, App>, options: MountOptions = {}): App {
  if (apps === null || typeof apps !== 'object') throw new TypeError('mount() takes an object of { prefix: app }, e.g. mount({ "/api": api, "/": site })');
  const entries: Entry[] = [];
  let fallback: App | undefined = options.fallback;
  for (const [key, app] of Object.entries(apps)) {
    if (typeof app !== 'function') throw new TypeError(`mount(): the app for ${JSON.stringify(key)} must be a function, got ${app === null ? 'null' : typeof app}`);
    if (!key.startsWith('/')) throw new TypeError(`mount(): prefix ${JSON.stringify(key)} must start with '/'`);
    if (/[?#%\0\\]/.test(key) || key.split('/').some((s) => s === '.' || s === '..')) {
      throw new TypeError(`mount(): prefix ${JSON.stringify(key)} must be a plain decoded path (no '?', '#', '%', '\\\\', NUL, '.' or '..' segments)`);
    }
    const prefix = encodeNative(key.replace(/\/+$/, ''));
    if (prefix === '') { fallback = app; continue; }
    if (entries.some((e) => e.prefix === prefix)) throw new TypeError(`mount(): prefix ${JSON.stringify(key)} is given twice`);
    entries.push({ prefix, app });
  }
  entries.sort((a, b) => b.prefix.length - a.prefix.length);

  return (environ: Environ, startResponse: StartResponse) => {
    const path = environ.PATH_INFO;
    for (const e of entries) {
      const p = e.prefix;
      if (path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === 47 /* / */)) {
        // A copy: the server's environ (and its access log) keeps the full path.
        const env: Environ = { ...environ, SCRIPT_NAME: environ.SCRIPT_NAME + p, PATH_INFO: path.slice(p.length) };
        return e.app(env, startResponse);
      }
    }
    if (fallback !== undefined) return fallback(environ, startResponse);
    return plain(startResponse, '404 Not Found', 'Not Found', [], environ.REQUEST_METHOD === 'HEAD');
  };
}
