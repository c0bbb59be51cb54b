// validator: the environ a server passes to the application (PEP 3333 "environ Variables").
import { TOKEN, describeValue, isLatin1 } from '../http-syntax';
import type { Report } from './validator-report';

/** Keys every environ carries (CGI keys as native strings, wsgi.* as PEP 3333 types them). */
const REQUIRED_STRINGS = ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL'] as const;
const REQUIRED_BOOLEANS = ['wsgi.multithread', 'wsgi.multiprocess', 'wsgi.run_once'] as const;

function environError(report: Report, rule: string, message: string): void {
  report('TSGI_ERR_INVALID_ENVIRON', 'server', rule, `environ: ${message}`);
}

function hasMethods(v: unknown, names: string[]): string | undefined {
  if (v === null || typeof v !== 'object') return `is ${describeValue(v)}, not an object`;
  for (const n of names) if (typeof (v as Record<string, unknown>)[n] !== 'function') return `has no ${n}() method`;
  return undefined;
}

/** Checks `environ` and reports every rule it breaks. */
export function checkEnviron(environ: unknown, report: Report): void {
  if (environ === null || typeof environ !== 'object' || Array.isArray(environ)) {
    return environError(report, 'environ-plain-object', `the environ must be a plain object, got ${describeValue(environ)} (PEP 3333: "the environ parameter is a dictionary object")`);
  }
  const proto = Object.getPrototypeOf(environ);
  if (proto !== Object.prototype && proto !== null) {
    environError(report, 'environ-plain-object', 'the environ must be a plain object, not a class instance or a Proxy target with a prototype (PEP 3333: "a builtin Python dictionary (not a subclass …)")');
  }
  const env = environ as Record<string, unknown>;
  for (const key of REQUIRED_STRINGS) {
    if (!(key in env)) environError(report, 'environ-required-key', `${key} is missing (PEP 3333 lists it among the variables every environ carries)`);
  }
  for (const key of Object.keys(env)) {
    if (key.includes('.')) continue;
    const v = env[key];
    if (typeof v !== 'string') {
      environError(report, 'environ-native-string', `${key} must be a native string, got ${describeValue(v)} (PEP 3333: CGI variables are "native strings")`);
    } else if (!isLatin1(v)) {
      environError(report, 'environ-latin1', `${key} has a character above U+00FF: ${describeValue(v)} (PEP 3333: native strings carry one byte per character, latin-1)`);
    }
  }
  const method = env.REQUEST_METHOD;
  if (typeof method === 'string' && !TOKEN.test(method)) {
    environError(report, 'request-method-token', `REQUEST_METHOD ${describeValue(method)} is not an HTTP token`);
  }
  const script = env.SCRIPT_NAME;
  if (typeof script === 'string' && script !== '' && (!script.startsWith('/') || script.endsWith('/'))) {
    environError(report, 'script-name-form', `SCRIPT_NAME ${describeValue(script)} must be '' or start with '/' and not end with '/' (PEP 3333 / CGI: the mount point, with the slash left to PATH_INFO)`);
  }
  const path = env.PATH_INFO;
  if (typeof path === 'string' && path !== '' && !path.startsWith('/')) {
    // `OPTIONS *` (RFC 9112 asterisk-form) has no path: '*' is what reaches the application.
    const asterisk = path === '*' && method === 'OPTIONS';
    if (!asterisk) environError(report, 'path-info-form', `PATH_INFO ${describeValue(path)} must be '' or start with '/' (PEP 3333 / CGI)`);
  }
  if (script === '' && path === '') {
    environError(report, 'script-or-path', "SCRIPT_NAME and PATH_INFO are both empty: a request for the root has PATH_INFO '/'");
  }
  const port = env.SERVER_PORT;
  if (typeof port === 'string' && port !== '' && !/^\d{1,5}$/.test(port)) {
    environError(report, 'server-port-digits', `SERVER_PORT ${describeValue(port)} must be the port as a decimal string`);
  }
  const cl = env.CONTENT_LENGTH;
  if (typeof cl === 'string' && cl !== '' && !/^\d+$/.test(cl)) {
    environError(report, 'content-length-digits', `CONTENT_LENGTH ${describeValue(cl)} must be digits or empty (PEP 3333 / CGI)`);
  }
  for (const key of ['HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH']) {
    if (key in env) environError(report, 'no-http-content-keys', `${key} must not be present: the header is CONTENT_${key.slice(13)} (PEP 3333 / CGI)`);
  }
  const version = env['wsgi.version'];
  if (!Array.isArray(version) || version.length !== 2 || version[0] !== 1 || version[1] !== 0) {
    environError(report, 'wsgi-version', `wsgi.version must be [1, 0], got ${JSON.stringify(version) ?? 'undefined'}`);
  }
  const scheme = env['wsgi.url_scheme'];
  if (scheme !== 'http' && scheme !== 'https') {
    environError(report, 'wsgi-url-scheme', `wsgi.url_scheme must be 'http' or 'https', got ${describeValue(scheme)}`);
  }
  const inputProblem = hasMethods(env['wsgi.input'], ['read', 'readline', 'readlines']);
  if (inputProblem !== undefined) environError(report, 'wsgi-input-shape', `wsgi.input ${inputProblem} (PEP 3333: read(size), readline(), readlines(hint), iteration)`);
  else if (typeof (env['wsgi.input'] as Record<symbol, unknown>)[Symbol.iterator] !== 'function') environError(report, 'wsgi-input-shape', 'wsgi.input is not iterable (PEP 3333: __iter__)');
  const errorsProblem = hasMethods(env['wsgi.errors'], ['write', 'writelines', 'flush']);
  if (errorsProblem !== undefined) environError(report, 'wsgi-errors-shape', `wsgi.errors ${errorsProblem} (PEP 3333: write(str), writelines(seq), flush())`);
  for (const key of REQUIRED_BOOLEANS) {
    if (typeof env[key] !== 'boolean') environError(report, 'wsgi-flags-boolean', `${key} must be a boolean, got ${describeValue(env[key])}`);
  }
  if ('wsgi.input_terminated' in env && typeof env['wsgi.input_terminated'] !== 'boolean') {
    environError(report, 'wsgi-flags-boolean', `wsgi.input_terminated must be a boolean, got ${describeValue(env['wsgi.input_terminated'])}`);
  }
  if ('wsgi.file_wrapper' in env && typeof env['wsgi.file_wrapper'] !== 'function') {
    environError(report, 'wsgi-file-wrapper', `wsgi.file_wrapper must be a function, got ${describeValue(env['wsgi.file_wrapper'])}`);
  }
}
