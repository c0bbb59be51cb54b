// The environ of a fetch Request, for toFetch(): PEP 3333 keys with native strings (one
// character per byte), PATH_INFO percent-decoded to bytes, headers as HTTP_*.
import { NO_TRAILERS, WSGI_VERSION } from '../environ';
import { isLatin1 } from '../http-syntax';
import { encodeNative } from '../request';
import type { Environ, ErrorStream, FileWrapperFactory, InputStream } from '../types';
import { decodePath } from './fetch-url';

export interface FetchEnvironContext {
  readonly scriptName: string;
  readonly errors: ErrorStream;
  readonly fileWrapper: FileWrapperFactory;
  readonly multithread: boolean;
  readonly multiprocess: boolean;
}

function native(v: string): string {
  return isLatin1(v) ? v : encodeNative(v);
}

export function fetchEnviron(ctx: FetchEnvironContext, request: Request, input: InputStream, contentLength: string): Environ {
  const url = new URL(request.url);
  let pathInfo = decodePath(url.pathname);
  const scriptName = ctx.scriptName;
  if (scriptName !== '' && pathInfo.startsWith(scriptName) &&
      (pathInfo.length === scriptName.length || pathInfo.charCodeAt(scriptName.length) === 47)) {
    pathInfo = pathInfo.slice(scriptName.length);
  }
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const environ: Environ = {
    REQUEST_METHOD: request.method,
    SCRIPT_NAME: scriptName,
    PATH_INFO: pathInfo,
    QUERY_STRING: url.search.length > 1 ? url.search.slice(1) : '',
    CONTENT_TYPE: '',
    CONTENT_LENGTH: contentLength,
    SERVER_NAME: hostname,
    SERVER_PORT: url.port || (scheme === 'https' ? '443' : '80'),
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '',
    REMOTE_PORT: '',
    REQUEST_URI: url.pathname + url.search,
    'wsgi.version': WSGI_VERSION,
    'wsgi.url_scheme': scheme,
    'wsgi.input': input,
    'wsgi.errors': ctx.errors,
    'wsgi.multithread': ctx.multithread,
    'wsgi.multiprocess': ctx.multiprocess,
    'wsgi.run_once': false,
    'wsgi.file_wrapper': ctx.fileWrapper,
    'wsgi.input_terminated': true,
    'tsgi.connection': -1,
    'tsgi.listener': -1,
    'tsgi.trailers': NO_TRAILERS,
  };
  const env = environ as Record<string, unknown>;
  for (const [name, value] of request.headers) {
    if (name === 'content-length') continue;
    if (name === 'content-type') environ.CONTENT_TYPE = native(value);
    else {
      const key = 'HTTP_' + name.toUpperCase().replace(/-/g, '_');
      const prev = env[key];
      env[key] = prev === undefined ? native(value) : prev + (key === 'HTTP_COOKIE' ? '; ' : ',') + native(value);
    }
  }
  if (environ.HTTP_HOST === undefined) environ.HTTP_HOST = url.host;
  return environ;
}
