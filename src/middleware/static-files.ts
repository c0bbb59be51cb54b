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
import { isCompressible } from './compress';
import { acceptableEncodings } from './negotiate';
import { checkPath, encodePath, inside } from './safe-path';

export interface StaticFilesOptions {
  /** File(s) served for a directory, tried in order; false serves no index. Default 'index.html'. */
  index?: string | string[] | false;
  /** Cache-Control for served files: a value, or a function of the file's path relative to root. Default: none. */
  cacheControl?: string | ((relativePath: string) => string | undefined);
  /** Serve `name.br` / `name.gz` siblings of compressible types to clients that accept them (with Vary: Accept-Encoding). Default true. */
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
const SIBLING: Readonly<Record<string, string>> = { br: '.br', gzip: '.gz' };

/** A file to send, open: the path asked for, its real path, its path relative to root. */
interface Found { path: string; real: string; rel: string; handle: fsp.FileHandle; stat: fs.Stats }

/** Opening never waits for a writer (a FIFO under root must not hold a thread). */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/** Opens a path: its handle and stat when it is a regular file, 'directory', or null. */
async function openFile(p: string): Promise<[fsp.FileHandle, fs.Stats] | 'directory' | null> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(p, OPEN_FLAGS);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EISDIR' ? 'directory' : null;
  }
  let kind: 'directory' | null = null;
  try {
    const st = await handle.stat();
    if (st.isFile()) return [handle, st];
    if (st.isDirectory()) kind = 'directory';
  } catch { /* closed below */ }
  release(handle);
  return kind;
}

function release(handle: fsp.FileHandle): void {
  handle.close().catch(() => { /* nothing left to release */ });
}

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
    /** What `candidate` is: an open file, a directory, 'refused' (its real path is outside root) or null (nothing). */
    async function lookup(candidate: string, rel: string): Promise<Found | 'directory' | 'refused' | null> {
      let real: string;
      try { real = await fsp.realpath(candidate); } catch { return null; }
      if (!followOut && !inside(rootReal, real)) return 'refused';
      const opened = await openFile(real);
      if (opened === null || opened === 'directory') return opened;
      return { path: candidate, real, rel, handle: opened[0], stat: opened[1] };
    }

    async function realInside(p: string): Promise<string | null> {
      let real: string;
      try { real = await fsp.realpath(p); } catch { return null; }
      return followOut || inside(rootReal, real) ? real : null;
    }

    async function findIndex(segments: string[]): Promise<Found | null | 'refused'> {
      for (const name of index) {
        const r = await lookup(path.join(rootReal, ...segments, name), [...segments, name].join('/'));
        if (r === null || r === 'directory') continue;
        return r;
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
      let found = await lookup(path.join(rootReal, ...checked.segments), checked.segments.join('/'));
      if (found === 'directory') {
        // PATH_INFO '' (the root of a mount) is redirected too: relative links need the '/'.
        if (!checked.trailingSlash) {
          if (!redirectDirs || index.length === 0) return app(environ, startResponse);
          // Only when there is an index to show.
          const idx = await findIndex(checked.segments);
          if (idx === null) return app(environ, startResponse);
          if (idx !== 'refused') release(idx.handle);
          const qs = environ.QUERY_STRING ? '?' + environ.QUERY_STRING : '';
          // Repeated slashes are collapsed: '//host/' would be a redirect to another site.
          const location = encodePath((environ.SCRIPT_NAME + environ.PATH_INFO + '/').replace(/\/{2,}/g, '/')) + qs;
          return plain(startResponse, '301 Moved Permanently', 'Moved Permanently', [['Location', location]], head);
        }
        found = await findIndex(checked.segments);
      } else if (found !== null && found !== 'refused' && checked.trailingSlash) {
        // A file named with a trailing '/' is not that file.
        release(found.handle);
        found = null;
      }
      if (found === null) return app(environ, startResponse);
      if (found === 'refused') return plain(startResponse, '404 Not Found', 'Not Found', [], head);
      return send(environ, startResponse, found, head);
    }

    async function send(environ: Environ, startResponse: StartResponse, found: Found, head: boolean): Promise<Body> {
      const get = (name: string) => requestHeader(environ, name);
      const rangeHeader = get('range');
      // The type of the name asked for (a symlink's target may be named otherwise).
      const type = contentTypeOf(found.rel, mimeTypes);
      const headers: ResponseHeaders = [['Content-Type', type]];
      let handle = found.handle;
      let stat = found.stat;
      let suffix = '';
      if (precompressed && isCompressible(type)) {
        // Every response of such a type varies, whether or not a sibling exists (as nginx's gzip_vary).
        headers.push(['Vary', 'Accept-Encoding']);
        // Ranges are answered from the identity file only.
        const accept = rangeHeader === '' ? get('accept-encoding') : '';
        for (const enc of accept === '' ? [] : acceptableEncodings(accept, ['br', 'gzip'])) {
          const real = await realInside(found.path + SIBLING[enc]);
          if (real === null) continue;
          const opened = await openFile(real);
          if (opened === null || opened === 'directory') continue;
          release(handle);
          [handle, stat] = opened;
          suffix = '-' + enc;
          headers.push(['Content-Encoding', enc]);
          break;
        }
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
