// tsgi's own gateway suites, run a second time with every application wrapped in
// validator(app, { onViolation }). The validator must be transparent (every test passes
// as it does without it) and must not report a well-behaved application or tsgi's
// gateway: each test either reports nothing, or exactly the rules its application breaks
// on purpose (listed below), which also shows the validator catching them.
import { afterEach, expect } from 'vitest';
import { validator, type ValidationError } from '../src/index';
import { setAppWrapper } from './helpers/server';

const seen: ValidationError[] = [];
setAppWrapper((app) => validator(app, { onViolation: (e) => seen.push(e) }));

/** Full test name → the rules its application breaks on purpose. */
const EXPECTED: Record<string, string[]> = {
  "\"it is a fatal error to call start_response without the exc_info argument if start_response has already been called\"": ['application:start-response-once'],
  "a body returned without calling startResponse \u2192 500 with the traceback on wsgi.errors": ['application:start-response-before-body'],
  "a bare string returned as the body \u2192 500 with the traceback on wsgi.errors": ['application:body-iterable'],
  "a bare Buffer returned as the body \u2192 500 with the traceback on wsgi.errors": ['application:body-iterable'],
  "null returned as the body \u2192 500 with the traceback on wsgi.errors": ['application:body-iterable'],
  "a chunk that is a number \u2192 500 with the traceback on wsgi.errors": ['application:chunk-type'],
  "an iterator whose next() returns undefined \u2192 500 with the traceback on wsgi.errors": ['application:iterator-result'],
  "a hop-by-hop header \u2192 500 with the traceback on wsgi.errors": ['application:no-hop-by-hop'],
  "a status that is not latin-1 \u2192 500 with the traceback on wsgi.errors": ['application:status-latin1'],
  "a header value with CR LF \u2192 500 with the traceback on wsgi.errors": ['application:header-value-control'],
  "a status without a reason \u2192 500 with the traceback on wsgi.errors": ['application:status-format'],
  "a body that fails after the server waited for the client to drain closes that connection only": ['application:iterator-result'],
  "a generator that was not exhausted gets return() (its finally block runs) when it fails a chunk check": ['application:chunk-type'],
  "write() after the response ended is an error": ['application:write-after-end'],
  "\"never send more\": a longer body is cut at the declared length": ['application:content-length-exceeded'],
  "a longer streamed body is cut, and the generator is not pulled forever": ['application:content-length-exceeded'],
  "\"if the app sends less\": the connection is closed and the short response is logged on wsgi.errors": ['application:content-length-short'],
  "a short streamed body closes the connection too": ['application:content-length-short'],
};

// Registered before the suites are imported, so it runs after their own afterEach hooks
// (which close the server: every close() has happened by then).
afterEach((ctx) => {
  const name = ctx.task.name;
  const rules = [...new Set(seen.map((e) => `${e.side}:${e.rule}`))].sort();
  const messages = seen.map((e) => e.message);
  seen.length = 0;
  if (process.env.TSGI_PRINT_VIOLATIONS) console.log(JSON.stringify({ name, rules, messages }));
  expect(rules, `${name}\n${messages.join('\n')}`).toEqual((EXPECTED[name] ?? []).slice().sort());
});

await import('./pep3333-environ.test');
await import('./pep3333-start-response.test');
await import('./pep3333-body.test');
await import('./gateway-headers.test');
await import('./gateway-streaming.test');
