// validator(app): each rule of both sides, broken on purpose. The server side is fed a bad
// environ or a misbehaving server directly; the application side runs on a real server.
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { validator, ValidationError, type App, type Body, type Environ, type StartResponse } from '../src/index';
import { RequestInput } from '../src/input';
import { get, rawRequest } from './helpers/http';
import { sleep, startServer, until, type TestServer } from './helpers/server';

let ts: TestServer | undefined;
afterEach(async () => { await ts?.close(); ts = undefined; });

/** A valid environ, as a server would build it, with `over` applied. */
function environ(over: Record<string, unknown> = {}, drop: string[] = []): Environ {
  const body = Buffer.from('hello');
  const env: Record<string, unknown> = {
    REQUEST_METHOD: 'POST', SCRIPT_NAME: '', PATH_INFO: '/x', QUERY_STRING: '', CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '5',
    SERVER_NAME: 'localhost', SERVER_PORT: '8000', SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '127.0.0.1', REMOTE_PORT: '5000', REQUEST_URI: '/x',
    'wsgi.version': [1, 0], 'wsgi.url_scheme': 'http', 'wsgi.input': new RequestInput(body, -1, body.length),
    'wsgi.errors': { write() {}, writelines() {}, flush() {} }, 'wsgi.multithread': false, 'wsgi.multiprocess': false,
    'wsgi.run_once': false, 'wsgi.input_terminated': true, ...over,
  };
  for (const k of drop) delete env[k];
  return env as Environ;
}

const ok: App = (env, sr) => { sr('200 OK', [['Content-Type', 'text/plain']]); return ['ok']; };
const noStart: StartResponse = () => () => {};

