// The environ built from a native request record (synthetic here; the wire tests check
// the same through the addon): PEP 3333 keys, native strings, header joining, mounting.
import { describe, expect, it } from 'vitest';
import { buildEnviron, type EnvironContext } from '../src/environ';
import { ErrorOutput } from '../src/errors-stream';
import { fileWrapper } from '../src/file-wrapper';
import { EMPTY_INPUT } from '../src/input';
import { FLAG_CHUNKED_BODY } from '../src/native';
import type { FileWrapperFactory } from '../src/types';
import { KNOWN, synthesize, type SyntheticRequest } from './helpers/record';

function ctx(over: Partial<EnvironContext> = {}): EnvironContext {
  return {
    scriptName: '', urlScheme: 'http', multithread: false, multiprocess: false,
    errors: new ErrorOutput({ write() { return true; } }), fileWrapper: fileWrapper as FileWrapperFactory,
    knownKeys: KNOWN, serverNames: ['127.0.0.1'], serverPorts: ['8000'], ...over,
  };
}

function env(req: SyntheticRequest, over: Partial<EnvironContext> = {}, bodyLength = 0) {
  const { rec, head } = synthesize(req);
  return buildEnviron(ctx(over), rec, head, 7, EMPTY_INPUT, bodyLength);
}

describe('environ (PEP 3333 "environ Variables")', () => {
  it('is a plain object, not a class instance or a Proxy', () => {
    const e = env({ target: '/' });
    expect(Object.getPrototypeOf(e)).toBe(Object.prototype);
    expect(e.constructor).toBe(Object);
  });

  it('carries every required CGI and wsgi.* key, with native string values', () => {
    const e = env({ target: '/a/b?x=1', headers: [['HTTP_HOST', 'example.com']] });
    for (const k of ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'CONTENT_TYPE', 'CONTENT_LENGTH', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL', 'REMOTE_ADDR', 'REMOTE_PORT', 'REQUEST_URI']) {
      expect(typeof e[k], k).toBe('string');
    }
    expect(e).toMatchObject({
      REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/a/b', QUERY_STRING: 'x=1', SERVER_NAME: '127.0.0.1', SERVER_PORT: '8000',
      SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '127.0.0.1', REMOTE_PORT: '40000', REQUEST_URI: '/a/b?x=1', HTTP_HOST: 'example.com',
      'wsgi.url_scheme': 'http', 'wsgi.multithread': false, 'wsgi.multiprocess': false, 'wsgi.run_once': false, 'wsgi.input_terminated': true,
      'tsgi.connection': 7, 'tsgi.listener': 0,
    });
    expect(e['wsgi.version']).toEqual([1, 0]);
    expect(typeof e['wsgi.file_wrapper']).toBe('function');
    expect(typeof e['wsgi.input'].read).toBe('function');
    expect(typeof e['wsgi.errors'].write).toBe('function');
  });

  it('QUERY_STRING is empty when the target has no "?"', () => {
    expect(env({ target: '/x' }).QUERY_STRING).toBe('');
    expect(env({ target: '/x?' }).QUERY_STRING).toBe('');
  });

  it('PATH_INFO is percent-decoded to bytes, one latin-1 character per byte; REQUEST_URI stays raw', () => {
    const e = env({ target: '/caf%C3%A9/%2F?q=%C3%A9' });
    expect(e.PATH_INFO).toBe('/caf\xc3\xa9//');
    expect(e.REQUEST_URI).toBe('/caf%C3%A9/%2F?q=%C3%A9');
    expect(e.QUERY_STRING).toBe('q=%C3%A9');
    expect(Buffer.from(e.PATH_INFO, 'latin1').toString('utf8')).toBe('/café//');
  });

  it('SERVER_PROTOCOL follows the request version', () => {
    expect(env({ target: '/', minor: 0 }).SERVER_PROTOCOL).toBe('HTTP/1.0');
  });

  it('repeated headers are joined with ",", Cookie with "; "', () => {
    const e = env({ target: '/', headers: [['HTTP_ACCEPT', 'a/b'], ['HTTP_X_THING', '1'], ['HTTP_ACCEPT', 'c/d'], ['HTTP_COOKIE', 'a=1'], ['HTTP_X_THING', '2'], ['HTTP_COOKIE', 'b=2']] });
    expect(e.HTTP_ACCEPT).toBe('a/b,c/d');
    expect(e.HTTP_X_THING).toBe('1,2');
    expect(e.HTTP_COOKIE).toBe('a=1; b=2');
  });

  it('CONTENT_TYPE and CONTENT_LENGTH carry no HTTP_ prefix', () => {
    const e = env({ method: 'POST', target: '/', headers: [['CONTENT_TYPE', 'text/plain'], ['CONTENT_LENGTH', '5']] }, {}, 5);
    expect(e.CONTENT_TYPE).toBe('text/plain');
    expect(e.CONTENT_LENGTH).toBe('5');
    expect('HTTP_CONTENT_TYPE' in e).toBe(false);
    expect('HTTP_CONTENT_LENGTH' in e).toBe(false);
  });

  it('CONTENT_LENGTH of a chunked request body is the number of bytes received', () => {
    const e = env({ method: 'POST', target: '/', flags: FLAG_CHUNKED_BODY, headers: [['HTTP_TRANSFER_ENCODING', 'chunked']] }, {}, 1234);
    expect(e.CONTENT_LENGTH).toBe('1234');
  });

  it('tsgi.trailers: the trailer fields of a chunked body as [lower-cased name, value] pairs, kept out of HTTP_*', () => {
    const e = env({ method: 'POST', target: '/', flags: FLAG_CHUNKED_BODY, headers: [['HTTP_X_A', 'head']],
      trailers: 'X-A:1\nServer-Timing:db;dur=53\nEmpty:\nx-a:\xe9\n' }, {}, 3);
    expect(e['tsgi.trailers']).toEqual([['x-a', '1'], ['server-timing', 'db;dur=53'], ['empty', ''], ['x-a', '\xe9']]);
    expect(e.HTTP_X_A).toBe('head');
    expect('HTTP_SERVER_TIMING' in e).toBe(false);
    expect(env({ method: 'POST', target: '/', flags: FLAG_CHUNKED_BODY })['tsgi.trailers']).toEqual([]);
    expect(env({ target: '/' })['tsgi.trailers']).toEqual([]);
  });

  it('SCRIPT_NAME is the mount prefix and PATH_INFO what follows it', () => {
    expect(env({ target: '/app/x/y' }, { scriptName: '/app' })).toMatchObject({ SCRIPT_NAME: '/app', PATH_INFO: '/x/y' });
    expect(env({ target: '/app' }, { scriptName: '/app' })).toMatchObject({ SCRIPT_NAME: '/app', PATH_INFO: '' });
    expect(env({ target: '/apple' }, { scriptName: '/app' })).toMatchObject({ SCRIPT_NAME: '/app', PATH_INFO: '/apple' });
  });

  it('SERVER_NAME and SERVER_PORT come from the listener that accepted', () => {
    const e = env({ target: '/', listener: 1 }, { serverNames: ['a', 'b'], serverPorts: ['1', '2'] });
    expect(e).toMatchObject({ SERVER_NAME: 'b', SERVER_PORT: '2', 'tsgi.listener': 1 });
  });

  it('REMOTE_PORT is empty for a Unix socket (port 0)', () => {
    expect(env({ target: '/', addr: '', remotePort: 0 })).toMatchObject({ REMOTE_ADDR: '', REMOTE_PORT: '' });
  });

  it('header values keep bytes above 0x7f as latin-1 characters', () => {
    const e = env({ target: '/', headers: [['HTTP_X_NAME', 'J\xc3\xbcrgen']] });
    expect(Buffer.from(e.HTTP_X_NAME as string, 'latin1').toString('utf8')).toBe('Jürgen');
  });

  it('the fixed keys come first, in one order, whatever the headers', () => {
    const a = Object.keys(env({ target: '/', headers: [['HTTP_HOST', 'x']] }));
    const b = Object.keys(env({ method: 'POST', target: '/z?q', headers: [['HTTP_ACCEPT', 'y'], ['HTTP_HOST', 'x']] }));
    const fixed = a.indexOf('tsgi.listener') + 1;
    expect(b.slice(0, fixed)).toEqual(a.slice(0, fixed));
  });

  it('a header sequence seen again gives the same environ: keys, order and values (the compiled builder as the general path)', () => {
    const c = ctx();
    const make = (req: SyntheticRequest, bodyLength = 0) => {
      const { rec, head } = synthesize(req);
      return buildEnviron(c, rec, head, 7, EMPTY_INPUT, bodyLength);
    };
    const requests: Array<[SyntheticRequest, number]> = [
      [{ target: '/a?b', headers: [['HTTP_HOST', 'h'], ['HTTP_X_ONE', '1'], ['HTTP_USER_AGENT', 'ua'], ['HTTP_X_TWO', '']] }, 0],
      [{ method: 'POST', target: '/p', headers: [['HTTP_HOST', 'h'], ['CONTENT_LENGTH', '3'], ['CONTENT_TYPE', 'text/plain']] }, 3],
      [{ target: '/', headers: [['HTTP_ACCEPT', 'a/b'], ['HTTP_X_THING', '1'], ['HTTP_ACCEPT', 'c/d'], ['HTTP_COOKIE', 'a=1'], ['HTTP_COOKIE', 'b=2']] }, 0],
      [{ target: '/', headers: [['HTTP_X_Y', 'first'], ['HTTP_X_Y', 'second']] }, 0],
      [{ method: 'POST', target: '/c', flags: FLAG_CHUNKED_BODY, headers: [['HTTP_TRANSFER_ENCODING', 'chunked']], trailers: 'X-A:1\n' }, 9],
      [{ target: '/o', headers: [['HTTP_HOST', 'o']], overrides: [['SERVER_NAME', 'www.example'], ['HTTPS', 'on'], ['tsgi.proxy.version', '2']] }, 0],
      [{ target: '/', addr: '', remotePort: 0 }, 0],
    ];
    for (const [req, bodyLength] of requests) {
      // The first requests of a sequence take the general path; later ones a compiled builder.
      const first = make(req, bodyLength);
      for (let i = 0; i < 6; i++) {
        const again = make(req, bodyLength);
        expect(Object.getPrototypeOf(again)).toBe(Object.prototype);
        expect(Object.entries(again)).toEqual(Object.entries(first));
      }
      // Values are read from each request, not kept from an earlier one.
      const headers = req.headers ?? [];
      if (new Set(headers.map(([k]) => k)).size !== headers.length) continue;
      const changed = make({ ...req, headers: headers.map(([k, v]) => [k, k === 'CONTENT_LENGTH' ? v : `${v}-changed`]) }, bodyLength);
      expect(Object.keys(changed)).toEqual(Object.keys(first));
      for (const [k, v] of headers) {
        if (k === 'CONTENT_LENGTH') continue;
        expect(changed[k]).toBe(`${v}-changed`);
      }
    }
  });

  it('sequences that differ only in the names of headers without an id (same lengths) keep their own keys', () => {
    const c = ctx();
    const make = (name: string, value: string) => {
      const { rec, head } = synthesize({ target: '/', headers: [['HTTP_HOST', 'h'], [name, value], ['HTTP_ACCEPT', 'a']] });
      return buildEnviron(c, rec, head, 7, EMPTY_INPUT, 0);
    };
    // Interleaved, past the point where each sequence has its compiled builder.
    for (let i = 0; i < 8; i++) {
      const ab = make('HTTP_X_AB', `ab${i}`);
      const cd = make('HTTP_X_CD', `cd${i}`);
      expect(Object.keys(ab).slice(-3)).toEqual(['HTTP_HOST', 'HTTP_X_AB', 'HTTP_ACCEPT']);
      expect(Object.keys(cd).slice(-3)).toEqual(['HTTP_HOST', 'HTTP_X_CD', 'HTTP_ACCEPT']);
      expect(ab.HTTP_X_AB).toBe(`ab${i}`);
      expect(cd.HTTP_X_CD).toBe(`cd${i}`);
      expect('HTTP_X_CD' in ab || 'HTTP_X_AB' in cd).toBe(false);
    }
  });

  it('override entries (uwsgi, PROXY protocol) set keys outright; tsgi.proxy.* entries become one frozen object', () => {
    const e = env({
      target: '/p',
      headers: [['HTTP_HOST', 'h.example']],
      overrides: [['SERVER_NAME', 'www.example'], ['SERVER_PORT', '443'], ['SERVER_PROTOCOL', 'HTTP/2.0'], ['HTTPS', 'on'],
        ['wsgi.url_scheme', 'https'], ['tsgi.proxy.version', '2'], ['tsgi.proxy.sslCn', 'client \xe9']],
    });
    expect(e).toMatchObject({
      SERVER_NAME: 'www.example', SERVER_PORT: '443', SERVER_PROTOCOL: 'HTTP/2.0', HTTPS: 'on', 'wsgi.url_scheme': 'https',
      HTTP_HOST: 'h.example', PATH_INFO: '/p',
    });
    expect(e['tsgi.proxy']).toEqual({ version: '2', sslCn: 'client \xe9' });
    expect(Object.isFrozen(e['tsgi.proxy'])).toBe(true);
    expect(e['tsgi.proxy.version']).toBeUndefined();
    // Without overrides nothing of the kind appears.
    const plain = env({ target: '/p' });
    expect(plain.SERVER_NAME).toBe('127.0.0.1');
    expect('tsgi.proxy' in plain).toBe(false);
    expect('HTTPS' in plain).toBe(false);
  });
});
