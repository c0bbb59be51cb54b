// validator(app): checks both sides of the interface at run time, as Python's
// wsgiref.validate does for WSGI. The server side: the environ (PEP 3333 keys and types,
// latin-1 native strings, SCRIPT_NAME/PATH_INFO forms), wsgi.input's results, startResponse
// re-raising excInfo, close() called exactly once with nothing pulled after it. The
// application side: startResponse's arguments and calling order, the body and its chunks,
// Content-Length, wsgi.input and wsgi.errors arguments. A broken rule throws a
// ValidationError naming it (or goes to onViolation, and the call goes through unchanged).
import type { ValidationError } from '../errors';
import type { App, Body, Environ, ErrorStream, InputStream, StartResponse } from '../types';
import { checkBody } from './validator-body';
import { checkEnviron } from './validator-environ';
import { reporter } from './validator-report';
import { checkedStartResponse, newResponseState } from './validator-start-response';
import { CheckedErrors, CheckedInput } from './validator-streams';

export interface ValidatorOptions {
  /**
   * Receives each violation instead of having it thrown. The checked call then goes on
   * unchanged, so the server's own handling of the misuse is what the client sees.
   * Default: violations are thrown as ValidationError (the server answers 500, or closes
   * the connection once the headers went out, and logs the error).
   */
  onViolation?: (error: ValidationError) => void;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function';
}

/** Wraps `app` so that every request checks the server's and the application's side of the interface. */
export function validator(app: App, options: ValidatorOptions = {}): App {
  if (typeof app !== 'function') throw new TypeError(`validator(app) takes an application function, got ${app === null ? 'null' : typeof app}`);
  const report = reporter(options.onViolation);
  return function validated(environ: Environ, startResponse: StartResponse): Body | Promise<Body> {
    if (arguments.length !== 2) {
      report('TSGI_ERR_SERVER_CONTRACT', 'server', 'app-arguments', `the application is called with (environ, startResponse), got ${arguments.length} arguments`);
    }
    if (typeof startResponse !== 'function') {
      report('TSGI_ERR_SERVER_CONTRACT', 'server', 'start-response-callable', 'the second argument must be the startResponse function');
    }
    checkEnviron(environ, report);
    const env = environ as Record<string, unknown>;
    const state = newResponseState(report, env?.REQUEST_METHOD === 'HEAD');
    const inner: Record<string, unknown> = { ...env };
    const input = env?.['wsgi.input'] as InputStream | undefined;
    if (input !== null && typeof input === 'object' && typeof input.read === 'function') {
      inner['wsgi.input'] = new CheckedInput(input, String(env.CONTENT_LENGTH ?? ''), env['wsgi.input_terminated'] === true, report);
    }
    const errors = env?.['wsgi.errors'] as ErrorStream | undefined;
    if (errors !== null && typeof errors === 'object' && typeof errors.write === 'function') {
      state.errors = errors;
      inner['wsgi.errors'] = new CheckedErrors(errors, report);
    }
    const result = app(inner as Environ, checkedStartResponse(state, startResponse));
    if (isThenable(result) && !Array.isArray(result)) return Promise.resolve(result).then((b) => checkBody(state, b));
    return checkBody(state, result);
  };
}
