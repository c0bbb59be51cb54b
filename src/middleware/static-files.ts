// staticFiles(root, options)(app): serves the files under `root` for GET and HEAD, sent
// with wsgi.file_wrapper (sendfile), with validators, conditional requests, single byte
// ranges, index files and precompressed siblings. Anything else falls through to `app`.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileWrapper as ownFileWrapper } from '../file-wrapper';
import type { App, Body, Environ, FileWrapperFactory, ResponseHeaders, StartResponse } from '../types';
import { evaluatePreconditions, ifRangeHolds, parseRange, type Validators } from './conditional';
import { plain, requestHeader, type Middleware } from './headers';
import { contentTypeOf } from './mime';
import { chooseEncoding } from './negotiate';
import { checkPath, encodePath, inside } from './safe-path';

export interface StaticFilesOptions {
  /** File(s) served for a directory, tried in order; false serves no index. Default 'index.html'. */
  index?: string | string[] | false;
  /** Cache-Control for served files: a value, or a function of the file's path relative to root. Default: none. */
  cacheControl?: string | ((relativePath: string) => string | undefined);
  /** Serve `name.br` / `name.gz` siblings to clients that accept them. Default true. */
  precompressed?: boolean;
  /** Serve files whose real path (symlinks resolved) is outside root. Default false. */
  followSymlinksOutsideRoot?: boolean;
  /** Serve names starting with '.' (otherwise they fall through). Default false. */
  dotfiles?: boolean;
  /** Extra or overriding Content-Types by extension (without the dot), e.g. { log: 'text/plain' }. */
  mimeTypes?: Record<string, string>;
  /** Answer a directory path without its trailing '/' with a 301 to it. Default true. */
  redirectDirectories?: boolean;
}

const KNOWN_OPTIONS = new Set(['index', 'cacheControl', 'precompressed', 'followSymlinksOutsideRoot', 'dotfiles', 'mimeTypes', 'redirectDirectories']);
const SIBLINGS: ReadonlyArray<readonly [encoding: string, suffix: string]> = [['br', '.br'], ['gzip', '.gz']];

interface Found { real: string; rel: string; stat: fs.Stats }