/** Calls the validated app directly (as a server would) and returns the error it throws. */
function callWith(env: unknown, app: App = ok, sr: StartResponse = noStart): ValidationError {
  try {
    const body = validator(app)(env as Environ, sr) as Iterable<unknown> & { close?(): void };
    for (const _ of body as Iterable<unknown>) { /* drain */ }
    body.close?.();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error('the validator accepted it');
}

describe('the server side: the environ', () => {
  it('accepts a valid environ', () => {
    const body = validator(ok)(environ(), noStart) as string[] & { close(): void };
    expect([...body]).toEqual(['ok']);
    body.close();
  });

  const cases: Array<[string, string, Record<string, unknown>, string[]?]> = [
    ['a missing PEP 3333 key', 'environ-required-key', {}, ['SERVER_NAME']],
    ['a CGI value that is not a string', 'environ-native-string', { SERVER_PORT: 8000 }],
    ['a character above 0xFF', 'environ-latin1', { PATH_INFO: '/caf\u00e9\u2603' }],
    ['REQUEST_METHOD that is not a token', 'request-method-token', { REQUEST_METHOD: 'GE T' }],
    ['SCRIPT_NAME ending with /', 'script-name-form', { SCRIPT_NAME: '/app/' }],
    ['SCRIPT_NAME not starting with /', 'script-name-form', { SCRIPT_NAME: 'app' }],
    ['PATH_INFO not starting with /', 'path-info-form', { PATH_INFO: 'x' }],
    ['SERVER_PORT that is not a decimal string', 'server-port-digits', { SERVER_PORT: 'http' }],
    ['CONTENT_LENGTH that is not digits', 'content-length-digits', { CONTENT_LENGTH: '-1' }],
    ['HTTP_CONTENT_TYPE present', 'no-http-content-keys', { HTTP_CONTENT_TYPE: 'text/plain' }],
    ['HTTP_CONTENT_LENGTH present', 'no-http-content-keys', { HTTP_CONTENT_LENGTH: '5' }],
    ['wsgi.version not [1, 0]', 'wsgi-version', { 'wsgi.version': [2, 0] }],
    ['wsgi.url_scheme not http or https', 'wsgi-url-scheme', { 'wsgi.url_scheme': 'ftp' }],
    ['wsgi.input without readline()', 'wsgi-input-shape', { 'wsgi.input': { read() { return Buffer.alloc(0); }, readlines() { return []; } } }],
    ['wsgi.errors without flush()', 'wsgi-errors-shape', { 'wsgi.errors': { write() {}, writelines() {} } }],
    ['wsgi.multithread not a boolean', 'wsgi-flags-boolean', { 'wsgi.multithread': 1 }],
    ['wsgi.file_wrapper not a function', 'wsgi-file-wrapper', { 'wsgi.file_wrapper': {} }],
    ['SCRIPT_NAME and PATH_INFO both empty', 'script-or-path', { PATH_INFO: '' }],
  ];
  it.each(cases)('%s → %s', (_name, rule, over, drop) => {
    const e = callWith(environ(over, drop));
    expect(e).toMatchObject({ code: 'TSGI_ERR_INVALID_ENVIRON', side: 'server', rule });
    expect(e.message).toMatch(/^environ: /);
  });

  it('an environ that is a class instance', () => {
    class Env {}
    expect(callWith(Object.assign(new Env(), environ()))).toMatchObject({ rule: 'environ-plain-object' });
  });

  it("OPTIONS * may carry PATH_INFO '*'", () => {
    const body = validator(ok)(environ({ REQUEST_METHOD: 'OPTIONS', PATH_INFO: '*', REQUEST_URI: '*' }), noStart) as string[] & { close(): void };
    body.close();
  });
});

describe('the server side: what the server does', () => {
  it('startResponse that returns normally for excInfo after the headers were sent', () => {
    const lenient: StartResponse = () => () => {};
    const app: App = (env, sr) => { const w = sr('200 OK', []); w('x'); sr('500 Oops', [], new Error('late')); return []; };
    expect(callWith(environ(), app, lenient)).toMatchObject({ code: 'TSGI_ERR_SERVER_CONTRACT', rule: 'exc-info-reraise' });
  });

  it('startResponse that does not return write()', () => {
    expect(callWith(environ(), ok, (() => undefined) as unknown as StartResponse)).toMatchObject({ code: 'TSGI_ERR_SERVER_CONTRACT', rule: 'write-callable' });
  });

  it('an application called without startResponse', () => {
    expect(callWith(environ(), ok, 'nope' as unknown as StartResponse)).toMatchObject({ rule: 'start-response-callable' });
  });

  it('wsgi.input returning something that is not bytes', () => {
    const input = { read: () => 'text', readline: () => 'text', readlines: () => [], [Symbol.iterator]: () => [][Symbol.iterator](), length: 4 };
    const app: App = (env, sr) => { env['wsgi.input'].read(); sr('200 OK', []); return []; };
    expect(callWith(environ({ 'wsgi.input': input }), app)).toMatchObject({ side: 'server', rule: 'input-returns-bytes' });
  });

  it('startResponse called with the wrong number of arguments (application side)', () => {
    const app: App = (env, sr) => { (sr as unknown as (s: string) => void)('200 OK'); return []; };
    expect(callWith(environ(), app)).toMatchObject({ side: 'application', rule: 'start-response-arguments' });
  });

  it("an iterator whose next() does not return a result object (application side)", () => {
    const app: App = (env, sr) => { sr('200 OK', []); return { [Symbol.iterator]: () => ({ next: () => 5 }) } as unknown as Body; };
    expect(callWith(environ(), app)).toMatchObject({ side: 'application', rule: 'iterator-result', code: 'TSGI_ERR_INVALID_BODY' });
  });

  it('close() called twice', () => {
    const body = validator(ok)(environ(), noStart) as string[] & { close(): void };
    body.close();
    expect(() => body.close()).toThrow(expect.objectContaining({ code: 'TSGI_ERR_SERVER_CONTRACT', rule: 'close-once' }));
  });

  it('a chunk pulled after close()', () => {
    const app: App = (env, sr) => { sr('200 OK', []); return (function* () { yield 'a'; yield 'b'; })(); };
    const body = validator(app)(environ(), noStart) as Iterable<unknown> & { close(): void };
    const it = body[Symbol.iterator]();
    it.next();
    body.close();
    expect(() => it.next()).toThrow(expect.objectContaining({ rule: 'no-pull-after-close' }));
  });

  it('a body released without close() is reported when it is collected', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const seen: ValidationError[] = [];
    const app: App = (env, sr) => { sr('200 OK', []); return (function* () { yield 'a'; })(); };
    (() => { validator(app, { onViolation: (e) => seen.push(e) })(environ(), noStart); })();
    for (let i = 0; i < 20 && seen.length === 0; i++) { gc(); await sleep(20); }
    expect(seen.map((e) => e.rule)).toEqual(['close-called']);
  });

  it('wsgi.input returning more than CONTENT_LENGTH', () => {
    const body = Buffer.from('hello world');
    const app: App = (env, sr) => { env['wsgi.input'].read(); sr('200 OK', []); return []; };
    expect(callWith(environ({ 'wsgi.input': new RequestInput(body, -1, body.length) }), app)).toMatchObject({ rule: 'input-within-content-length', side: 'server' });
  });
});

