// The URL and headers of a fetch Request, built from an environ. The environ holds native
// strings (one character per byte); the URL is re-encoded from those bytes so a handler
// sees the same URL the client sent: the raw target when it decodes to
// SCRIPT_NAME + PATH_INFO, otherwise the path percent-encoded byte by byte.
import type { Environ } from '../types';

// Characters a path keeps as they are (RFC 3986 pchar plus '/'); every other byte is %XX.
const PATH_SAFE = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
// A Host value that can stand in a URL's authority; anything else falls back to SERVER_NAME.
const HOST_SAFE = /^[A-Za-z0-9\-._~!$&'()*+,;=%:[\]]+$/;
const HEX = '0123456789ABCDEF';

/** Percent-encodes a native path string byte by byte. */
export function encodePath(native: string): string {
  if (PATH_SAFE.test(native)) return native;
  let out = '';
  for (let i = 0; i < native.length; i++) {
    const ch = native[i];
    if (PATH_SAFE.test(ch)) out += ch;
    else {
      const b = native.charCodeAt(i) & 0xff;
      out += '%' + HEX[b >> 4] + HEX[b & 15];
    }
  }
  return out;
}

/** Percent-decodes a path to a native string (each %XX becomes the character of that byte). */
export function decodePath(path: string): string {
  return path.indexOf('%') < 0 ? path : path.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** The path part of REQUEST_URI (origin-form or absolute-form), or '' when there is none. */
function rawPath(uri: string): string {
  let start = 0;
  if (uri.charCodeAt(0) !== 47 /* / */) {
    const scheme = uri.indexOf('://');
    if (scheme < 0) return '';
    start = uri.indexOf('/', scheme + 3);
    if (start < 0) return '';
  }
  const q = uri.indexOf('?', start);
  return q < 0 ? (start === 0 ? uri : uri.slice(start)) : uri.slice(start, q);
}

/** The path of the request URL: the raw target's path when it says the same bytes, else re-encoded. */
export function urlPath(environ: Environ): string {
  const path = environ.SCRIPT_NAME + environ.PATH_INFO;
  const uri = environ.REQUEST_URI;
  if (typeof uri === 'string' && uri !== '') {
    const raw = rawPath(uri);
    if (raw === path || (raw !== '' && decodePath(raw) === path && PATH_SAFE.test(raw.replace(/%[0-9A-Fa-f]{2}/g, '')))) return raw;
  }
  return path === '' ? '/' : encodePath(path);
}

/** scheme://host[:port]/path?query for the request the environ describes. */
export function requestUrl(environ: Environ): string {
  const scheme = environ['wsgi.url_scheme'] || 'http';
  let host = environ.HTTP_HOST as string | undefined;
  if (typeof host !== 'string' || !HOST_SAFE.test(host)) {
    const name = environ.SERVER_NAME || 'localhost';
    host = name.includes(':') && name.charCodeAt(0) !== 91 /* [ */ ? `[${name}]` : name;
    const port = environ.SERVER_PORT;
    if (port && port !== (scheme === 'https' ? '443' : '80')) host += ':' + port;
  }
  const qs = environ.QUERY_STRING;
  return scheme + '://' + host + urlPath(environ) + (qs ? '?' + qs : '');
}

/** The request headers of an environ as (lower-case name, value) pairs: HTTP_*, CONTENT_TYPE, CONTENT_LENGTH. */
export function requestHeaders(environ: Environ): Headers {
  const headers = new Headers();
  for (const key in environ) {
    const value = (environ as Record<string, unknown>)[key];
    if (typeof value !== 'string') continue;
    if (key.length > 5 && key.charCodeAt(0) === 72 /* H */ && key.startsWith('HTTP_')) {
      headers.append(key.slice(5).replace(/_/g, '-').toLowerCase(), value);
    } else if ((key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') && value !== '') {
      headers.append(key === 'CONTENT_TYPE' ? 'content-type' : 'content-length', value);
    }
  }
  return headers;
}