export function staticFiles(root: string, options: StaticFilesOptions = {}): Middleware {
  if (typeof root !== 'string' || root === '') throw new TypeError('staticFiles(root): root must be the path of a directory');
  for (const k of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(k)) throw new TypeError(`staticFiles(): unknown option ${JSON.stringify(k)}; known: ${[...KNOWN_OPTIONS].join(', ')}`);
  }
  let rootReal: string;
  try {
    rootReal = fs.realpathSync(root);
  } catch (e) {
    throw new Error(`staticFiles(): root ${JSON.stringify(root)} cannot be resolved (${(e as NodeJS.ErrnoException).code ?? String(e)}); give an existing directory`);
  }
  if (!fs.statSync(rootReal).isDirectory()) throw new Error(`staticFiles(): root ${JSON.stringify(root)} is not a directory`);
  const index = options.index === false ? [] : typeof options.index === 'string' ? [options.index] : options.index ?? ['index.html'];
  const precompressed = options.precompressed ?? true;
  const followOut = options.followSymlinksOutsideRoot ?? false;
  const dotfiles = options.dotfiles ?? false;
  const redirectDirs = options.redirectDirectories ?? true;
  const mimeTypes = options.mimeTypes;
  const cacheControl = options.cacheControl;

  return (app: App): App => {
    /** The file for the request's path: null when there is none, 'refused' when it resolves outside root, 'directory'. */
    async function find(segments: string[]): Promise<Found | null | 'refused' | 'directory'> {
      const candidate = path.join(rootReal, ...segments);
      let st: fs.Stats;
      try { st = await fsp.stat(candidate); } catch { return null; }
      if (st.isDirectory()) return 'directory';
      if (!st.isFile()) return null;
      const real = await realInside(candidate);
      if (real === null) return 'refused';
      return { real, rel: segments.join('/'), stat: st };
    }

    async function realInside(p: string): Promise<string | null> {
      let real: string;
      try { real = await fsp.realpath(p); } catch { return null; }
      return followOut || inside(rootReal, real) ? real : null;
    }

    async function findIndex(segments: string[]): Promise<Found | null | 'refused'> {
      for (const name of index) {
        const candidate = path.join(rootReal, ...segments, name);
        let st: fs.Stats;
        try { st = await fsp.stat(candidate); } catch { continue; }
        if (!st.isFile()) continue;
        const real = await realInside(candidate);
        if (real === null) return 'refused';
        return { real, rel: [...segments, name].join('/'), stat: st };
      }
      return null;
    }

    async function serve(environ: Environ, startResponse: StartResponse): Promise<Body> {
      const method = environ.REQUEST_METHOD;
      if (method !== 'GET' && method !== 'HEAD') return app(environ, startResponse);
      const head = method === 'HEAD';
      const checked = checkPath(environ.PATH_INFO, typeof environ.REQUEST_URI === 'string' ? environ.REQUEST_URI : '', dotfiles);
      if (!checked.ok) {
        if (checked.reason === 'hidden file') return app(environ, startResponse);
        return plain(startResponse, '404 Not Found', 'Not Found', [], head);
      }
      let found = await find(checked.segments);
      if (found === 'directory') {
        // PATH_INFO '' (the root of a mount) is redirected too: relative links need the '/'.
        if (!checked.trailingSlash) {
          if (!redirectDirs || index.length === 0) return app(environ, startResponse);
          // Only when there is an index to show.
          const idx = await findIndex(checked.segments);
          if (idx === null) return app(environ, startResponse);
          const qs = environ.QUERY_STRING ? '?' + environ.QUERY_STRING : '';
          // Repeated slashes are collapsed: '//host/' would be a redirect to another site.
          const location = encodePath((environ.SCRIPT_NAME + environ.PATH_INFO + '/').replace(/\/{2,}/g, '/')) + qs;
          return plain(startResponse, '301 Moved Permanently', 'Moved Permanently', [['Location', location]], head);
        }
        found = await findIndex(checked.segments);
      }
      if (found === null || (checked.trailingSlash && found !== 'refused' && found.rel === checked.segments.join('/'))) {
        // No such file (a file named with a trailing '/' is not one either).
        return app(environ, startResponse);
      }
      if (found === 'refused') return plain(startResponse, '404 Not Found', 'Not Found', [], head);
      return send(environ, startResponse, found, head);
    }

    async function send(environ: Environ, startResponse: StartResponse, found: Found, head: boolean): Promise<Body> {
      const get = (name: string) => requestHeader(environ, name);
      const rangeHeader = get('range');
      // The type of the name asked for (a symlink's target may be named otherwise).
      const headers: ResponseHeaders = [['Content-Type', contentTypeOf(found.rel, mimeTypes)]];
      let file = found.real;
      let stat = found.stat;
      let suffix = '';
      if (precompressed) {
        // Ranges are answered from the identity file only; the variants still make it vary.
        let any = false;
        const accept = get('accept-encoding');
        const available: string[] = [];
        const variants = new Map<string, { real: string; stat: fs.Stats }>();
        for (const [enc, ext] of SIBLINGS) {
          let st: fs.Stats;
          try { st = await fsp.stat(found.real + ext); } catch { continue; }
          if (!st.isFile()) continue;
          any = true;
          const real = await realInside(found.real + ext);
          if (real === null) continue;
          available.push(enc);
          variants.set(enc, { real, stat: st });
        }
        if (any) headers.push(['Vary', 'Accept-Encoding']);
        const enc = rangeHeader === '' && available.length > 0 ? chooseEncoding(accept, available) : null;
        if (enc !== null) {
          const v = variants.get(enc)!;
          file = v.real;
          stat = v.stat;
          suffix = '-' + enc;
          headers.push(['Content-Encoding', enc]);
        }
      }
      let handle: fsp.FileHandle;
      try {
        handle = await fsp.open(file, 'r');
        stat = await handle.stat();
      } catch {
        return app(environ, startResponse);
      }
      let handed = false;
      try {
        const size = stat.size;
        const v: Validators = {
          etag: `"${size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}${suffix}"`,
          mtime: Math.floor(stat.mtimeMs / 1000),
        };
        headers.push(['ETag', v.etag], ['Last-Modified', new Date(v.mtime * 1000).toUTCString()]);
        const cc = typeof cacheControl === 'function' ? cacheControl(found.rel) : cacheControl;
        if (cc !== undefined && cc !== '') headers.push(['Cache-Control', cc]);
        headers.push(['Accept-Ranges', 'bytes']);

        const pre = evaluatePreconditions(get, v, true);
        if (pre === 304) {
          startResponse('304 Not Modified', headers.filter(([k]) => k !== 'Content-Type' && k !== 'Accept-Ranges' && k !== 'Content-Encoding'));
          return [];
        }
        if (pre === 412) return plain(startResponse, '412 Precondition Failed', 'Precondition Failed', [], head);

        let offset = 0;
        let length = size;
        let status = '200 OK';
        if (rangeHeader !== '' && ifRangeHolds(get('if-range'), v)) {
          const r = parseRange(rangeHeader, size);
          if (r.kind === 'unsatisfiable') {
            return plain(startResponse, '416 Range Not Satisfiable', 'Range Not Satisfiable', [['Content-Range', `bytes */${size}`]], head);
          }
          if (r.kind === 'range') {
            offset = r.start;
            length = r.end - r.start + 1;
            status = '206 Partial Content';
            headers.push(['Content-Range', `bytes ${r.start}-${r.end}/${size}`]);
          }
        }
        headers.push(['Content-Length', String(length)]);
        startResponse(status, headers);
        if (head || length === 0) return [];
        const wrap = (typeof environ['wsgi.file_wrapper'] === 'function' ? environ['wsgi.file_wrapper'] : ownFileWrapper) as FileWrapperFactory;
        const body = wrap(handle, undefined, { offset, length });
        handed = true;
        return body;
      } finally {
        if (!handed) handle.close().catch(() => { /* nothing left to release */ });
      }
    }

    return serve;
  };
}