describe('the application side, on a real server', () => {
  async function violation(app: App, request = get('/')): Promise<{ error: ValidationError; status: number | undefined }> {
    const seen: ValidationError[] = [];
    ts = await startServer(validator(app, { onViolation: (e) => seen.push(e) }));
    const ex = await rawRequest(ts.port, request, { timeoutMs: 2000 });
    await until(() => seen.length > 0, 3000, 'a violation');
    // Thrown (the default), the same violation is a 500 and a logged ValidationError.
    await ts.close();
    ts = await startServer(validator(app));
    const thrown = await rawRequest(ts.port, request, { timeoutMs: 2000 });
    await until(() => ts!.errors().includes('ValidationError'), 3000, 'the logged error');
    expect(ts.errors()).toContain(seen[0].message);
    void ex;
    return { error: seen[0], status: thrown.responses[0]?.status };
  }

  const cases: Array<[string, string, string, App]> = [
    ['a status that is not a string', 'status-string', 'TSGI_ERR_INVALID_STATUS', (e, sr) => { sr(200 as unknown as string, []); return ['x']; }],
    ['a status without a reason', 'status-format', 'TSGI_ERR_INVALID_STATUS', (e, sr) => { sr('200', []); return ['x']; }],
    ['a 1xx status', 'status-final', 'TSGI_ERR_INVALID_STATUS', (e, sr) => { sr('103 Early Hints', []); return ['x']; }],
    ['a status that is not latin-1', 'status-latin1', 'TSGI_ERR_INVALID_STATUS', (e, sr) => { sr('200 \u263a', []); return ['x']; }],
    ['headers that are not an array', 'headers-array', 'TSGI_ERR_INVALID_HEADER', (e, sr) => { sr('200 OK', { a: 'b' } as never); return ['x']; }],
    ['a header that is not a pair', 'header-pair', 'TSGI_ERR_INVALID_HEADER', (e, sr) => { sr('200 OK', [['A', 'b', 'c']] as never); return ['x']; }],
    ['a header value that is a number', 'header-strings', 'TSGI_ERR_INVALID_HEADER', (e, sr) => { sr('200 OK', [['X-N', 1]] as never); return ['x']; }],
    ["a header name 'X Y'", 'header-name-token', 'TSGI_ERR_INVALID_HEADER', (e, sr) => { sr('200 OK', [['X Y', '1']]); return ['x']; }],
    ['a header value above latin-1', 'header-value-latin1', 'TSGI_ERR_INVALID_HEADER', (e, sr) => { sr('200 OK', [['X', '\u2603']]); return ['x']; }],
    ['a header value with CR LF', 'header-value-control', 'TSGI_ERR_INVALID_HEADER', (e, sr) => { sr('200 OK', [['X', 'a\r\nSet-Cookie: x=1']]); return ['x']; }],
    ['a hop-by-hop header', 'no-hop-by-hop', 'TSGI_ERR_HOP_BY_HOP_HEADER', (e, sr) => { sr('200 OK', [['Transfer-Encoding', 'chunked']]); return ['x']; }],
    ['a Status header', 'no-status-header', 'TSGI_ERR_INVALID_HEADER', (e, sr) => { sr('200 OK', [['Status', '200']]); return ['x']; }],
    ['a Content-Length that is not a number', 'content-length-number', 'TSGI_ERR_INVALID_HEADER', (e, sr) => { sr('200 OK', [['Content-Length', 'ten']]); return ['x']; }],
    ['two different Content-Lengths', 'content-length-single', 'TSGI_ERR_INVALID_HEADER', (e, sr) => { sr('200 OK', [['Content-Length', '1'], ['Content-Length', '2']]); return ['x']; }],
    ['startResponse called twice without excInfo', 'start-response-once', 'TSGI_ERR_START_RESPONSE_TWICE', (e, sr) => { sr('200 OK', []); sr('200 OK', []); return ['x']; }],
    ['a chunk before startResponse', 'start-response-before-body', 'TSGI_ERR_START_RESPONSE_MISSING', (e, sr) => (function* () { yield 'early'; sr('200 OK', []); })()],
    ['a bare string body', 'body-iterable', 'TSGI_ERR_INVALID_BODY', (e, sr) => { sr('200 OK', []); return 'oops' as unknown as Body; }],
    ['a number as a body', 'body-iterable', 'TSGI_ERR_INVALID_BODY', (e, sr) => { sr('200 OK', []); return 42 as unknown as Body; }],
    ['a chunk that is a number', 'chunk-type', 'TSGI_ERR_INVALID_CHUNK', (e, sr) => { sr('200 OK', []); return (async function* () { yield 7 as unknown as string; })(); }],
    ['a body over its Content-Length', 'content-length-exceeded', 'TSGI_ERR_CONTENT_LENGTH_MISMATCH', (e, sr) => { sr('200 OK', [['Content-Length', '3']]); return (function* () { yield 'abc'; yield 'def'; })(); }],
    ['a body short of its Content-Length', 'content-length-short', 'TSGI_ERR_CONTENT_LENGTH_MISMATCH', (e, sr) => { sr('200 OK', [['Content-Length', '10']]); return (async function* () { yield 'abc'; })(); }],
    ['wsgi.input.read() with a string', 'input-argument-number', 'TSGI_ERR_INPUT_MISUSE', (e, sr) => { e['wsgi.input'].read('10' as unknown as number); sr('200 OK', []); return []; }],
    ['wsgi.errors.write() with an object', 'errors-write-argument', 'TSGI_ERR_INPUT_MISUSE', (e, sr) => { e['wsgi.errors'].write({} as never); sr('200 OK', []); return []; }],
  ];
  it.each(cases)('%s → %s', async (_name, rule, code, app) => {
    const { error, status } = await violation(app);
    expect(error).toMatchObject({ side: 'application', rule, code });
    if (rule !== 'content-length-short' && rule !== 'errors-write-argument') expect(status).toBe(500);
  });

  it("the message names the rule: header name 'X Y' is not a token", async () => {
    const { error } = await violation(cases.find(([, r]) => r === 'header-name-token')![3]);
    expect(error.message).toBe(`startResponse: header name "X Y" is not a token (RFC 9110 §5.1; PEP 3333: no header may be malformed)`);
    expect(error.stack!.split('\n')[0]).toMatch(/^ValidationError \[TSGI_ERR_INVALID_HEADER\]: /);
  });

  it('write() after the response ended', async () => {
    let w!: (c: string) => void;
    const seen: ValidationError[] = [];
    ts = await startServer(validator((e, sr) => { w = sr('200 OK', []); return ['x']; }, { onViolation: (e) => seen.push(e) }));
    await rawRequest(ts.port, get('/'));
    expect(() => w('late')).toThrow();
    expect(seen.map((e) => e.rule)).toEqual(['write-after-end']);
  });

  it('reading past CONTENT_LENGTH is an error only without wsgi.input_terminated; reads at the end are fine with it', () => {
    const reader: App = (env, sr) => { env['wsgi.input'].read(); env['wsgi.input'].read(10); sr('200 OK', []); return []; };
    expect(callWith(environ({ 'wsgi.input_terminated': false }), reader)).toMatchObject({ rule: 'input-past-content-length', side: 'application', code: 'TSGI_ERR_INPUT_MISUSE' });
    const body = validator(reader)(environ(), noStart) as unknown[] & { close(): void };
    body.close();
  });

  it('a well-behaved application with streaming, write(), excInfo and a request body reports nothing over a real socket', async () => {
    const seen: ValidationError[] = [];
    ts = await startServer(validator(async (env, sr) => {
      const got = env['wsgi.input'].read(3).toString() + env['wsgi.input'].readline().toString() + [...env['wsgi.input']].join('');
      sr('200 OK', [['X-Old', '1']]);
      try { throw new Error('changed my mind'); } catch (e) { sr('201 Created', [['Content-Length', String(got.length + 6)]], e); }
      const w = sr === undefined ? undefined : null;
      void w;
      return (async function* () { yield got; yield Buffer.from('-done-'); })();
    }, { onViolation: (e) => seen.push(e) }));
    const { responses } = await rawRequest(ts.port, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello\nworld');
    expect(responses[0].status).toBe(201);
    expect(responses[0].body.toString()).toBe('hello\nworld-done-');
    await sleep(50);
    expect(seen).toEqual([]);
  });
});
