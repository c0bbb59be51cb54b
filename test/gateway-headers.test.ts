// startResponse arguments (PEP 3333 "The start_response() Callable"): what is accepted,
// what is an application error, and how the head is serialised for the native core.
import { describe, expect, it } from 'vitest';
import { prepareHead, type HeadTarget } from '../src/start-response';
import { RESP_HAS_DATE } from '../src/native';
import { ApplicationError } from '../src/errors';

function head(status: unknown, headers: unknown): HeadTarget {
  const t: HeadTarget = { head: '', statusCode: 0, contentLength: -1, respFlags: 0 };
  prepareHead(t, status, headers);
  return t;
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApplicationError);
    return (e as ApplicationError).code;
  }
  return undefined;
}

describe('startResponse arguments', () => {
  it('serialises the status line and the headers in order', () => {
    const t = head('200 OK', [['Content-Type', 'text/plain'], ['X-A', '1'], ['x-a', '2']]);
    expect(t.head).toBe('200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\nx-a: 2\r\n');
    expect(t.statusCode).toBe(200);
    expect(t.contentLength).toBe(-1);
  });

  it('the status is a three-digit code, a space and a reason phrase', () => {
    expect(code(() => head('200', []))).toBe('TSGI_ERR_INVALID_STATUS');
    expect(code(() => head('200OK', []))).toBe('TSGI_ERR_INVALID_STATUS');
    expect(code(() => head('OK 200', []))).toBe('TSGI_ERR_INVALID_STATUS');
    expect(code(() => head(200, []))).toBe('TSGI_ERR_INVALID_STATUS');
    expect(head('404 Not Found', []).statusCode).toBe(404);
    expect(head('599 ', []).statusCode).toBe(599);
  });

  it('1xx is not a final status (interim responses are the server\'s job)', () => {
    expect(code(() => head('101 Switching Protocols', []))).toBe('TSGI_ERR_INVALID_STATUS');
    expect(code(() => head('600 Nope', []))).toBe('TSGI_ERR_INVALID_STATUS');
  });

  it('status and header strings must be latin-1: anything else is an application error, never a mangled response', () => {
    expect(code(() => head('200 Ök', []))).toBeUndefined();
    expect(code(() => head('200 \u20ac', []))).toBe('TSGI_ERR_INVALID_STATUS');
    expect(code(() => head('200 OK', [['X', 'caf\u00e9']]))).toBeUndefined();
    expect(code(() => head('200 OK', [['X', '\u2603']]))).toBe('TSGI_ERR_INVALID_HEADER');
    expect(code(() => head('200 OK', [['X\u00e9', 'v']]))).toBe('TSGI_ERR_INVALID_HEADER');
  });

  it('CR, LF and NUL in the status or a header are refused (no response splitting)', () => {
    expect(code(() => head('200 OK\r\nX: y', []))).toBe('TSGI_ERR_INVALID_STATUS');
    expect(code(() => head('200 OK', [['X', 'a\r\nSet-Cookie: x=1']]))).toBe('TSGI_ERR_INVALID_HEADER');
    expect(code(() => head('200 OK', [['X', 'a\nb']]))).toBe('TSGI_ERR_INVALID_HEADER');
    expect(code(() => head('200 OK', [['X', 'a\0b']]))).toBe('TSGI_ERR_INVALID_HEADER');
    expect(code(() => head('200 OK', [['X\r\n', 'v']]))).toBe('TSGI_ERR_INVALID_HEADER');
  });

  it('header names must be tokens', () => {
    for (const bad of ['', 'A B', 'A:B', 'A(B)', 'A/B']) expect(code(() => head('200 OK', [[bad, 'v']])), bad).toBe('TSGI_ERR_INVALID_HEADER');
    expect(code(() => head('200 OK', [["!#$%&'*+-.^_`|~09azAZ", 'v']]))).toBeUndefined();
  });

  it('validation results are remembered per name and status, never per verdict: a refused name or status stays refused', () => {
    expect(code(() => head('', []))).toBe('TSGI_ERR_INVALID_STATUS');
    for (let i = 0; i < 3; i++) {
      expect(head('200 OK', [['X-Same', 'v']]).statusCode).toBe(200);
      expect(code(() => head('200 OK', [['X Same', 'v']]))).toBe('TSGI_ERR_INVALID_HEADER');
      expect(code(() => head('200 OK', [['Connection', 'close']]))).toBe('TSGI_ERR_HOP_BY_HOP_HEADER');
      expect(code(() => head('200', []))).toBe('TSGI_ERR_INVALID_STATUS');
      expect(head('201 Created', [['content-length', '5']]).contentLength).toBe(5);
    }
  });

  it('field values are checked the same way short or long: tab and obs-text pass, DEL and controls do not', () => {
    for (const pad of ['', 'x'.repeat(100)]) {
      expect(code(() => head('200 OK', [['X', pad + 'a	bÿ']]))).toBeUndefined();
      expect(code(() => head('200 OK', [['X', pad + 'ab']]))).toBe('TSGI_ERR_INVALID_HEADER');
      expect(code(() => head('200 OK', [['X', pad + 'ab']]))).toBe('TSGI_ERR_INVALID_HEADER');
      expect(code(() => head('200 OK', [['X', pad + 'Ā']]))).toBe('TSGI_ERR_INVALID_HEADER');
    }
  });

  it('headers must be an array of [name, value] string pairs', () => {
    expect(code(() => head('200 OK', { 'Content-Type': 'x' }))).toBe('TSGI_ERR_INVALID_HEADER');
    expect(code(() => head('200 OK', [['A']]))).toBe('TSGI_ERR_INVALID_HEADER');
    expect(code(() => head('200 OK', [['A', 1]]))).toBe('TSGI_ERR_INVALID_HEADER');
    expect(code(() => head('200 OK', ['A: b']))).toBe('TSGI_ERR_INVALID_HEADER');
  });

  it('hop-by-hop headers from the application are an application error', () => {
    for (const h of ['Connection', 'transfer-encoding', 'Keep-Alive', 'Upgrade', 'TE', 'Trailer', 'Proxy-Authenticate', 'Proxy-Anything']) {
      expect(code(() => head('200 OK', [[h, 'x']])), h).toBe('TSGI_ERR_HOP_BY_HOP_HEADER');
    }
  });

  it('Content-Length is read from the headers (and must be a whole number)', () => {
    expect(head('200 OK', [['content-length', '11']]).contentLength).toBe(11);
    expect(head('200 OK', [['Content-Length', '11'], ['Content-Length', '11']]).head).toBe('200 OK\r\nContent-Length: 11\r\n');
    expect(code(() => head('200 OK', [['Content-Length', '-1']]))).toBe('TSGI_ERR_INVALID_HEADER');
    expect(code(() => head('200 OK', [['Content-Length', '1.5']]))).toBe('TSGI_ERR_INVALID_HEADER');
    expect(head('200 OK', [['Content-Length', ' \t42 ']]).contentLength).toBe(42);
    for (const bad of ['', ' ', '1 2', '+1', '0x10', '12345678901234567']) expect(code(() => head('200 OK', [['Content-Length', bad]])), bad).toBe('TSGI_ERR_INVALID_HEADER');
    expect(code(() => head('200 OK', [['Content-Length', '5'], ['Content-Length', '6']]))).toBe('TSGI_ERR_INVALID_HEADER');
  });

  it('an application Date header tells the native core not to add its own', () => {
    expect(head('200 OK', [['Date', 'Mon, 01 Jan 2024 00:00:00 GMT']]).respFlags & RESP_HAS_DATE).toBe(RESP_HAS_DATE);
    expect(head('200 OK', []).respFlags & RESP_HAS_DATE).toBe(0);
  });

  it('a failed validation leaves the previous head in place', () => {
    const t = head('200 OK', [['A', 'b']]);
    expect(() => prepareHead(t, '500 Oops', [['Connection', 'close']])).toThrow();
    expect(t.head).toBe('200 OK\r\nA: b\r\n');
  });
});
